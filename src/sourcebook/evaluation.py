"""Retrieval evaluation on test collections in BEIR layout, through the normal ingest and search.

A dataset folder holds ``corpus.jsonl`` (``_id``, ``title``, ``text``), ``queries.jsonl`` (``_id``,
``text``) and ``qrels/<split>.tsv`` (``query-id``, ``corpus-id``, ``score`` with a header line).
The corpus is ingested into a temporary archive with the normal ingest path, every judged query
runs through the normal search service in plain-text mode (top 100, no facets or passages), and
the run is scored with the usual definitions:

* nDCG@10 with linear gains (the graded score) and log2 discounts, as pytrec_eval and BEIR do;
* Recall@100: judged-relevant documents retrieved in the top 100, over all judged-relevant ones;
* MRR@10: reciprocal rank of the first relevant document in the top 10 (0 when none).
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sourcebook.config import Settings
from sourcebook.errors import ConfigError
from sourcebook.search.request import SearchRequest

Qrels = dict[str, dict[str, int]]
Run = dict[str, list[str]]


@dataclass
class Dataset:
    name: str
    folder: Path
    queries: dict[str, str]
    qrels: Qrels

    @property
    def corpus(self) -> Path:
        return self.folder / "corpus.jsonl"


@dataclass
class RetrievalScores:
    dataset: str
    mode: str
    queries: int
    ndcg_at_10: float
    recall_at_100: float
    mrr_at_10: float
    queries_per_second: float
    documents: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "dataset": self.dataset,
            "mode": self.mode,
            "queries": self.queries,
            "documents": self.documents,
            "failed_records": self.failed,
            "ndcg@10": round(self.ndcg_at_10, 4),
            "recall@100": round(self.recall_at_100, 4),
            "mrr@10": round(self.mrr_at_10, 4),
            "queries_per_second": round(self.queries_per_second, 1),
        }


def read_qrels(path: Path) -> Qrels:
    qrels: Qrels = {}
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            parts = line.rstrip("\n").split("\t")
            if n == 0 and parts[0] == "query-id":
                continue
            if len(parts) < 3:
                continue
            qrels.setdefault(parts[0], {})[parts[1]] = int(float(parts[2]))
    return qrels


def load_dataset(folder: Path, split: str = "test") -> Dataset:
    """Read queries and judgements of a BEIR-layout folder (the corpus is read by ingest)."""
    qrels_path = folder / "qrels" / f"{split}.tsv"
    for needed in (folder / "corpus.jsonl", folder / "queries.jsonl", qrels_path):
        if not needed.is_file():
            raise ConfigError(f"{folder} is not a BEIR dataset: {needed.name} is missing")
    qrels = read_qrels(qrels_path)
    queries: dict[str, str] = {}
    with (folder / "queries.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                record = json.loads(line)
                if str(record["_id"]) in qrels:
                    queries[str(record["_id"])] = str(record.get("text", ""))
    return Dataset(name=folder.name, folder=folder, queries=queries, qrels=qrels)


def ndcg_at(ranked: Sequence[str], judged: Mapping[str, int], k: int = 10) -> float:
    dcg = sum(
        judged.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]) if judged.get(doc)
    )
    ideal = sorted((g for g in judged.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: Sequence[str], judged: Mapping[str, int], k: int = 100) -> float:
    relevant = {d for d, g in judged.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def mrr_at(ranked: Sequence[str], judged: Mapping[str, int], k: int = 10) -> float:
    for i, doc in enumerate(ranked[:k]):
        if judged.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def score_run(run: Run, qrels: Qrels) -> tuple[float, float, float]:
    """Mean nDCG@10, Recall@100 and MRR@10 over the judged queries (missing runs count 0)."""
    judged = [q for q, j in qrels.items() if any(g > 0 for g in j.values())]
    if not judged:
        return 0.0, 0.0, 0.0
    n = len(judged)
    ndcg = sum(ndcg_at(run.get(q, []), qrels[q]) for q in judged) / n
    recall = sum(recall_at(run.get(q, []), qrels[q]) for q in judged) / n
    mrr = sum(mrr_at(run.get(q, []), qrels[q]) for q in judged) / n
    return ndcg, recall, mrr


def run_queries(
    search: Callable[[str], list[str]], queries: Mapping[str, str]
) -> tuple[Run, float]:
    """Run every query; return the ranked ids per query and queries per second."""
    run: Run = {}
    started = time.perf_counter()
    for qid, text in queries.items():
        run[qid] = search(text)
    elapsed = time.perf_counter() - started
    return run, (len(queries) / elapsed if elapsed else 0.0)


def evaluate_retrieval(
    folder: Path,
    mode: str = "bm25",
    split: str = "test",
    archive_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> RetrievalScores:
    """Ingest a BEIR dataset into a temporary archive and score plain-text search on it."""
    from sourcebook.services import Archive, IngestOptions

    if mode != "bm25":
        raise ConfigError(f"retrieval mode {mode!r} is not available; use bm25")
    dataset = load_dataset(folder, split)
    with tempfile.TemporaryDirectory() as tmp:
        home = archive_dir or Path(tmp) / "archive"
        with Archive(Settings(home=home)) as archive:
            if progress:
                progress(f"ingesting {dataset.corpus}")
            report = archive.ingest([dataset.corpus], IngestOptions(collection=dataset.name))
            if not report.documents:
                raise ConfigError(f"no corpus record of {dataset.corpus} could be ingested")
            if report.total("failed") and progress:
                # e.g. CACM repeats one _id: the second record is refused, the run goes on
                for message in report.files[0].errors[:5]:
                    progress(f"skipped: {message}")

            def search(text: str) -> list[str]:
                result = archive.search(
                    SearchRequest(query=text, mode="plain", page_size=100, facets=False, passages=0)
                )
                return [hit.source_id for hit in result.hits]

            if progress:
                progress(f"running {len(dataset.queries)} queries")
            run, qps = run_queries(search, dataset.queries)
            documents = archive.store.count()
            failed = report.total("failed")
    ndcg, recall, mrr = score_run(run, dataset.qrels)
    return RetrievalScores(
        dataset=dataset.name,
        mode=mode,
        queries=len(dataset.queries),
        ndcg_at_10=ndcg,
        recall_at_100=recall,
        mrr_at_10=mrr,
        queries_per_second=qps,
        documents=documents,
        failed=failed,
    )


def iter_datasets(root: Path) -> Iterable[Path]:
    """BEIR dataset folders under ``root`` (any folder holding corpus.jsonl)."""
    return sorted(p.parent for p in root.glob("*/corpus.jsonl"))
