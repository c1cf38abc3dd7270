"""The options object of a search (trafilatura's ``Extractor`` habit: one object, not 15 kwargs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from sourcebook.access import EVERYTHING, AccessFilter

Mode = Literal["auto", "syntax", "plain"]
Sort = Literal["relevance", "newest", "oldest", "title"]
SORTS: tuple[str, ...] = ("relevance", "newest", "oldest", "title")
MODES: tuple[str, ...] = ("auto", "syntax", "plain")
FACETS: tuple[str, ...] = (
    "country",
    "publisher",
    "type",
    "language",
    "year",
    "collection",
    "place",
    "person",
    "organisation",
)
#: The URL parameter of each list filter (the search page's and the API's name), in the order
#: the filters appear in URLs: request field -> parameter.
FILTER_PARAMETERS: dict[str, str] = {
    "countries": "country",
    "publishers": "publisher",
    "types": "type",
    "languages": "language",
    "collections": "collection",
}


@dataclass
class SearchRequest:
    """What to search for, how to filter, sort and page, and what to return.

    ``mode``: ``syntax`` parses the query language; ``plain`` treats the text as words (never a
    syntax error); ``auto`` (default) uses the query language when the text looks like it.
    Filters narrow the result and are combined with AND across fields, OR within one field.
    """

    query: str = ""
    mode: Mode = "auto"
    countries: list[str] = field(default_factory=list)
    publishers: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    organisations: list[str] = field(default_factory=list)
    date_from: date | None = None
    date_to: date | None = None
    sort: Sort = "relevance"
    page: int = 1
    page_size: int = 10
    facets: bool = True
    facet_size: int = 20
    #: Count facets exactly however many documents match (else broad queries count a sample).
    exact_facets: bool = False
    passages: int = 3
    #: Show one hit per near-duplicate group (its earliest member when it matches), with the
    #: number of similar documents; ``group:DOCID`` in the query lists a whole group.
    collapse: bool = True
    #: What the viewer may not see (``sourcebook.access``); set by the services from the
    #: viewer, never by a route or a page.
    access: AccessFilter = EVERYTHING
    #: Only these documents (when not empty): an alert's documents new since its last digest.
    docids: tuple[str, ...] = ()
    #: When no document has every word of a plain query, search for any of them (with a
    #: notice). Alerts say False: a digest lists only documents that match the whole search.
    relax: bool = True
    #: Give each hit an explanation of its score (``search/explain.py``): BM25 terms, vector
    #: similarity, fusion weights.
    explain: bool = False
    #: Cross-language search (docs/semantic.md): True finds documents in other languages by
    #: meaning, False keeps to documents containing the query's words, None takes the archive's
    #: default (on when its vectors are multilingual). Plain-text queries by relevance only.
    crosslang: bool | None = None
