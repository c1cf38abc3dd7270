"""Saved searches (alerts) and collections with their visibility on SQLite (mixed into
``SQLiteStore``)."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import replace
from datetime import datetime

from sourcebook.access import CollectionPolicy
from sourcebook.errors import Conflict, NotFound, StorageError
from sourcebook.saved import SavedSearch
from sourcebook.store.codec import iso_datetime, now_utc, parse_iso_datetime


class SQLiteSaved:
    """Saved-search and collection methods of the Store protocol (see store/base.py)."""

    _write_lock: threading.Lock

    def _conn(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _writer(self) -> sqlite3.Connection:
        raise NotImplementedError

    # --- saved searches -----------------------------------------------------------------
    def save_search(self, saved: SavedSearch) -> SavedSearch:
        conn = self._writer()
        created = now_utc()
        with self._write_lock:
            try:
                cur = conn.execute(
                    "INSERT INTO saved_searches (owner, name, query, filters, schedule, email,"
                    " last_position, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        saved.owner,
                        saved.name,
                        saved.query,
                        json.dumps(saved.filters, sort_keys=True),
                        saved.schedule,
                        saved.email,
                        saved.last_position,
                        created.isoformat(),
                    ),
                )
                conn.commit()
            except sqlite3.IntegrityError as exc:
                conn.rollback()
                raise Conflict(f"a saved search named {saved.name!r} exists already") from exc
        return replace(saved, id=int(cur.lastrowid or 0), created_at=created)

    def saved_searches(self, owner: str | None = None) -> list[SavedSearch]:
        sql = (
            "SELECT id, owner, name, query, filters, schedule, email, last_position,"
            " last_sent_at, created_at FROM saved_searches"
        )
        rows = (
            self._conn().execute(sql + " WHERE owner = ? ORDER BY id", (owner,))
            if owner is not None
            else self._conn().execute(sql + " ORDER BY id")
        )
        return [
            SavedSearch(
                id=int(r[0]),
                owner=r[1],
                name=r[2],
                query=r[3],
                filters=json.loads(r[4]),
                schedule=r[5],
                email=r[6],
                last_position=int(r[7]),
                last_sent_at=parse_iso_datetime(r[8]) if r[8] else None,
                created_at=parse_iso_datetime(r[9]),
            )
            for r in rows
        ]

    def delete_saved_search(self, search_id: int) -> None:
        conn = self._writer()
        with self._write_lock:
            gone = conn.execute("DELETE FROM saved_searches WHERE id = ?", (search_id,)).rowcount
            conn.commit()
        if not gone:
            raise NotFound(f"no saved search {search_id}")

    def mark_digest_sent(self, search_id: int, position: int, sent_at: datetime) -> None:
        conn = self._writer()
        with self._write_lock:
            conn.execute(
                "UPDATE saved_searches SET last_position = ?, last_sent_at = ? WHERE id = ?",
                (position, iso_datetime(sent_at), search_id),
            )
            conn.commit()

    def added_since(self, position: int, until: int, limit: int) -> list[tuple[int, str]]:
        rows = self._conn().execute(
            "SELECT min(c.position), c.docid FROM changes c JOIN documents d ON d.docid = c.docid"
            " WHERE c.position > ? AND c.position <= ? AND c.kind = 'added'"
            " GROUP BY c.docid ORDER BY min(c.position) LIMIT ?",
            (position, until, max(0, limit)),
        )
        return [(int(r[0]), str(r[1])) for r in rows]

    # --- collections and their visibility -----------------------------------------------
    def list_collections(self) -> list[CollectionPolicy]:
        return [
            CollectionPolicy(name=r[0], title=r[1], visibility=r[2], groups=tuple(json.loads(r[3])))
            for r in self._conn().execute(
                "SELECT name, title, visibility, groups FROM collections ORDER BY name"
            )
        ]

    def set_collection(self, policy: CollectionPolicy) -> None:
        conn = self._writer()
        with self._write_lock:
            try:
                conn.execute(
                    "INSERT INTO collections (name, title, visibility, groups, updated_at)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
                    " title = excluded.title, visibility = excluded.visibility,"
                    " groups = excluded.groups, updated_at = excluded.updated_at",
                    (
                        policy.name,
                        policy.title,
                        policy.visibility,
                        json.dumps(sorted(set(policy.groups))),
                        now_utc().isoformat(),
                    ),
                )
                conn.commit()
            except sqlite3.Error as exc:
                raise StorageError(f"setting collection {policy.name!r} failed: {exc}") from exc
