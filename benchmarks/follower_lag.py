"""Follower lag: a steady ingest through one node, the lag of a second node's search index.

    python benchmarks/follower_lag.py --reuters ../shared/data/reuters21578 \\
        --database postgresql://postgres@127.0.0.1/test

In a scratch schema of --database: node A is this process, an Archive that ingests Reuters
stories (parsed beforehand; no enrichment, which would cost more than the rate asked) at a steady
--rate documents a second (50) in ticks of --tick seconds (0.5: 25 documents per transaction and
per index commit) for --seconds (60). Node B is a real `sourcebook serve` on another archive
folder, following the store. Every 20 ms the script reads B's index position (the file its
follower writes after committing and reloading its searcher, so what it names is searchable in
B), and for each of A's ticks records the lag: from the time stamped on the tick's last change in
the store's log (taken before A's transaction, so the lag includes the transaction) to the first
sample where B's index holds it.

Twice: B waiting on the store's notifications (LISTEN/NOTIFY, the default) and B polling every
second only (SOURCEBOOK_FOLLOW_NOTIFY=false). Prints p50/p99/max of each, and "meets"/"MISSES"
against the issue's target (p99 <= 5 s with notifications).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from _common import (
    HOST,
    free_port,
    parse_reuters,
    percentile,
    reuters_files,
    scratch_schema,
    sourcebook_command,
)
from sourcebook.config import Settings
from sourcebook.model import Document
from sourcebook.services import Archive, IngestOptions

TARGET_P99_SECONDS = 5.0
SAMPLE_SECONDS = 0.02


def start_node(home: Path, url: str, notify: bool, log: Path) -> subprocess.Popen[bytes]:
    command = [*sourcebook_command(), "--archive", str(home), "--database", url]
    command += ["serve", "--host", HOST, "--port", str(port := free_port())]
    env = {"SOURCEBOOK_FOLLOW_NOTIFY": "true" if notify else "false"}
    with log.open("wb") as out:
        node = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env}
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if node.poll() is not None:
            raise SystemExit(f"serve exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://{HOST}:{port}/api/stats").is_success:
                return node
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("serve did not answer within 120 s")


def position_of(home: Path) -> int:
    try:
        return int((home / "index" / "sourcebook-position").read_text())
    except (OSError, ValueError):
        return -1


def run(
    docs: list[Document], url: str, work: Path, notify: bool, args: argparse.Namespace
) -> list[float]:
    a_home, b_home = work / f"a-{notify}", work / f"b-{notify}"
    options = IngestOptions(enrich=False, detect_language=False)
    with Archive(Settings(home=a_home, database_url=url)) as a:
        node = start_node(b_home, url, notify, work / "serve.log")
        try:
            pending: list[tuple[int, datetime]] = []  # (position, when it was logged)
            lags: list[float] = []
            lock = threading.Lock()
            done = threading.Event()

            def sample() -> None:
                while not (done.is_set() and not pending):
                    held = position_of(b_home)
                    now = datetime.now(UTC)
                    with lock:
                        while pending and pending[0][0] <= held:
                            lags.append((now - pending.pop(0)[1]).total_seconds())
                    time.sleep(SAMPLE_SECONDS)

            sampler = threading.Thread(target=sample)
            sampler.start()
            per_tick = max(1, round(args.rate * args.tick))
            ticks = int(args.seconds / args.tick)
            started = time.monotonic()
            sent = 0
            for tick in range(ticks):
                batch = docs[sent : sent + per_tick]
                if len(batch) < per_tick:
                    break
                a.add_documents(batch, options)
                sent += len(batch)
                last = a.store.changes_since(a.store.last_position() - 1, 1)[0]
                changed = last.changed_at.replace(tzinfo=last.changed_at.tzinfo or UTC)
                with lock:
                    pending.append((last.position, changed))
                pause = started + (tick + 1) * args.tick - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
            elapsed = time.monotonic() - started
            deadline = time.monotonic() + 60
            while pending and time.monotonic() < deadline:
                time.sleep(0.1)
            done.set()
            with lock:
                missing = len(pending)
                pending.clear()
            sampler.join()
        finally:
            node.terminate()
            node.wait(30)
    label = "notifications" if notify else "polling every 1 s"
    print(
        f"B {label}: {sent:,} documents in {elapsed:.1f} s ({sent / elapsed:.1f}/s, "
        f"{len(lags)} ticks): lag p50 {percentile(lags, 50):.3f} s, p99 "
        f"{percentile(lags, 99):.3f} s, max {max(lags, default=0):.3f} s"
        + (f"; {missing} ticks never reached B within 60 s" if missing else "")
    )
    return lags if not missing else [*lags, float("inf")]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reuters", type=Path, required=True, help="folder with reut2-*.sgm")
    ap.add_argument("--database", required=True, help="PostgreSQL URL (a scratch schema)")
    ap.add_argument("--rate", type=float, default=50, help="documents a second (50)")
    ap.add_argument("--tick", type=float, default=0.5, help="seconds between transactions")
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    needed = int(args.rate * args.seconds) + 100
    files = reuters_files(args.reuters)
    docs: list[Document] = []
    for path in files:  # distinct sources for both runs
        docs.extend(parse_reuters([path]))
        if len(docs) >= 2 * needed:
            break
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"{len(docs):,} stories parsed; load average {load}")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for notify, part in ((True, docs[:needed]), (False, docs[needed : 2 * needed])):
            with scratch_schema(args.database, "sb_lag") as url:
                results[notify] = run(part, url, Path(tmp), notify, args)
    p99 = percentile(results[True], 99)
    gain = percentile(results[False], 50) / max(percentile(results[True], 50), 1e-6)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(
        f"lag p99 with notifications {p99:.3f} s "
        f"({'meets' if p99 <= TARGET_P99_SECONDS else 'MISSES'} <= {TARGET_P99_SECONDS:g} s); "
        f"median lag, polling / notifications: {gain:.1f}x; load average {load}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
