"""The search page's URL parameters: read leniently, written canonically.

The page and ``GET /api/search`` take the same parameters (``q``, ``mode``, ``country``,
``publisher``, ``type``, ``language``, ``collection`` (repeatable), ``from``, ``to``, ``sort``,
``page``, ``size``, ``explain``). The page reads them by hand rather than through FastAPI's validation so that
a bad value is explained on the search page itself (400, with the form) instead of as JSON.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from sourcebook.errors import QuerySyntaxError
from sourcebook.model import SearchResult
from sourcebook.search.request import FILTER_PARAMETERS, SearchRequest
from sourcebook.services.reading import ArchiveView

#: Filter parameters, in the order they appear in URLs, and the request field each fills.
FILTERS: dict[str, str] = {parameter: field for field, parameter in FILTER_PARAMETERS.items()}
#: The days the index can hold (Tantivy stores dates as nanoseconds since 1970 in 64 bits).
DEFAULT_SIZE = 10
#: Deepest page served: a deep page makes the index collect every hit before it.
MAX_PAGE = 1000
#: Longest value one filter parameter may have (publishers are the longest real values).
MAX_FILTER_CHARS = 300
_PERIOD = re.compile(r"^\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?\s*$")


@dataclass
class SearchParams:
    q: str = ""
    mode: str = "auto"
    filters: dict[str, list[str]] = field(default_factory=dict)
    date_from: str = ""
    date_to: str = ""
    sort: str = ""
    page: int = 1
    size: int = DEFAULT_SIZE
    #: show "Why this result" on each hit (``explain=1``; costs a scoring pass per hit)
    explain: bool = False
    #: Cross-language search asked for (``crosslang=on|off``; the last value wins, so the
    #: form's hidden ``off`` before its checkbox reads as off when the box is cleared).
    crosslang: bool | None = None

    @classmethod
    def from_query(cls, params: QueryParams) -> SearchParams:
        """Parameters from a URL; raises :class:`QuerySyntaxError` for a page or size that is
        not a number (the search service checks everything else)."""
        filters: dict[str, list[str]] = {}
        for name in FILTERS:
            values = [v.strip()[:MAX_FILTER_CHARS] for v in params.getlist(name)]
            kept = list(dict.fromkeys(v for v in values if v))
            if kept:
                filters[name] = kept
        return cls(
            q=params.get("q", ""),
            mode=params.get("mode", "") or "auto",
            filters=filters,
            date_from=params.get("from", "").strip(),
            date_to=params.get("to", "").strip(),
            sort=params.get("sort", "").strip(),
            page=_whole_number(params.get("page", ""), "page", 1, MAX_PAGE),
            size=_whole_number(params.get("size", ""), "size", DEFAULT_SIZE, 1000),
            explain=params.get("explain", "").strip().lower() in ("1", "true", "on", "yes"),
            crosslang=_switch(params.getlist("crosslang")),
        )

    @property
    def effective_sort(self) -> str:
        """The sort asked for; without one, relevance for a query and newest first for none."""
        return self.sort or ("relevance" if self.q.strip() else "newest")

    @property
    def has_filters(self) -> bool:
        return bool(self.filters or self.date_from or self.date_to)

    def to_request(self, passages: int = 3) -> SearchRequest:
        return SearchRequest(
            query=self.q,
            mode=self.mode,  # type: ignore[arg-type]  # the service validates it
            countries=self.filters.get("country", []),
            publishers=self.filters.get("publisher", []),
            types=self.filters.get("type", []),
            languages=self.filters.get("language", []),
            collections=self.filters.get("collection", []),
            date_from=parse_period(self.date_from, "from", end=False),
            date_to=parse_period(self.date_to, "to", end=True),
            sort=self.effective_sort,  # type: ignore[arg-type]  # the service validates it
            page=self.page,
            page_size=self.size,
            passages=passages,
            crosslang=self.crosslang,
        )

    # --- writing URLs -------------------------------------------------------------------
    def pairs(self) -> list[tuple[str, str]]:
        """The canonical query-string pairs, leaving out defaults."""
        out: list[tuple[str, str]] = []
        if self.q:
            out.append(("q", self.q))
        if self.mode != "auto":
            out.append(("mode", self.mode))
        for name in FILTERS:
            out.extend((name, v) for v in self.filters.get(name, []))
        if self.date_from:
            out.append(("from", self.date_from))
        if self.date_to:
            out.append(("to", self.date_to))
        if self.sort:
            out.append(("sort", self.sort))
        if self.crosslang is not None:
            out.append(("crosslang", "on" if self.crosslang else "off"))
        if self.size != DEFAULT_SIZE:
            out.append(("size", str(self.size)))
        if self.page != 1:
            out.append(("page", str(self.page)))
        if self.explain:
            out.append(("explain", "1"))
        return out

    def url(self, path: str = "/search") -> str:
        query = urlencode(self.pairs())
        return f"{path}?{query}" if query else path

    def with_page(self, page: int) -> SearchParams:
        return replace(self, page=page, filters=dict(self.filters))

    def with_filter(self, name: str, value: str) -> SearchParams:
        """These parameters narrowed by one more value (back to page 1)."""
        filters = {k: list(v) for k, v in self.filters.items()}
        values = filters.setdefault(name, [])
        if value not in values:
            values.append(value)
        return replace(self, filters=filters, page=1)

    def without_filter(self, name: str, value: str) -> SearchParams:
        filters = {
            k: [x for x in v if not (k == name and x == value)] for k, v in self.filters.items()
        }
        return replace(self, filters={k: v for k, v in filters.items() if v}, page=1)

    def with_dates(self, date_from: str, date_to: str) -> SearchParams:
        return replace(
            self, date_from=date_from, date_to=date_to, filters=dict(self.filters), page=1
        )

    def hidden_fields(self) -> Sequence[tuple[str, str]]:
        """What the search form must carry along besides the query and sort: the filters."""
        return [(k, v) for k, v in self.pairs() if k not in ("q", "sort", "page", "crosslang")]


def _switch(values: Sequence[str]) -> bool | None:
    """An on/off parameter: its last value (on, true, 1 / off, false, 0), None when absent."""
    for value in reversed(values):
        word = value.strip().lower()
        if word in ("on", "true", "1", "yes"):
            return True
        if word in ("off", "false", "0", "no"):
            return False
    return None


def _whole_number(text: str, name: str, default: int, most: int) -> int:
    text = text.strip()
    if not text:
        return default
    value = int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else 0
    if not 1 <= value <= most:
        raise QuerySyntaxError(f"{name} must be a whole number from 1 to {most}, not {text[:20]!r}")
    return value


def parse_period(text: str, name: str, end: bool) -> date | None:
    """A date bound from ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (a period's first day, or its
    last when ``end``); None for an empty text."""
    if not text:
        return None
    match = _PERIOD.match(text)
    problem = f"'{text[:40]}' is not a date: write {name} as YYYY-MM-DD, YYYY-MM or YYYY"
    if match is None:
        raise QuerySyntaxError(problem)
    year, month, day = int(match.group(1)), match.group(2), match.group(3)
    try:
        if month is None:
            return date(year, 12, 31) if end else date(year, 1, 1)
        m = int(month)
        if day is None:
            last = calendar.monthrange(year, m)[1] if 1 <= m <= 12 else 0
            return date(year, m, last) if end else date(year, m, 1)
        return date(year, m, int(day))
    except ValueError as exc:
        raise QuerySyntaxError(problem) from exc


def year_bounds(year: str) -> tuple[str, str]:
    return f"{year}-01-01", f"{year}-12-31"


def year_of(date_from: str, date_to: str) -> str | None:
    """The year when the date filter is exactly one whole year (what a year facet sets)."""
    if (
        len(date_from) == 10
        and date_from.endswith("-01-01")
        and date_to == date_from[:4] + "-12-31"
    ):
        return date_from[:4]
    return None


def run_search(archive: ArchiveView, request: SearchRequest) -> SearchResult:
    """``archive.search(request)`` for the pages and the API (dates outside what the index can
    hold are handled by the search service: they simply match nothing)."""
    return archive.search(request)
