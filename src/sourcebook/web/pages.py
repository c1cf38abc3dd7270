"""The server-rendered pages: search, advanced search, query help, browse, records.

The search page lives in :mod:`pages_search`, the record page in :mod:`pages_record`; this module
holds the small pages and gathers every page route into one router.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sourcebook.errors import NotFound
from sourcebook.model import FacetValue
from sourcebook.search.request import FACETS
from sourcebook.services.reading import ArchiveView
from sourcebook.web import pages_record, pages_search
from sourcebook.web.advanced import AdvancedForm, build_query
from sourcebook.web.runtime import Runtime, get_runtime, view_of
from sourcebook.web.search_params import FILTERS, SearchParams, year_bounds

router = APIRouter(include_in_schema=False)

BROWSE_TITLES = {
    "country": "Browse by country",
    "publisher": "Browse by publisher",
    "type": "Browse by document type",
    "language": "Browse by language",
    "year": "Browse by year",
    "collection": "Browse by collection",
}
#: Values listed on a browse page (the rest are reachable by searching).
BROWSE_LIMIT = 1000
#: Choices offered in the advanced form's drop-down lists.
CHOICES_LIMIT = 300


def render(request: Request, name: str, context: dict[str, object], status: int = 200) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, context, status_code=status
    )
    return response


@router.get("/help")
async def help_page(request: Request) -> Response:
    return render(request, "help.html", {})


def _choices(view: ArchiveView) -> dict[str, list[FacetValue]]:
    return {
        name: view.browse(name, CHOICES_LIMIT)
        for name in ("country", "language", "type", "collection")
    }


@router.get("/advanced")
async def advanced_page(request: Request, runtime: Runtime = Depends(get_runtime)) -> Response:
    choices = await runtime.read(_choices, view_of(request))
    for name in ("country", "language"):
        choices[name] = sorted(choices[name], key=lambda v: (v.label or v.value).casefold())
    for value in choices["type"]:
        value.label = value.value[:1].upper() + value.value[1:]
    return render(request, "advanced.html", {"choices": choices})


@router.get("/advanced/search")
async def advanced_search(request: Request) -> Response:
    """Turns the advanced form into a query string and sends the browser to the search page."""
    form = request.query_params
    query = build_query(
        AdvancedForm(
            all_words=form.get("all", ""),
            phrase=form.get("phrase", ""),
            any_words=form.get("any", ""),
            none_words=form.get("none", ""),
            title_words=form.get("title", ""),
            publisher=form.get("publisher", ""),
        )
    )
    filters = {
        name: [v for v in form.getlist(name) if v.strip()]
        for name in FILTERS
        if name != "publisher"
    }
    params = SearchParams(
        q=query,
        mode="syntax" if query else "auto",
        filters={k: v for k, v in filters.items() if v},
        date_from=form.get("from", "").strip(),
        date_to=form.get("to", "").strip(),
        sort=form.get("sort", "").strip(),
    )
    return RedirectResponse(params.url(), status_code=303)


@router.get("/browse")
async def browse_index(request: Request) -> Response:
    return render(request, "browse_index.html", {"titles": BROWSE_TITLES})


@router.get("/browse/{facet}")
async def browse_page(
    facet: str, request: Request, runtime: Runtime = Depends(get_runtime)
) -> Response:
    if facet not in FACETS:
        raise NotFound(f"There is no browse page for {facet[:40]!r}; try country or publisher.")
    values = await runtime.read(view_of(request).browse, facet, BROWSE_LIMIT)
    entries = []
    for value in values:
        label = pages_search.label_for(facet, value.value)
        if facet in ("country", "language"):
            label = value.label or value.value
        if facet == "year":
            target = SearchParams(sort="newest").with_dates(*year_bounds(value.value))
        else:
            target = SearchParams(sort="newest", filters={facet: [value.value]})
        entries.append((label, value.count, target.url()))
    if facet != "year":
        entries.sort(key=lambda e: e[0].casefold())
    return render(
        request,
        "browse.html",
        {
            "facet": facet,
            "title": BROWSE_TITLES[facet],
            "entries": entries,
            "titles": BROWSE_TITLES,
        },
    )


router.include_router(pages_search.router)
router.include_router(pages_record.router)
