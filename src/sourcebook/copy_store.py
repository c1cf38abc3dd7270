"""``sourcebook copy-store SRC DST``: move an archive's store between SQLite and PostgreSQL.

Every table is copied row by row with its keys: documents (with their internal keys, so harvest
positions and resumption tokens stay valid), passages, revisions with their snapshots, every
docid ever issued, ingest runs and their errors, the change log with its positions, and the
tombstones of deleted documents. The export of both stores is identical, and so is the change
log, so a search index level with the source is level with the copy.

The source is read in one snapshot (a read transaction); the destination, which must be empty,
is written in one transaction: a failed copy leaves nothing behind. Both sides are migrated to
the current schema first.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from sourcebook.errors import Conflict, StorageError
from sourcebook.store import DB_FILE, is_database_url, open_location
from sourcebook.store.codec import (
    dumps,
    iso_date,
    iso_datetime,
    loads,
    parse_iso_date,
    parse_iso_datetime,
)

log = logging.getLogger(__name__)

Kind = Literal["int", "text", "date", "ts", "list", "json", "jsonb", "bool", "bytes"]
#: Rows written per statement batch.
CHUNK = 1000

#: The tables copied, in the order (parents first), with their columns and the primary key order.
TABLES: dict[str, tuple[tuple[tuple[str, Kind], ...], str]] = {
    "documents": (
        (
            ("id", "int"),
            ("docid", "text"),
            ("source_key", "text"),
            ("source_id", "text"),
            ("title", "text"),
            ("publisher", "text"),
            ("authors", "list"),
            ("publication_date", "date"),
            ("last_updated", "ts"),
            ("source_url", "text"),
            ("original_url", "text"),
            ("accessed_date", "date"),
            ("cite_as", "text"),
            ("disclaimer", "text"),
            ("copyright", "text"),
            ("body", "text"),
            ("document_type", "text"),
            ("language", "text"),
            ("countries", "list"),
            ("collection", "text"),
            ("source_tags", "json"),
            ("derived", "list"),
            ("origin", "text"),
            ("content_hash", "text"),
            ("revision", "int"),
            ("created_at", "ts"),
            ("updated_at", "ts"),
            ("places", "jsonb"),
            ("people", "list"),
            ("organisations", "list"),
            ("dup_group", "text"),
            ("minhash", "bytes"),
            ("entities_done", "bool"),
        ),
        "id",
    ),
    "passages": (
        (
            ("document_id", "int"),
            ("seq", "int"),
            ("start", "int"),
            ("end", "int"),
            ("language", "text"),
        ),
        "document_id, seq",
    ),
    "revisions": (
        (
            ("document_id", "int"),
            ("number", "int"),
            ("content_hash", "text"),
            ("recorded_at", "ts"),
            ("changed_fields", "list"),
            ("snapshot", "json"),
        ),
        "document_id, number",
    ),
    "docids": ((("docid", "text"), ("source_key", "text"), ("issued_at", "ts")), "docid"),
    "ingest_runs": (
        (
            ("id", "int"),
            ("started_at", "ts"),
            ("finished_at", "ts"),
            ("inputs", "json"),
            ("added", "int"),
            ("updated", "int"),
            ("unchanged", "int"),
            ("failed", "int"),
            ("status", "text"),
        ),
        "id",
    ),
    "ingest_errors": (
        (
            ("id", "int"),
            ("run_id", "int"),
            ("origin", "text"),
            ("message", "text"),
            ("recorded_at", "ts"),
        ),
        "id",
    ),
    "changes": (
        (("position", "int"), ("docid", "text"), ("kind", "text"), ("changed_at", "ts")),
        "position",
    ),
    "tombstones": (
        (
            ("docid", "text"),
            ("key", "int"),
            ("deleted_at", "ts"),
            ("collection", "text"),
            ("countries", "list"),
        ),
        "docid",
    ),
    "collections": (
        (
            ("name", "text"),
            ("title", "text"),
            ("visibility", "text"),
            ("groups", "list"),
            ("updated_at", "ts"),
        ),
        "name",
    ),
    "sources": (
        (
            ("name", "text"),
            ("url", "text"),
            ("kind", "text"),
            ("every_seconds", "int"),
            ("collection", "text"),
            ("oai_set", "text"),
            ("follow", "text"),
            ("max_pages", "int"),
            ("created_at", "ts"),
            ("etag", "text"),
            ("last_modified", "text"),
            ("oai_from", "text"),
            ("oai_token", "text"),
            ("last_run_at", "ts"),
            ("last_success_at", "ts"),
            ("last_error", "text"),
            ("runs", "int"),
            ("fetched", "int"),
            ("added", "int"),
            ("updated", "int"),
            ("unchanged", "int"),
            ("failed", "int"),
        ),
        "name",
    ),
    "original_blobs": ((("sha256", "text"), ("body", "bytes")), "sha256"),
    "originals": (
        (
            ("id", "int"),
            ("docid", "text"),
            ("revision", "int"),
            ("source", "text"),
            ("url", "text"),
            ("final_url", "text"),
            ("fetched_at", "ts"),
            ("status", "int"),
            ("content_type", "text"),
            ("sha256", "text"),
            ("size", "int"),
            ("headers", "jsonb"),
        ),
        "id",
    ),
    "users": (
        (
            ("name", "text"),
            ("email", "text"),
            ("role", "text"),
            ("password_hash", "text"),
            ("oidc_subject", "text"),
            ("disabled", "bool"),
            ("created_at", "ts"),
        ),
        "name",
    ),
    "groups": ((("name", "text"), ("created_at", "ts")), "name"),
    "memberships": ((("user_name", "text"), ("group_name", "text")), "user_name, group_name"),
    "api_tokens": (
        (
            ("id", "int"),
            ("prefix", "text"),
            ("token_hash", "text"),
            ("user_name", "text"),
            ("label", "text"),
            ("scope", "text"),
            ("created_at", "ts"),
            ("revoked_at", "ts"),
        ),
        "id",
    ),
    "audit_log": (
        (
            ("id", "int"),
            ("at", "ts"),
            ("actor", "text"),
            ("action", "text"),
            ("target", "text"),
            ("outcome", "text"),
            ("client", "text"),
            ("detail", "text"),
        ),
        "id",
    ),
    "folders": ((("id", "int"), ("owner", "text"), ("title", "text"), ("created_at", "ts")), "id"),
    "folder_items": (
        (
            ("id", "int"),
            ("folder_id", "int"),
            ("docid", "text"),
            ("kind", "text"),
            ("start", "int"),
            ("end", "int"),
            ("revision", "int"),
            ("passage", "int"),
            ("text", "text"),
            ("note", "text"),
            ("added_at", "ts"),
        ),
        "id",
    ),
    "folder_shares": (
        (("folder_id", "int"), ("target", "text"), ("name", "text"), ("mode", "text")),
        "folder_id, target, name",
    ),
    "saved_searches": (
        (
            ("id", "int"),
            ("owner", "text"),
            ("name", "text"),
            ("query", "text"),
            ("filters", "jsonb"),
            ("schedule", "text"),
            ("email", "text"),
            ("last_position", "int"),
            ("last_sent_at", "ts"),
            ("created_at", "ts"),
        ),
        "id",
    ),
}
_COUNTRIES = [c for c, _ in TABLES["documents"][0]].index("countries")
#: PostgreSQL tables whose key is an identity column (its sequence moves past the copied keys).
IDENTITY = {
    "documents": "id",
    "ingest_runs": "id",
    "ingest_errors": "id",
    "changes": "position",
    "saved_searches": "id",
    "originals": "id",
    "api_tokens": "id",
    "audit_log": "id",
    "folders": "id",
    "folder_items": "id",
}
#: Tables not copied: sign-in state that is only worth its lifetime (users sign in again), and
#: SQLite's own bookkeeping (``meta``, the migrations) and its country index, which a copy into
#: SQLite rebuilds from ``documents.countries``.
NOT_COPIED = frozenset({"sessions", "login_failures", "_migrations", "meta", "document_countries"})


@dataclass
class CopyReport:
    """Rows copied per table."""

    source: str
    destination: str
    rows: dict[str, int] = field(default_factory=dict)


Row = tuple[Any, ...]
Progress = Callable[[str, int], None]


class _Side(Protocol):
    def read(self, table: str) -> Iterator[Row]: ...

    def write(self, table: str, rows: Sequence[Row]) -> None: ...

    def finish(self) -> None: ...

    def close(self) -> None: ...


def _columns(table: str) -> tuple[tuple[str, Kind], ...]:
    return TABLES[table][0]


# --- SQLite -------------------------------------------------------------------------------------
def _from_sqlite(kind: Kind, value: Any) -> Any:
    if value is None:
        return None
    if kind == "ts":
        return parse_iso_datetime(value)
    if kind == "date":
        return parse_iso_date(value)
    if kind in ("list", "json", "jsonb"):
        return loads(value)
    if kind == "bool":
        return bool(value)
    if kind == "bytes":
        return bytes(value)
    return value


def _to_sqlite(kind: Kind, value: Any) -> Any:
    if value is None:
        return None
    if kind == "ts":
        return iso_datetime(value)
    if kind == "date":
        return iso_date(value)
    if kind in ("list", "json", "jsonb"):
        return dumps(value)
    if kind == "bool":
        return int(value)
    return value


class _SQLiteSide:
    def __init__(self, folder: Path, writing: bool) -> None:
        self.conn = sqlite3.connect(folder / DB_FILE, isolation_level=None)
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.execute("BEGIN IMMEDIATE" if writing else "BEGIN")  # one snapshot / one write

    def read(self, table: str) -> Iterator[Row]:
        columns = _columns(table)
        names = ", ".join(f'"{c}"' for c, _ in columns)
        cur = self.conn.execute(f"SELECT {names} FROM {table} ORDER BY {TABLES[table][1]}")
        while rows := cur.fetchmany(CHUNK):
            for row in rows:
                yield tuple(_from_sqlite(k, v) for (_, k), v in zip(columns, row, strict=True))

    def write(self, table: str, rows: Sequence[Row]) -> None:
        columns = _columns(table)
        names = ", ".join(f'"{c}"' for c, _ in columns)
        marks = ", ".join("?" * len(columns))
        values = [
            tuple(_to_sqlite(k, v) for (_, k), v in zip(columns, row, strict=True)) for row in rows
        ]
        self.conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", values)
        if table == "documents":  # SQLite keeps countries in a table of their own too
            self.conn.executemany(
                "INSERT OR IGNORE INTO document_countries VALUES (?, ?, ?)",
                [(row[0], code, rank) for row in rows for rank, code in enumerate(row[_COUNTRIES])],
            )

    def finish(self) -> None:
        self.conn.execute("COMMIT")

    def close(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self.conn.close()


# --- PostgreSQL ---------------------------------------------------------------------------------
class _PostgresSide:
    def __init__(self, url: str, writing: bool) -> None:
        import psycopg

        self.conn = psycopg.connect(url)
        self.conn.execute("SET TIME ZONE 'UTC'")
        if not writing:
            self.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def read(self, table: str) -> Iterator[Row]:
        from sourcebook.store.postgres_codec import utc

        columns = _columns(table)
        names = ", ".join(f'"{c}"' for c, _ in columns)
        with self.conn.cursor(name=f"copy_{table}") as cur:
            cur.itersize = CHUNK
            cur.execute(f"SELECT {names} FROM {table} ORDER BY {TABLES[table][1]}")
            for row in cur:
                yield tuple(
                    utc(v) if k == "ts" else bytes(v) if k == "bytes" and v is not None else v
                    for (_, k), v in zip(columns, row, strict=True)
                )

    def write(self, table: str, rows: Sequence[Row]) -> None:
        from psycopg.types.json import Json, Jsonb

        from sourcebook.store.postgres_codec import pg_text

        columns = _columns(table)
        names = ", ".join(f'"{c}"' for c, _ in columns)
        marks = ", ".join(["%s"] * len(columns))
        overriding = " OVERRIDING SYSTEM VALUE" if table in IDENTITY else ""
        values = [
            tuple(
                Json(v)
                if k == "json" and v is not None
                else Jsonb(v)
                if k == "jsonb"
                else pg_text(v)
                for (_, k), v in zip(columns, row, strict=True)
            )
            for row in rows
        ]
        with self.conn.cursor() as cur:
            cur.executemany(f"INSERT INTO {table} ({names}){overriding} VALUES ({marks})", values)

    def finish(self) -> None:
        for table, column in IDENTITY.items():
            self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
                f" coalesce(max({column}), 1), max({column}) IS NOT NULL) FROM {table}"
            )
        self.conn.commit()

    def close(self) -> None:
        self.conn.rollback()
        self.conn.close()


# --- the copy -----------------------------------------------------------------------------------
def _open_side(location: str, writing: bool) -> _Side:
    if is_database_url(location):
        return _PostgresSide(location, writing)
    folder = Path(location)
    if not writing and not (folder / DB_FILE).is_file():
        raise StorageError(f"{folder} holds no archive ({DB_FILE} is missing)")
    return _SQLiteSide(folder, writing)


def _prepare(location: str, must_be_empty: bool) -> None:
    """Migrate the store at ``location``; refuse a destination that holds anything."""
    store = open_location(location)
    try:
        store.migrate()
        if must_be_empty and (store.last_position() or store.count() or store.run_statuses()):
            raise Conflict(
                f"the destination {_shown(location)} is not empty: copy-store only fills an "
                "empty store"
            )
    finally:
        store.close()


def _shown(location: str) -> str:
    if is_database_url(location):
        from sourcebook.store.postgres_codec import describe

        return describe(location)
    return location


def _is_driver_error(exc: Exception) -> bool:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - no PostgreSQL side without it
        return False
    return isinstance(exc, psycopg.Error)


def copy_store(src: str, dst: str, progress: Progress | None = None) -> CopyReport:
    """Copy every table of the store at ``src`` into the empty store at ``dst``."""
    if src == dst:
        raise Conflict("the source and the destination are the same store")
    _prepare(src, must_be_empty=False)
    _prepare(dst, must_be_empty=True)
    report = CopyReport(_shown(src), _shown(dst))
    source = _open_side(src, writing=False)
    try:
        target = _open_side(dst, writing=True)
        try:
            for table in TABLES:
                n = 0
                chunk: list[Row] = []
                for row in source.read(table):
                    chunk.append(row)
                    if len(chunk) >= CHUNK:
                        target.write(table, chunk)
                        n += len(chunk)
                        chunk.clear()
                        if progress is not None:
                            progress(table, n)
                if chunk:
                    target.write(table, chunk)
                    n += len(chunk)
                report.rows[table] = n
                log.info("copied %d rows of %s", n, table)
            target.finish()
        except (sqlite3.Error, OSError) as exc:
            raise StorageError(f"copying the store failed: {exc}") from exc
        except Exception as exc:
            if _is_driver_error(exc):
                raise StorageError(f"copying the store failed: {exc}") from exc
            raise
        finally:
            target.close()
    finally:
        source.close()
    return report
