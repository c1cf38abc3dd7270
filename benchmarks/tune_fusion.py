"""Choose the hybrid fusion on SciFact's TRAIN queries: prints the grid and the best setting.

    python benchmarks/tune_fusion.py --beir ../shared/data/beir [--units document,passage]
        [--cache /tmp/sourcebook-embeddings] [--model minilm|e5|static:DIR]

For each embedding unit (whole document, or passages max-pooled per document) it runs the train
queries once through ``sourcebook.evaluation.retrieval_runs`` (our BM25 top 100 through the
search service, the vector top 100), then re-fuses the kept lists under every setting of the
grid and scores nDCG@10 / Recall@100 / MRR@10:

* RRF with k in {1, 2, 5, 10, 20, 60, 100} and vector weight in {0.5, 0.75, 1, 1.5, 2} (BM25 1);
* min-max and z-score fusion with vector weight alpha in {0.1 .. 0.9} (BM25 1 - alpha);
* fusion depth (hits taken from each list) in {20, 50, 100}.

Only train judgements are read: the test queries choose nothing. The winner is written into
``sourcebook.search.fusion.DEFAULT_FUSION`` by hand, with the figures in docs/semantic.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sourcebook.evaluation import RetrievalRuns, SemanticOptions, retrieval_runs, score_run
from sourcebook.search.fusion import Fusion

RRF_K = (1.0, 2.0, 5.0, 10.0, 20.0, 60.0, 100.0)
RRF_WEIGHTS = (0.5, 0.75, 1.0, 1.5, 2.0)
ALPHAS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
DEPTHS = (20, 50, 100)


def grid() -> list[Fusion]:
    out: list[Fusion] = []
    for depth in DEPTHS:
        out += [Fusion("rrf", (1.0, w), k=k, depth=depth) for k in RRF_K for w in RRF_WEIGHTS]
        for method in ("minmax", "zscore"):
            out += [Fusion(method, (1 - a, a), depth=depth) for a in ALPHAS]
    return out


def describe(f: Fusion) -> str:
    if f.method == "rrf":
        return f"rrf k={f.k:g} w_vec={f.weights[1]:g} depth={f.depth}"
    return f"{f.method} alpha={f.weights[1]:g} depth={f.depth}"


def fused_scores(runs: RetrievalRuns, fusion: Fusion) -> tuple[float, float, float]:
    ranked = {
        q: [i for i, _ in fusion.fuse([runs.bm25[q], runs.vector.get(q, [])], limit=100)]
        for q in runs.bm25
    }
    return score_run(ranked, runs.qrels)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--beir", type=Path, required=True, help="folder of BEIR-layout datasets")
    ap.add_argument("--dataset", default="scifact", help="dataset with a train split")
    ap.add_argument("--split", default="train", help="never 'test': test queries choose nothing")
    ap.add_argument("--units", default="document,passage", help="embedding units to compare")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/sourcebook-embeddings"))
    ap.add_argument("--model", default="minilm", help="minilm, e5 or static:DIR (model2vec)")
    ap.add_argument("--top", type=int, default=15, help="grid rows to print per unit")
    args = ap.parse_args()
    if args.split == "test":
        raise SystemExit("tune on train queries; test queries only report")
    from sourcebook.enrich.embeddings import make_embedder

    embedder = make_embedder(args.model)
    folder = args.beir / args.dataset
    best: tuple[float, str, str] = (-1.0, "", "")
    for unit in filter(None, args.units.split(",")):
        started = time.perf_counter()
        runs = retrieval_runs(
            folder,
            "hybrid",
            args.split,
            SemanticOptions(embedder=embedder, unit=unit),
            cache_dir=args.cache,
            progress=lambda m: print(f"  {m}", flush=True),
        )
        bm25 = score_run({q: [i for i, _ in r] for q, r in runs.bm25.items()}, runs.qrels)
        vec = score_run({q: [i for i, _ in r] for q, r in runs.vector.items()}, runs.qrels)
        print(
            f"\n{args.dataset} {args.split}, unit={unit}: {len(runs.bm25)} queries "
            f"({time.perf_counter() - started:.0f} s)"
        )
        print(f"  bm25 alone      nDCG@10 {bm25[0]:.4f}  R@100 {bm25[1]:.4f}  MRR@10 {bm25[2]:.4f}")
        print(f"  vectors alone   nDCG@10 {vec[0]:.4f}  R@100 {vec[1]:.4f}  MRR@10 {vec[2]:.4f}")
        rows = [(fused_scores(runs, f), describe(f)) for f in grid()]
        rows.sort(key=lambda r: -r[0][0])
        for method in ("rrf", "minmax", "zscore"):
            top = next(r for r in rows if r[1].startswith(method))
            print(
                f"  best {method:<7}    nDCG@10 {top[0][0]:.4f}  R@100 {top[0][1]:.4f}  ({top[1]})"
            )
        print(f"  grid, best {args.top} of {len(rows)}:")
        for (ndcg, recall, mrr), name in rows[: args.top]:
            print(f"    {ndcg:.4f}  R@100 {recall:.4f}  MRR@10 {mrr:.4f}  {name}")
        if rows[0][0][0] > best[0]:
            best = (rows[0][0][0], unit, rows[0][1])
    print(
        f"\nbest on {args.dataset} {args.split}: unit={best[1]}, {best[2]}, nDCG@10 {best[0]:.4f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
