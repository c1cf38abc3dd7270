"""Retrieval evaluation on test collections in BEIR layout, through the normal ingest and search.

A dataset folder holds ``corpus.jsonl`` (``_id``, ``title``, ``text``), ``queries.jsonl`` (``_id``,
``text``) and ``qrels/<split>.tsv`` (``query-id``, ``corpus-id``, ``score`` with a header line).
The corpus is ingested into a temporary archive with the normal ingest path, every judged query
runs through the normal search service in plain-text mode (top 100, no facets or passages), and
the run is scored with the usual definitions:

* nDCG@10 with linear gains (the graded score) and log2 discounts, as pytrec_eval and BEIR do;
* Recall@100: judged-relevant documents retrieved in the top 100, over all judged-relevant ones;
* MRR@10: reciprocal rank of the first relevant document in the top 10 (0 when none).

Modes: ``bm25`` is the search service alone. ``hybrid`` is what users get once an archive has
vectors: the corpus is embedded by the archive's own job (``Archive.enrich_embeddings``, as
``sourcebook enrich --embeddings``) and every query goes through the normal search service,
which fuses the BM25 top 100 with the vector top 100 (``sourcebook.search.hybrid``).
``semantic`` ranks by embeddings only (the corpus as stored, embedded by
:mod:`sourcebook.enrich.embeddings`, searched exactly in a
:class:`~sourcebook.index.vectors.VectorIndex`); :func:`retrieval_runs` keeps both lists of
every query apart (``benchmarks/tune_fusion.py`` re-fuses them). Corpus embeddings take minutes,
so they are kept in ``cache_dir`` (one vector index per dataset, corpus size, model variant
and unit: fp32 and int8 MiniLM share a model name, not a cache entry) and a stopped run resumes
where it stopped. Queries are embedded at query time, inside the timed loop, by
``SemanticOptions.query_embedder`` when it is set (another runtime than the corpus's: an
archive embedded by fp32 and searched by int8, as after a change of ``semantic_runtime``).
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sourcebook.config import Settings
from sourcebook.errors import ConfigError
from sourcebook.search.fusion import DEFAULT_FUSION, Fusion
from sourcebook.search.hybrid import vector_top
from sourcebook.search.request import SearchRequest

if TYPE_CHECKING:
    from sourcebook.enrich.embeddings import Embedder
    from sourcebook.index.vectors import VectorIndex
    from sourcebook.model import Document
    from sourcebook.services import Archive

Qrels = dict[str, dict[str, int]]
Run = dict[str, list[str]]
ScoredRun = dict[str, list[tuple[str, float]]]

MODES = ("bm25", "semantic", "hybrid")
#: How many hits each retriever hands to fusion (and the depth Recall@100 reads).
DEPTH = 100


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
    #: Median and 99th-percentile time of one query, in milliseconds (0: not measured).
    p50_ms: float = 0.0
    p99_ms: float = 0.0

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
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
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


@dataclass(frozen=True)
class Latency:
    """How fast a run answered: queries per second over the whole run, and the median and
    99th-percentile time of one query in milliseconds (nearest rank)."""

    queries_per_second: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        """From each query's time in seconds."""
        if not seconds:
            return cls()
        ordered = sorted(seconds)
        total = sum(ordered)
        return cls(
            queries_per_second=len(ordered) / total if total else 0.0,
            p50_ms=percentile(ordered, 50) * 1000,
            p99_ms=percentile(ordered, 99) * 1000,
        )


