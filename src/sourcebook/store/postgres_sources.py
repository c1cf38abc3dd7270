"""The source registry and kept originals on PostgreSQL (mixed into ``PostgresStore``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from psycopg import errors

from sourcebook.errors import Conflict, NotFound
from sourcebook.sources.model import Original, Source
from sourcebook.store import sources_sql as sql
from sourcebook.store.codec import now_utc
from sourcebook.store.postgres_codec import Conn

T = TypeVar("T")


def _pg(statement: str) -> str:
    return statement.replace("?", "%s")


class PostgresSources:
    """Registry and originals methods of the Store protocol (see store/base.py)."""

    def _read(self, work: Callable[[Conn], T]) -> T:
        raise NotImplementedError

    def _transaction(self, work: Callable[[Conn], T], what: str) -> T:
        raise NotImplementedError

    def add_source(self, source: Source) -> Source:
        source.created_at = source.created_at or now_utc()
        values = sql.source_values(source, sql.SOURCE_COLUMNS, text_times=False)

        def work(conn: Conn) -> None:
            try:
                with conn.transaction():  # a savepoint: the clash is reported, not retried
                    conn.execute(_pg(sql.INSERT_SOURCE), values)
            except errors.UniqueViolation as exc:
                raise Conflict(f"a source named {source.name!r} already exists") from exc

        self._transaction(work, f"adding source {source.name!r}")
        return source

    def get_source(self, name: str) -> Source:
        row = self._read(
            lambda conn: conn.execute(
                _pg(f"{sql.SELECT_SOURCES} WHERE name = ?"), (name,)
            ).fetchone()
        )
        if row is None:
            raise NotFound(f"no source named {name!r}")
        return sql.source_from_row(row)

    def list_sources(self) -> list[Source]:
        rows = self._read(
            lambda conn: conn.execute(f"{sql.SELECT_SOURCES} ORDER BY name").fetchall()
        )
        return [sql.source_from_row(r) for r in rows]

    def _change_source(self, name: str, statement: str, values: list[Any], what: str) -> None:
        def work(conn: Conn) -> int:
            return conn.execute(_pg(statement), values).rowcount

        if not self._transaction(work, what):
            raise NotFound(f"no source named {name!r}")

    def save_source_state(self, source: Source) -> None:
        values = [*sql.source_values(source, sql.STATE, text_times=False), source.name]
        what = f"saving the state of source {source.name!r}"
        self._change_source(source.name, sql.UPDATE_STATE, values, what)

    def remove_source(self, name: str) -> None:
        statement = "DELETE FROM sources WHERE name = ?"
        self._change_source(name, statement, [name], f"removing source {name!r}")

    def add_originals(self, originals: Sequence[tuple[Original, bytes]]) -> list[int]:
        def work(conn: Conn) -> list[int]:
            ids = []
            for original, body in originals:
                conn.execute(
                    "INSERT INTO original_blobs (sha256, body) VALUES (%s, %s)"
                    " ON CONFLICT (sha256) DO NOTHING",
                    (original.sha256, body),
                )
                values = sql.original_values(original, text_times=False)
                row = conn.execute(_pg(sql.INSERT_ORIGINAL) + " RETURNING id", values).fetchone()
                assert row is not None
                ids.append(int(row["id"]))
            return ids

        ids = self._transaction(work, f"keeping {len(originals)} originals")
        for (original, _body), new_id in zip(originals, ids, strict=True):
            original.id = new_id
        return ids

    def latest_originals(self, docids: Sequence[str]) -> dict[str, Original]:
        keys = list(dict.fromkeys(docids))
        if not keys:
            return {}
        rows = self._read(
            lambda conn: conn.execute(
                f"{sql.SELECT_ORIGINALS} WHERE id IN (SELECT max(id) FROM originals"
                " WHERE docid = ANY(%s) GROUP BY docid)",
                (keys,),
            ).fetchall()
        )
        return {r["docid"]: sql.original_from_row(r) for r in rows}

    def list_originals(self, docid: str) -> list[Original]:
        rows = self._read(
            lambda conn: conn.execute(
                _pg(f"{sql.SELECT_ORIGINALS} WHERE docid = ? ORDER BY id DESC"), (docid,)
            ).fetchall()
        )
        return [sql.original_from_row(r) for r in rows]

    def get_original(self, docid: str, original_id: int) -> tuple[Original, bytes]:
        def work(conn: Conn) -> tuple[Any, Any]:
            row = conn.execute(
                _pg(f"{sql.SELECT_ORIGINALS} WHERE docid = ? AND id = ?"), (docid, original_id)
            ).fetchone()
            if row is None:
                return None, None
            body = conn.execute(
                "SELECT body FROM original_blobs WHERE sha256 = %s", (row["sha256"],)
            ).fetchone()
            return row, body

        row, body = self._read(work)
        if row is None or body is None:
            raise NotFound(f"no original {original_id} of {docid}")
        return sql.original_from_row(row), bytes(body["body"])
