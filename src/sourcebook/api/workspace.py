"""The caseworker's workspace as JSON: folders (documents and quotes with notes, shared with
colleagues, exported as a research bundle or a reference list); saved searches are their
neighbour :mod:`sourcebook.api.saved_searches`, which shares this module's credentials.

Every route is a signed-in user's (a session or an API token; anonymous: 401). Reads take any
token, changes one of write scope, and with a session cookie the CSRF token and our own origin,
as every other write (:func:`~sourcebook.web.auth.check_own_write`). The routes call
:mod:`sourcebook.services.workspace`, which checks every folder and document against the
viewer: a folder or document the caller may not see is 404 (not 403, so its existence does not
leak), an edit of a folder shared to read is 403, and a shared folder shows each reader only
the documents they may read. docs/web.md lists the routes.
"""

from collections.abc import Callable
from typing import Annotated, Literal, ParamSpec, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

from sourcebook.api.routes import INVALID, Responses, RuntimeDep, problem
from sourcebook.api.workspace_schemas import (
    Deleted,
    DocumentIn,
    FolderIn,
    FolderOut,
    FoldersOut,
    FolderSummary,
    ItemCreated,
    ItemOut,
    NoteIn,
    PassageQuoteIn,
    ShareIn,
    ShareOut,
    SharesOut,
    SpanQuoteIn,
)
from sourcebook.cite import format_citation
from sourcebook.errors import InvalidInput, NotFound
from sourcebook.folders import Folder, FolderItem, Share
from sourcebook.services import workspace as ws
from sourcebook.services.archive import Archive
from sourcebook.services.workspace import FolderView, ShownItem
from sourcebook.viewer import Viewer
from sourcebook.web.auth import check_own_write, check_signed_in
from sourcebook.web.runtime import Runtime
from sourcebook.web.viewing import viewer_of

P = ParamSpec("P")
T = TypeVar("T")

#: Largest id a path takes (JavaScript's safe integers; the stores' ids are 64-bit).
MAX_ID = 2**53 - 1
FolderId = Annotated[int, Path(ge=1, le=MAX_ID, description="The folder's number.")]
ItemId = Annotated[int, Path(ge=1, le=MAX_ID, description="The item's number in the folder.")]
ExportFormat = Literal["md", "docx", "pdf", "ris", "bibtex", "csl-json", "csv"]
ExportStyle = Literal["refworld", "harvard", "apa", "chicago"]

SIGNED_IN: Responses = {401: problem("No credentials: sign in or send an API token.")}
WRITE: Responses = {
    **SIGNED_IN,
    403: problem(
        "The API token has read scope, or a session's request lacks its CSRF token or came "
        "from another site."
    ),
}
NO_FOLDER: Responses = {404: problem("No folder with this number that you may see.")}
READ_ONLY = problem(
    "The folder is shared with you to read, not to edit (or only its owner may do this); "
    "or the token has read scope, or a session's request lacks its CSRF token."
)
BAD_BODY = problem("The body is missing or invalid (the `errors` say where).")
#: The error responses of a route that takes a JSON body.
BODY: Responses = {400: problem("The body is not JSON."), 422: BAD_BODY}
#: What each export format is served as.
EXPORT_MEDIA_TYPES = {
    "text/markdown": {"schema": {"type": "string"}},
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {
        "schema": {"type": "string", "format": "binary"}
    },
    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
    "application/x-research-info-systems": {"schema": {"type": "string"}},
    "application/x-bibtex": {"schema": {"type": "string"}},
    "application/vnd.citationstyles.csl+json": {
        "schema": {"type": "array", "items": {"type": "object"}}
    },
    "text/csv": {"schema": {"type": "string"}},
}

router = APIRouter(prefix="/api", tags=["workspace"], responses=INVALID)
ReadDeps = [Depends(check_signed_in)]
WriteDeps = [Depends(check_own_write)]


