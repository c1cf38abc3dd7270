"""Search latency on Reuters-21578, through the full search service, beside raw Tantivy.

    python benchmarks/search.py --reuters ../shared/data/reuters21578

Builds a temporary archive from the Reuters files, then runs 200 varied queries (single terms,
AND, OR, NOT, phrases, proximity, wildcards, field queries, date ranges, filters, sorting by date,
deep pages, plain-text questions), each with facets and best passages, as a user's search would.
The same query texts run on a raw Tantivy index of the same stories (its own query parser, top 10,
stored titles) in the same process. Prints p50/p99 for both and the ratio.
Target (issue 2): full path p50 <= 5 ms, p99 <= 30 ms.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

from _common import RawTantivy, make_cases, parse_reuters, percentile, reuters_files, summarise
from sourcebook.config import Settings
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reuters", type=Path, required=True, help="folder with reut2-*.sgm")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3, help="timed passes over the query set")
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
