"""Scale: how ingest, search latency, memory and cold start grow with the archive (issue 6).

    python benchmarks/scale.py --passages 100000
    python benchmarks/scale.py --sizes 100000,300000,1000000 --plot docs/performance-growth.png

For each size N it builds (once; reused afterwards from --work) an archive of N passages made of
real paragraphs of the corpora in ../shared/data recombined into new documents with plausible
metadata (see _synthetic.py), through the normal ingest path (``Archive.add_documents`` with the
default options: language, countries, places and near-duplicates; no entities, no embeddings).
The same documents also go into a scratch archive without enrichment (the ingest target's
figure), a plain tantivy-py index and a bm25s index. Then it measures:

* ingest rate (documents/s, passages/s, generation time excluded) and size on disk;
* latency p50/p95/p99 and throughput with 1 and 2 threads of a fixed query mix (terms, AND/OR,
  NOT, phrases, proximity, prefixes, fields, dates, countries, newest first, page 50, plain words,
  questions, browsing), each through the full search service (``Archive.search``: parse, rank,
  facets, passages, highlights); the same queries on raw Tantivy (its own parser, top 10, stored
  titles) and, for the bags of words it can express, on bm25s; and the ratios;
* memory: VmRSS/VmHWM of `sourcebook serve` (a subprocess, a few hundred API searches) and of a
  process that searches in-process;
* cold start: `sourcebook search` wall time, process start to first in-process search, and
  `sourcebook serve` start to the first HTTP 200.

Figures go to --out (scale-N.json per size; scale.json and scale.md, the tables of
docs/performance.md, for all sizes found there) and a plot of every size in --out to --plot. The targets (at 1M passages, 2 cores) are printed as meets/misses;
the script never fails on times. The machine is shared: timings are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.progress import Progress

from _common import (
    Bm25sPeer,
    QueryCase,
    RawTantivy,
    console,
    latencies,
    make_cases,
    progress_bar,
    stats_of,
)
from _scale_probe import measure_cli, measure_in_process, measure_serve
from _scale_report import TARGETS, machine, markdown, plot, print_size, verdicts
from _synthetic import COI_COUNTRIES, DAYS, FIRST_DAY, Generator, load_pools, sample
from sourcebook.config import Settings
from sourcebook.model import Document
from sourcebook.services import Archive, IngestOptions

__all__ = ["TARGETS", "build", "main", "plot", "print_size", "run_size"]

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_WORK = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sourcebook-scale"
QUESTIONS = [
    "What is the situation of women in Afghanistan?",
    "How are political prisoners treated in Iran?",
    "Are journalists arrested for criticising the government?",
    "What happened to oil prices after the OPEC meeting?",
    "Which companies announced mergers this year?",
    "Does the army recruit children in armed conflict?",
    "What are the effects of vitamin D on bone density?",
    "How does the government restrict freedom of religion?",
    "What did the central bank say about interest rates?",
    "Can refugees return safely to Syria?",
]


# --- building -------------------------------------------------------------------------------
class Ledger:
    """build.json beside an archive: figures of each finished build step, so a run resumes."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "build.json"
        self.data: dict[str, Any] = json.loads(self.path.read_text()) if self.path.exists() else {}

    def done(self, step: str, *folders: Path) -> bool:
        return step in self.data and all(f.exists() for f in folders)

    def record(self, step: str, figures: dict[str, Any]) -> None:
        self.data[step] = figures
        self.path.write_text(json.dumps(self.data, indent=2))


