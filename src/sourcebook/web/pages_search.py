"""The search page (``/`` and ``/search``): query box, facets, active filters, hits, pages.

A malformed query is answered on the search page itself, status 400, with the message and a
marker at the position the parser gave.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from sourcebook.errors import QuerySyntaxError
from sourcebook.model import Hit, SearchResult
from sourcebook.search.request import SORTS, SearchRequest
from sourcebook.web.folder_choices import folder_choices
from sourcebook.web.runtime import Runtime, get_runtime, view_of
from sourcebook.web.search_params import (
    SearchParams,
    parse_period,
    run_search,
    year_bounds,
    year_of,
)
from sourcebook.web.templating import Segment, country_label, language_label, long_date
from sourcebook.web.templating import snippet_segments as snippet
from sourcebook.web.why import WhyView, why_view

router = APIRouter(include_in_schema=False)

#: Facets shown in the sidebar, in order, with their headings.
SIDEBAR_FACETS: dict[str, str] = {
    "country": "Country",
    "publisher": "Publisher",
    "type": "Document type",
    "language": "Language",
    "year": "Year",
    "collection": "Collection",
}
SORT_LABELS = {
    "relevance": "Relevance",
    "newest": "Newest first",
    "oldest": "Oldest first",
    "title": "Title (A–Z)",
}
#: Facet values shown before the rest are folded away.
FACET_SHOWN = 8
#: Pages linked on each side of the current one.
PAGE_WINDOW = 3


@dataclass
class FacetLink:
    label: str
    count: int
    url: str
    active: bool
    #: The count is an estimate from a sample of the matches (a very broad query).
    approximate: bool = False


@dataclass
class FacetBox:
    name: str
    title: str
    links: list[FacetLink]


@dataclass
class ActiveFilter:
    name: str
    label: str
    remove_url: str


@dataclass
class PassageView:
    seq: int
    url: str
    segments: list[Segment]


@dataclass
class HitView:
    number: int
    docid: str
    url: str
    title: str
    publisher: str
    date_text: str
    date_iso: str
    countries: list[str]
    language: str
    document_type: str
    passages: list[PassageView]
    #: ISO 639-1 code of the record's language ("" when unknown)
    lang: str = ""
    #: near-duplicates this hit stands for, and the search that lists them with it
    similar: int = 0
    similar_url: str = ""
    #: the "Why this result" disclosure (web/why.py), for searches by relevance
    why: WhyView | None = None


@dataclass
class PageLink:
    number: int
    url: str
    current: bool


@dataclass
class Pagination:
    page: int
    pages: int
    prev_url: str = ""
    next_url: str = ""
    links: list[PageLink | None] = field(default_factory=list)  # None is a gap ("…")


def label_for(name: str, value: str) -> str:
    if name == "country":
        return country_label(value)
    if name == "language":
        return language_label(value)
    if name == "type":
        return value[:1].upper() + value[1:]
    return value


def facet_boxes(params: SearchParams, result: SearchResult) -> list[FacetBox]:
    """The sidebar. A value's link adds it as a filter, so its count is what the click gives.

    Values of one field combine with OR in a search request, so once a facet has a value
    selected its other values are not offered (they would widen the results, not narrow them);
    removing the filter brings them back.
    """
    boxes = []
    active_year = year_of(params.date_from, params.date_to)
    for name, title in SIDEBAR_FACETS.items():
        selected = [active_year] if name == "year" and active_year else params.filters.get(name, [])
        links = []
        for value in result.facets.get(name, []):
            if selected and value.value not in selected:
                continue
            if name == "year":
                target = params.with_dates(*narrowed_year(params, value.value))
            else:
                target = params.with_filter(name, value.value)
            label = value.label if name in ("country", "language") else label_for(name, value.value)
            links.append(
                FacetLink(
                    label or value.value,
                    value.count,
                    target.url(),
                    bool(selected),
                    result.facets_approximate,
                )
            )
        if links and not (name == "collection" and len(links) < 2 and not selected):
            boxes.append(FacetBox(name, title, links))
    return boxes


def narrowed_year(params: SearchParams, year: str) -> tuple[str, str]:
    """The dates a year's link sets: the year, within any date range already chosen."""
    start, end = year_bounds(year)
    try:
        chosen_from = parse_period(params.date_from, "from", end=False)
        chosen_to = parse_period(params.date_to, "to", end=True)
    except QuerySyntaxError:
        return start, end
    if chosen_from is not None and chosen_from.isoformat() > start:
        start = chosen_from.isoformat()
    if chosen_to is not None and chosen_to.isoformat() < end:
        end = chosen_to.isoformat()
    return start, end


def active_filters(params: SearchParams) -> list[ActiveFilter]:
    out = []
    for name, values in params.filters.items():
        for value in values:
            label = f"{SIDEBAR_FACETS.get(name, name)}: {label_for(name, value)}"
            out.append(ActiveFilter(name, label, params.without_filter(name, value).url()))
    if params.date_from or params.date_to:
        year = year_of(params.date_from, params.date_to)
        if year:
            label = f"Year: {year}"
        elif params.date_from and params.date_to:
            label = f"Published {params.date_from} to {params.date_to}"
        elif params.date_from:
            label = f"Published from {params.date_from}"
        else:
            label = f"Published until {params.date_to}"
        out.append(ActiveFilter("date", label, params.with_dates("", "").url()))
    return out


