"""Cross-language retrieval quality on the Wikinews French/Russian set, through the live search.

The set (``../shared/data/wikinews-fr-ru``: 100 French and 933 Russian articles, each folder with
its ``metadata.jsonl`` manifest) is ingested into a temporary archive by the normal ingest path,
embedded by the archive's own job with the multilingual model (``semantic_model = e5``), and
every query of a hand-written file runs through the normal search service in plain-text mode.
The queries and graded judgments are ours (``benchmarks/crosslang_queries.tsv``): English
queries for French and Russian articles, French queries for Russian ones and Russian queries for
French ones (the set has no English article). Each run is one way of ranking:

* ``bm25``: the archive without vectors (what an English-only archive answers);
* ``hybrid``: the multilingual vectors fused as English hybrid search fuses them (z-scores,
  0.6 BM25 + 0.4 vectors), every vector hit kept;
* ``crosslang off``: a search with ``crosslang=False`` (the same fusion, vector hits kept to
  documents that contain the query's words);
* ``crosslang w=X``: cross-language search with the vector list weighted X (1.0: the vectors
  alone); the default weight's run is the one gated.

Scores per query direction: MRR@10 (reciprocal rank of the first judged-relevant article in the
top 10), nDCG@10 (graded gains 2 and 1, log2 discounts, as :mod:`sourcebook.evaluation`) and
hit@10 (a relevant article in the top 10). Embedding the 1,033 articles takes 10-20 minutes on
two cores; with ``cache_dir`` the vectors are kept and a stopped run resumes.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sourcebook.config import Settings
from sourcebook.errors import ConfigError
from sourcebook.evaluation import mrr_at, ndcg_at
from sourcebook.search.request import SearchRequest

#: The default weight of the vectors in cross-language search, and the others measured beside it.
WEIGHTS = (1.0, 0.9, 0.8, 0.6)
#: Directions reported, by query language and target language ("en" = every English query).
DIRECTIONS = ("en", "en>fr", "en>ru", "fr>ru", "ru>fr")
MODEL = "e5"
#: The collection the articles are ingested into (part of each record, so of its content hash).
COLLECTION = "wikinews"
DEPTH = 10


@dataclass
class CrossQuery:
    qid: str
    lang: str
    text: str
    #: "lang/id" of an article -> grade (2: the article written for, 1: same event or person).
    judged: dict[str, int]

    @property
    def direction(self) -> str:
        target = max(self.judged, key=lambda d: self.judged[d]).split("/", 1)[0]
        return f"{self.lang}>{target}"


@dataclass
class CrosslangScores:
    run: str
    direction: str
    queries: int
    mrr_at_10: float
    ndcg_at_10: float
    hit_at_10: float
    queries_per_second: float = 0.0


@dataclass
class CrosslangReport:
    scores: list[CrosslangScores] = field(default_factory=list)
    documents: int = 0
    embedded: int = 0
    embed_rate: float = 0.0

    def get(self, run: str, direction: str) -> CrosslangScores | None:
        for score in self.scores:
            if score.run == run and score.direction == direction:
                return score
        return None


def read_queries(path: Path) -> list[CrossQuery]:
    """The queries of a TSV (qid, language, text, ``doc=grade,...``); ``#`` lines are comments."""
    queries: list[CrossQuery] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 4:
            raise ConfigError(f"{path}:{number}: expected 4 tab-separated columns")
        qid, lang, text, judgments = parts
        judged: dict[str, int] = {}
        for item in judgments.split(","):
            doc, _, grade = item.strip().partition("=")
            if not grade.isdigit():
                raise ConfigError(f"{path}:{number}: bad judgment {item!r} (want lang/id=grade)")
            judged[doc] = int(grade)
        queries.append(CrossQuery(qid, lang, text, judged))
    return queries


