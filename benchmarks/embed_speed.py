"""Embedding speed: MiniLM on ONNX Runtime beside MiniLM on torch, in the same run (issue 11).

    python benchmarks/embed_speed.py --reuters ../shared/data/reuters21578 [--passages 2000]
        [--queries 100] [--runtimes onnx,torch] [--vectors 100000]
    python benchmarks/embed_speed.py --reports ../shared/data/us-state-dept-hrr/reports
    python benchmarks/embed_speed.py --reuters ... --runtimes onnx-old,onnx,onnx-int8

``onnx-old`` is ONNX Runtime as it ran before this change (batches of 32, worker threads that
spin between operators); each other runtime is printed beside it (ratios, cosine).

Passages are Reuters stories (short: 340 characters a passage on average), or the long reports
of a folder of Markdown files (``--reports``: the State Department's human-rights reports, 800
characters), split as ingest splits them (``passage_target_chars``), each with its title in
front, as the embedding job embeds them (``passage_units``); they are embedded
in chunks of 256, as ``sourcebook enrich --embeddings`` does. For each runtime it prints:

* passages/s (wall clock and per CPU second: on a shared machine the wall clock measures the
  neighbours too), after a warm-up that loads the model (and exports the ONNX graph the first
  time; the load time is printed apart);
* query embedding latency p50/p99 over ``--queries`` questions and keyword queries, one at a time
  as search sends them;
* the cosine between the two runtimes' vectors (min and mean), when both ran;
* the ratio ONNX / torch.

``--vectors N`` also times the exact vector search (``VectorIndex.search``, top 100) over N
vectors, the other half of a hybrid query's extra cost: the vectors are the passages' own,
repeated with a little noise to reach N (the product and the partial sort cost the same for
any unit vectors). The target: 100 passages/s (a 100k-passage archive embedded in under 20
minutes) and a query embedded in a few milliseconds.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from _common import parse_reuters, percentile, reuters_files
from sourcebook.config import Settings
from sourcebook.enrich.embeddings import embedder_unavailable, make_embedder, passage_units
from sourcebook.model import Document
from sourcebook.passages import split_passages

KEYWORDS = ["oil prices", "coffee Brazil", "grain exports", "interest rates", "yen dollar"]
QUESTIONS = [
    "What did the central bank say about interest rates?",
    "How much oil did OPEC produce in February?",
    "Which companies announced mergers in March?",
    "What is the outlook for coffee prices in Brazil?",
    "Why did the dollar fall against the yen?",
]


def load_reports(folder: Path, wanted: int) -> list[str]:
    target = Settings().passage_target_chars
    texts: list[str] = []
    while len(texts) < wanted:  # few reports: they are read again until there are enough
        for path in sorted(folder.glob("*.md")):
            doc = Document(source_key=path.name, title=path.stem, body=path.read_text())
            doc.passages = split_passages(doc.body, target)
            texts += [text for _id, text in passage_units(doc)]
        if not texts:
            raise SystemExit(f"no Markdown reports in {folder}")
    return texts[:wanted]


def load_passages(folder: Path, wanted: int) -> list[str]:
    target = Settings().passage_target_chars
    texts: list[str] = []
    for path in reuters_files(folder):
        for doc in parse_reuters([path]):
            doc.docid = doc.source_key
            doc.passages = split_passages(doc.body, target)
            texts += [text for _id, text in passage_units(doc)]
        if len(texts) >= wanted:
            break
    return texts[:wanted]


def embedder_for(runtime: str) -> Any:
    """``onnx-old``: ONNX Runtime as it ran before (batches of 32, spinning worker threads)."""
    if runtime == "onnx-old":
        from sourcebook.enrich.onnx_minilm import OnnxMiniLMEmbedder

        return OnnxMiniLMEmbedder(batch_size=32, spin=True)
    return make_embedder(f"minilm-{runtime}")


def run(runtime: str, texts: Sequence[str], queries: Sequence[str]) -> dict[str, Any]:
    embedder = embedder_for(runtime)
    started = time.perf_counter()
    embedder.embed_queries(["warm up"])
    load = time.perf_counter() - started
    wall, cpu = time.perf_counter(), time.process_time()
    rows = [embedder.embed_documents(texts[i : i + 256]) for i in range(0, len(texts), 256)]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    times: list[float] = []
    for query in queries:
        t = time.perf_counter()
        embedder.embed_queries([query])
        times.append(1000 * (time.perf_counter() - t))
    figures = {
        "load_s": load,
        "passages_per_s": len(texts) / wall,
        "passages_per_cpu_s": len(texts) / cpu if cpu else 0.0,
        "query_p50_ms": percentile(times, 50),
        "query_p99_ms": percentile(times, 99),
        "vectors": np.vstack(rows),
    }
    print(
        f"{runtime} load_s {load:.1f} passages_per_s {figures['passages_per_s']:.1f} "
        f"passages_per_cpu_s {figures['passages_per_cpu_s']:.1f} "
        f"query_p50_ms {figures['query_p50_ms']:.1f} query_p99_ms {figures['query_p99_ms']:.1f}"
    )
    return figures


def vector_search(vectors: np.ndarray[Any, Any], n: int, queries: int) -> None:
    """The exact vector search over ``n`` vectors, top 100 and top 500: the int8 first pass
    (``index/vector_scan.py``) beside the full float32 scan, alternating, and whether they agree."""
    from sourcebook.index.vectors import VectorIndex

    rng = np.random.default_rng(11)
    repeats = -(-n // len(vectors))
    block = np.tile(vectors, (repeats, 1))[:n]
    block = block + rng.normal(0, 0.02, block.shape).astype(np.float32)
    block /= np.linalg.norm(block, axis=1, keepdims=True)
    index = VectorIndex(block.shape[1], "all-MiniLM-L6-v2")
    index.add([f"d{i}#0" for i in range(n)], block)
    index.search(block[0], 100)  # builds the matrix once, as a loaded index has it
    started = time.perf_counter()
    index.prepare_fast_scan()  # as serve's warm-up does
    print(f"vector_search n {n} int8 first pass built in {time.perf_counter() - started:.1f} s")
    for k in (100, 500):
        times: dict[bool, list[float]] = {True: [], False: []}
        same = 0
        for row in rng.integers(0, n, queries):
            found = {}
            for fast in (True, False):
                index.fast_scan = fast
                t = time.perf_counter()
                found[fast] = index.search(block[row], k)
                times[fast].append(1000 * (time.perf_counter() - t))
            same += [i for i, _ in found[True]] == [i for i, _ in found[False]]
        index.fast_scan = True
        print(
            f"vector_search n {n} top {k} int8 first pass p50_ms {percentile(times[True], 50):.1f} "
            f"p99_ms {percentile(times[True], 99):.1f}; full float32 scan p50_ms "
            f"{percentile(times[False], 50):.1f} p99_ms {percentile(times[False], 99):.1f}; "
            f"ratio p50 {percentile(times[False], 50) / max(percentile(times[True], 50), 1e-9):.1f}; "
            f"same top {k}: {same} of {queries}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reuters", type=Path, help="folder with reut2-*.sgm")
    ap.add_argument("--reports", type=Path, help="folder of long reports (*.md) instead")
    ap.add_argument("--passages", type=int, default=2000, help="passages to embed")
    ap.add_argument("--queries", type=int, default=100, help="queries to embed one at a time")
    ap.add_argument(
        "--runtimes",
        default="onnx,torch",
        help="comma-separated: onnx, onnx-int8, onnx-old (before: batches of 32, spinning "
        "threads), torch; each new one is compared with onnx-old when it ran",
    )
    ap.add_argument("--vectors", type=int, default=0, help="also time vector search over N")
    args = ap.parse_args(argv)
    if args.reports:
        texts = load_reports(args.reports, args.passages)
    elif args.reuters:
        texts = load_passages(args.reuters, args.passages)
    else:
        raise SystemExit("give --reuters DIR or --reports DIR")
    chars = sum(len(t) for t in texts) / max(len(texts), 1)
    print(f"passages {len(texts)} mean_chars {chars:.0f} cores {os.cpu_count()}")
    pool = KEYWORDS + QUESTIONS
    queries = [
        pool[i % len(pool)] + ("" if i < len(pool) else f" {i}") for i in range(args.queries)
    ]
    results: dict[str, dict[str, Any]] = {}
    for runtime in [r for r in args.runtimes.split(",") if r]:
        reason = embedder_unavailable(f"minilm-{runtime.removesuffix('-old')}")
        if reason:
            print(f"{runtime} skipped: {reason}")
            continue
        results[runtime] = run(runtime, texts, queries)
    base = results.get("onnx-old")
    for name, figures in results.items():
        if base is not None and name != "onnx-old":
            cosines = (figures["vectors"] * base["vectors"]).sum(axis=1)
            print(
                f"{name} vs onnx-old: passages_per_s x{figures['passages_per_s'] / base['passages_per_s']:.2f} "
                f"passages_per_cpu_s x{figures['passages_per_cpu_s'] / base['passages_per_cpu_s']:.2f} "
                f"query_p50 x{base['query_p50_ms'] / max(figures['query_p50_ms'], 1e-9):.2f} "
                f"cosine min {cosines.min():.4f} mean {cosines.mean():.4f}"
            )
    if {"onnx", "torch"} <= results.keys():
        onnx, torch = results["onnx"], results["torch"]
        cosines = (onnx["vectors"] * torch["vectors"]).sum(axis=1)
        print(f"cosine onnx_vs_torch min {cosines.min():.6f} mean {cosines.mean():.6f}")
        for key in ("passages_per_s", "passages_per_cpu_s"):
            print(f"ratio onnx/torch {key} {onnx[key] / torch[key]:.1f}")
        print(f"ratio torch/onnx query_p50_ms {torch['query_p50_ms'] / onnx['query_p50_ms']:.1f}")
    print(f"loadavg {Path('/proc/loadavg').read_text().split()[0]}")
    if args.vectors and results:
        vector_search(next(iter(results.values()))["vectors"], args.vectors, args.queries)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
