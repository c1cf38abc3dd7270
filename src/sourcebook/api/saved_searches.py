"""Saved searches as JSON (``/api/saved-searches``): list, save and delete a signed-in user's
saved searches, each with its search page and Atom feed links, and its e-mail digest
(docs/alerts.md). Credentials as for folders (:mod:`sourcebook.api.workspace`); the services
are :mod:`sourcebook.services.alerts`."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request

from sourcebook.api.routes import INVALID, RuntimeDep, problem
from sourcebook.api.workspace import BODY, SIGNED_IN, WRITE, ReadDeps, WriteDeps, call_service
from sourcebook.api.workspace_schemas import (
    Deleted,
    SavedSearchesOut,
    SavedSearchIn,
    SavedSearchOut,
)
from sourcebook.saved import MAX_NAME_CHARS, SavedSearch
from sourcebook.search.request import FILTER_PARAMETERS
from sourcebook.services import alerts
from sourcebook.services.archive import Archive
from sourcebook.viewer import Viewer
from sourcebook.web.links import site_url
from sourcebook.web.viewing import viewer_of

router = APIRouter(prefix="/api", tags=["workspace"], responses=INVALID)


def _saved_out(saved: SavedSearch, site: str) -> SavedSearchOut:
    pairs = alerts.search_pairs(saved)
    query = urlencode(pairs)
    filters = {
        name: list(saved.filters[field])
        for field, name in FILTER_PARAMETERS.items()
        if saved.filters.get(field)
    }
    return SavedSearchOut(
        name=saved.name,
        q=saved.query,
        filters=filters,
        digest=saved.schedule,
        email=saved.email,
        created_at=saved.created_at,
        last_sent_at=saved.last_sent_at,
        search_url=f"{site}/search" + (f"?{query}" if query else ""),
        feed_url=f"{site}/search.atom" + (f"?{query}" if query else ""),
    )


def _save(archive: Archive, viewer: Viewer, body: SavedSearchIn, email: str) -> SavedSearch:
    wanted = body.filters.model_dump()
    filters = {field: wanted[name] for field, name in FILTER_PARAMETERS.items() if wanted[name]}
    saved = SavedSearch(
        name=body.name, query=body.q, filters=filters, schedule=body.digest, email=email
    )
    return alerts.save_search(archive, viewer, saved)


@router.get(
    "/saved-searches",
    response_model=SavedSearchesOut,
    summary="Your saved searches",
    responses=SIGNED_IN,
    dependencies=ReadDeps,
)
async def list_saved_searches(request: Request, runtime: RuntimeDep) -> SavedSearchesOut:
    """Oldest first, each with its search page (`search_url`) and Atom feed (`feed_url`)."""
    found = await runtime.read(alerts.saved_searches, runtime.archive, viewer_of(request))
    site = site_url(request)
    return SavedSearchesOut(saved_searches=[_saved_out(s, site) for s in found])


@router.post(
    "/saved-searches",
    response_model=SavedSearchOut,
    status_code=201,
    summary="Save a search",
    responses={
        **WRITE,
        **BODY,
        400: problem(
            "The body is not JSON, or the query or a filter is malformed (`position` says "
            "where in the query)."
        ),
        409: problem("You have a saved search of this name already."),
    },
    dependencies=WriteDeps,
)
async def save_search(body: SavedSearchIn, request: Request, runtime: RuntimeDep) -> SavedSearchOut:
    """Keeps a query with its filters under a name, with an e-mail digest of the documents new
    to the archive that match (`digest`: none, daily or weekly; docs/alerts.md). The first
    digest covers documents added from now on."""
    viewer = viewer_of(request)
    email = body.email.strip()
    if body.digest != "none" and not email and viewer.signed_in:
        email = (await runtime.read(runtime.accounts.user, viewer.user)).email
    saved = await call_service(runtime, "email", _save, runtime.archive, viewer, body, email)
    return _saved_out(saved, site_url(request))


@router.delete(
    "/saved-searches/{name:path}",
    response_model=Deleted,
    summary="Delete a saved search",
    responses={**WRITE, 404: problem("You have no saved search of this name.")},
    dependencies=WriteDeps,
)
async def delete_saved_search(
    name: Annotated[
        str,
        Path(
            min_length=1,
            max_length=MAX_NAME_CHARS,
            description="Its name, URL-encoded (a slash is `%2F`).",
        ),
    ],
    request: Request,
    runtime: RuntimeDep,
) -> Deleted:
    """Deletes one of your saved searches, and with it its digest."""
    await runtime.read(alerts.delete_saved_search, runtime.archive, viewer_of(request), name)
    return Deleted()
