"""The JSON shapes of the API, as Pydantic models, so the OpenAPI schema says exactly what comes back.

The search result's shape is defined once here and used by both the API and ``sourcebook search
--json`` (:func:`result_to_json`), so scripts can switch between them. A record is exactly
:func:`sourcebook.services.document_to_json` (the export's shape).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sourcebook.api.explanation import ExplanationOut
from sourcebook.model import FacetValue, Highlight, Hit, PassageHit, SearchResult

PROBLEM_BASE = "https://sourcebook.dev/problems/"


class PassageOut(BaseModel):
    """A passage of a hit: offsets into the record's body and the matched words in it."""

    seq: int = Field(description="Passage number in the record; its anchor is `#p-SEQ`.")
    start: int = Field(description="Offset of the passage in the body (characters).")
    end: int = Field(description="End offset in the body: `body[start:end] == text`.")
    text: str
    highlights: list[tuple[int, int]] = Field(
        description="Matched words as `[start, end]` character offsets relative to `text`."
    )


class HitOut(BaseModel):
    docid: str
    score: float = Field(description="Relevance score (0 when sorted by date or title).")
    title: str
    publisher: str
    publication_date: str | None = Field(description="ISO 8601 date, or null when undated.")
    countries: list[str] = Field(description="ISO 3166-1 alpha-2 codes, most salient first.")
    language: str = Field(description="ISO 639-1 code, empty when unknown.")
    document_type: str
    collection: str
    passages: list[PassageOut]
    dup_group: str = Field(description="Near-duplicate group (docid of its earliest member).")
    similar: int = Field(description="How many near-duplicates this hit stands for.")
    similar_query: str = Field(
        default="",
        description="The query that lists this hit with its near-duplicates (`group:DOCID`), "
        "empty when it has none.",
    )
    explanation: ExplanationOut | None = Field(
        default=None,
        description="Why this hit ranks here (matched terms and their BM25 contributions; with "
        "hybrid ranking each list's rank, score, weight and part): only with `explain=true`.",
    )

    @classmethod
    def from_hit(cls, hit: Hit) -> HitOut:
        return cls(
            docid=hit.docid,
            score=hit.score,
            title=hit.title,
            publisher=hit.publisher,
            publication_date=hit.publication_date.isoformat() if hit.publication_date else None,
            countries=hit.countries,
            language=hit.language,
            document_type=hit.document_type,
            collection=hit.collection,
            passages=[
                PassageOut(
                    seq=p.seq,
                    start=p.start,
                    end=p.end,
                    text=p.text,
                    highlights=[(x.start, x.end) for x in p.highlights],
                )
                for p in hit.passages
            ],
            dup_group=hit.dup_group,
            similar=hit.similar,
            similar_query=f"group:{hit.dup_group}" if hit.similar and hit.dup_group else "",
            explanation=ExplanationOut.of(hit.explanation) if hit.explanation else None,
        )

    def to_hit(self) -> Hit:
        """The hit back (``source_id`` is not in the API's shape: empty)."""
        return Hit(
            docid=self.docid,
            score=self.score,
            title=self.title,
            source_id="",
            publisher=self.publisher,
            publication_date=date.fromisoformat(self.publication_date)
            if self.publication_date
            else None,
            countries=list(self.countries),
            language=self.language,
            document_type=self.document_type,
            collection=self.collection,
            passages=[
                PassageHit(
                    seq=p.seq,
                    start=p.start,
                    end=p.end,
                    text=p.text,
                    highlights=[Highlight(start, end) for start, end in p.highlights],
                )
                for p in self.passages
            ],
            dup_group=self.dup_group,
            similar=self.similar,
            explanation=self.explanation.to_explanation() if self.explanation else None,
        )


class FacetValueOut(BaseModel):
    value: str = Field(description="The value to filter by, e.g. `TJ`.")
    label: str = Field(description="A readable name, e.g. `Tajikistan`.")
    count: int

    @classmethod
    def from_value(cls, value: FacetValue) -> FacetValueOut:
        return cls(value=value.value, label=value.label, count=value.count)


