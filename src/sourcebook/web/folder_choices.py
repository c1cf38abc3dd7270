"""The folders offered by "Add to folder" (search hits, record pages) and "Quote this passage"
(each passage of a record page): those the signed-in viewer may add to. The forms post to
:mod:`sourcebook.web.pages_folders`."""

from __future__ import annotations

from starlette.requests import Request

from sourcebook.folders import Folder
from sourcebook.services import workspace
from sourcebook.services.archive import Archive
from sourcebook.viewer import Viewer
from sourcebook.web.viewing import viewer_of


def editable_folders(archive: Archive, viewer: Viewer) -> list[Folder]:
    """The viewer's folders they may add to: their own and those shared with them to edit."""
    modes = workspace.folders_with_modes(archive, viewer)
    return [f for f, mode in modes if mode in ("owner", "edit")]


async def folder_choices(request: Request) -> list[Folder]:
    """The choices of the forms; none for a visitor who is not signed in (no forms shown)."""
    viewer = viewer_of(request)
    if not viewer.signed_in:
        return []
    archive: Archive = request.app.state.runtime.archive
    folders: list[Folder] = await request.app.state.runtime.read(editable_folders, archive, viewer)
    return folders
