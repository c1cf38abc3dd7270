"""The JSON API under ``/api``: search, records, citations, similar documents, facets, export,
stats and ingest by upload. Every route calls :class:`~sourcebook.services.Archive`; errors are
problem details (see :mod:`sourcebook.web.problems`).

The router is built per app (:func:`build_router`) so the limits in the OpenAPI schema (longest
query, largest page) are the archive's own settings. (No ``from __future__ import annotations``
here: FastAPI reads the parameters' annotations, which refer to those settings, at run time.)
"""

import re
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from pydantic import BeforeValidator
from starlette.responses import JSONResponse, StreamingResponse

from sourcebook.api.schemas import (
    CitationOut,
    DeletedOut,
    FacetOut,
    FacetValueOut,
    HitOut,
    IngestOut,
    Problem,
    RecordOut,
    SearchOut,
    SimilarOut,
    StatsOut,
    UploadQueuedOut,
)
from sourcebook.config import Settings
from sourcebook.errors import AccessDenied, InputTooLarge, NotFound
from sourcebook.search.request import SearchRequest
from sourcebook.services import IngestOptions, document_to_json
from sourcebook.services.jobs import queue_upload, uploads_queued
from sourcebook.services.reading import ArchiveView
from sourcebook.staging import MAX_UPLOAD_FILES, Upload, display_name, ingest_uploads
from sourcebook.web.auth import audit_write, check_write, has_credentials
from sourcebook.web.runtime import Runtime, get_runtime, view_of
from sourcebook.web.search_params import MAX_PAGE, run_search

JSONL_MEDIA_TYPE = "application/x-ndjson"
DOCID_PATTERN = r"^\s*[a-z2-7]{6,32}\s*$"

