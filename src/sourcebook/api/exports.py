"""``GET /api/search/export``: a search's results as RIS, BibTeX, CSL-JSON or CSV.

The search parameters are those of ``GET /api/search`` (read as the search page reads them,
:class:`~sourcebook.web.search_params.SearchParams`); ``page`` and ``size`` are ignored: the
export holds the first ``limit`` results (at most 1,000). When the search matched more, the
response says so in ``X-Sourcebook-Total``, ``X-Sourcebook-Exported`` and
``X-Sourcebook-Notices`` (a JSON array of strings, ASCII-escaped). The viewer's access filter
applies as on every read (the route reads through ``ViewDep``).
"""

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from sourcebook.api.routes import INVALID, Day, Mode, RuntimeDep, Sort, ViewDep, problem
from sourcebook.services.exports import MAX_EXPORT_DOCUMENTS, export_search
from sourcebook.web.search_params import SearchParams

ListFormat = Literal["ris", "bibtex", "csl-json", "csv"]

_SEARCH_PARAMETERS: list[dict[str, Any]] = [
    {"name": name, "in": "query", "required": False, "schema": schema, "description": text}
    for name, schema, text in (
        ("q", {"type": "string"}, "The query, as for /api/search."),
        *(
            (name, {"type": "array", "items": {"type": "string"}}, "A filter, as for /api/search.")
            for name in ("country", "publisher", "type", "language", "collection")
        ),
        (
            "from",
            {"type": "string"},
            "Published on or after (YYYY-MM-DD, YYYY-MM or YYYY).",
        ),
        (
            "to",
            {"type": "string"},
            "Published on or before (YYYY-MM-DD, YYYY-MM or YYYY).",
        ),
    )
]

router = APIRouter(prefix="/api", responses=INVALID)


@router.get(
    "/search/export",
    summary="Export a search's results as a reference list",
    response_class=Response,
    responses={
        200: {
            "description": "The results as a file to download.",
            "content": {
                "application/x-research-info-systems": {"schema": {"type": "string"}},
                "application/x-bibtex": {"schema": {"type": "string"}},
                # a JSON type: an array of CSL-JSON items
                "application/vnd.citationstyles.csl+json": {
                    "schema": {"type": "array", "items": {"type": "object"}}
                },
                "text/csv": {"schema": {"type": "string"}},
            },
        },
        400: problem("The query or a date is malformed."),
    },
    openapi_extra={"parameters": _SEARCH_PARAMETERS},
    tags=["export"],
)
async def export_results(
    request: Request,
    runtime: RuntimeDep,
    view: ViewDep,
    format: Annotated[
        ListFormat, Query(description="ris (default), bibtex, csl-json or csv.")
    ] = "ris",
    limit: Annotated[
        int, Query(ge=1, le=MAX_EXPORT_DOCUMENTS, description="Most documents to export.")
    ] = MAX_EXPORT_DOCUMENTS,
    accessed: Annotated[
        Day | None, Query(description="Access date to cite; default: the record's, else today.")
    ] = None,
    # checked here (an unknown value is a 422, as on /api/search), read with the rest below
    mode: Annotated[Mode, Query(description="As for /api/search.")] = "auto",
    sort: Annotated[
        Sort | None,
        Query(description="As for /api/search; default: relevance with a query, else newest."),
    ] = None,
) -> Response:
    """RIS, BibTeX, CSL-JSON or CSV (docs/workspace.md) of the search's first `limit` results,
    in the order of the result list; the search parameters are those of `/api/search`."""
    params = SearchParams.from_query(request.query_params)
    done = await runtime.read(
        export_search,
        view,
        params.to_request(passages=0),
        format,
        limit=limit,
        accessed=accessed,
        base_url=runtime.settings.public_url,
    )
    export = done.export
    return Response(
        content=export.data,
        media_type=export.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="sourcebook-search.{export.extension}"',
            "X-Sourcebook-Total": str(done.total),
            "X-Sourcebook-Exported": str(done.exported),
            "X-Sourcebook-Notices": json.dumps(done.notices),
        },
    )