async def call_service(
    runtime: Runtime, field: str, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """Run a service call off the event loop; a body the service refuses (a blank title, a
    quote's offsets past the body's end...) is a 422 naming ``field``, not a server error."""
    try:
        return await runtime.read(fn, *args, **kwargs)
    except InvalidInput as exc:
        issue = {"loc": ("body", field), "msg": str(exc), "type": "value_error"}
        raise RequestValidationError([issue]) from exc


# --- folders ------------------------------------------------------------------------------------
def _summary(folder: Folder, mode: str) -> FolderSummary:
    return FolderSummary(
        id=folder.id,
        title=folder.title,
        owner=folder.owner,
        created_at=folder.created_at,
        mode=mode,  # type: ignore[arg-type]  # the service's modes are the schema's
        url=f"/api/folders/{folder.id}",
    )


def _shown(shown: ShownItem, base_url: str) -> ItemOut:
    item, doc = shown.item, shown.document
    return ItemOut(
        id=item.id,
        kind=item.kind,
        docid=item.docid,
        title=doc.title,
        citation=format_citation(doc, "refworld", base_url=base_url),
        start=item.start,
        end=item.end,
        revision=item.revision,
        passage=item.passage,
        text=item.text,
        note=item.note,
        added_at=item.added_at,
        changed=shown.changed,
        current_text=shown.current_text if shown.changed and item.kind == "quote" else None,
    )


def _visible_item(archive: Archive, viewer: Viewer, folder_id: int, item_id: int) -> ShownItem:
    """The item as the folder shows it to ``viewer``; NotFound for an item of a document they
    may not read (such items are hidden, so they are neither annotated nor removed)."""
    for shown in ws.open_folder(archive, viewer, folder_id).items:
        if shown.item.id == item_id:
            return shown
    raise NotFound(f"folder {folder_id} has no item {item_id}")


def _folder_out(opened: FolderView, base_url: str) -> FolderOut:
    summary = _summary(opened.folder, opened.mode)
    return FolderOut(
        **summary.model_dump(),
        can_edit=opened.can_edit,
        items=[_shown(s, base_url) for s in opened.items],
        hidden=opened.hidden,
        shares=[ShareOut(target=s.target, name=s.name, mode=s.mode) for s in opened.shares],
    )


def _created(archive: Archive, viewer: Viewer, item: FolderItem) -> ItemCreated:
    """The new item as the folder shows it (its document read again through the viewer)."""
    doc = archive.view(viewer).get(item.docid)
    shown = ShownItem(item, doc)
    return ItemCreated(folder=item.folder_id, item=_shown(shown, archive.settings.public_url))


@router.get(
    "/folders",
    response_model=FoldersOut,
    summary="Your folders",
    responses=SIGNED_IN,
    dependencies=ReadDeps,
)
async def list_folders(request: Request, runtime: RuntimeDep) -> FoldersOut:
    """The folders you own and those shared with you or one of your groups, oldest first, each
    with your standing in it (`mode`)."""
    found = await runtime.read(ws.folders_with_modes, runtime.archive, viewer_of(request))
    return FoldersOut(folders=[_summary(f, mode) for f, mode in found])


@router.post(
    "/folders",
    response_model=FolderSummary,
    status_code=201,
    summary="Create a folder",
    responses={**WRITE, **BODY},
    dependencies=WriteDeps,
)
async def create_folder(body: FolderIn, request: Request, runtime: RuntimeDep) -> FolderSummary:
    """A new, empty folder that you own."""
    made = await call_service(
        runtime, "title", ws.create_folder, runtime.archive, viewer_of(request), body.title
    )
    return _summary(made, "owner")


@router.get(
    "/folders/{folder_id}",
    response_model=FolderOut,
    summary="A folder with its items",
    responses={**SIGNED_IN, **NO_FOLDER},
    dependencies=ReadDeps,
)
async def get_folder(folder_id: FolderId, request: Request, runtime: RuntimeDep) -> FolderOut:
    """Every item you may read, with its document's title and citation as they stand now. A
    quote keeps the text as it was read; when the document changed since (`changed`),
    `current_text` says what the same place says now. Items whose documents you may not read
    are left out and counted in `hidden`."""
    opened = await runtime.read(ws.open_folder, runtime.archive, viewer_of(request), folder_id)
    return _folder_out(opened, runtime.settings.public_url)


@router.patch(
    "/folders/{folder_id}",
    response_model=FolderSummary,
    summary="Rename a folder",
    responses={**WRITE, **NO_FOLDER, 403: READ_ONLY, **BODY},
    dependencies=WriteDeps,
)
async def rename_folder(
    folder_id: FolderId, body: FolderIn, request: Request, runtime: RuntimeDep
) -> FolderSummary:
    """Needs the owner or an edit share."""
    viewer = viewer_of(request)
    await call_service(
        runtime, "title", ws.rename_folder, runtime.archive, viewer, folder_id, body.title
    )
    opened = await runtime.read(ws.open_folder, runtime.archive, viewer, folder_id)
    return _summary(opened.folder, opened.mode)


@router.delete(
    "/folders/{folder_id}",
    response_model=Deleted,
    summary="Delete a folder",
    responses={**WRITE, **NO_FOLDER, 403: READ_ONLY},
    dependencies=WriteDeps,
)
async def delete_folder(folder_id: FolderId, request: Request, runtime: RuntimeDep) -> Deleted:
    """The folder and its items (the documents stay in the archive). Only its owner (or an
    admin) may delete it."""
    await runtime.read(ws.delete_folder, runtime.archive, viewer_of(request), folder_id)
    return Deleted()


@router.post(
    "/folders/{folder_id}/documents",
    response_model=ItemCreated,
    status_code=201,
    summary="Add a document to a folder",
    responses={
        **WRITE,
        404: problem(
            "No folder with this number, or no document with this docid, that you may see."
        ),
        403: READ_ONLY,
        **BODY,
    },
    dependencies=WriteDeps,
)
async def add_document(
    folder_id: FolderId, body: DocumentIn, request: Request, runtime: RuntimeDep
) -> ItemCreated:
    """The whole document, with the revision it has now and a note."""
    viewer, archive = viewer_of(request), runtime.archive
    item = await call_service(
        runtime, "note", ws.add_document, archive, viewer, folder_id, body.docid.strip(), body.note
    )
    return await runtime.read(_created, archive, viewer, item)


@router.post(
    "/folders/{folder_id}/quotes",
    response_model=ItemCreated,
    status_code=201,
    summary="Quote a passage or a span of a document",
    responses={
        **WRITE,
        404: problem("No folder, document or passage with this number or docid that you may see."),
        403: READ_ONLY,
        **BODY,
    },
    dependencies=WriteDeps,
)
async def add_quote(
    folder_id: FolderId,
    body: PassageQuoteIn | SpanQuoteIn,
    request: Request,
    runtime: RuntimeDep,
) -> ItemCreated:
    """Keeps the text as it reads now, with its offsets, the document's revision and the
    number of the passage it starts in (for "para. N" citations). Give `passage` for a whole
    passage, or `start` and `end` for a span."""
    viewer, archive, docid = viewer_of(request), runtime.archive, body.docid.strip()
    if isinstance(body, PassageQuoteIn):
        item = await call_service(
            runtime,
            "passage",
            ws.quote_passage,
            archive,
            viewer,
            folder_id,
            docid,
            body.passage - 1,
            body.note,
        )
    else:
        item = await call_service(
            runtime,
            "end",
            ws.quote,
            archive,
            viewer,
            folder_id,
            docid,
            body.start,
            body.end,
            body.note,
        )
    return await runtime.read(_created, archive, viewer, item)


@router.patch(
    "/folders/{folder_id}/items/{item_id}",
    response_model=ItemOut,
    summary="Change an item's note",
    responses={
        **WRITE,
        404: problem("No such folder that you may see, or no such item in it."),
        403: READ_ONLY,
        **BODY,
    },
    dependencies=WriteDeps,
)
async def set_note(
    folder_id: FolderId, item_id: ItemId, body: NoteIn, request: Request, runtime: RuntimeDep
) -> ItemOut:
    """Needs the owner or an edit share. Answers the item as the folder now shows it."""
    viewer, archive = viewer_of(request), runtime.archive
    await call_service(runtime, "note", ws.set_note, archive, viewer, folder_id, item_id, body.note)
    shown = await runtime.read(_visible_item, archive, viewer, folder_id, item_id)
    return _shown(shown, runtime.settings.public_url)


@router.delete(
    "/folders/{folder_id}/items/{item_id}",
    response_model=Deleted,
    summary="Remove an item from a folder",
    responses={
        **WRITE,
        404: problem("No such folder that you may see, or no such item in it."),
        403: READ_ONLY,
    },
    dependencies=WriteDeps,
)
async def remove_item(
    folder_id: FolderId, item_id: ItemId, request: Request, runtime: RuntimeDep
) -> Deleted:
    """Needs the owner or an edit share."""
    await runtime.read(ws.remove_item, runtime.archive, viewer_of(request), folder_id, item_id)
    return Deleted()


@router.put(
    "/folders/{folder_id}/shares",
    response_model=SharesOut,
    summary="Share a folder (or stop sharing it)",
    responses={**WRITE, **NO_FOLDER, 403: READ_ONLY, **BODY},
    dependencies=WriteDeps,
)
async def share_folder(
    folder_id: FolderId, body: ShareIn, request: Request, runtime: RuntimeDep
) -> SharesOut:
    """Share with a user or a group, to read or to edit; `mode: none` stops sharing with them.
    Only the folder's owner (or an admin) may. Answers every share of the folder. The
    colleague sees only the folder's documents that they may read."""
    viewer, archive = viewer_of(request), runtime.archive
    if body.mode == "none":
        await runtime.read(ws.unshare_folder, archive, viewer, folder_id, body.target, body.name)
    else:
        share = Share(body.target, body.name, body.mode)
        await runtime.read(ws.share_folder, archive, viewer, folder_id, share)
    opened = await runtime.read(ws.open_folder, archive, viewer, folder_id)
    shares = [ShareOut(target=s.target, name=s.name, mode=s.mode) for s in opened.shares]
    return SharesOut(folder=folder_id, shares=shares)


@router.get(
    "/folders/{folder_id}/export",
    summary="Export a folder",
    response_class=Response,
    responses={
        200: {"description": "The file to download.", "content": EXPORT_MEDIA_TYPES},
        **SIGNED_IN,
        **NO_FOLDER,
    },
    dependencies=ReadDeps,
)
async def export_folder(
    folder_id: FolderId,
    request: Request,
    runtime: RuntimeDep,
    format: Annotated[
        ExportFormat,
        Query(
            description="md, docx or pdf: the research bundle (each quote with its pinpoint "
            "citation and note, then the bibliography); ris, bibtex, csl-json or csv: a "
            "reference list of the folder's documents."
        ),
    ] = "docx",
    style: Annotated[
        ExportStyle, Query(description="The bundle's citations: refworld, harvard, apa or chicago.")
    ] = "refworld",
) -> Response:
    """The folder as you may read it (documents you may not read are left out), as a file
    named `sourcebook-folder-{id}.{ext}` (`Content-Disposition`)."""
    made = await runtime.read(
        ws.export_folder, runtime.archive, viewer_of(request), folder_id, format, style
    )
    filename = f"sourcebook-folder-{folder_id}.{made.extension}"
    return Response(
        content=made.data,
        media_type=made.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
