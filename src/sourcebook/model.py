"""Plain typed records: what a document is, and what search returns.

A :class:`Document` carries the fields of a Refworld record. A field the source did not give is
empty (``""``, ``None`` or ``[]``) and never invented. Fields Sourcebook computed itself (for
example a detected language) are listed in :attr:`Document.derived`, so exports and pages can say
which facts came from the source and which from us.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sourcebook.search.explain import Explanation

#: Fields that describe the source's content; a change in any of them makes a new revision.
CONTENT_FIELDS: tuple[str, ...] = (
    "source_id",
    "title",
    "publisher",
    "authors",
    "publication_date",
    "source_url",
    "original_url",
    "cite_as",
    "disclaimer",
    "copyright",
    "body",
    "document_type",
    "language",
    "countries",
    "collection",
    "source_tags",
)


@dataclass
class Passage:
    """A paragraph-sized chunk of a document body; ``body[start:end] == text``."""

    seq: int
    start: int
    end: int
    text: str
    #: ISO 639-1 language of this passage when detected ("" when unknown).
    language: str = ""


@dataclass
class PlaceMention:
    """A city or region a document names, with its country and coordinates."""

    name: str  # as first written in the document
    canonical: str  # the gazetteer's name
    country: str  # ISO 3166-1 alpha-2
    lat: float | None = None
    lon: float | None = None
    count: int = 1
    kind: str = ""  # capital, city or region


@dataclass
class Revision:
    """One recorded version of a document."""

    number: int
    content_hash: str
    recorded_at: datetime
    changed_fields: list[str] = field(default_factory=list)


@dataclass
class Document:
    """One archived record. See docs/record.md for each field's meaning."""

    docid: str = ""
    source_id: str = ""
    title: str = ""
    publisher: str = ""
    authors: list[str] = field(default_factory=list)
    publication_date: date | None = None
    last_updated: datetime | None = None
    source_url: str = ""
    original_url: str = ""
    accessed_date: date | None = None
    cite_as: str = ""
    disclaimer: str = ""
    copyright: str = ""
    body: str = ""
    document_type: str = ""
    language: str = ""
    countries: list[str] = field(default_factory=list)
    collection: str = ""
    source_tags: dict[str, list[str]] = field(default_factory=dict)
    #: Derived by enrichment (never given by a source): places, people, organisations, the
    #: near-duplicate group (docid of the group's earliest member).
    places: list[PlaceMention] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    organisations: list[str] = field(default_factory=list)
    dup_group: str = ""
    passages: list[Passage] = field(default_factory=list)
    revisions: list[Revision] = field(default_factory=list)
    #: Internal identity of the source ("scheme:identifier"); the docid is derived from it.
    source_key: str = ""
    #: Names of fields Sourcebook derived rather than read from the source.
    derived: list[str] = field(default_factory=list)
    #: Where the record was read from (file path, with ``#n`` for the n-th record in a file).
    origin: str = ""
    #: Set when (part of) the body was read from page images by OCR: the mean word
    #: confidence, 0-100. None when the text came from the source as text.
    ocr_confidence: float | None = None

    def ocr_note(self) -> str:
        """ "Text read by OCR (confidence 87%)" when OCR read the body, else ""."""
        if self.ocr_confidence is None:
            return ""
        return f"Text read by OCR (confidence {round(self.ocr_confidence)}%)"

    def content(self) -> dict[str, Any]:
        """The source's content: the fields whose change makes a new revision, JSON-friendly.

        Fields Sourcebook derived (listed in ``derived``) are left out, so a better language
        detector or country tagger never turns an unchanged source into a new revision.
        """
        out: dict[str, Any] = {}
        derived = set(self.derived)
        for name in CONTENT_FIELDS:
            if name in derived:
                continue
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, date) else value
        return out


@dataclass
class BadRecord:
    """A record inside a multi-record file that could not be parsed.

    Parsers yield it instead of raising, so the good records of the same file still go in.
    """

    where: str
    message: str


@dataclass
class EmptyRecord:
    """A record that holds nothing to archive (no title, no text): skipped, not an error.

    Reuters-21578 story 12793, for one, is only control characters in the distribution.
    """

    where: str
    message: str


@dataclass
class Highlight:
    """A matched term inside a passage: character offsets relative to the passage start."""

    start: int
    end: int


@dataclass
class PassageHit:
    """A passage shown with a hit: its offsets into the body and highlighted terms."""

    seq: int
    start: int
    end: int
    text: str
    highlights: list[Highlight] = field(default_factory=list)
    score: float = 0.0


@dataclass
class Hit:
    """One search result."""

    docid: str
    score: float
    title: str
    source_id: str
    publisher: str
    publication_date: date | None
    countries: list[str]
    language: str
    document_type: str
    collection: str
    passages: list[PassageHit] = field(default_factory=list)
    #: The near-duplicate group (docid of its earliest member) and how many others it holds.
    dup_group: str = ""
    similar: int = 0
    #: Why it ranks here (``sourcebook.search.explain.Explanation``), when the search asked.
    explanation: Explanation | None = None


@dataclass
class FacetValue:
    value: str
    count: int
    label: str = ""


@dataclass
class SearchResult:
    """A page of hits with the total count, facet counts and timing."""

    query: str
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    page: int
    page_size: int
    sort: str
    took_ms: float
    #: How the hits were ranked: ``bm25``, or ``hybrid`` (BM25 fused with vector search).
    ranking: str = "bm25"
    #: Facet counts estimated from a sample of the matches (very broad queries); see
    #: docs/performance.md.
    facets_approximate: bool = False
    #: One-line notes the user must see: how the query was read when it was reinterpreted,
    #: or why the results may be incomplete (shown by the page, the CLI and the API).
    notices: list[str] = field(default_factory=list)
    #: Matching documents not listed because a listed hit stands for them (near-duplicates
    #: collapsed; each such hit says how many it has in ``Hit.similar``): total + collapsed is
    #: the number of matching documents.
    collapsed: int = 0