class SearchOut(BaseModel):
    query: str
    total: int = Field(
        description="Hits the pages list: documents matching the query and filters, less those "
        "`collapsed` under a near-duplicate."
    )
    collapsed: int = Field(
        default=0,
        description="Matching documents not listed because a listed hit stands for them (its "
        "`similar` count; `similar_query` lists them): `total` + `collapsed` documents match.",
    )
    page: int
    page_size: int
    sort: str
    took_ms: float = Field(description="Time the search service took, in milliseconds.")
    hits: list[HitOut]
    facets: dict[str, list[FacetValueOut]] = Field(
        description="Counts by country, publisher, type, language, year and collection."
    )
    ranking: str = Field(
        default="bm25",
        description="How hits were ranked: `bm25` (the words), `hybrid` (BM25 fused with "
        "vector search, for plain-text queries by relevance once the archive has vectors; "
        "`total` and `facets` then also count the hits found for their meaning), or "
        "`crosslang` (cross-language search: ranked by multilingual vectors, documents in "
        "other languages included; a notice says so).",
    )
    facets_approximate: bool = Field(
        default=False,
        description="True when the query matched so many documents that the facet counts "
        "were estimated from a fixed pseudo-random sample of them (about 10,000 documents, setting `facet_exact_limit`) "
        "and rounded to two significant figures; `total` is always exact.",
    )
    notices: list[str] = Field(
        default_factory=list,
        description="One-line notes to show with the results: how the query was read when it "
        "was reinterpreted (for example searched as plain words), or why results may be "
        "incomplete.",
    )

    @classmethod
    def from_result(cls, result: SearchResult) -> SearchOut:
        return cls(
            query=result.query,
            total=result.total,
            collapsed=result.collapsed,
            page=result.page,
            page_size=result.page_size,
            sort=result.sort,
            took_ms=result.took_ms,
            hits=[HitOut.from_hit(h) for h in result.hits],
            facets={
                name: [FacetValueOut.from_value(v) for v in values]
                for name, values in result.facets.items()
            },
            ranking=result.ranking,
            facets_approximate=result.facets_approximate,
            notices=list(result.notices),
        )

    def to_result(self) -> SearchResult:
        """The result back, as the search service returned it to the API (the CLI prints a
        local server's answer with it: ``sourcebook.local_server``)."""
        return SearchResult(
            query=self.query,
            total=self.total,
            hits=[h.to_hit() for h in self.hits],
            facets={
                name: [FacetValue(value=v.value, count=v.count, label=v.label) for v in values]
                for name, values in self.facets.items()
            },
            page=self.page,
            page_size=self.page_size,
            sort=self.sort,
            took_ms=self.took_ms,
            ranking=self.ranking,
            facets_approximate=self.facets_approximate,
            notices=list(self.notices),
            collapsed=self.collapsed,
        )


def result_to_json(result: SearchResult) -> dict[str, Any]:
    """A search result as JSON-ready data: the API's ``/api/search`` shape."""
    return SearchOut.from_result(result).model_dump(mode="json")


class SimilarOut(BaseModel):
    docid: str
    hits: list[HitOut]


class FacetOut(BaseModel):
    facet: str
    values: list[FacetValueOut]


class PassageRef(BaseModel):
    seq: int
    start: int
    end: int
    language: str = Field(description="ISO 639-1 code of the passage, empty when unknown.")


class PlaceOut(BaseModel):
    name: str = Field(description="As first written in the document.")
    canonical: str = Field(description="The gazetteer's name.")
    country: str = Field(description="ISO 3166-1 alpha-2.")
    lat: float | None
    lon: float | None
    count: int
    kind: str = Field(description="capital, city or region.")


class RevisionOut(BaseModel):
    number: int
    content_hash: str
    recorded_at: str | None = Field(description="ISO 8601 time in UTC.")
    changed_fields: list[str]