def hit_view(number: int, hit: Hit, params: SearchParams | None = None) -> HitView:
    """One hit as the page shows it; its passage links carry the query (``?q=``), so the
    record page marks the query's words in the passages too."""
    url = f"/record/{hit.docid}"
    passage_query = ""
    if params is not None and params.q.strip():
        pairs = [("q", params.q)] + ([("mode", params.mode)] if params.mode != "auto" else [])
        passage_query = "?" + urlencode(pairs)
    return HitView(
        number=number,
        docid=hit.docid,
        url=url,
        title=hit.title or "(untitled)",
        publisher=hit.publisher,
        date_text=long_date(hit.publication_date),
        date_iso=hit.publication_date.isoformat() if hit.publication_date else "",
        countries=[country_label(c) for c in hit.countries],
        language=language_label(hit.language) if hit.language else "",
        document_type=hit.document_type,
        passages=[
            PassageView(
                p.seq,
                f"{url}{passage_query}#p-{p.seq}",
                snippet(p.text, [(h.start, h.end) for h in p.highlights]),
            )
            for p in hit.passages
        ],
        lang=hit.language,
        similar=hit.similar,
        similar_url=(
            "/search?" + urlencode({"q": f"group:{hit.dup_group}"})
            if hit.similar and hit.dup_group
            else ""
        ),
        why=why_view(hit.explanation) if hit.explanation is not None else None,
    )


def explainable(search: SearchRequest) -> bool:
    """Whether the hits are ranked by a score there is something to explain about."""
    return bool(search.query.strip()) and search.sort == "relevance"


def pagination(params: SearchParams, total: int) -> Pagination:
    pages = max(1, -(-total // params.size))
    page = params.page
    nav = Pagination(page=page, pages=pages)
    if page > 1:
        nav.prev_url = params.with_page(min(page - 1, pages)).url()
    if page < pages:
        nav.next_url = params.with_page(page + 1).url()
    shown = sorted(
        {1, pages, *range(max(1, page - PAGE_WINDOW), min(pages, page + PAGE_WINDOW) + 1)}
    )
    previous = 0
    for number in shown:
        if number - previous > 1:
            nav.links.append(None)
        nav.links.append(PageLink(number, params.with_page(number).url(), number == page))
        previous = number
    return nav


def error_marker(exc: QuerySyntaxError) -> tuple[str, str, str] | None:
    """The query cut at the error position: (before, the character there, after)."""
    if exc.position is None or not exc.query:
        return None
    pos = max(0, min(exc.position, len(exc.query)))
    return exc.query[:pos], exc.query[pos : pos + 1] or " ", exc.query[pos + 1 :]


@router.get("/")
@router.get("/search")
async def search_page(request: Request, runtime: Runtime = Depends(get_runtime)) -> Response:
    templates = request.app.state.templates
    context: dict[str, object] = {
        "sorts": [(s, SORT_LABELS[s]) for s in SORTS],
        "error": None,
        "marker": None,
        "position": None,
        "result": None,
        "hits": [],
        "facets": [],
        "active": [],
        "nav": None,
        "plain_url": "",
        "feed_url": "",
        "explain_url": "",
        "folders": await folder_choices(request),  # "Add to folder" on each hit
    }
    status = 200
    try:
        params = SearchParams.from_query(request.query_params)
    except QuerySyntaxError as exc:
        params = SearchParams(q=request.query_params.get("q", ""))
        context["error"] = exc.message
        status = 400
    context["params"] = params
    if status == 200:
        try:
            search = params.to_request()
            # "Why this result" on each hit, when asked and the hits are ranked by their score
            search.explain = params.explain and explainable(search)
            result = await runtime.read(run_search, view_of(request), search)
        except QuerySyntaxError as exc:
            context["error"] = exc.message
            context["marker"] = error_marker(exc)
            context["position"] = exc.position
            if params.q.strip() and params.mode != "plain":
                context["plain_url"] = replace(params, mode="plain", page=1).url()
            status = 400
        else:
            start = (result.page - 1) * result.page_size
            context.update(
                result=result,
                hits=[hit_view(start + i, hit, params) for i, hit in enumerate(result.hits, 1)],
                facets=facet_boxes(params, result),
                nav=pagination(params, result.total),
                feed_url=replace(params, page=1, explain=False).url("/search.atom"),
            )
            if explainable(search):  # the link that shows (or hides) "Why this result"
                context["explain_url"] = replace(params, explain=not params.explain).url()
    context["active"] = active_filters(params)
    context["clear_url"] = SearchParams(
        q=params.q, mode=params.mode, sort=params.sort, size=params.size
    ).url()
    response: Response = templates.TemplateResponse(
        request, "search.html", context, status_code=status
    )
    return response
