"""HTTP load, embedded vs organisation mode: `serve` on SQLite (one process) beside
`serve --workers 2` on PostgreSQL, on the Reuters + State Department archive, in one run.

    python benchmarks/org_load.py --data ../shared/data \\
        --database postgresql://postgres@127.0.0.1/test

Builds (once, reused from --work) an embedded archive of the Reuters-21578 stories and the State
Department's human-rights reports, copies its store into the PostgreSQL schema --schema
(`copy-store`, positions unchanged) and its search index into a node folder (level with the copy,
so no replay). Then, one server at a time on 127.0.0.1, drives each with `wrk` (C, epoll; one
thread in its own process, so the client costs little of the 2 cores) over the same list of
mixed requests (http_load.plan: search pages and API searches, with facets and passages, and
record pages):

(a) open load: --users connections (50), each waiting 0.5-1.5 s (mean 1 s) before each request
    (~50 requests/s), for --seconds (60); errors, p50 and p99;
(b) saturation: for each count in --clients, connections that never wait, --step-seconds each;
    the highest throughput whose p99 stays under 500 ms, and its ratio server / embedded.

Also the memory of each server (Rss and Pss of its processes, from /proc/PID/smaps_rollup) and of
PostgreSQL (all its processes' Pss), and the load average before and after. Prints "meets" or
"MISSES" against the issue's targets; never fails on a time (errors in (a) exit 1).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from _common import HOST, free_port, reuters_files, sourcebook_command, with_schema
from http_load import plan
from sourcebook.config import Settings
from sourcebook.copy_store import copy_store
from sourcebook.services import Archive, IngestOptions

#: The issue's targets.
OPEN_P50_MS, OPEN_P99_MS, SATURATION_P99_MS, SATURATION_RATIO = 30.0, 150.0, 500.0, 1.6

LUA = """
local paths = {}
local counter = 0
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  math.randomseed(math.floor(os.clock() * 1000000) + #args[1])
  counter = math.random(#paths)
end
request = function()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter])
end
%DELAY%
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("SBRESULT %d %d %d %.3f %.3f %.3f\\n", summary.requests,
    summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
"""
DELAY = "delay = function() return math.random(500, 1500) end"


@dataclass
class Run:
    requests: int
    seconds: float
    errors: int
    p50: float
    p99: float
    max: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Measured:
    open: Run
    #: The highest throughput whose p99 stayed under SATURATION_P99_MS (0: none did).
    best: float


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def wrk(base: str, paths: Path, connections: int, seconds: float, wait: bool) -> Run:
    script = paths.with_name("wait.lua" if wait else "nowait.lua")
    script.write_text(LUA.replace("%DELAY%", DELAY if wait else ""))
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    command += ["--timeout", "10s", "-s", str(script), base, "--", str(paths)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("SBRESULT"))
    n, micros, errors, p50, p99, worst = line.split()[1:]
    return Run(int(n), int(micros) / 1e6, int(errors), float(p50), float(p99), float(worst))


def memory_mb(pids: list[int]) -> tuple[float, float]:
    """(Rss, Pss) in MB summed over these processes."""
    rss = pss = 0
    for pid in pids:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in rollup.splitlines():
            name, _, rest = line.partition(":")
            if name in ("Rss", "Pss"):
                value = int(rest.split()[0])
                rss, pss = (rss + value, pss) if name == "Rss" else (rss, pss + value)
    return rss / 1024, pss / 1024


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def build(home: Path, data: Path, files: int) -> int:
    with Archive(Settings(home=home)) as archive:
        have = int(archive.stats()["documents"])
        if have:
            print(f"embedded archive: {home} holds {have:,} documents")
            return have
        started = time.perf_counter()
        inputs = [*reuters_files(data / "reuters21578")[:files], data / "us-state-dept-hrr/reports"]
        report = archive.ingest(inputs, IngestOptions())
        print(
            f"embedded archive: {report.documents:,} documents (Reuters + State Department) in "
            f"{time.perf_counter() - started:.0f} s"
        )
        return report.documents


def to_postgres(home: Path, node: Path, url: str, documents: int) -> None:
    """The store copied into the schema, the index into the node's folder (level: positions
    are copied unchanged)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT to_regclass('documents') IS NOT NULL").fetchone()
        if row and row[0]:
            count = conn.execute("SELECT count(*) FROM documents").fetchone()
            if count and count[0] == documents and (node / "index").is_dir():
                print(f"PostgreSQL copy: reused ({documents:,} documents)")
                return
            conn.execute("DROP SCHEMA IF EXISTS " + _schema_of(url) + " CASCADE")
        conn.execute("CREATE SCHEMA IF NOT EXISTS " + _schema_of(url))
    started = time.perf_counter()
    copy_store(str(home), url)
    shutil.rmtree(node, ignore_errors=True)
    node.mkdir(parents=True)
    shutil.copytree(home / "index", node / "index")
    print(f"PostgreSQL copy: {documents:,} documents in {time.perf_counter() - started:.0f} s")


def _schema_of(url: str) -> str:
    return url.rsplit("search_path%3D", 1)[1].split("&")[0]