def article_keys(data: Path) -> dict[Path, str]:
    """Resolved file path -> "lang/id" for every article listed by the set's manifests."""
    keys: dict[Path, str] = {}
    for manifest in sorted(data.glob("*/metadata.jsonl")):
        for line in manifest.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                keys[(data / str(row["path"])).resolve()] = f"{row['lang']}/{row['id']}"
    return keys


def _origin_path(origin: str) -> Path:
    return Path(origin.split("#", 1)[0]).resolve()


def score_runs(
    runs: Mapping[str, Mapping[str, Sequence[str]]],
    queries: Sequence[CrossQuery],
    speed: Mapping[str, float] | None = None,
) -> list[CrosslangScores]:
    """Scores of each run (name -> qid -> ranked keys) for every direction in DIRECTIONS."""
    out: list[CrosslangScores] = []
    for name, ranked in runs.items():
        for direction in DIRECTIONS:
            chosen = [
                q
                for q in queries
                if q.direction == direction or (direction == q.lang and ">" not in direction)
            ]
            if not chosen:
                continue
            n = len(chosen)
            lists = [list(ranked.get(q.qid, []))[:DEPTH] for q in chosen]
            out.append(
                CrosslangScores(
                    run=name,
                    direction=direction,
                    queries=n,
                    mrr_at_10=sum(mrr_at(r, q.judged) for r, q in zip(lists, chosen, strict=True))
                    / n,
                    ndcg_at_10=sum(ndcg_at(r, q.judged) for r, q in zip(lists, chosen, strict=True))
                    / n,
                    hit_at_10=sum(
                        1.0 for r, q in zip(lists, chosen, strict=True) if mrr_at(r, q.judged)
                    )
                    / n,
                    queries_per_second=(speed or {}).get(name, 0.0),
                )
            )
    return out


def evaluate_crosslang(
    data: Path,
    queries_file: Path,
    cache_dir: Path | None = None,
    weights: Iterable[float] = WEIGHTS,
    progress: Callable[[str], None] | None = None,
) -> CrosslangReport:
    """Ingest the set, embed it with the multilingual model, run every query in every run."""
    from sourcebook.services import Archive, IngestOptions

    queries = read_queries(queries_file)
    folders = sorted(p.parent for p in data.glob("*/metadata.jsonl"))
    if not folders:
        raise ConfigError(f"no Wikinews folders (with metadata.jsonl) under {data}")
    keys = article_keys(data)
    report = CrosslangReport()
    with tempfile.TemporaryDirectory() as tmp:
        base = Settings(
            home=Path(tmp) / "archive",
            semantic_model=MODEL,
            vectors_dir=cache_dir / f"{data.name}-{MODEL}-live" if cache_dir else None,
        )
        with Archive(base) as archive:
            if progress:
                progress(f"ingesting {', '.join(str(f) for f in folders)}")
            ingested = archive.ingest(folders, IngestOptions(collection=COLLECTION))
            report.documents = archive.store.count()
            if not ingested.documents and not report.documents:
                raise ConfigError(f"no article of {data} could be ingested")
            key_of = {
                doc.docid: keys.get(_origin_path(doc.origin), doc.docid)
                for doc in archive.store.iter_documents()
            }
            pending = archive.embedding_status().pending
            if pending and progress:
                progress(f"embedding {pending:,} articles with {MODEL} (minutes)")
            embedded = archive.enrich_embeddings()
            report.embedded, report.embed_rate = embedded.documents, embedded.rate
        configs: list[tuple[str, dict[str, object], bool | None]] = [
            ("bm25", {"hybrid": False}, None),
            ("hybrid", {"crosslang_vector_weight": base.hybrid_vector_weight}, True),
            ("crosslang off", {}, False),
        ]
        configs += [(f"crosslang w={w:.1f}", {"crosslang_vector_weight": w}, True) for w in weights]
        runs: dict[str, dict[str, list[str]]] = {}
        speed: dict[str, float] = {}
        for name, update, option in configs:
            with Archive(base.model_copy(update=update)) as archive:
                archive.engine.vectors.warm()  # loading the model is not query time
                runs[name] = {}
                started = time.perf_counter()
                for query in queries:
                    result = archive.search(
                        SearchRequest(
                            query=query.text,
                            mode="plain",
                            page_size=DEPTH,
                            facets=False,
                            passages=0,
                            collapse=False,
                            crosslang=option,
                        )
                    )
                    runs[name][query.qid] = [key_of.get(h.docid, h.docid) for h in result.hits]
                elapsed = time.perf_counter() - started
                speed[name] = len(queries) / elapsed if elapsed else 0.0
            if progress:
                progress(f"ran {len(queries)} queries: {name}")
    report.scores = score_runs(runs, queries, speed)
    return report


