"""Folders (case files) and quotes: the use cases, each checked against the viewer.

Who may do what: the owner everything; a user or group a folder is shared with "read" may read
it, "edit" may also add, annotate and remove items; admins and the operator everything. A
folder the viewer may not read is "not found". Every document added must be readable by the
viewer (``Archive.view``), and a folder's items are shown only where the viewer may read the
document: a shared folder never reveals a restricted document to a colleague who may not read it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sourcebook.accounts.audit import actor_name
from sourcebook.errors import AccessDenied, InvalidInput, NotFound
from sourcebook.exports import (
    BUNDLE_FORMATS,
    LIST_FORMATS,
    BundleQuote,
    Export,
    export_documents,
    render_bundle,
)
from sourcebook.folders import (
    MAX_NOTE_CHARS,
    MAX_QUOTE_CHARS,
    MAX_TITLE_CHARS,
    Folder,
    FolderItem,
    Share,
)
from sourcebook.model import Document
from sourcebook.viewer import Viewer

if TYPE_CHECKING:
    from sourcebook.services.archive import Archive


@dataclass
class ShownItem:
    """A folder item as the viewer sees it, with the document as it stands now."""

    item: FolderItem
    document: Document
    #: The document changed (a later revision) since the item was added.
    changed: bool = False
    #: For a quote of a changed document: what the same passage says now ("" when gone).
    current_text: str = ""


@dataclass
class FolderView:
    folder: Folder
    items: list[ShownItem]
    shares: list[Share]
    #: Items of documents the viewer may not read (or that were deleted): not shown.
    hidden: int = 0
    can_edit: bool = False
    #: The viewer's standing: "owner" (or admin), "edit" or "read".
    mode: str = ""


def _title(title: str) -> str:
    title = title.strip()
    if not title or len(title) > MAX_TITLE_CHARS:
        raise InvalidInput(f"a folder needs a title of 1 to {MAX_TITLE_CHARS} characters")
    return title


def _note(note: str) -> str:
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(f"a note is at most {MAX_NOTE_CHARS:,} characters")
    return note


def _signed_in(viewer: Viewer) -> None:
    if not (viewer.signed_in or viewer.operator):
        raise AccessDenied("sign in to keep folders")


def _mode(archive: Archive, viewer: Viewer, folder: Folder) -> str:
    """ "owner", "edit", "read" or "" (no access) for this viewer."""
    if viewer.operator or viewer.has_role("admin") or folder.owner == viewer.user:
        return "owner"
    best = ""
    for share in archive.store.folders.folder_shares(folder.id):
        mine = (share.target == "user" and share.name == viewer.user and viewer.signed_in) or (
            share.target == "group" and share.name in viewer.groups and viewer.signed_in
        )
        if mine and (share.mode == "edit" or not best):
            best = share.mode
    return best


def _folder(archive: Archive, viewer: Viewer, folder_id: int, edit: bool) -> Folder:
    folder = archive.store.folders.get_folder(folder_id)
    mode = _mode(archive, viewer, folder)
    if not mode:
        raise NotFound(f"no folder {folder_id}")
    if edit and mode == "read":
        raise AccessDenied(f"folder {folder_id} is shared with you to read, not to edit")
    return folder


def create_folder(archive: Archive, viewer: Viewer, title: str) -> Folder:
    _signed_in(viewer)
    return archive.store.folders.create_folder(viewer.user, _title(title))


def folders(archive: Archive, viewer: Viewer) -> list[Folder]:
    _signed_in(viewer)
    return archive.store.folders.folders_of(viewer.user, sorted(viewer.groups))


def folders_with_modes(archive: Archive, viewer: Viewer) -> list[tuple[Folder, str]]:
    """The viewer's folders, each with their standing in it: "owner", "edit" or "read"."""
    return [(f, _mode(archive, viewer, f)) for f in folders(archive, viewer)]


def rename_folder(archive: Archive, viewer: Viewer, folder_id: int, title: str) -> None:
    _folder(archive, viewer, folder_id, edit=True)
    archive.store.folders.rename_folder(folder_id, _title(title))


