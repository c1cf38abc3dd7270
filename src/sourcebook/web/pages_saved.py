"""Saved searches as pages: the list (each with its search, its Atom feed and its e-mail digest)
and the "Save this search" form of the search page.

A saved search keeps the query and the filters of the search page (country, publisher, type,
language, collection), not its dates, sort or page (docs/alerts.md). Its digest goes to the
account's e-mail address. Every form posts with the session's CSRF token; only signed-in users
see these pages (anyone else is sent to sign in).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sourcebook.errors import SourcebookError
from sourcebook.saved import MAX_NAME_CHARS, MAX_QUERY_CHARS, SCHEDULES, SavedSearch
from sourcebook.search.request import FILTER_PARAMETERS
from sourcebook.services import alerts
from sourcebook.services.archive import Archive
from sourcebook.viewer import Viewer
from sourcebook.web.atom import FEED_PATH
from sourcebook.web.auth import accounts_of
from sourcebook.web.notices import with_notice
from sourcebook.web.pages import render
from sourcebook.web.pages_account import field, no_store, own_form, sign_in_redirect
from sourcebook.web.pages_folders import archive_of, back_to, form_action, form_errors
from sourcebook.web.search_params import FILTERS, MAX_FILTER_CHARS, SearchParams
from sourcebook.web.viewing import viewer_of

router = APIRouter(include_in_schema=False)


@dataclass
class SavedView:
    saved: SavedSearch
    search_url: str
    feed_url: str
    #: "country: TJ; type: report", for the list.
    filters: str


def search_params(saved: SavedSearch) -> SearchParams:
    """The search page's parameters of a saved search (its query and filters)."""
    filters = {
        FILTER_PARAMETERS[kept]: list(values)
        for kept, values in saved.filters.items()
        if kept in FILTER_PARAMETERS and values
    }
    return SearchParams(q=saved.query, filters=filters)


def saved_views(archive: Archive, viewer: Viewer) -> list[SavedView]:
    views = []
    for saved in alerts.saved_searches(archive, viewer):
        params = search_params(saved)
        described = "; ".join(f"{k}: {', '.join(v)}" for k, v in params.filters.items())
        views.append(SavedView(saved, params.url(), params.url(FEED_PATH), described))
    return views


@router.get("/saved")
async def saved_page(request: Request) -> Response:
    viewer = viewer_of(request)
    if not viewer.signed_in:
        return sign_in_redirect(request)
    runtime = request.app.state.runtime
    views = await runtime.read(saved_views, archive_of(request), viewer)
    user = await runtime.read(accounts_of(request).user, viewer.user)
    context = {"searches": views, "email": user.email}
    return no_store(render(request, "saved.html", context))


@router.post("/saved")
async def save_search(request: Request) -> Response:
    """ "Save this search" on the search page: its query and filters, with a digest."""
    found = await own_form(request)
    if isinstance(found, Response):
        return found
    viewer, form = found
    runtime = request.app.state.runtime
    filters: dict[str, list[str]] = {}
    for name, kept in FILTERS.items():
        values = [v.strip()[:MAX_FILTER_CHARS] for v in form.getlist(name) if isinstance(v, str)]
        if any(values):
            filters[kept] = list(dict.fromkeys(v for v in values if v))
    schedule = field(form, "schedule", 10) or "none"
    email = ""
    if schedule != "none":
        user = await runtime.read(accounts_of(request).user, viewer.user)
        email = user.email
        if schedule in SCHEDULES and not email:
            raise SourcebookError(
                "Your account has no e-mail address to send a digest to: ask an administrator "
                "to add one, or save the search without a digest."
            )
    with form_errors():
        saved = SavedSearch(
            name=field(form, "name", MAX_NAME_CHARS + 1),
            query=field(form, "q", MAX_QUERY_CHARS + 1),
            filters=filters,
            schedule=schedule,  # type: ignore[arg-type]  # SavedSearch checks it
            email=email,
        )
        await runtime.read(alerts.save_search, archive_of(request), viewer, saved)
    return RedirectResponse(with_notice(back_to(form, "/saved"), "saved"), status_code=303)


@router.post("/saved/delete")
async def delete_saved_search(request: Request) -> Response:
    def delete(archive: Archive, viewer: Viewer, form: FormData) -> None:
        alerts.delete_saved_search(archive, viewer, field(form, "name", MAX_NAME_CHARS + 1))

    return await form_action(request, delete, "/saved", "unsaved")