def start(
    home: Path, log: Path, database: str | None, workers: int
) -> tuple[subprocess.Popen[bytes], str]:
    """The server and its base URL, once every worker answers."""
    command = [*sourcebook_command(), "--archive", str(home)]
    if database:
        command += ["--database", database]
    command += ["serve", "--host", HOST, "--port", str(port := free_port())]
    command += ["--workers", str(workers)]
    with log.open("wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"serve exited: {log.read_text()[-2000:]}")
        try:
            # every worker answers before the load starts
            if all(
                httpx.get(f"{base}/api/stats", headers={"Connection": "close"}).is_success
                for _ in range(4 * workers)
            ):
                return server, base
        except httpx.TransportError:
            time.sleep(0.3)
    raise SystemExit("serve did not answer within 120 s")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def measure(
    label: str, server: subprocess.Popen[bytes], base: str, paths: Path, args: argparse.Namespace
) -> Measured:
    wrk(base, paths, 4, args.warm_seconds, wait=False)  # warm caches and every worker
    before = loadavg()
    open_run = wrk(base, paths, args.users, args.seconds, wait=True)
    rss, pss = memory_mb(process_tree(server.pid))
    print(
        f"{label}: (a) {args.users} users, ~1 s apart: {open_run.requests:,} requests in "
        f"{open_run.seconds:.0f} s ({open_run.rate:.1f}/s), errors {open_run.errors}, "
        f"p50 {open_run.p50:.1f} ms, p99 {open_run.p99:.1f} ms, max {open_run.max:.0f} ms; "
        f"server Rss {rss:.0f} MB, Pss {pss:.0f} MB (load {before} -> {loadavg()})"
    )
    sweep: list[tuple[int, Run]] = []
    for clients in args.clients:
        run = wrk(base, paths, clients, args.step_seconds, wait=False)
        sweep.append((clients, run))
        print(
            f"{label}: (b) {clients:>3} clients, no wait: {run.rate:7.1f} requests/s, "
            f"p50 {run.p50:7.1f} ms, p99 {run.p99:7.1f} ms, errors {run.errors} "
            f"(load {loadavg()})"
        )
    under = [r.rate for _, r in sweep if r.p99 < SATURATION_P99_MS and not r.errors]
    return Measured(open_run, max(under, default=0.0))


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--database", required=True, help="PostgreSQL URL (a schema is made in it)")
    ap.add_argument("--schema", default="sb_org_load")
    ap.add_argument("--work", type=Path, help="reused between runs (default: a temporary folder)")
    ap.add_argument("--reuters-files", type=int, help="reut2 files to ingest (default: all)")
    ap.add_argument("--workers", type=int, default=2, help="server-mode processes (2)")
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60, help="open load duration (60)")
    ap.add_argument("--clients", default="1,2,4,8,16,24,32", help="saturation steps")
    ap.add_argument("--step-seconds", type=float, default=15)
    ap.add_argument("--warm-seconds", type=float, default=5)
    ap.add_argument("--requests", type=int, default=20_000, help="distinct requests in the mix")
    args = ap.parse_args()
    args.clients = [int(c) for c in args.clients.split(",")]
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (Debian: apt-get install wrk)")

    temp = None if args.work else tempfile.mkdtemp(prefix="sourcebook-org-load-")
    work: Path = args.work or Path(str(temp))
    try:
        home, node = work / "embedded", work / "node"
        url = with_schema(args.database, args.schema)
        documents = build(home, args.data, args.reuters_files)
        to_postgres(home, node, url, documents)
        print(f"load average {loadavg()}; {os.cpu_count()} cores; client: wrk, 1 thread")
        results: dict[str, Measured] = {}
        for label, folder, database, workers in (
            ("embedded, 1 process", home, None, 1),
            (f"PostgreSQL, --workers {args.workers}", node, url, args.workers),
        ):
            server, base = start(folder, work / "serve.log", database, workers)
            try:
                if not (work / "paths.txt").exists():  # the same mix for both servers
                    docids = _docids(base)
                    lines = [path for _, path in plan(random.Random(7), docids, args.requests)]
                    (work / "paths.txt").write_text("\n".join(lines) + "\n")
                results[label] = measure(label, server, base, work / "paths.txt", args)
            finally:
                stop(server)
        pg_rss, pg_pss = memory_mb(postgres_pids())
        print(f"PostgreSQL server processes: Rss {pg_rss:.0f} MB, Pss {pg_pss:.0f} MB")
        embedded, server_mode = results.values()
        open_run = server_mode.open
        ratio = server_mode.best / max(embedded.best, 1e-9)
        print(
            f"server mode, open load: errors {open_run.errors} ({verdict(open_run.errors == 0)}), "
            f"p50 {open_run.p50:.1f} ms ({verdict(open_run.p50 <= OPEN_P50_MS)} <= "
            f"{OPEN_P50_MS:g}), p99 {open_run.p99:.1f} ms "
            f"({verdict(open_run.p99 <= OPEN_P99_MS)} <= {OPEN_P99_MS:g})"
        )
        print(
            f"saturation (p99 < {SATURATION_P99_MS:g} ms): embedded {embedded.best:.1f}/s, "
            f"server mode {server_mode.best:.1f}/s, ratio {ratio:.2f} "
            f"({verdict(ratio >= SATURATION_RATIO)} >= {SATURATION_RATIO:g}); "
            f"load average {loadavg()}"
        )
        errors = sum(r.open.errors for r in results.values())
        return 1 if errors else 0
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)


def _docids(base: str) -> list[str]:
    docids: set[str] = set()
    for params in ({"sort": "newest"}, {"q": "oil"}, {"q": "torture"}):
        for page in (1, 2, 3):
            response = httpx.get(f"{base}/api/search", params={**params, "size": 100, "page": page})
            response.raise_for_status()
            docids.update(h["docid"] for h in response.json()["hits"])
    return sorted(docids)


if __name__ == "__main__":
    sys.exit(main())