def format_report(report: CrosslangReport) -> list[str]:
    """The report as table lines: one per run and direction."""
    lines = [
        f"{report.documents:,} articles; embedded this run: {report.embedded:,}"
        + (f" at {report.embed_rate:.2f}/s" if report.embedded else " (cached)"),
        f"{'run':<16} {'direction':<8} {'n':>3} {'MRR@10':>7} {'nDCG@10':>8} {'hit@10':>7} {'q/s':>6}",
    ]
    for s in report.scores:
        lines.append(
            f"{s.run:<16} {s.direction:<8} {s.queries:>3} {s.mrr_at_10:>7.3f} "
            f"{s.ndcg_at_10:>8.3f} {s.hit_at_10:>7.2f} {s.queries_per_second:>6.1f}"
        )
    return lines


def check_floors(report: CrosslangReport, floors: Mapping[str, float]) -> list[str]:
    """Failures against floors keyed ``run|direction|metric`` (e.g. ``crosslang w=1.0|en|mrr_at_10``)."""
    failures = []
    for key, floor in floors.items():
        run, direction, metric = key.split("|")
        score = report.get(run, direction)
        value = getattr(score, metric) if score is not None else None
        if value is None or value < floor:
            failures.append(f"{key}: {value if value is not None else 'missing'} < floor {floor}")
    return failures


def crosslang_line(data: Path, queries_file: Path, cache_dir: Path | None = None) -> str:
    """One line for ``benchmarks/ranking.py``: English queries, BM25 beside cross-language."""
    return summary_line(evaluate_crosslang(data, queries_file, cache_dir, weights=(1.0,)))


def summary_line(report: CrosslangReport) -> str:
    """English queries: the cross-language run beside BM25, quality and speed, on one line."""
    bm25 = report.get("bm25", "en")
    cross = report.get("crosslang w=1.0", "en")
    if bm25 is None or cross is None:
        return "crosslang: no English queries"
    return (
        f"crosslang wikinews-fr-ru ({cross.queries} English queries): MRR@10 "
        f"{cross.mrr_at_10:.3f} vs BM25 {bm25.mrr_at_10:.3f} (x{_ratio(cross, bm25):.1f}), "
        f"nDCG@10 {cross.ndcg_at_10:.3f} vs {bm25.ndcg_at_10:.3f}; "
        f"{_speed(cross)} vs {_speed(bm25)}"
    )


def _speed(scores: CrosslangScores) -> str:
    """Queries a second, and the mean time of one query, of a run (the full search path)."""
    rate = scores.queries_per_second
    return f"{rate:.1f} q/s ({1000 / rate:.1f} ms a query)" if rate > 0 else "speed not measured"


def _ratio(a: CrosslangScores, b: CrosslangScores) -> float:
    return a.mrr_at_10 / b.mrr_at_10 if b.mrr_at_10 else float("inf")


__all__ = [
    "DIRECTIONS",
    "WEIGHTS",
    "CrossQuery",
    "CrosslangReport",
    "CrosslangScores",
    "article_keys",
    "check_floors",
    "crosslang_line",
    "evaluate_crosslang",
    "format_report",
    "read_queries",
    "score_runs",
    "summary_line",
]
