"""The source registry and kept originals on SQLite (mixed into ``SQLiteStore``)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence

from sourcebook.errors import Conflict, NotFound, StorageError
from sourcebook.sources.model import Original, Source
from sourcebook.store import sources_sql as sql
from sourcebook.store.codec import now_utc


class SQLiteSources:
    """Registry and originals methods of the Store protocol (see store/base.py)."""

    _write_lock: threading.Lock

    def _conn(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _commit(self, what: str, statements: list[tuple[str, list[object]]]) -> int:
        """Run statements in one transaction; the last statement's row id."""
        conn = self._conn()
        with self._write_lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
                last = 0
                for statement, params in statements:
                    last = int(conn.execute(statement, params).lastrowid or 0)
                conn.execute("COMMIT")
            except sqlite3.IntegrityError as exc:
                conn.execute("ROLLBACK")
                raise Conflict(f"{what}: {exc}") from exc
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise StorageError(f"{what} failed: {exc}") from exc
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return last

    def add_source(self, source: Source) -> Source:
        if self._conn().execute("SELECT 1 FROM sources WHERE name = ?", (source.name,)).fetchone():
            raise Conflict(f"a source named {source.name!r} already exists")
        source.created_at = source.created_at or now_utc()
        values = sql.source_values(source, sql.SOURCE_COLUMNS, text_times=True)
        self._commit(f"adding source {source.name!r}", [(sql.INSERT_SOURCE, values)])
        return source

    def get_source(self, name: str) -> Source:
        row = self._conn().execute(f"{sql.SELECT_SOURCES} WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFound(f"no source named {name!r}")
        return sql.source_from_row(row)

    def list_sources(self) -> list[Source]:
        rows = self._conn().execute(f"{sql.SELECT_SOURCES} ORDER BY name").fetchall()
        return [sql.source_from_row(r) for r in rows]

    def save_source_state(self, source: Source) -> None:
        self.get_source(source.name)  # NotFound when it was removed meanwhile
        values = [*sql.source_values(source, sql.STATE, text_times=True), source.name]
        self._commit(f"saving the state of source {source.name!r}", [(sql.UPDATE_STATE, values)])

    def remove_source(self, name: str) -> None:
        self.get_source(name)
        self._commit(f"removing source {name!r}", [("DELETE FROM sources WHERE name = ?", [name])])

    def add_originals(self, originals: Sequence[tuple[Original, bytes]]) -> list[int]:
        conn = self._conn()
        ids: list[int] = []
        with self._write_lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
                for original, body in originals:
                    conn.execute(
                        "INSERT OR IGNORE INTO original_blobs (sha256, body) VALUES (?, ?)",
                        (original.sha256, body),
                    )
                    values = sql.original_values(original, text_times=True)
                    original.id = int(conn.execute(sql.INSERT_ORIGINAL, values).lastrowid or 0)
                    ids.append(original.id)
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise StorageError(f"keeping {len(originals)} originals failed: {exc}") from exc
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return ids

    def latest_originals(self, docids: Sequence[str]) -> dict[str, Original]:
        out: dict[str, Original] = {}
        keys = list(dict.fromkeys(docids))
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._conn().execute(
                f"{sql.SELECT_ORIGINALS} WHERE id IN (SELECT max(id) FROM originals"
                f" WHERE docid IN ({marks}) GROUP BY docid)",
                chunk,
            )
            out.update((r["docid"], sql.original_from_row(r)) for r in rows)
        return out

    def list_originals(self, docid: str) -> list[Original]:
        rows = self._conn().execute(
            f"{sql.SELECT_ORIGINALS} WHERE docid = ? ORDER BY id DESC", (docid,)
        )
        return [sql.original_from_row(r) for r in rows]

    def get_original(self, docid: str, original_id: int) -> tuple[Original, bytes]:
        conn = self._conn()
        row = conn.execute(
            f"{sql.SELECT_ORIGINALS} WHERE docid = ? AND id = ?", (docid, original_id)
        ).fetchone()
        if row is None:
            raise NotFound(f"no original {original_id} of {docid}")
        body = conn.execute(
            "SELECT body FROM original_blobs WHERE sha256 = ?", (row["sha256"],)
        ).fetchone()
        return sql.original_from_row(row), bytes(body[0])