def delete_folder(archive: Archive, viewer: Viewer, folder_id: int) -> None:
    folder = _folder(archive, viewer, folder_id, edit=True)
    if _mode(archive, viewer, folder) != "owner":
        raise AccessDenied("only the folder's owner may delete it")
    archive.store.folders.delete_folder(folder_id)
    _audit(archive, viewer, "folder-delete", folder, "")


def _audit(archive: Archive, viewer: Viewer, action: str, folder: Folder, detail: str) -> None:
    """Who shared, unshared or deleted which folder goes in the audit log (docs/security.md)."""
    target = f"folder {folder.id} ({folder.title[:80]})"
    archive.audit.record(actor_name(viewer), action, target, detail=detail)


def share_folder(archive: Archive, viewer: Viewer, folder_id: int, share: Share) -> None:
    folder = _folder(archive, viewer, folder_id, edit=True)
    if _mode(archive, viewer, folder) != "owner":
        raise AccessDenied("only the folder's owner may share it")
    _share_target_exists(archive, share)
    archive.store.folders.share_folder(folder_id, share)
    _audit(archive, viewer, "folder-share", folder, f"{share.target} {share.name}: {share.mode}")


def _share_target_exists(archive: Archive, share: Share) -> None:
    """A folder is shared only with an existing account or group: a mistyped name would
    otherwise share with nobody, or with whoever later takes that name."""
    if share.target == "user":
        if archive.store.get_user(share.name) is None:
            raise InvalidInput(
                f"there is no user named {share.name!r} (a colleague who signs in through single "
                "sign-on has an account after their first sign-in)"
            )
    elif share.name not in archive.store.list_groups():
        raise InvalidInput(f"there is no group named {share.name!r}")


def unshare_folder(
    archive: Archive, viewer: Viewer, folder_id: int, target: str, name: str
) -> None:
    """Stop sharing a folder with a user or group (nothing happens when it was not shared)."""
    folder = _folder(archive, viewer, folder_id, edit=True)
    if _mode(archive, viewer, folder) != "owner":
        raise AccessDenied("only the folder's owner may share it")
    archive.store.folders.unshare_folder(folder_id, target, name)
    _audit(archive, viewer, "folder-unshare", folder, f"{target} {name}")


def add_document(
    archive: Archive, viewer: Viewer, folder_id: int, docid: str, note: str = ""
) -> FolderItem:
    _folder(archive, viewer, folder_id, edit=True)
    doc = archive.view(viewer).get(docid)
    item = FolderItem(folder_id, doc.docid, "document", revision=_revision(doc), note=_note(note))
    return archive.store.folders.add_folder_item(item)


def quote(
    archive: Archive,
    viewer: Viewer,
    folder_id: int,
    docid: str,
    start: int,
    end: int,
    note: str = "",
) -> FolderItem:
    """Keep ``body[start:end]`` of the document as it stands now, with its revision."""
    _folder(archive, viewer, folder_id, edit=True)
    doc = archive.view(viewer).get(docid)
    if not 0 <= start < end <= len(doc.body):
        raise InvalidInput(
            f"a quote's offsets must satisfy 0 <= start < end <= {len(doc.body)} (the body's length)"
        )
    if end - start > MAX_QUOTE_CHARS:
        raise InvalidInput(f"a quote is at most {MAX_QUOTE_CHARS:,} characters")
    item = FolderItem(
        folder_id,
        doc.docid,
        "quote",
        start=start,
        end=end,
        revision=_revision(doc),
        passage=passage_at(doc, start),
        text=doc.body[start:end],
        note=_note(note),
    )
    return archive.store.folders.add_folder_item(item)


def quote_passage(
    archive: Archive, viewer: Viewer, folder_id: int, docid: str, seq: int, note: str = ""
) -> FolderItem:
    """Keep a whole passage (the record page's "Quote this passage")."""
    doc = archive.view(viewer).get(docid)
    for p in doc.passages:
        if p.seq == seq:
            return quote(archive, viewer, folder_id, docid, p.start, p.end, note)
    raise NotFound(f"document {doc.docid} has no passage {seq}")