class RecordOut(BaseModel):
    """Every field of a record, as ``sourcebook export`` writes it (see docs/record.md)."""

    docid: str
    source_key: str
    source_id: str
    title: str
    publisher: str
    authors: list[str]
    publication_date: str | None = Field(description="ISO 8601 date.")
    last_updated: str | None = Field(description="ISO 8601 time in UTC.")
    source_url: str
    original_url: str
    accessed_date: str | None = Field(description="ISO 8601 date.")
    cite_as: str
    disclaimer: str
    copyright: str
    body: str
    document_type: str
    language: str
    countries: list[str]
    collection: str
    source_tags: dict[str, list[str]]
    derived: list[str] = Field(description="Fields Sourcebook derived rather than read.")
    origin: str
    places: list[PlaceOut]
    people: list[str]
    organisations: list[str]
    dup_group: str = Field(description="Docid of the earliest member of the near-duplicate group.")
    ocr_confidence: float | None = Field(
        default=None,
        description="Mean word confidence (0-100) when the body was read by OCR, else null.",
    )
    passages: list[PassageRef]
    revisions: list[RevisionOut]


class CitationOut(BaseModel):
    docid: str
    style: str
    text: str = Field(description="The citation (for csl-json, a JSON array as text).")


#: Said of the figures only operators and admins see (they would count hidden documents too).
OPERATOR_ONLY = "Null for a viewer who may not read every collection (docs/security.md)."


class StatsOut(BaseModel):
    documents: int
    indexed_documents: int | None = Field(default=None, description=OPERATOR_ONLY)
    store_position: int | None = Field(
        default=None, description="The last position of the store's change log. " + OPERATOR_ONLY
    )
    index_position: int | None = Field(
        default=None, description="The last change-log position this node's search index holds."
    )
    index_lag_changes: int | None = Field(
        default=None, description="Changes this node's search index does not hold yet."
    )
    index_lag_seconds: float = Field(
        default=0.0, description="Age of the oldest change the index does not hold (0: level)."
    )
    body_chars: int
    earliest_publication_date: str | None
    latest_publication_date: str | None
    passages: int
    revisions: int
    docids_issued: int | None = Field(default=None, description=OPERATOR_ONLY)
    ingest_runs: int | None = Field(default=None, description=OPERATOR_ONLY)
    ingest_errors: int | None = Field(default=None, description=OPERATOR_ONLY)
    embedded_documents: int = Field(
        default=0, description="Documents with current vectors (semantic search)."
    )
    by_language: dict[str, int]
    by_collection: dict[str, int]
    by_type: dict[str, int]
    top_countries: dict[str, int]
    top_publishers: dict[str, int]


class FileReportOut(BaseModel):
    path: str = Field(description="The uploaded file's name.")
    parser: str = Field(description="The parser that read it (empty when none could).")
    status: str = Field(description="added, updated, unchanged, failed, empty, or a + of them.")
    added: int
    updated: int
    unchanged: int
    failed: int
    skipped: int = Field(description="Records that held nothing (no title, no text).")
    errors: list[str]


class IngestOut(BaseModel):
    run_id: int
    seconds: float
    added: int
    updated: int
    unchanged: int
    failed: int
    files: list[FileReportOut]


class UploadQueuedOut(BaseModel):
    """An upload queued as a job (organisation mode)."""

    job: int = Field(description="The job's id.")
    status: str = Field(description="`todo` until a worker takes it.")
    files: int = Field(description="Files kept for the job.")
    job_url: str = Field(description="Where the job's state, progress and report are.")
    explanation: str


class DeletedOut(BaseModel):
    docid: str
    deleted: bool


class ValidationIssue(BaseModel):
    loc: list[str | int] = Field(description="Where: e.g. `['query', 'size']`.")
    msg: str
    type: str


class Problem(BaseModel):
    """An error as RFC 9457 problem details (media type ``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description=f"A stable URI naming the problem, under {PROBLEM_BASE}.")
    title: str
    status: int
    detail: str
    instance: str | None = Field(default=None, description="The request path.")
    position: int | None = Field(
        default=None, description="For query errors: 0-based offset in the query."
    )
    errors: list[ValidationIssue] | None = Field(
        default=None, description="For validation errors: each invalid parameter."
    )
