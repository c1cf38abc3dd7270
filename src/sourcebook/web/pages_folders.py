"""The caseworker's folders as pages: "My folders", a folder, and the forms that fill them.

Every page is for a signed-in user (anyone else is sent to sign in); every form posts with the
session's CSRF token (``own_form``) and calls :mod:`sourcebook.services.workspace`, which checks
what the viewer may do: a folder they may not read is "not found" (404), a folder shared with
them to read refuses changes (403). A form that succeeds redirects back to the page it came from
with a notice (``web/notices.py``), so everything works without JavaScript. "Add to folder" on
search hits and "Quote this passage" on record pages post here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sourcebook.errors import InvalidInput, NotFound, SourcebookError
from sourcebook.exports import BUNDLE_FORMATS, BUNDLE_STYLES, LIST_FORMATS
from sourcebook.exports.references import References
from sourcebook.folders import MAX_NOTE_CHARS, MAX_TITLE_CHARS, Share
from sourcebook.services import workspace
from sourcebook.services.archive import Archive
from sourcebook.services.workspace import FolderView, ShownItem
from sourcebook.viewer import Viewer
from sourcebook.web.links import site_url
from sourcebook.web.notices import with_notice
from sourcebook.web.pages import render
from sourcebook.web.pages_account import field, no_store, own_form, safe_next, sign_in_redirect
from sourcebook.web.viewing import viewer_of

router = APIRouter(include_in_schema=False)

BUNDLE_LABELS = {"md": "Markdown", "docx": "Word (DOCX)", "pdf": "PDF"}
LIST_LABELS = {"ris": "RIS", "bibtex": "BibTeX", "csl-json": "CSL-JSON", "csv": "CSV"}
STYLE_NAMES = {
    "refworld": "Refworld citations",
    "harvard": "Harvard (Cite Them Right)",
    "apa": "APA (7th edition)",
    "chicago": "Chicago (author-date)",
}


@dataclass
class ItemView:
    """One folder item as the folder page shows it."""

    shown: ShownItem
    number: int
    #: The pinpoint citation (Refworld line, ", para. N" for a quote).
    citation: str
    #: The record page at the quoted passage.
    url: str


@dataclass
class ExportLink:
    label: str
    url: str


def archive_of(request: Request) -> Archive:
    archive: Archive = request.app.state.runtime.archive
    return archive


@contextmanager
def form_errors() -> Iterator[None]:
    """A form's bad value (a title too long, an empty name) is the user's to fix: 400, with
    the message (the API answers the same InvalidInput with 422)."""
    try:
        yield
    except InvalidInput as exc:
        raise SourcebookError(str(exc)) from exc


def whole_number(form: FormData, name: str) -> int:
    text = field(form, name, 12).strip()
    if not (text.isascii() and text.isdigit()):
        raise SourcebookError(f"the form's {name} must be a number")
    return int(text)


def pick_folder(archive: Archive, viewer: Viewer, form: FormData) -> int:
    """The folder the form names: an existing one (``folder``), or a new one made from
    ``new_title`` when ``folder`` is "new" (or the user has none yet)."""
    chosen = field(form, "folder", 12).strip()
    if chosen and chosen != "new":
        return whole_number(form, "folder")
    title = field(form, "new_title", MAX_TITLE_CHARS + 1)
    if not title.strip():
        raise SourcebookError("Give the new folder a title, or choose one of your folders.")
    with form_errors():
        return workspace.create_folder(archive, viewer, title).id


def back_to(form: FormData, fallback: str) -> str:
    target = field(form, "next", 2000)
    return safe_next(target) if target else fallback


# --- "My folders" ----------------------------------------------------------------------------


@router.get("/folders")
async def folders_page(request: Request) -> Response:
    viewer = viewer_of(request)
    if not viewer.signed_in:
        return sign_in_redirect(request)
    modes = await request.app.state.runtime.read(
        workspace.folders_with_modes, archive_of(request), viewer
    )
    mine = [f for f, mode in modes if f.owner == viewer.user]
    shared = [(f, mode) for f, mode in modes if f.owner != viewer.user]
    context = {"mine": mine, "shared": shared, "max_title": MAX_TITLE_CHARS}
    return no_store(render(request, "folders.html", context))


@router.post("/folders")
async def create_folder(request: Request) -> Response:
    found = await own_form(request)
    if isinstance(found, Response):
        return found
    viewer, form = found
    title = field(form, "title", MAX_TITLE_CHARS + 1)
    with form_errors():
        folder = await request.app.state.runtime.read(
            workspace.create_folder, archive_of(request), viewer, title
        )
    return RedirectResponse(with_notice(f"/folders/{folder.id}", "created"), status_code=303)


# --- adding from search hits and record pages ------------------------------------------------


@router.post("/folders/add")
async def add_to_folder(request: Request) -> Response:
    """ "Add to folder" on a search hit or a record page: the whole document."""
    return await _add_item(request, quoting=False)


@router.post("/folders/quote")
async def quote_passage(request: Request) -> Response:
    """ "Quote this passage" on a record page: the passage as it reads now, with its revision."""
    return await _add_item(request, quoting=True)


async def _add_item(request: Request, quoting: bool) -> Response:
    found = await own_form(request)
    if isinstance(found, Response):
        return found
    viewer, form = found
    archive = archive_of(request)
    docid = field(form, "docid", 200).strip()
    note = field(form, "note", MAX_NOTE_CHARS + 1)
    seq = whole_number(form, "passage") if quoting else -1

    def add() -> int:
        folder_id = pick_folder(archive, viewer, form)
        with form_errors():
            if quoting:
                workspace.quote_passage(archive, viewer, folder_id, docid, seq, note)
            else:
                workspace.add_document(archive, viewer, folder_id, docid, note)
        return folder_id

    folder_id = await request.app.state.runtime.read(add)
    target = back_to(form, f"/record/{quote(docid)}")
    fragment = f"p-{seq}" if quoting else ""
    notice = "quoted" if quoting else "added"
    return RedirectResponse(with_notice(target, notice, folder_id, fragment), status_code=303)


# --- one folder ------------------------------------------------------------------------------


def item_views(opened: FolderView, base_url: str) -> list[ItemView]:
    cites = [(s.document, s.item.passage if s.item.kind == "quote" else 0) for s in opened.items]
    pinpoints = References("refworld", cites, base_url=base_url).pinpoints() if cites else []
    views = []
    for number, (shown, citation) in enumerate(zip(opened.items, pinpoints, strict=True), 1):
        url = f"/record/{quote(shown.document.docid)}"
        if shown.item.kind == "quote" and shown.item.passage > 0:
            url += f"#p-{shown.item.passage - 1}"
        views.append(ItemView(shown, number, citation, url))
    return views


def export_links(folder_id: int) -> dict[str, list[ExportLink]]:
    base = f"/folders/{folder_id}/export"
    links = {
        style: [
            ExportLink(BUNDLE_LABELS[fmt], f"{base}?format={fmt}&style={style}")
            for fmt in BUNDLE_FORMATS
        ]
        for style in BUNDLE_STYLES
    }
    links["list"] = [ExportLink(LIST_LABELS[fmt], f"{base}?format={fmt}") for fmt in LIST_FORMATS]
    return links


@router.get("/folders/{folder_id}")
async def folder_page(folder_id: int, request: Request) -> Response:
    viewer = viewer_of(request)
    if not viewer.signed_in:
        return sign_in_redirect(request)
    archive = archive_of(request)
    runtime = request.app.state.runtime
    opened = await runtime.read(workspace.open_folder, archive, viewer, folder_id)
    items = await runtime.read(item_views, opened, site_url(request))
    context = {
        "opened": opened,
        "folder": opened.folder,
        "items": items,
        "owner": opened.folder.owner == viewer.user or viewer.has_role("admin"),
        "exports": export_links(folder_id),
        "style_names": STYLE_NAMES,
        "max_title": MAX_TITLE_CHARS,
        "max_note": MAX_NOTE_CHARS,
    }
    return no_store(render(request, "folder.html", context))


async def form_action(
    request: Request,
    do: Callable[[Archive, Viewer, FormData], object],
    target: str,
    notice: str,
    fragment: str = "",
) -> Response:
    """Runs ``do(archive, viewer, form)`` for a signed-in user's CSRF-checked form, then sends
    the browser to ``target`` with ``notice``."""
    found = await own_form(request)
    if isinstance(found, Response):
        return found
    viewer, form = found
    with form_errors():
        await request.app.state.runtime.read(do, archive_of(request), viewer, form)
    return RedirectResponse(with_notice(target, notice, fragment=fragment), status_code=303)


@router.post("/folders/{folder_id}/rename")
async def rename_folder(folder_id: int, request: Request) -> Response:
    def rename(archive: Archive, viewer: Viewer, form: FormData) -> None:
        title = field(form, "title", MAX_TITLE_CHARS + 1)
        workspace.rename_folder(archive, viewer, folder_id, title)

    return await form_action(request, rename, f"/folders/{folder_id}", "renamed")


@router.post("/folders/{folder_id}/delete")
async def delete_folder(folder_id: int, request: Request) -> Response:
    def delete(archive: Archive, viewer: Viewer, _form: FormData) -> None:
        workspace.delete_folder(archive, viewer, folder_id)

    return await form_action(request, delete, "/folders", "deleted")


@router.post("/folders/{folder_id}/share")
async def share_folder(folder_id: int, request: Request) -> Response:
    def share(archive: Archive, viewer: Viewer, form: FormData) -> None:
        target, mode = field(form, "target", 10), field(form, "mode", 10)
        name = field(form, "name", 200).strip()
        if target not in ("user", "group") or mode not in ("read", "edit"):
            raise SourcebookError("Share with a user or a group, to read or to edit.")
        if not name or len(name) > 100:
            raise SourcebookError("Name the user or group to share with (at most 100 characters).")
        with_whom = Share(target=target, name=name, mode=mode)  # type: ignore[arg-type]
        workspace.share_folder(archive, viewer, folder_id, with_whom)

    return await form_action(request, share, f"/folders/{folder_id}", "shared")


@router.post("/folders/{folder_id}/unshare")
async def unshare_folder(folder_id: int, request: Request) -> Response:
    def unshare(archive: Archive, viewer: Viewer, form: FormData) -> None:
        target, name = field(form, "target", 10), field(form, "name", 200).strip()
        if target not in ("user", "group") or not name:
            raise SourcebookError("Stop sharing with a user or a group, by name.")
        workspace.unshare_folder(archive, viewer, folder_id, target, name)

    return await form_action(request, unshare, f"/folders/{folder_id}", "unshared")


@router.post("/folders/{folder_id}/items/{item_id}/note")
async def set_note(folder_id: int, item_id: int, request: Request) -> Response:
    def keep(archive: Archive, viewer: Viewer, form: FormData) -> None:
        note = field(form, "note", MAX_NOTE_CHARS + 1)
        workspace.set_note(archive, viewer, folder_id, item_id, note)

    target = f"/folders/{folder_id}"
    return await form_action(request, keep, target, "noted", fragment=f"item-{item_id}")


@router.post("/folders/{folder_id}/items/{item_id}/remove")
async def remove_item(folder_id: int, item_id: int, request: Request) -> Response:
    def remove(archive: Archive, viewer: Viewer, _form: FormData) -> None:
        workspace.remove_item(archive, viewer, folder_id, item_id)

    return await form_action(request, remove, f"/folders/{folder_id}", "removed")


@router.get("/folders/{folder_id}/export")
async def export_folder(
    folder_id: int, request: Request, format: str = "md", style: str = "refworld"
) -> Response:
    """The folder as a research bundle or a reference list, as a file to download."""
    viewer = viewer_of(request)
    if not viewer.signed_in:
        return sign_in_redirect(request)
    if format not in (*BUNDLE_FORMATS, *LIST_FORMATS):
        choices = ", ".join((*BUNDLE_FORMATS, *LIST_FORMATS))
        raise NotFound(f"no export format {format[:20]!r}: use one of {choices}")
    with form_errors():
        exported = await request.app.state.runtime.read(
            workspace.export_folder,
            archive_of(request),
            viewer,
            folder_id,
            format,
            style[:20],
        )
    filename = f"sourcebook-folder-{folder_id}.{exported.extension}"
    response = Response(
        exported.data,
        media_type=exported.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
    return no_store(response)