def _editable_item(archive: Archive, viewer: Viewer, folder_id: int, item_id: int) -> None:
    """NotFound unless the folder holds the item and the viewer may read its document: an
    item the folder hides from them is neither annotated nor removed by them."""
    _folder(archive, viewer, folder_id, edit=True)
    for item in archive.store.folders.folder_items(folder_id):
        if item.id == item_id:
            archive.view(viewer).get(item.docid)  # NotFound when hidden or gone
            return
    raise NotFound(f"folder {folder_id} has no item {item_id}")


def set_note(archive: Archive, viewer: Viewer, folder_id: int, item_id: int, note: str) -> None:
    _editable_item(archive, viewer, folder_id, item_id)
    archive.store.folders.set_item_note(item_id, _note(note))


def remove_item(archive: Archive, viewer: Viewer, folder_id: int, item_id: int) -> None:
    _editable_item(archive, viewer, folder_id, item_id)
    archive.store.folders.remove_folder_item(item_id)


def open_folder(archive: Archive, viewer: Viewer, folder_id: int) -> FolderView:
    """The folder with its items as the viewer may read them, each quote checked against the
    document as it stands now."""
    folder = _folder(archive, viewer, folder_id, edit=False)
    mode = _mode(archive, viewer, folder)
    view = archive.view(viewer)
    shown: list[ShownItem] = []
    hidden = 0
    for item in archive.store.folders.folder_items(folder_id):
        try:
            doc = view.get(item.docid)
        except NotFound:
            hidden += 1
            continue
        changed = _revision(doc) != item.revision
        current = ""
        if item.kind == "quote" and changed:
            current = _current_text(doc, item)
        shown.append(ShownItem(item, doc, changed, current))
    shares = archive.store.folders.folder_shares(folder_id) if mode == "owner" else []
    return FolderView(folder, shown, shares, hidden, can_edit=mode in ("owner", "edit"), mode=mode)


def export_folder(
    archive: Archive,
    viewer: Viewer,
    folder_id: int,
    fmt: str,
    style: str = "refworld",
    accessed: date | None = None,
) -> Export:
    """The folder as a research bundle (``md``, ``docx``, ``pdf``: each quote with its pinpoint
    citation and note, then the bibliography in ``style``) or as a reference list of its
    documents (``ris``, ``bibtex``, ``csl-json``, ``csv``), as the viewer may read it."""
    opened = open_folder(archive, viewer, folder_id)
    base_url = archive.settings.public_url
    if fmt in LIST_FORMATS:
        docs = {s.document.docid: s.document for s in opened.items}
        return export_documents(docs.values(), fmt, accessed, base_url)
    if fmt not in BUNDLE_FORMATS:
        choices = ", ".join((*BUNDLE_FORMATS, *LIST_FORMATS))
        raise InvalidInput(f"unknown export format {fmt!r}: use one of {choices}")
    quotes = [
        BundleQuote(
            document=s.document,
            text=s.item.text if s.item.kind == "quote" else "",
            passage=s.item.passage if s.item.kind == "quote" else 0,
            note=s.item.note,
            changed=s.changed and s.item.kind == "quote",
            current_text=s.current_text,
        )
        for s in opened.items
    ]
    return render_bundle(opened.folder.title, quotes, style, fmt, base_url, accessed)


def _revision(doc: Document) -> int:
    return max((r.number for r in doc.revisions), default=1)


def passage_at(doc: Document, offset: int) -> int:
    """The number, counted from 1 as in "para. N", of the passage holding ``offset`` (0 when
    the body has no passages)."""
    starts = [p.start for p in doc.passages]
    i = bisect.bisect_right(starts, offset) - 1
    return doc.passages[i].seq + 1 if i >= 0 else 0


def _current_text(doc: Document, item: FolderItem) -> str:
    """What the quoted place says now: the same text if it is still there, else the passage
    with the quote's number, else ""."""
    at = doc.body.find(item.text)
    if at >= 0:
        return doc.body[at : at + len(item.text)]
    for p in doc.passages:
        if p.seq + 1 == item.passage:
            return p.text
    return ""


__all__ = [
    "FolderView",
    "ShownItem",
    "add_document",
    "create_folder",
    "delete_folder",
    "export_folder",
    "folders",
    "folders_with_modes",
    "open_folder",
    "quote",
    "quote_passage",
    "remove_item",
    "rename_folder",
    "set_note",
    "share_folder",
    "unshare_folder",
]