class Clock:
    """Time spent inside an iterator (so a consumer's own time can be told apart)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(
        self, items: Iterator[Document], tick: Callable[[Document], None]
    ) -> Iterator[Document]:
        while True:
            start = time.perf_counter()
            try:
                item = next(items)
            except StopIteration:
                self.seconds += time.perf_counter() - start
                return
            self.seconds += time.perf_counter() - start
            tick(item)
            yield item


def passages_in(doc: Document) -> int:
    return doc.body.count("\n\n") + 1


def ingest(
    home: Path, gen: Generator, n: int, options: IngestOptions, label: str, bar: Progress
) -> dict[str, Any]:
    task = bar.add_task(label, total=n, unit="passages")
    clock = Clock()
    started = time.perf_counter()
    with Archive(Settings(home=home)) as archive:
        docs = clock.wrap(gen.documents(n), lambda d: bar.advance(task, passages_in(d)))
        # add_documents returns once the index is committed and its merges are done
        report = archive.add_documents(docs, options, origin="scale")
        seconds = time.perf_counter() - started - clock.seconds
        stats = archive.stats()
    return {
        "documents": report.documents,
        "failed": report.total("failed"),
        "passages": int(stats["passages"]),
        "seconds": round(seconds, 2),
        "generator_seconds": round(clock.seconds, 2),
        "docs_per_s": round(report.documents / seconds, 1),
        "passages_per_s": round(int(stats["passages"]) / seconds, 1),
        "enrich": options.enrich,
    }


def folder_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build(n: int, gen: Generator, folder: Path, enrich: bool) -> dict[str, Any]:
    """Build (or reuse) the archive, the no-enrichment scratch ingest and both peer indexes."""
    folder.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(folder)
    home, raw_dir, bm25s_dir = folder / "archive", folder / "raw-tantivy", folder / "bm25s"
    with progress_bar() as bar:
        if not ledger.done("archive", home):
            shutil.rmtree(home, ignore_errors=True)  # an interrupted build is started again
            options = IngestOptions() if enrich else IngestOptions(enrich=False)
            ledger.record("archive", ingest(home, gen, n, options, "archive", bar))
        if not ledger.done("ingest_without_enrichment"):
            scratch = folder / "scratch"
            shutil.rmtree(scratch, ignore_errors=True)
            options = IngestOptions(enrich=False, detect_language=False)
            figures = ingest(scratch, gen, n, options, "ingest, no enrichment", bar)
            shutil.rmtree(scratch)
            ledger.record("ingest_without_enrichment", figures)
        if not ledger.done("raw_tantivy", raw_dir):
            shutil.rmtree(raw_dir, ignore_errors=True)
            task = bar.add_task("raw tantivy", total=n, unit="passages")
            clock = Clock()
            started = time.perf_counter()
            count = RawTantivy(raw_dir).add(
                clock.wrap(gen.documents(n), lambda d: bar.advance(task, passages_in(d)))
            )
            seconds = time.perf_counter() - started - clock.seconds
            ledger.record(
                "raw_tantivy",
                {"seconds": round(seconds, 2), "docs_per_s": round(count / seconds, 1)},
            )
        if not ledger.done("bm25s", bm25s_dir):
            task = bar.add_task("bm25s", total=n, unit="passages")
            clock = Clock()
            started = time.perf_counter()
            peer = Bm25sPeer()
            texts = (
                f"{d.title}\n{d.body}"
                for d in clock.wrap(gen.documents(n), lambda d: bar.advance(task, passages_in(d)))
            )
            count = peer.build(texts)
            seconds = time.perf_counter() - started - clock.seconds
            peer.save(bm25s_dir)
            ledger.record(
                "bm25s", {"seconds": round(seconds, 2), "docs_per_s": round(count / seconds, 1)}
            )
    ledger.data["disk_mb"] = {
        "database": mb(sum(folder_bytes(p) for p in home.glob("sourcebook.db*"))),
        "index": mb(folder_bytes(home / "index")),
        "raw_tantivy": mb(folder_bytes(raw_dir)),
        "bm25s": mb(folder_bytes(bm25s_dir)),
    }
    return ledger.data


def mb(n: int) -> float:
    return round(n / 1024 / 1024, 1)


# --- searching ------------------------------------------------------------------------------
def by_kind(cases: Sequence[QueryCase], times: list[float]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[float]] = defaultdict(list)
    for case, ms in zip(cases, times, strict=True):
        groups[case.kind].append(ms)
    return {k: stats_of(v) for k, v in groups.items()}


def measure_search(
    home: Path,
    raw_dir: Path,
    bm25s_dir: Path,
    mixes: dict[int, list[QueryCase]],
    warm_up: list[QueryCase],
    rounds: int,
) -> dict[str, Any]:
    """Each engine runs ``mixes[1]`` on one thread and ``mixes[2]`` on two, after a warm-up on
    other queries: the three sets differ, so no result cache could answer a timed query."""
    ours: dict[str, Any] = {}
    with progress_bar() as bar, Archive(Settings(home=home)) as archive:
        for c in warm_up:
            archive.search(c.request)
        totals: list[int] = []
        for threads, cases in mixes.items():
            times, qps = latencies(
                lambda c: totals.append(archive.search(c.request).total),
                cases,
                rounds,
                threads,
                bar,
                f"sourcebook, {threads} thread(s)",
            )
            ours[f"threads{threads}"] = stats_of(times, qps)
            if threads == 1:
                ours["by_kind"] = by_kind(cases * rounds, times)
                worded = [ms for c, ms in zip(cases * rounds, times, strict=True) if c.words]
                ours["bm25s_subset"] = stats_of(worded)
                ours["zero_hit_queries"] = sum(1 for t in totals if t == 0)
    peer = RawTantivy(raw_dir)
    bm = Bm25sPeer()
    bm.load(bm25s_dir)
    raw: dict[str, Any] = {}
    bm_figures: dict[str, Any] = {}
    with progress_bar() as bar:
        for c in warm_up:
            peer.search(c.peer)
            bm.search(c.words or "")
        for threads, cases in mixes.items():
            times, qps = latencies(
                lambda c: peer.search(c.peer),
                cases,
                rounds,
                threads,
                bar,
                f"raw tantivy, {threads} thread(s)",
            )
            raw[f"threads{threads}"] = stats_of(times, qps)
            if threads == 1:
                raw["by_kind"] = by_kind(cases * rounds, times)
            texts = [c.words for c in cases if c.words is not None]
            times, qps = latencies(
                bm.search, texts, rounds, threads, bar, f"bm25s, {threads} thread(s)"
            )
            bm_figures[f"threads{threads}"] = stats_of(times, qps)
            bm_figures[f"queries{threads}"] = len(texts)
    return {"sourcebook": ours, "raw_tantivy": raw, "bm25s": bm_figures}


def ratios(search: dict[str, Any]) -> dict[str, float]:
    ours, raw, bm = search["sourcebook"], search["raw_tantivy"], search["bm25s"]

    def r(a: float, b: float) -> float:
        return round(a / max(b, 1e-6), 1)

    out = {
        f"raw_{p}": r(ours["threads1"][f"{p}_ms"], raw["threads1"][f"{p}_ms"])
        for p in ("p50", "p95", "p99")
    }
    out.update(
        {
            f"bm25s_{p}": r(ours["bm25s_subset"][f"{p}_ms"], bm["threads1"][f"{p}_ms"])
            for p in ("p50", "p99")
        }
    )
    out["raw_qps_2_threads"] = r(raw["threads2"]["qps"], ours["threads2"]["qps"])
    return out


# --- the run --------------------------------------------------------------------------------
def run_size(
    n: int,
    gen: Generator,
    work: Path,
    queries: int,
    rounds: int,
    serve_requests: int,
    enrich: bool,
    seed: int,
    serve_clients: int = 4,
) -> dict[str, Any]:
    """Build (or reuse) the archive of ``n`` passages and its peers, and measure everything."""
    folder = work / f"passages-{n}"
    build_figures = build(n, gen, folder, enrich)
    home = folder / "archive"
    with Archive(Settings(home=home)) as archive:
        # opening rebuilds an index of an older schema: done here, it is in no measurement
        if archive.index.recreated:
            console.print(f"rebuilt the search index of {home} (its schema had changed)")
    docs = sample(gen.documents(n), 3000)
    dates = (FIRST_DAY, FIRST_DAY + timedelta(days=DAYS - 1))

    def mix(count: int, offset: int) -> list[QueryCase]:
        return make_cases(
            docs, count, QUESTIONS, dates, COI_COUNTRIES[:25], deep_page=50, seed=seed + offset
        )

    cases = mix(queries, 0)
    mixes = {1: cases, 2: mix(queries, 1)}
    warm_up = mix(max(34, queries // 10), 2)
    load_before = os.getloadavg()
    search = measure_search(home, folder / "raw-tantivy", folder / "bm25s", mixes, warm_up, rounds)
    word = next(c.request.query for c in cases if c.kind == "term")
    memory = {
        "in_process": measure_in_process(home, cases, 1),
        "serve": measure_serve(home, cases, serve_requests, folder, serve_clients),
    }
    fig: dict[str, Any] = {
        "passages": build_figures["archive"]["passages"],
        "passages_asked": n,
        "documents": build_figures["archive"]["documents"],
        "build": build_figures,
        "search": search,
        "ratios": ratios(search),
        "memory": memory,
        "cold_start": {
            "cli_search_s": measure_cli(home, word),
            "in_process_first_search_s": memory["in_process"]["first_search_s"],
            "serve_first_200_s": memory["serve"]["first_200_s"],
        },
        "queries": {
            "cases": len(cases),
            "warm_up": len(warm_up),
            "rounds": rounds,
            "kinds": sorted({c.kind for c in cases}),
        },
        "machine": machine(),
        "load_average": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in os.getloadavg()],
        },
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    fig["targets"] = verdicts(fig)
    return fig


def parse_sizes(args: argparse.Namespace) -> list[int]:
    if args.sizes:
        return sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    if args.passages:
        return [args.passages]
    raise SystemExit("give --passages N or --sizes N,N,...")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--passages", type=int, help="archive size in passages (one size)")
    ap.add_argument("--sizes", help="several sizes, e.g. 100000,300000,1000000")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="../shared/data")
    ap.add_argument(
        "--work",
        type=Path,
        default=DEFAULT_WORK,
        help=f"archives, built once per size (default {DEFAULT_WORK})",
    )
    ap.add_argument(
        "--out",
        type=Path,
        help="figures: scale-N.json, scale.json, scale.md (default WORK/results)",
    )
    ap.add_argument(
        "--plot", type=Path, help="PNG of every size in --out (default OUT/performance-growth.png)"
    )
    ap.add_argument(
        "--queries", type=int, default=680, help="queries in each mix (40 of each of 17 kinds)"
    )
    ap.add_argument("--rounds", type=int, default=1, help="timed passes over each mix")
    ap.add_argument(
        "--serve-requests", type=int, default=300, help="API searches sent to `sourcebook serve`"
    )
    ap.add_argument(
        "--serve-clients", type=int, default=4, help="concurrent clients sending them (default 4)"
    )
    ap.add_argument(
        "--no-enrich", dest="enrich", action="store_false", help="build without enrichment"
    )
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args(argv)
    sizes = parse_sizes(args)
    out = args.out or args.work / "results"
    out.mkdir(parents=True, exist_ok=True)
    if not args.data.is_dir():
        raise SystemExit(f"{args.data} is absent: the scale benchmark needs ../shared/data")
    console.print(f"reading the corpora in {args.data}")
    gen = Generator(load_pools(args.data), seed=args.seed)
    for n in sizes:
        fig = run_size(
            n,
            gen,
            args.work,
            args.queries,
            args.rounds,
            args.serve_requests,
            args.enrich,
            args.seed,
            args.serve_clients,
        )
        (out / f"scale-{n}.json").write_text(json.dumps(fig, indent=2))
        print_size(fig)
    everything = [json.loads(p.read_text()) for p in sorted(out.glob("scale-*.json"))]
    (out / "scale.json").write_text(json.dumps({"sizes": everything, "targets": TARGETS}, indent=2))
    (out / "scale.md").write_text(markdown(everything))
    plot_path = args.plot or out / "performance-growth.png"
    plot(everything, plot_path)
    console.print(f"figures: {out / 'scale.json'}, tables: {out / 'scale.md'}; plot: {plot_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