Mode = Literal["auto", "syntax", "plain"]
Sort = Literal["relevance", "newest", "oldest", "title"]
Style = Literal["refworld", "bibtex", "ris", "csl-json"]
Facet = Literal["country", "publisher", "type", "language", "year", "collection"]

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_day(value: object) -> object:
    # Pydantic would also read "0" or "1e9" as a Unix time; a date here is written YYYY-MM-DD.
    if isinstance(value, str) and not _ISO_DAY.match(value):
        raise ValueError("write the date as YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]
Filter = Annotated[
    list[str], Query(description="Repeat for any of several values (OR); fields combine with AND.")
]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
#: The archive as the request's viewer may read it: every read route takes it.
ViewDep = Annotated[ArchiveView, Depends(view_of)]
Docid = Annotated[
    str,
    Path(
        description="The record's docid (10 characters a-z and 2-7).",
        pattern=DOCID_PATTERN,
        examples=["vsrdalhiem"],
    ),
]


Responses = dict[int | str, dict[str, Any]]


def problem(description: str) -> dict[str, Any]:
    """An error response for the OpenAPI schema (served as ``application/problem+json``)."""
    return {"model": Problem, "description": description}


INVALID: Responses = {422: problem("A parameter is missing or invalid.")}
NOT_FOUND: Responses = {404: problem("No record has this docid.")}


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/api", responses=INVALID)

    @router.get(
        "/search",
        response_model=SearchOut,
        summary="Search the archive",
        responses={400: problem("The query is malformed (`position` says where).")},
        tags=["search"],
    )
    async def search(
        runtime: RuntimeDep,
        view: ViewDep,
        *,
        q: Annotated[
            str,
            Query(
                max_length=settings.max_query_chars,
                description="The query (docs/query-language.md); empty for every document.",
            ),
        ] = "",
        mode: Annotated[
            Mode, Query(description="auto: syntax when it looks like it; syntax; plain words.")
        ] = "auto",
        # The filters default to [] (FastAPI copies defaults per request): with a
        # default_factory, pydantic would call inspect.signature(list), 0.5 ms, per missing filter.
        country: Filter = [],  # noqa: B006
        publisher: Filter = [],  # noqa: B006
        type: Filter = [],  # noqa: B006
        language: Filter = [],  # noqa: B006
        collection: Filter = [],  # noqa: B006
        date_from: Annotated[
            Day | None, Query(alias="from", description="Published on or after.")
        ] = None,
        date_to: Annotated[
            Day | None, Query(alias="to", description="Published on or before.")
        ] = None,
        sort: Sort = "relevance",
        page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
        size: Annotated[int, Query(ge=1, le=settings.page_size_max)] = 10,
        explain: Annotated[
            bool,
            Query(
                description="Add an `explanation` to each hit: its matched terms with their "
                "BM25 contributions, and with hybrid ranking each list's rank, score and weight."
            ),
        ] = False,
        crosslang: Annotated[
            bool | None,
            Query(
                description="Cross-language search: true finds documents in other languages "
                "by meaning, false keeps to documents containing the query's words; default: "
                "on where the archive's vectors are multilingual (`ranking` says which ran)."
            ),
        ] = None,
    ) -> SearchOut:
        """Hits with their best passages (highlights as character offsets into each passage's
        text), the total, facet counts and the time taken. Filters combine with AND across
        parameters and OR within one."""
        request = SearchRequest(
            query=q,
            mode=mode,
            countries=country,
            publishers=publisher,
            types=type,
            languages=language,
            collections=collection,
            date_from=date_from,
            date_to=date_to,
            sort=sort,
            page=page,
            page_size=size,
            explain=explain,
            crosslang=crosslang,
        )
        result = await runtime.read(run_search, view, request)
        return SearchOut.from_result(result)

    @router.get(
        "/records/{docid}",
        response_model=RecordOut,
        summary="One record, every field",
        responses=NOT_FOUND,
        tags=["records"],
    )
    async def record(docid: Docid, runtime: RuntimeDep, view: ViewDep) -> dict[str, Any]:
        """The record as `sourcebook export` writes it: every field, passages, revisions."""
        doc = await runtime.read(view.get, docid)
        return document_to_json(doc)

    @router.get(
        "/records/{docid}/citation",
        response_model=CitationOut,
        summary="Cite a record",
        responses=NOT_FOUND,
        tags=["records"],
    )
    async def citation(
        docid: Docid,
        runtime: RuntimeDep,
        view: ViewDep,
        style: Style = "refworld",
        accessed: Annotated[
            Day | None,
            Query(description="Access date to print; default: the record's, else today."),
        ] = None,
        base_url: Annotated[
            str,
            Query(
                max_length=500,
                description="This archive's public URL, for records with no source URL "
                "(default: the archive's SOURCEBOOK_PUBLIC_URL).",
            ),
        ] = "",
    ) -> CitationOut:
        """A citation in one of the styles of docs/citations.md."""
        text = await runtime.read(
            view.cite,
            docid,
            style,
            accessed=accessed,
            base_url=base_url or runtime.settings.public_url,
        )
        return CitationOut(docid=docid.strip(), style=style, text=text)

    @router.get(
        "/records/{docid}/similar",
        response_model=SimilarOut,
        summary="Documents like this one",
        responses=NOT_FOUND,
        tags=["records"],
    )
    async def similar(
        docid: Docid,
        runtime: RuntimeDep,
        view: ViewDep,
        limit: Annotated[int, Query(ge=1, le=50)] = 5,
    ) -> SimilarOut:
        hits = await runtime.read(view.similar, docid, limit)
        return SimilarOut(docid=docid.strip(), hits=[HitOut.from_hit(h) for h in hits])

    @router.get(
        "/facets/{facet}",
        response_model=FacetOut,
        summary="Every value of a facet with its count",
        tags=["browse"],
    )
    async def facet_values(
        facet: Facet,
        runtime: RuntimeDep,
        view: ViewDep,
        limit: Annotated[int, Query(ge=1, le=1000)] = 300,
    ) -> FacetOut:
        """Counts over the whole archive, most documents first (years newest first)."""
        values = await runtime.read(view.browse, facet, limit)
        return FacetOut(facet=facet, values=[FacetValueOut.from_value(v) for v in values])

    @router.get(
        "/export.jsonl",
        summary="Export every record (JSON Lines)",
        response_class=StreamingResponse,
        responses={
            200: {
                "description": "One record per line, in the shape of `/api/records/{docid}`.",
                "content": {JSONL_MEDIA_TYPE: {"schema": {"type": "string"}}},
            }
        },
        tags=["export"],
    )
    async def export(runtime: RuntimeDep, view: ViewDep) -> StreamingResponse:
        """Streamed as it is read, so an export of any size starts at once."""
        return StreamingResponse(
            runtime.stream(view.export_jsonl),
            media_type=JSONL_MEDIA_TYPE,
            headers={"Content-Disposition": 'attachment; filename="sourcebook-export.jsonl"'},
        )

    @router.get("/stats", response_model=StatsOut, summary="Archive figures", tags=["export"])
    async def stats(runtime: RuntimeDep, view: ViewDep) -> dict[str, Any]:
        """Documents, passages, revisions, ingest runs and errors, counts by field."""
        return await runtime.read(view.stats)

    @router.post(
        "/ingest",
        response_model=IngestOut,
        summary="Add documents by uploading files",
        responses={
            202: {
                "model": UploadQueuedOut,
                "description": "Organisation mode: the files are kept and an `upload` job will "
                "ingest them (`sourcebook worker`); follow it at `job_url`.",
            },
            400: problem("The body is not readable multipart/form-data."),
            401: problem("No credentials: sign in as an editor or send an API token."),
            403: problem(
                "The user is not an editor (or the token has read scope), or the upload came "
                "from another site."
            ),
            413: problem("A file (or the whole upload) is over the size limit."),
        },
        tags=["ingest"],
        dependencies=[Depends(check_write)],
    )
    async def ingest(
        request: Request,
        runtime: RuntimeDep,
        files: Annotated[
            list[UploadFile],
            File(
                min_length=1,
                description="Refworld records, HTML, PDF, text/Markdown, JSONL, RSS/Atom or "
                "Reuters SGML files.",
            ),
        ],
        collection: Annotated[
            str, Form(max_length=200, description="File the documents under this collection.")
        ] = "",
        replace: Annotated[
            bool,
            Form(
                description="Replace records the archive already holds under the same source "
                "key (needs the write token). Without it such records are refused, each with "
                "an error on its file's report."
            ),
        ] = False,
    ) -> IngestOut | JSONResponse:
        """Ingests the files as `sourcebook ingest` does and returns the report per file: a bad
        file is reported with its errors, never failing the others. Uploads are ingested one
        request at a time; searches go on meanwhile. In organisation mode (or with
        `SOURCEBOOK_UPLOAD_JOBS=queue`) the files are queued instead: the answer is 202 with the
        job, whose report, once a worker ran it, is this same report."""
        limit = runtime.settings.max_file_bytes
        if len(files) > MAX_UPLOAD_FILES:
            raise InputTooLarge(f"{len(files)} files; one upload takes at most {MAX_UPLOAD_FILES}")
        uploads = []
        for upload in files:
            name = upload.filename or "upload"
            size = upload.size if upload.size is not None else 0
            if size > limit:
                raise InputTooLarge(
                    f"{name} is {size:,} bytes; the limit is {limit:,} (SOURCEBOOK_MAX_FILE_BYTES)"
                )
            uploads.append(Upload(name, upload.file))
        if replace and not has_credentials(request):
            raise AccessDenied(
                "replace=true needs an editor's credentials (a session or an API token with "
                "write scope) or the archive's write token (SOURCEBOOK_WRITE_TOKEN)"
            )
        if uploads_queued(runtime.settings):
            queued = await runtime.read(
                queue_upload, runtime.settings, uploads, collection.strip(), replace
            )
            names = ", ".join(display_name(u.filename) for u in uploads)
            await audit_write(request, "ingest", names, f"queued as job {queued['job']}")
            return JSONResponse(queued, status_code=202)
        options = IngestOptions(collection=collection.strip(), replace_existing=replace)
        report = IngestOut(
            **await runtime.write(
                ingest_uploads, runtime.archive, runtime.settings.home, uploads, options
            )
        )
        names = ", ".join(f.path for f in report.files)
        detail = f"run {report.run_id}: {report.added} added, {report.updated} updated, "
        detail += f"{report.unchanged} unchanged, {report.failed} failed"
        await audit_write(request, "ingest", names, detail)
        return report

    @router.delete(
        "/records/{docid}",
        response_model=DeletedOut,
        summary="Delete a record",
        responses={
            **NOT_FOUND,
            401: problem("No credentials: sign in as an editor or send an API token."),
            403: problem("The user is not an editor, or the token has read scope."),
            409: problem("Another writer holds the archive; try again."),
        },
        tags=["records"],
        dependencies=[Depends(check_write)],
    )
    async def delete_record(docid: Docid, request: Request, runtime: RuntimeDep) -> DeletedOut:
        """Removes the record from the store and the index, as `sourcebook delete` does: its
        docid stays issued (never given to another source) and OAI-PMH harvesters see it as
        deleted. Recorded in the audit log."""
        docid = docid.strip()
        report = await runtime.write(runtime.archive.delete, [docid])
        if not report.deleted:
            raise NotFound(f"No record has the docid {docid}.")
        await audit_write(request, "delete", docid)
        return DeletedOut(docid=docid, deleted=True)

    return router
