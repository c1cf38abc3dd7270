"""HTTP load on `sourcebook serve` with the Reuters-21578 archive: pages and API, 20 clients.

    python benchmarks/http_load.py --reuters ../shared/data/reuters21578

Builds an archive of the Reuters stories with Archive.ingest in a temporary folder (or in
--archive DIR, reused when it already holds documents), starts `sourcebook serve` (uvicorn, one
worker process) as a subprocess on 127.0.0.1, and drives it with an httpx.AsyncClient load loop:
--clients concurrent clients (20) share a budget of --requests requests and stop at --seconds,
whichever comes first. Every request goes to 127.0.0.1 only. The mix: search pages (40%), API
searches (40%) and record pages (20%), over varied queries (words, phrases, OR, NOT, prefixes,
fields, dates), filters, sorts and pages. Prints requests/s, p50/p99 latency per kind and the
error count, which must be zero (the script exits 1 otherwise). The load generator runs on the
same machine, so its own CPU use is part of what the figures measure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx

from _common import HOST, free_port, percentile, reuters_files, start_server, stop, wait_ready
from sourcebook.config import Settings
from sourcebook.services import Archive, IngestOptions

WORDS = [
    "oil", "wheat", "dollar", "bank", "trade", "coffee", "sugar", "gold", "opec", "yen",
    "tariff", "interest", "rates", "profit", "dividend", "merger", "shares", "export",
    "import", "grain", "corn", "soybean", "crude", "prices", "inflation", "deficit",
    "japan", "brazil", "germany", "canada", "france", "britain", "china", "mexico",
    "acquisition", "earnings", "quarter", "loss", "debt", "bond", "currency", "exchange",
    "federal", "reserve", "treasury", "budget", "strike", "production", "output", "tin",
]  # fmt: skip
PHRASES = ["interest rates", "crude oil", "trade deficit", "central bank", "stock exchange"]
QUESTIONS = [
    "What did the central bank say about interest rates?",
    "How much oil did OPEC produce in February?",
    "Which companies announced mergers in March?",
]
MIX = (("page", 0.4), ("api", 0.4), ("record", 0.2))


def search_params(rng: random.Random) -> dict[str, str]:
    """One varied search, as a user (or a script) would send it."""
    w = lambda: rng.choice(WORDS)  # noqa: E731
    query = rng.choice(
        [
            w(),
            f"{w()} {w()}",
            f"{w()} OR {w()}",
            f"{w()} -{w()}",
            f'"{rng.choice(PHRASES)}"',
            f"{w()[:4]}*",
            f"title:{w()}",
            f"{w()} date:1987-03",
            rng.choice(QUESTIONS),
            "",
        ]
    )
    params = {"q": query} if query else {}
    roll = rng.random()
    if roll < 0.15:
        params["sort"] = "newest"
    elif roll < 0.2:
        params["page"] = "2"
    elif roll < 0.25:
        params["language"] = "en"
    return params


def plan(rng: random.Random, docids: list[str], total: int) -> Iterator[tuple[str, str]]:
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    for _ in range(total):
        kind = rng.choices(kinds, weights)[0]
        if kind == "record":
            yield kind, f"/record/{rng.choice(docids)}"
        else:
            query = urlencode(search_params(rng))
            path = "/search" if kind == "page" else "/api/search"
            yield kind, f"{path}?{query}" if query else path


def build_archive(home: Path, reuters: Path) -> int:
    with Archive(Settings(home=home)) as archive:
        have = int(archive.stats()["documents"])
        if have:
            print(f"archive: {home} already holds {have:,} documents")
            return have
        started = time.perf_counter()
        report = archive.ingest(reuters_files(reuters), IngestOptions())
        seconds = time.perf_counter() - started
        print(
            f"archive: ingested {report.documents:,} stories in {seconds:.1f} s "
            f"({report.total('failed')} failed)"
        )
        return report.documents


async def collect_docids(client: httpx.AsyncClient) -> list[str]:
    docids: list[str] = []
    for params in ({"sort": "newest", "size": "100"}, {"q": "oil", "size": "100"}):
        for page in (1, 2, 3):
            response = await client.get("/api/search", params={**params, "page": str(page)})
            response.raise_for_status()
            docids.extend(h["docid"] for h in response.json()["hits"])
    return sorted(set(docids))


async def load(
    base: str, clients: int, total: int, seconds: float, seed: int
) -> tuple[dict[str, list[float]], Counter[str], list[str], float]:
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    timings: dict[str, list[float]] = defaultdict(list)
    errors: Counter[str] = Counter()
    samples: list[str] = []
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        docids = await collect_docids(client)
        for _kind, url in plan(random.Random(seed + 1), docids, 60):  # warm caches
            await client.get(url)
        requests = plan(rng, docids, total)
        deadline = time.perf_counter() + seconds

        async def one_client() -> None:
            while time.perf_counter() < deadline:
                try:
                    kind, url = next(requests)
                except StopIteration:
                    return
                started = time.perf_counter()
                try:
                    response = await client.get(url)
                    ok = response.status_code == 200
                    problem = f"{response.status_code} {url}"
                except httpx.HTTPError as exc:
                    ok, problem = False, f"{type(exc).__name__} {url}"
                timings[kind].append((time.perf_counter() - started) * 1000)
                if not ok:
                    errors[kind] += 1
                    if len(samples) < 10:
                        samples.append(problem)

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return timings, errors, samples, elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reuters", type=Path, required=True, help="folder with reut2-*.sgm")
    ap.add_argument("--archive", type=Path, help="archive folder to build or reuse (default: temp)")
    ap.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    ap.add_argument("--requests", type=int, default=4000, help="request budget (default 4000)")
    ap.add_argument("--seconds", type=float, default=60, help="time limit (default 60)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    temp = None if args.archive else tempfile.mkdtemp(prefix="sourcebook-http-")
    home = args.archive or Path(temp or ".") / "archive"
    try:
        documents = build_archive(home, args.reuters)
        port = free_port()
        base = f"http://{HOST}:{port}"
        log = home.parent / f"serve-{os.getpid()}.log"
        server = start_server(home, port, log)
        try:
            asyncio.run(wait_ready(base, server))
            timings, errors, samples, elapsed = asyncio.run(
                load(base, args.clients, args.requests, args.seconds, args.seed)
            )
        finally:
            stop(server)
        done = sum(len(v) for v in timings.values())
        print(
            f"served {documents:,} documents with `sourcebook serve` (uvicorn, 1 worker) on {base}"
        )
        print(
            f"{done:,} requests from {args.clients} concurrent clients in {elapsed:.1f} s: "
            f"{done / elapsed:,.1f} requests/s"
        )
        for kind, label in (
            ("page", "search page  "),
            ("api", "API search   "),
            ("record", "record page  "),
        ):
            values = timings.get(kind, [])
            if values:
                print(
                    f"  {label} {len(values):>6,} requests  p50 {percentile(values, 50):7.1f} ms"
                    f"  p99 {percentile(values, 99):7.1f} ms  errors {errors[kind]}"
                )
        every = [t for values in timings.values() for t in values]
        print(
            f"  all           {len(every):>6,} requests  p50 {percentile(every, 50):7.1f} ms"
            f"  p99 {percentile(every, 99):7.1f} ms  errors {sum(errors.values())}"
        )
        for sample in samples:
            print(f"  error: {sample}")
        if sum(errors.values()):
            print(f"server log: {log}")
            return 1
        log.unlink(missing_ok=True)
        return 0
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
