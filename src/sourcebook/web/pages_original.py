"""Kept originals and revision diffs of a record (``/record/{docid}/originals/{id}``,
``/record/{docid}/diff``): what the source said on the day, even after it changed or went away.

An original is served as a download (``application/octet-stream``, ``nosniff``, a sandboxing
Content-Security-Policy), never rendered on this site: a publisher's page may carry scripts.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from sourcebook.errors import SourcebookError
from sourcebook.services.reading import ArchiveView
from sourcebook.services.sources import compare_revisions, original_file, originals_of
from sourcebook.web.runtime import Runtime, get_runtime, view_of
from sourcebook.web.templating import last_updated

router = APIRouter(include_in_schema=False)


@dataclass
class OriginalView:
    url: str
    fetched: str
    source_url: str
    final_url: str
    revision: int
    status: int
    content_type: str
    size: str
    sha256: str
    headers: list[tuple[str, str]]


def original_views(archive: ArchiveView, docid: str) -> list[OriginalView]:
    """The record page's list of kept originals (none for a document that came from a file)."""
    return [
        OriginalView(
            url=f"/record/{o.docid}/originals/{o.id}",
            fetched=last_updated(o.fetched_at),
            source_url=o.url,
            final_url=o.final_url if o.final_url != o.url else "",
            revision=o.revision,
            status=o.status,
            content_type=o.content_type or "not stated",
            size=f"{o.size:,} bytes",
            sha256=o.sha256,
            headers=sorted(o.headers.items()),
        )
        for o in originals_of(archive, docid)
    ]


def _extension(content_type: str) -> str:
    media = content_type.split(";", 1)[0].strip().lower()
    if media in ("application/rss+xml", "application/atom+xml", "text/xml"):
        return ".xml"
    return mimetypes.guess_extension(media) or ".bin"


@router.get("/record/{docid}/originals/{original_id}")
async def original_download(
    docid: str, original_id: int, request: Request, runtime: Runtime = Depends(get_runtime)
) -> Response:
    info, body = await runtime.read(original_file, view_of(request), docid, original_id)
    stamp = info.fetched_at.strftime("%Y%m%dT%H%M%SZ")
    name = f"{info.docid}-original-{stamp}{_extension(info.content_type)}"
    return Response(
        body,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "X-Original-SHA256": info.sha256,
            "X-Original-Content-Type": info.content_type.encode("ascii", "replace").decode(),
        },
    )


@router.get("/record/{docid}/diff")
async def revision_diff_page(
    docid: str,
    request: Request,
    runtime: Runtime = Depends(get_runtime),
    old: int = 0,
    new: int = 0,
) -> Response:
    view = view_of(request)
    doc = await runtime.read(view.get, docid)
    latest = max((r.number for r in doc.revisions), default=1)
    diff = None
    if old or new or latest > 1:  # one revision and nothing asked: nothing to compare
        new = new or latest
        old = old or new - 1
        if old < 1 or old >= new:
            raise SourcebookError("compare an earlier revision with a later one (old < new)")
        diff = await runtime.read(compare_revisions, view, doc.docid, old, new)
    recorded = {r.number: last_updated(r.recorded_at) for r in doc.revisions}
    context = {
        "doc": doc,
        "title": f"Changes to {doc.title or doc.docid}",
        "diff": diff,
        "old_recorded": recorded.get(old, ""),
        "new_recorded": recorded.get(new, ""),
    }
    response: Response = request.app.state.templates.TemplateResponse(
        request, "record_diff.html", context
    )
    return response