def percentile(ordered: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile of sorted values (0 for none)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def run_timed(
    search: Callable[[str], list[str]], queries: Mapping[str, str]
) -> tuple[Run, Latency]:
    """Run every query, timing each; return the ranked ids per query and the latency."""
    run: Run = {}
    seconds: list[float] = []
    for qid, text in queries.items():
        started = time.perf_counter()
        run[qid] = search(text)
        seconds.append(time.perf_counter() - started)
    return run, Latency.of(seconds)


def run_queries(
    search: Callable[[str], list[str]], queries: Mapping[str, str]
) -> tuple[Run, float]:
    """Run every query; return the ranked ids per query and queries per second."""
    run, latency = run_timed(search, queries)
    return run, latency.queries_per_second


def evaluate_retrieval(
    folder: Path,
    mode: str = "bm25",
    split: str = "test",
    archive_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
    semantic: SemanticOptions | None = None,
    cache_dir: Path | None = None,
) -> RetrievalScores:
    """Ingest a BEIR dataset into a temporary archive and score plain-text search on it.

    ``mode`` is ``bm25``, ``semantic`` or ``hybrid``; the last two embed the corpus (kept in
    ``cache_dir`` when given) with ``semantic.embedder`` (MiniLM by default). ``hybrid`` runs
    the live path: the archive's embedding job, then the normal search service.
    """
    from sourcebook.services import Archive, IngestOptions

    if mode not in MODES:
        raise ConfigError(
            f"retrieval mode {mode!r} is not available; use one of {', '.join(MODES)}"
        )
    options = semantic or SemanticOptions()
    if mode == "semantic":
        runs = retrieval_runs(folder, mode, split, options, cache_dir, archive_dir, progress)
        ndcg, recall, mrr = score_run(runs.ranked, runs.qrels)
        return RetrievalScores(
            dataset=folder.name,
            mode=mode,
            queries=len(runs.bm25) or len(runs.vector),
            ndcg_at_10=ndcg,
            recall_at_100=recall,
            mrr_at_10=mrr,
            queries_per_second=runs.queries_per_second,
            documents=runs.documents,
            failed=runs.failed,
            p50_ms=runs.latency.p50_ms,
            p99_ms=runs.latency.p99_ms,
        )
    dataset = load_dataset(folder, split)
    hybrid = mode == "hybrid"
    embedder = (options.embedder or default_embedder()) if hybrid else None
    queries_by = (options.query_embedder or embedder) if hybrid else None
    # a closed archive's Tantivy reader may still take its lock file while the scratch folder
    # is removed (seen once under load): a leftover file must not fail the evaluation
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        home = archive_dir or Path(tmp) / "archive"
        settings = _live_settings(home, hybrid, options)
        if hybrid and embedder is not None and cache_dir is not None:
            key = _cache_key(folder, embedder, options.unit, settings)
            settings = settings.model_copy(update={"vectors_dir": cache_dir / f"{key}-live"})
        with Archive(settings, embedder=embedder) as archive:
            if progress:
                progress(f"ingesting {dataset.corpus}")
            report = archive.ingest([dataset.corpus], IngestOptions(collection=dataset.name))
            if not report.documents:
                raise ConfigError(f"no corpus record of {dataset.corpus} could be ingested")
            if report.total("failed") and progress:
                # e.g. CACM repeats one _id: the second record is refused, the run goes on
                for message in report.files[0].errors[:5]:
                    progress(f"skipped: {message}")
            if hybrid and embedder is not None:
                _embed_archive(archive, folder, embedder, options.unit, cache_dir, progress)
            failed = report.total("failed")
            if queries_by is embedder:
                run, latency = _run_searches(archive, dataset, hybrid, options.depth, progress)
                documents = archive.store.count()
        if queries_by is not embedder:
            # the archive reopened by a search node whose model runs another runtime
            with Archive(settings, embedder=queries_by, read_only=True) as archive:
                archive.engine.vectors.warm()  # loading the model is not query time
                run, latency = _run_searches(archive, dataset, hybrid, options.depth, progress)
                documents = archive.store.count()
    ndcg, recall, mrr = score_run(run, dataset.qrels)
    return RetrievalScores(
        dataset=dataset.name,
        mode=mode,
        queries=len(dataset.queries),
        ndcg_at_10=ndcg,
        recall_at_100=recall,
        mrr_at_10=mrr,
        queries_per_second=latency.queries_per_second,
        documents=documents,
        failed=failed,
        p50_ms=latency.p50_ms,
        p99_ms=latency.p99_ms,
    )


def _run_searches(
    archive: Archive,
    dataset: Dataset,
    hybrid: bool,
    depth: int,
    progress: Callable[[str], None] | None,
) -> tuple[Run, Latency]:
    """Every judged query through the archive's search service, timed one by one."""
    page_size = depth if hybrid else DEPTH

    def search(text: str) -> list[str]:
        result = archive.search(
            SearchRequest(
                query=text,
                mode="plain",
                page_size=page_size,
                facets=False,
                passages=0,
                collapse=False,  # every judged document must be rankable
            )
        )
        if hybrid and result.ranking != "hybrid":
            raise ConfigError("the archive's search did not use its vectors")
        return [hit.source_id for hit in result.hits]

    if progress:
        progress(f"running {len(dataset.queries)} queries")
    return run_timed(search, dataset.queries)


def _live_settings(home: Path, hybrid: bool, options: SemanticOptions) -> Settings:
    """The archive's settings for a bm25 run (no vectors) or a hybrid run (``options``)."""
    fusion = options.fusion
    depth = min(options.depth, fusion.depth or options.depth)
    bm25_weight, vector_weight = fusion.weights
    return Settings(
        home=home,
        hybrid=hybrid,
        semantic_unit=options.unit,  # type: ignore[arg-type]  # validated by Settings
        hybrid_fusion=fusion.method,  # type: ignore[arg-type]
        # only the ratio of the weights changes a ranking
        hybrid_vector_weight=vector_weight / (bm25_weight + vector_weight),
        hybrid_depth=depth,
        hybrid_rrf_k=fusion.k,
        page_size_max=max(DEPTH, options.depth),
    )


def _embed_archive(
    archive: Archive,
    folder: Path,
    embedder: Embedder,
    unit: str,
    cache_dir: Path | None,
    progress: Callable[[str], None] | None,
) -> None:
    """Embed the archive with its own job; vectors a semantic run left in the cache are reused."""
    if cache_dir is not None:
        legacy = cache_dir / _cache_key(folder, embedder, unit, archive.settings)
        seeded = seed_vectors(archive, legacy, embedder, unit)
        if seeded and progress:
            progress(f"reused {seeded:,} vectors from {legacy}")
    status = archive.embedding_status()
    if status.pending and progress:
        progress(f"embedding {status.pending:,} of {status.documents:,} documents ({unit}s)")
    report = archive.enrich_embeddings()
    if report.documents and progress:
        progress(
            f"embedded {report.documents:,} documents in {report.seconds:.0f} s "
            f"({report.rate:.1f}/s)"
        )
    archive.engine.vectors.warm()  # loading the model is not query time


def seed_vectors(archive: Archive, legacy: Path, embedder: Embedder, unit: str) -> int:
    """Copy vectors of the archive's documents from a vector index keyed by source id (what
    the semantic mode caches) into the archive's empty vector index; returns how many.

    Both embed the same text of each stored document, so the vectors are the same.
    """
    from sourcebook.enrich.embeddings import unit_tag
    from sourcebook.index.vectors import MANIFEST, VectorIndex, writer_lock

    target = archive.settings.vectors_path
    if (target / MANIFEST).exists() or not (legacy / MANIFEST).exists():
        return 0
    source = VectorIndex.load(legacy, embedder.name)
    hashes = {e.docid: e.content_hash for e in archive.store.iter_index_entries()}
    ids: list[str] = []
    rows: list[str] = []
    tags: list[str] = []
    for doc in archive.store.iter_documents():
        units = _units(doc, unit)
        if not units or not all(source.has(item) for item, _ in units):
            continue
        tag = unit_tag(hashes[doc.docid], len(units))
        for item, _text in units:
            ids.append(doc.docid + item[len(doc.source_id) :])  # source id#seq -> docid#seq
            rows.append(item)
            tags.append(tag)
    if not ids:
        return 0
    import numpy as np

    with writer_lock(target):
        index = VectorIndex.open(target, embedder.dimension, embedder.name)
        index.add(ids, np.stack([source.vector(item) for item in rows]), tags)
        index.save()
    return len(ids)


@dataclass
class SemanticOptions:
    """How the semantic and hybrid modes embed, search and fuse."""

    #: None: :class:`~sourcebook.enrich.embeddings.MiniLMEmbedder`, loaded once per process.
    embedder: Embedder | None = None
    #: What embeds the queries (None: :attr:`embedder`); the same model name in another runtime
    #: (fp32 documents, int8 queries) measures an archive searched after a runtime change.
    query_embedder: Embedder | None = None
    #: "document" (title + start of the body, one vector) or "passage" (title + each passage,
    #: max-pooled per document).
    unit: str = "document"
    fusion: Fusion = DEFAULT_FUSION
    depth: int = DEPTH


@dataclass
class RetrievalRuns:
    """Every query's BM25 and vector lists (with scores) and the ranking the mode produced."""

    dataset: str
    mode: str
    qrels: Qrels
    bm25: ScoredRun
    vector: ScoredRun
    ranked: Run
    queries_per_second: float
    documents: int
    failed: int
    latency: Latency = Latency()


def default_embedder() -> Embedder:
    """One MiniLM embedder per process (loading it takes seconds), shared with live search."""
    from sourcebook.enrich.embeddings import shared_embedder

    return shared_embedder("minilm")


def _cache_key(folder: Path, embedder: Embedder, unit: str, settings: Settings) -> str:
    """The cached vectors' folder name: dataset, corpus size, model variant (fp32 and int8
    MiniLM share a name, so the name alone would mix their vectors) and unit."""
    from sourcebook.enrich.embeddings import vectors_variant

    corpus = folder / "corpus.jsonl"
    model = "".join(c if c.isalnum() or c in "-_." else "_" for c in vectors_variant(embedder))
    extra = f"-p{settings.passage_target_chars}" if unit == "passage" else ""
    return f"{folder.name}-{corpus.stat().st_size}-{model}-{unit}{extra}"


def _units(doc: Document, unit: str) -> list[tuple[str, str]]:
    from sourcebook.enrich.embeddings import document_units, passage_units

    if unit == "document":
        return document_units(doc, doc.source_id)
    if unit == "passage":
        return passage_units(doc, doc.source_id)
    raise ConfigError(f"unknown embedding unit {unit!r}; use document or passage")


def embed_corpus(
    docs: Iterable[Document],
    embedder: Embedder,
    unit: str,
    folder: Path,
    progress: Callable[[str], None] | None = None,
) -> VectorIndex:
    """The vector index of ``docs`` in ``folder``, embedding only what it does not hold yet."""
    from sourcebook.enrich.embeddings import embed_missing
    from sourcebook.index.vectors import VectorIndex

    index = VectorIndex.open(folder, embedder.dimension, embedder.name)
    units = [u for doc in docs for u in _units(doc, unit)]
    missing = sum(1 for item, _ in units if not index.has(item))
    if missing:
        if progress:
            progress(f"embedding {missing:,} of {len(units):,} {unit} units with {embedder.name}")
        started = time.perf_counter()
        embed_missing(units, embedder, index)
        elapsed = time.perf_counter() - started
        if progress and elapsed:
            progress(f"embedded {missing:,} units in {elapsed:.0f} s ({missing / elapsed:.1f}/s)")
    return index


def retrieval_runs(
    folder: Path,
    mode: str = "hybrid",
    split: str = "test",
    semantic: SemanticOptions | None = None,
    cache_dir: Path | None = None,
    archive_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> RetrievalRuns:
    """Run every judged query of a dataset in ``semantic`` or ``hybrid`` mode, keeping the lists.

    Timed per query: BM25 through the search service (hybrid), the query's embedding, the vector
    search and the fusion. ``benchmarks/tune_fusion.py`` re-fuses the kept lists.
    """
    from sourcebook.services import Archive, IngestOptions

    if mode not in ("semantic", "hybrid"):
        raise ConfigError(f"retrieval_runs takes semantic or hybrid, not {mode!r}")
    options = semantic or SemanticOptions()
    embedder = options.embedder or default_embedder()
    queries_by = options.query_embedder or embedder
    dataset = load_dataset(folder, split)
    bm25: ScoredRun = {}
    vector: ScoredRun = {}
    with tempfile.TemporaryDirectory() as tmp:
        home = archive_dir or Path(tmp) / "archive"
        settings = Settings(home=home)
        with Archive(settings) as archive:
            if progress:
                progress(f"ingesting {dataset.corpus}")
            report = archive.ingest([dataset.corpus], IngestOptions(collection=dataset.name))
            if not report.documents:
                raise ConfigError(f"no corpus record of {dataset.corpus} could be ingested")
            vectors_dir = (
                cache_dir / _cache_key(folder, embedder, options.unit, settings)
                if cache_dir
                else home / "vectors"
            )
            index = embed_corpus(
                archive.store.iter_documents(), embedder, options.unit, vectors_dir, progress
            )
            queries_by.embed_queries(["warm up"])  # loading the model is not query time

            def search(qid: str, text: str) -> list[str]:
                found = vector_top(
                    index, queries_by.embed_queries([text])[0], options.depth, options.unit
                )
                vector[qid] = found
                if mode == "semantic":
                    return [item for item, _ in found]
                result = archive.search(
                    SearchRequest(
                        query=text,
                        mode="plain",
                        page_size=options.depth,
                        facets=False,
                        passages=0,
                        collapse=False,
                    )
                )
                bm25[qid] = [(hit.source_id, hit.score) for hit in result.hits]
                fused = options.fusion.fuse([bm25[qid], found], limit=options.depth)
                return [item for item, _ in fused]

            ranked: Run = {}
            seconds: list[float] = []
            for qid, text in dataset.queries.items():
                started = time.perf_counter()
                ranked[qid] = search(qid, text)
                seconds.append(time.perf_counter() - started)
            latency = Latency.of(seconds)
            documents = archive.store.count()
    return RetrievalRuns(
        dataset=dataset.name,
        mode=mode,
        qrels=dataset.qrels,
        bm25=bm25,
        vector=vector,
        ranked=ranked,
        queries_per_second=latency.queries_per_second,
        documents=documents,
        failed=report.total("failed"),
        latency=latency,
    )


def iter_datasets(root: Path) -> Iterable[Path]:
    """BEIR dataset folders under ``root`` (any folder holding corpus.jsonl)."""
    return sorted(p.parent for p in root.glob("*/corpus.jsonl"))
