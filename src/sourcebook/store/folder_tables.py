"""Folders in the store (both backends): the SQL once, over two primitives each backend lends.

``_rows(sql, params)`` reads rows as tuples; ``_change(sql, params)`` runs one writing statement
in its own transaction and returns its rows (``RETURNING``) or, when it returns none, the number
of rows it changed. Statements use ``?`` placeholders; the PostgreSQL store turns them into
``%s``. Times are passed as timezone-aware datetimes and read back through ``to_datetime``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sourcebook.errors import NotFound
from sourcebook.folders import Folder, FolderItem, Share

Rows = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]
Change = Callable[[str, Sequence[Any]], list[tuple[Any, ...]] | int]
ToTime = Callable[[Any], datetime | None]

_ITEM = 'id, folder_id, docid, kind, start, "end", revision, passage, text, note, added_at'


class FolderTables:
    """The folder methods of the ``Store`` protocol, shared by SQLite and PostgreSQL."""

    def __init__(self, rows: Rows, change: Change, to_time: ToTime, now: Callable[[], Any]):
        self._q, self._x, self._t, self._now = rows, change, to_time, now

    def _folder(self, r: tuple[Any, ...]) -> Folder:
        return Folder(id=int(r[0]), owner=r[1], title=r[2], created_at=self._t(r[3]))

    def _item(self, r: tuple[Any, ...]) -> FolderItem:
        return FolderItem(
            id=int(r[0]),
            folder_id=int(r[1]),
            docid=r[2],
            kind=r[3],
            start=int(r[4]),
            end=int(r[5]),
            revision=int(r[6]),
            passage=int(r[7]),
            text=r[8],
            note=r[9],
            added_at=self._t(r[10]),
        )

    def create_folder(self, owner: str, title: str) -> Folder:
        rows = self._x(
            "INSERT INTO folders (owner, title, created_at) VALUES (?, ?, ?)"
            " RETURNING id, owner, title, created_at",
            (owner, title, self._now()),
        )
        assert isinstance(rows, list)
        return self._folder(rows[0])

    def get_folder(self, folder_id: int) -> Folder:
        rows = self._q(
            "SELECT id, owner, title, created_at FROM folders WHERE id = ?", (folder_id,)
        )
        if not rows:
            raise NotFound(f"no folder {folder_id}")
        return self._folder(rows[0])

    def folders_of(self, user: str, groups: Sequence[str]) -> list[Folder]:
        """Folders ``user`` owns or that are shared with them or one of their groups."""
        marks = ",".join("?" * len(groups)) or "NULL"
        rows = self._q(
            "SELECT id, owner, title, created_at FROM folders WHERE owner = ? OR id IN"
            " (SELECT folder_id FROM folder_shares WHERE (target = 'user' AND name = ?)"
            f" OR (target = 'group' AND name IN ({marks}))) ORDER BY id",
            (user, user, *groups),
        )
        return [self._folder(r) for r in rows]

    def rename_folder(self, folder_id: int, title: str) -> None:
        if not self._x("UPDATE folders SET title = ? WHERE id = ?", (title, folder_id)):
            raise NotFound(f"no folder {folder_id}")

    def delete_folder(self, folder_id: int) -> None:
        if not self._x("DELETE FROM folders WHERE id = ?", (folder_id,)):
            raise NotFound(f"no folder {folder_id}")

    def add_folder_item(self, item: FolderItem) -> FolderItem:
        rows = self._x(
            'INSERT INTO folder_items (folder_id, docid, kind, start, "end", revision, passage,'
            f" text, note, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_ITEM}",
            (
                item.folder_id,
                item.docid,
                item.kind,
                item.start,
                item.end,
                item.revision,
                item.passage,
                item.text,
                item.note,
                self._now(),
            ),
        )
        assert isinstance(rows, list)
        return self._item(rows[0])

    def folder_items(self, folder_id: int) -> list[FolderItem]:
        rows = self._q(
            f"SELECT {_ITEM} FROM folder_items WHERE folder_id = ? ORDER BY id", (folder_id,)
        )
        return [self._item(r) for r in rows]

    def set_item_note(self, item_id: int, note: str) -> None:
        if not self._x("UPDATE folder_items SET note = ? WHERE id = ?", (note, item_id)):
            raise NotFound(f"no folder item {item_id}")

    def remove_folder_item(self, item_id: int) -> None:
        if not self._x("DELETE FROM folder_items WHERE id = ?", (item_id,)):
            raise NotFound(f"no folder item {item_id}")

    def share_folder(self, folder_id: int, share: Share) -> None:
        self._x(
            "INSERT INTO folder_shares (folder_id, target, name, mode) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (folder_id, target, name) DO UPDATE SET mode = excluded.mode",
            (folder_id, share.target, share.name, share.mode),
        )

    def unshare_folder(self, folder_id: int, target: str, name: str) -> None:
        self._x(
            "DELETE FROM folder_shares WHERE folder_id = ? AND target = ? AND name = ?",
            (folder_id, target, name),
        )

    def folder_shares(self, folder_id: int) -> list[Share]:
        rows = self._q(
            "SELECT target, name, mode FROM folder_shares WHERE folder_id = ? ORDER BY target, name",
            (folder_id,),
        )
        return [Share(target=r[0], name=r[1], mode=r[2]) for r in rows]
