"""Saved searches (alerts) and collections with their visibility on PostgreSQL (mixed into
``PostgresStore``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from psycopg.rows import DictRow
from psycopg.types.json import Json

from sourcebook.access import CollectionPolicy
from sourcebook.errors import Conflict, NotFound
from sourcebook.saved import SavedSearch
from sourcebook.store.postgres_codec import Conn

T = TypeVar("T")


class PostgresSaved:
    """Saved-search and collection methods of the Store protocol (see store/base.py)."""

    def _read(self, work: Callable[[Conn], T]) -> T:
        raise NotImplementedError

    def _transaction(self, work: Callable[[Conn], T], what: str) -> T:
        raise NotImplementedError

    # --- saved searches -----------------------------------------------------------------
    def save_search(self, saved: SavedSearch) -> SavedSearch:
        def work(conn: Conn) -> DictRow | None:
            return conn.execute(
                "INSERT INTO saved_searches (owner, name, query, filters, schedule, email,"
                " last_position) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (owner, name) DO NOTHING RETURNING id, created_at",
                (
                    saved.owner,
                    saved.name,
                    saved.query,
                    Json(saved.filters),
                    saved.schedule,
                    saved.email,
                    saved.last_position,
                ),
            ).fetchone()

        row = self._transaction(work, f"saving the search {saved.name!r}")
        if row is None:
            raise Conflict(f"a saved search named {saved.name!r} exists already")
        return replace(saved, id=int(row["id"]), created_at=row["created_at"])

    def saved_searches(self, owner: str | None = None) -> list[SavedSearch]:
        sql = (
            "SELECT id, owner, name, query, filters, schedule, email, last_position,"
            " last_sent_at, created_at FROM saved_searches"
        )
        rows = self._read(
            lambda conn: (
                conn.execute(sql + " WHERE owner = %s ORDER BY id", (owner,))
                if owner is not None
                else conn.execute(sql + " ORDER BY id")
            ).fetchall()
        )
        return [
            SavedSearch(
                id=int(r["id"]),
                owner=r["owner"],
                name=r["name"],
                query=r["query"],
                filters=dict(r["filters"]),
                schedule=r["schedule"],
                email=r["email"],
                last_position=int(r["last_position"]),
                last_sent_at=r["last_sent_at"],
                created_at=r["created_at"],
            )
            for r in rows
        ]

    def delete_saved_search(self, search_id: int) -> None:
        def work(conn: Conn) -> int:
            return conn.execute("DELETE FROM saved_searches WHERE id = %s", (search_id,)).rowcount

        if not self._transaction(work, f"deleting saved search {search_id}"):
            raise NotFound(f"no saved search {search_id}")

    def mark_digest_sent(self, search_id: int, position: int, sent_at: datetime) -> None:
        def work(conn: Conn) -> None:
            conn.execute(
                "UPDATE saved_searches SET last_position = %s, last_sent_at = %s WHERE id = %s",
                (position, sent_at, search_id),
            )

        self._transaction(work, f"recording the digest of saved search {search_id}")

    def added_since(self, position: int, until: int, limit: int) -> list[tuple[int, str]]:
        rows = self._read(
            lambda conn: conn.execute(
                "SELECT min(c.position) AS position, c.docid FROM changes c"
                " JOIN documents d ON d.docid = c.docid"
                " WHERE c.position > %s AND c.position <= %s AND c.kind = 'added'"
                " GROUP BY c.docid ORDER BY min(c.position) LIMIT %s",
                (position, until, max(0, limit)),
            ).fetchall()
        )
        return [(int(r["position"]), str(r["docid"])) for r in rows]

    # --- collections and their visibility -----------------------------------------------
    def list_collections(self) -> list[CollectionPolicy]:
        rows = self._read(
            lambda conn: conn.execute(
                "SELECT name, title, visibility, groups FROM collections ORDER BY name"
            ).fetchall()
        )
        return [
            CollectionPolicy(
                name=r["name"],
                title=r["title"],
                visibility=r["visibility"],
                groups=tuple(r["groups"]),
            )
            for r in rows
        ]

    def set_collection(self, policy: CollectionPolicy) -> None:
        def work(conn: Conn) -> None:
            conn.execute(
                "INSERT INTO collections (name, title, visibility, groups, updated_at)"
                " VALUES (%s, %s, %s, %s, now()) ON CONFLICT (name) DO UPDATE SET"
                " title = excluded.title, visibility = excluded.visibility,"
                " groups = excluded.groups, updated_at = excluded.updated_at",
                (policy.name, policy.title, policy.visibility, sorted(set(policy.groups))),
            )

        self._transaction(work, f"setting collection {policy.name!r}")
