"""Search latency on Reuters-21578, through the full search service, beside raw Tantivy.

    python benchmarks/search.py --reuters ../shared/data/reuters21578

Builds a temporary archive from the Reuters files, then runs 200 varied queries (single terms,
AND, OR, NOT, phrases, proximity, wildcards, field queries, date ranges, filters, sorting by date,
deep pages, plain-text questions), each with facets and best passages, as a user's search would.
The same query texts run on a raw Tantivy index of the same stories (its own query parser, top 10,
stored titles) in the same process. Prints p50/p99 for both and the ratio.
Target (issue 2): full path p50 <= 5 ms, p99 <= 30 ms.

``--hybrid N`` also embeds N stories (the archive's own job, ``enrich --embeddings --limit N``;
the model as the settings choose it, ONNX Runtime when installed) and times the plain-text
queries through the full path twice in the same run, alternating: hybrid (BM25 fused with the
vectors) and BM25 alone (the same archive opened read-only with ``hybrid`` off). Target (issue
11): hybrid p50 <= 25 ms, p99 <= 80 ms.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

from _common import (
    QueryCase,
    RawTantivy,
    make_cases,
    parse_reuters,
    percentile,
    reuters_files,
    summarise,
)
from sourcebook.config import Settings
from sourcebook.search.request import SearchRequest
from sourcebook.services import Archive

QUESTIONS = [
    "What did the central bank say about interest rates?",
    "How much oil did OPEC produce in February?",
    "Which companies announced mergers in March?",
    "What is the outlook for coffee prices in Brazil?",
    "Why did the dollar fall against the yen?",
    "Did the government raise grain export subsidies?",
    "What happened to sugar production in Cuba?",
    "How are trade talks between Japan and the United States going?",
]


def hybrid_latency(archive: Archive, cases: list[QueryCase], n: int, rounds: int) -> None:
    """Hybrid beside BM25 alone, on the plain-text queries, after embedding ``n`` stories."""
    started = time.perf_counter()
    report = archive.enrich_embeddings(limit=n)
    seconds = time.perf_counter() - started
    print(
        f"embedded {report.vectors:,} vectors in {seconds:.0f} s ({report.vectors / seconds:.1f}/s)"
    )
    plain = [SearchRequest(query=q) for q in QUESTIONS]
    plain += [c.request for c in cases if c.kind == "plain"]
    bm25_only = Archive(archive.settings.model_copy(update={"hybrid": False}), read_only=True)
    times: dict[str, list[float]] = {"hybrid": [], "bm25": []}
    with bm25_only:
        for r in plain:  # warm-up: the model, the vectors, the caches
            assert archive.search(r).ranking == "hybrid", "no vectors: is the extra installed?"
            bm25_only.search(r)
        for _ in range(rounds):
            for r in plain:
                for label, target in (("hybrid", archive), ("bm25", bm25_only)):
                    start = time.perf_counter()
                    target.search(r)
                    times[label].append((time.perf_counter() - start) * 1000)
    for label, values in times.items():
        print(f"{label} full path ({len(plain)} plain queries x {rounds}): {summarise(values)}")
    p50, p99 = percentile(times["hybrid"], 50), percentile(times["hybrid"], 99)
    print(f"ratio p50 hybrid/bm25: {p50 / max(percentile(times['bm25'], 50), 1e-9):.1f}")
    print(
        f"target hybrid p50 <= 25 ms: {'meets' if p50 <= 25 else 'MISSES'}; "
        f"p99 <= 80 ms: {'meets' if p99 <= 80 else 'MISSES'}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reuters", type=Path, required=True, help="folder with reut2-*.sgm")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3, help="timed passes over the query set")
    ap.add_argument("--hybrid", type=int, default=0, help="embed N stories; time hybrid")
    args = ap.parse_args()
    files = reuters_files(args.reuters)
    docs = parse_reuters(files)
    cases = make_cases(
        docs[:4000], args.queries, QUESTIONS, (date(1987, 2, 26), date(1987, 10, 20))
    )
    requests = [c.request for c in cases]

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with Archive(Settings(home=root / "archive")) as archive:
            report = archive.ingest(files)
            print(f"archive: {report.documents:,} stories")
            for r in requests:  # warm-up: load analyzers, caches, pages
                archive.search(r)
            ours: list[float] = []
            totals = 0
            for _ in range(args.rounds):
                for r in requests:
                    start = time.perf_counter()
                    result = archive.search(r)
                    ours.append((time.perf_counter() - start) * 1000)
                    totals += result.total
            print(
                f"sourcebook full path ({len(requests)} queries x {args.rounds}, facets + passages): {summarise(ours)}"
            )
            if args.hybrid:
                hybrid_latency(archive, cases, args.hybrid, args.rounds)

        peer = RawTantivy(root / "raw")
        peer.add(docs)
        texts = [c.peer for c in cases]
        for t in texts:
            peer.search(t)
        raw: list[float] = []
        for _ in range(args.rounds):
            for t in texts:
                start = time.perf_counter()
                peer.search(t)
                raw.append((time.perf_counter() - start) * 1000)
        print(
            f"raw tantivy (query parser, top 10, stored titles, no facets/passages): {summarise(raw)}"
        )
    p50, p99 = percentile(ours, 50), percentile(ours, 99)
    print(f"ratio p50 sourcebook/raw: {p50 / max(percentile(raw, 50), 1e-9):.1f}")
    print(f"ratio p99 sourcebook/raw: {p99 / max(percentile(raw, 99), 1e-9):.1f}")
    print(
        f"target p50 <= 5 ms: {'meets' if p50 <= 5 else 'MISSES'}; p99 <= 30 ms: {'meets' if p99 <= 30 else 'MISSES'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
