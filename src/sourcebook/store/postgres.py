"""The organisation backend: PostgreSQL through psycopg 3 and a connection pool.

Unlike SQLite (one writer per archive, a process lock), several writers may work at once: two
editors ingesting, a worker storing entities. Safety comes from the database, not a lock file:

* every write batch is one transaction; its documents are written in ``source_key`` order, so two
  batches over the same sources lock them in the same order and cannot deadlock (a deadlock or
  serialisation failure is retried all the same);
* an update locks the stored row (``SELECT ... FOR UPDATE``) and numbers the new revision from the
  locked row; an "added" document another writer stored meanwhile (``INSERT ... ON CONFLICT``)
  becomes an update of that row, or nothing when the content is the same; when the two inserts
  clash on the docid's unique index instead of the source key's, the batch is run again and
  then finds the row;
* the unique docid and source key columns and the ``docids`` table make a docid belong to one
  source only;
* the change log is appended under a transaction-level advisory lock held until commit, so log
  positions become visible in commit order and a follower reading ``position > N`` never skips a
  row committed later with a smaller position; the append also notifies the followers
  (LISTEN/NOTIFY, ``postgres_notify``), which wake at the commit instead of at their next poll.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

import psycopg
from psycopg import Connection, errors
from psycopg.rows import DictRow, dict_row, tuple_row
from psycopg.types.json import Json
from psycopg_pool import ConnectionPool, PoolTimeout

from sourcebook.errors import NotFound, StorageError
from sourcebook.model import Document
from sourcebook.store import postgres_harvest as harvest
from sourcebook.store.base import (
    Change,
    HarvestedRecord,
    HarvestFilter,
    HarvestPosition,
    IndexEntry,
    LoggedChange,
    LogKind,
    RunStatus,
    SetCounts,
    StoredVersion,
)
from sourcebook.store.codec import DOCUMENT_COLUMNS, iso_date, iso_datetime, now_utc
from sourcebook.store.folder_tables import FolderTables
from sourcebook.store.postgres_accounts import PostgresAccounts
from sourcebook.store.postgres_codec import (
    SELECT,
    Conn,
    describe,
    document_from_row,
    document_values,
    load_passages,
    load_revisions,
    migration_scripts,
    pg_text,
)
from sourcebook.store.postgres_notify import PostgresChangeFeed, notify_change
from sourcebook.store.postgres_saved import PostgresSaved
from sourcebook.store.postgres_sources import PostgresSources
from sourcebook.store.sources_sql import DELETE_ORPHAN_BLOBS

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Advisory lock keys (database-wide): the migration runner, and appends to the change log.
MIGRATE_LOCK = 0x5B_0001
LOG_LOCK = 0x5B_0002
#: Harvest keys of deleted records: this plus the position of the deletion in the change log.
TOMBSTONE_KEYS = 2**62
#: Attempts of a write transaction that lost a deadlock or a serialisation conflict.
RETRIES = 5
#: Seconds to wait for the first connection before the store reports the server unreachable.
CONNECT_TIMEOUT = 10.0

#: Document columns written from a Document, in order (shared with SQLite).
COLUMNS = DOCUMENT_COLUMNS
_SELECT = SELECT
_INSERT_SQL = (
    f"INSERT INTO documents ({', '.join(COLUMNS)}, content_hash, revision, created_at,"
    f" updated_at, minhash) VALUES ({', '.join(['%s'] * (len(COLUMNS) + 5))})"
    " ON CONFLICT (source_key) DO NOTHING RETURNING id"
)
# the docid of a stored source never changes, whoever writes it
_UPDATE_SQL = (
    "UPDATE documents SET "
    + ", ".join(f"{c} = %s" for c in COLUMNS[1:])
    + ", content_hash = %s, revision = %s, updated_at = %s, entities_done = false WHERE id = %s"
)


def _configure(conn: Conn) -> None:
    conn.execute("SET TIME ZONE 'UTC'")
    conn.commit()


class PostgresStore(PostgresSaved, PostgresSources, PostgresAccounts):
    """A Store on one PostgreSQL database (the schema first in its ``search_path``)."""

    def __init__(self, url: str, pool_size: int = 8) -> None:
        self.url = url
        self._pending: dict[str, int] = {}  # docid -> revision handed out by pending_entities
        self._pending_lock = threading.Lock()
        self._live: psycopg.Connection[Any] | None = None
        self._live_lock = threading.Lock()
        try:  # one plain connection first: its error says why (refused, authentication...)
            psycopg.connect(url, connect_timeout=int(CONNECT_TIMEOUT)).close()
        except psycopg.Error as exc:
            raise StorageError(f"cannot connect to {describe(url)}: {exc}") from exc
        self._pool: ConnectionPool[Conn] = ConnectionPool(
            url,
            min_size=1,
            max_size=max(1, pool_size),
            kwargs={"row_factory": dict_row},
            connection_class=Connection[DictRow],
            configure=_configure,
            open=False,
            name="sourcebook",
        )
        try:
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT)
        except (PoolTimeout, psycopg.Error) as exc:
            self._pool.close()
            raise StorageError(f"cannot connect to {describe(url)}: {exc}") from exc

    def close(self) -> None:
        with self._live_lock:
            if self._live is not None:
                self._live.close()
                self._live = None
        self._pool.close()

    def _live_pid(self) -> int:
        """The server process of this store's liveness connection, opened by the first run it
        starts and held until ``close``: while it is connected, the runs it started are alive."""
        with self._live_lock:
            if self._live is None or self._live.closed:
                try:
                    self._live = psycopg.connect(self.url, autocommit=True)
                except psycopg.Error as exc:
                    raise StorageError(f"cannot connect to {describe(self.url)}: {exc}") from exc
            return int(self._live.info.backend_pid)

    # --- transactions -------------------------------------------------------------------
    def _read(self, work: Callable[[Conn], T]) -> T:
        try:
            with self._pool.connection() as conn:
                return work(conn)
        except psycopg.Error as exc:
            raise StorageError(f"reading from {describe(self.url)} failed: {exc}") from exc

    def _transaction(self, work: Callable[[Conn], T], what: str) -> T:
        """Run ``work`` in one transaction; retried when it lost a deadlock, a serialisation
        conflict or an insert race on a unique column."""
        for attempt in range(1, RETRIES + 1):
            try:
                with self._pool.connection() as conn, conn.transaction():
                    return work(conn)
            except (
                errors.DeadlockDetected,
                errors.SerializationFailure,
                # two writers inserting the same new source at once: ``ON CONFLICT
                # (source_key)`` catches the clash only when that index is checked first; on
                # the docid's index it is an error. Run again, the batch finds the row stored.
                errors.UniqueViolation,
            ) as exc:
                if attempt == RETRIES:
                    raise StorageError(f"{what} failed: {exc}") from exc
                log.info("%s: %s, retrying", what, type(exc).__name__)
                time.sleep(0.05 * attempt)
            except psycopg.Error as exc:
                raise StorageError(f"{what} failed: {exc}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _append_log(conn: Conn, rows: Sequence[tuple[str, str, datetime]]) -> list[int]:
        """Append to the change log under the log lock (held until commit); the positions."""
        if not rows:
            return []
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOG_LOCK,))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO changes (docid, kind, changed_at) VALUES (%s, %s, %s)"
                " RETURNING position",
                rows,
                returning=True,
            )
            positions = [int(r["position"]) for r in PostgresStore._returned(cur) if r]
        notify_change(conn)  # delivered at commit: followers wake at once (postgres_notify)
        return positions

    # --- migrations ---------------------------------------------------------------------
    def applied_migrations(self) -> list[str]:
        def work(conn: Conn) -> list[str]:
            found = conn.execute("SELECT to_regclass('_migrations') AS t").fetchone()
            if found is None or found["t"] is None:
                return []
            return [r["name"] for r in conn.execute("SELECT name FROM _migrations ORDER BY name")]

        return self._read(work)

    def migrate(self) -> list[str]:
        """Apply pending migrations, each in its own transaction; a session advisory lock makes
        two processes starting at once migrate once (the second waits, then finds none). An
        up-to-date database is only read (a role without CREATE rights can open it)."""
        done: list[str] = []
        if not {name for name, _ in migration_scripts()} - set(self.applied_migrations()):
            return done
        try:
            with self._pool.connection() as conn:
                conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATE_LOCK,))
                conn.commit()
                try:
                    conn.execute(
                        "CREATE TABLE IF NOT EXISTS _migrations"
                        " (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)"
                    )
                    conn.commit()
                    applied = {r["name"] for r in conn.execute("SELECT name FROM _migrations")}
                    for name, sql in migration_scripts():
                        if name in applied:
                            continue
                        with conn.transaction():
                            conn.execute(sql.encode("utf-8"))
                            conn.execute(
                                "INSERT INTO _migrations VALUES (%s, %s)", (name, now_utc())
                            )
                        done.append(name)
                    conn.commit()
                finally:
                    conn.rollback()
                    conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATE_LOCK,))
                    conn.commit()
        except psycopg.Error as exc:
            raise StorageError(f"migrating {describe(self.url)} failed: {exc}") from exc
        return done

    # --- writing ------------------------------------------------------------------------
    def lookup_sources(self, source_keys: Sequence[str]) -> dict[str, StoredVersion]:
        keys = list(source_keys)
        if not keys:
            return {}

        def work(conn: Conn) -> dict[str, StoredVersion]:
            rows = conn.execute(
                "SELECT source_key, docid, content_hash, revision, dup_group FROM documents"
                " WHERE source_key = ANY(%s)",
                (keys,),
            )
            return {
                r["source_key"]: StoredVersion(
                    docid=r["docid"],
                    content_hash=r["content_hash"],
                    revision=r["revision"],
                    dup_group=r["dup_group"],
                )
                for r in rows
            }

        return self._read(work)

    def docid_owner(self, docid: str) -> str | None:
        def work(conn: Conn) -> str | None:
            row = conn.execute(
                "SELECT source_key FROM docids WHERE docid = %s", (docid,)
            ).fetchone()
            return str(row["source_key"]) if row else None

        return self._read(work)

    def docid_owners(self, docids: Sequence[str]) -> dict[str, str]:
        def work(conn: Conn) -> dict[str, str]:
            rows = conn.execute(
                "SELECT docid, source_key FROM docids WHERE docid = ANY(%s)",
                (list(dict.fromkeys(docids)),),
            )
            return {str(r["docid"]): str(r["source_key"]) for r in rows}

        return self._read(work) if docids else {}

    def write(self, changes: Sequence[Change]) -> None:
        if not changes:
            return
        stamp = now_utc()

        def work(conn: Conn) -> None:
            logged: dict[int, tuple[str, LogKind]] = {}
            # a fixed lock order across writers: by source key; new documents first, in a few
            # pipelined statements for the whole batch
            order = sorted(range(len(changes)), key=lambda i: changes[i].document.source_key)
            adds = [i for i in order if changes[i].kind == "added"]
            for i, stored in zip(
                adds, self._insert(conn, [changes[i] for i in adds], stamp), strict=True
            ):
                if stored:
                    logged[i] = (changes[i].document.docid, "added")
            for i in order:
                if i not in logged and (result := self._write_one(conn, changes[i], stamp)):
                    logged[i] = result
            if not logged:
                return
            docids = [docid for docid, _ in logged.values()]
            conn.execute("DELETE FROM tombstones WHERE docid = ANY(%s)", (docids,))
            self._append_log(conn, [(*logged[i], stamp) for i in sorted(logged)])  # batch order

        self._transaction(work, f"writing {len(changes)} documents")

    def _write_one(self, conn: Conn, change: Change, stamp: datetime) -> tuple[str, LogKind] | None:
        """Write an update, or an "added" source another writer stored since it was looked up;
        what the log records of it (None: the store already holds this very content)."""
        row = conn.execute(
            f"SELECT {_SELECT}, revision, content_hash FROM documents WHERE source_key = %s"
            " FOR UPDATE",
            (change.document.source_key,),
        ).fetchone()
        if row is None:  # deleted by another writer since it was looked up: store it again
            if not self._insert(conn, [change], stamp)[0]:
                raise StorageError(f"{change.document.source_key} changed during the write")
            return change.document.docid, "added"
        if row["content_hash"] == change.content_hash:
            return None
        self._update(conn, row, change, stamp)
        return str(row["docid"]), "updated"

    @staticmethod
    def _returned(cur: psycopg.Cursor[DictRow]) -> list[DictRow | None]:
        """The row each statement of an ``executemany(..., returning=True)`` returned."""
        out = []
        while True:
            out.append(cur.fetchone())
            if not cur.nextset():
                return out

    def _insert(self, conn: Conn, changes: Sequence[Change], stamp: datetime) -> list[bool]:
        """Insert new documents with their first revision, issuing their docids; for each,
        False when its source is already stored (by another writer)."""
        if not changes:
            return []
        with conn.cursor() as cur:
            cur.executemany(
                _INSERT_SQL,
                [
                    (*document_values(c.document), c.content_hash, 1, stamp, stamp, c.minhash)
                    for c in changes
                ],
                returning=True,
            )
            ids = [int(r["id"]) if r else None for r in self._returned(cur)]
            new = [(doc_id, c) for doc_id, c in zip(ids, changes, strict=True) if doc_id]
            if not new:
                return [False] * len(changes)
            cur.executemany(
                "INSERT INTO docids VALUES (%s, %s, %s) ON CONFLICT (docid) DO UPDATE"
                " SET docid = EXCLUDED.docid RETURNING source_key",
                [(c.document.docid, c.document.source_key, stamp) for _, c in new],
                returning=True,
            )
            for (_, c), issued in zip(new, self._returned(cur), strict=True):
                if issued is None or issued["source_key"] != c.document.source_key:
                    owner = issued["source_key"] if issued else "?"
                    raise StorageError(
                        f"docid {c.document.docid} was issued to another source ({owner})"
                    )
            cur.executemany(
                "INSERT INTO revisions (document_id, number, content_hash, recorded_at)"
                " VALUES (%s, 1, %s, %s)",
                [(doc_id, c.content_hash, stamp) for doc_id, c in new],
            )
            self._write_passages(cur, [(doc_id, c.document) for doc_id, c in new])
        return [doc_id is not None for doc_id in ids]

    @staticmethod
    def _write_passages(cur: psycopg.Cursor[DictRow], docs: Sequence[tuple[int, Document]]) -> None:
        rows = [
            (doc_id, p.seq, p.start, p.end, p.language)
            for doc_id, doc in docs
            for p in doc.passages
        ]
        if rows:
            cur.executemany(
                'INSERT INTO passages (document_id, seq, start, "end", language)'
                " VALUES (%s, %s, %s, %s, %s)",
                rows,
            )

    def _update(self, conn: Conn, row: DictRow, change: Change, stamp: datetime) -> None:
        doc = change.document
        old_content = document_from_row(row).content()
        new_content = doc.content()
        changed = sorted(k for k in new_content if new_content[k] != old_content.get(k))
        number = int(row["revision"]) + 1
        doc_id = int(row["id"])
        conn.execute(
            "UPDATE revisions SET snapshot = %s WHERE document_id = %s AND number = %s",
            (Json(old_content), doc_id, row["revision"]),
        )
        conn.execute(
            "INSERT INTO revisions (document_id, number, content_hash, recorded_at,"
            " changed_fields) VALUES (%s, %s, %s, %s, %s)",
            (doc_id, number, change.content_hash, stamp, changed),
        )
        values = document_values(doc)[1:]
        conn.execute(_UPDATE_SQL, (*values, change.content_hash, number, stamp, doc_id))
        conn.execute("DELETE FROM passages WHERE document_id = %s", (doc_id,))
        with conn.cursor() as cur:
            self._write_passages(cur, [(doc_id, doc)])

    def delete(self, docid: str) -> None:
        stamp = now_utc()

        def work(conn: Conn) -> bool:
            # passages and revisions go with it (ON DELETE CASCADE); docids keeps it issued
            row = conn.execute(
                "DELETE FROM documents WHERE docid = %s RETURNING collection, countries",
                (docid,),
            ).fetchone()
            if row is None:
                return False
            (position,) = self._append_log(conn, [(docid, "deleted", stamp)])
            conn.execute(
                "INSERT INTO tombstones VALUES (%s, %s, %s, %s, %s) ON CONFLICT (docid) DO UPDATE"
                " SET key = EXCLUDED.key, deleted_at = EXCLUDED.deleted_at,"
                " collection = EXCLUDED.collection, countries = EXCLUDED.countries",
                (docid, TOMBSTONE_KEYS + position, stamp, row["collection"], row["countries"]),
            )
            conn.execute("DELETE FROM originals WHERE docid = %s", (docid,))
            conn.execute(DELETE_ORPHAN_BLOBS)
            return True

        if not self._transaction(work, f"deleting {docid}"):
            raise NotFound(f"no document with docid {docid!r}")

    def start_run(self, inputs: Sequence[str]) -> int:
        pid = self._live_pid()

        def work(conn: Conn) -> int:
            row = conn.execute(
                "INSERT INTO ingest_runs (started_at, inputs, status, backend_pid)"
                " VALUES (%s, %s, 'running', %s) RETURNING id",
                (now_utc(), Json(list(inputs)), pid),
            ).fetchone()
            assert row is not None
            return int(row["id"])

        return self._transaction(work, "starting an ingest run")

    def record_error(self, run_id: int, origin: str, message: str) -> None:
        self._transaction(
            lambda conn: conn.execute(
                "INSERT INTO ingest_errors (run_id, origin, message, recorded_at)"
                " VALUES (%s, %s, %s, %s)",
                (run_id, pg_text(origin), pg_text(message), now_utc()),
            ),
            "recording an ingest error",
        )

    def finish_run(
        self,
        run_id: int,
        added: int,
        updated: int,
        unchanged: int,
        failed: int,
        status: RunStatus = "finished",
    ) -> None:
        self._transaction(
            lambda conn: conn.execute(
                "UPDATE ingest_runs SET finished_at = %s, added = %s, updated = %s,"
                " unchanged = %s, failed = %s, status = %s WHERE id = %s",
                (now_utc(), added, updated, unchanged, failed, status, run_id),
            ),
            "finishing an ingest run",
        )

    def close_unfinished_runs(self) -> int:
        """Runs still "running" whose writer is gone become "interrupted". The writer lock is
        per archive folder, so with PostgreSQL a writer elsewhere may be alive: a run is left
        alone while the liveness connection of the store that started it (another process's)
        is still connected. This process's own runs count as gone, as with SQLite: its caller
        holds the writer lock."""
        pid = self._live_pid() if self._live is not None else None
        try:
            return self._close_runs(pid)
        except StorageError as exc:
            if isinstance(exc.__cause__, errors.InsufficientPrivilege):
                log.info("a read-only role leaves unfinished runs to a writer")
                return 0  # a search node: it only replays the change log into its index
            raise

    def _close_runs(self, pid: int | None) -> int:
        return self._transaction(
            lambda conn: int(
                conn.execute(
                    "UPDATE ingest_runs SET status = 'interrupted' WHERE status = 'running'"
                    " AND (backend_pid IS NULL OR backend_pid IS NOT DISTINCT FROM %s"
                    " OR backend_pid NOT IN (SELECT pid FROM pg_stat_activity"
                    " WHERE pid IS NOT NULL))",
                    (pid,),
                ).rowcount
            ),
            "closing unfinished runs",
        )

    def run_statuses(self) -> dict[int, str]:
        return self._read(
            lambda conn: {
                int(r["id"]): str(r["status"])
                for r in conn.execute("SELECT id, status FROM ingest_runs ORDER BY id")
            }
        )

    # --- the change log -----------------------------------------------------------------
    def last_position(self) -> int:
        def work(conn: Conn) -> int:
            row = conn.execute("SELECT coalesce(max(position), 0) AS p FROM changes").fetchone()
            return int(row["p"]) if row else 0

        return self._read(work)

    def listen(self) -> PostgresChangeFeed:
        """A LISTEN connection of its own, woken by every commit that appends to the log."""
        return PostgresChangeFeed(self.url)

    def changes_since(self, position: int, limit: int = 1000) -> list[LoggedChange]:
        def work(conn: Conn) -> list[LoggedChange]:
            rows = conn.execute(
                "SELECT position, docid, kind, changed_at FROM changes WHERE position > %s"
                " ORDER BY position LIMIT %s",
                (position, max(0, limit)),
            )
            return [
                LoggedChange(int(r["position"]), r["docid"], r["kind"], r["changed_at"])
                for r in rows
            ]

        return self._read(work)

    # --- reading ------------------------------------------------------------------------
    def get(self, docid: str) -> Document:
        def work(conn: Conn) -> Document | None:
            row = conn.execute(f"SELECT {_SELECT} FROM documents WHERE docid = %s", (docid,))
            found = row.fetchone()
            if found is None:
                return None
            doc = document_from_row(found)
            load_passages(conn, {found["id"]: doc})
            load_revisions(conn, {found["id"]: doc})
            return doc

        doc = self._read(work)
        if doc is None:
            raise NotFound(f"no document with docid {docid!r}")
        return doc

    def get_many(self, docids: Sequence[str]) -> dict[str, Document]:
        wanted = list(dict.fromkeys(docids))
        if not wanted:
            return {}

        def work(conn: Conn) -> dict[str, Document]:
            rows = conn.execute(f"SELECT {_SELECT} FROM documents WHERE docid = ANY(%s)", (wanted,))
            by_id = {r["id"]: document_from_row(r) for r in rows}
            load_passages(conn, by_id)
            return {doc.docid: doc for doc in by_id.values()}

        return self._read(work)

    def get_revision_snapshot(self, docid: str, number: int) -> dict[str, object]:
        row = self._read(
            lambda conn: conn.execute(
                "SELECT r.snapshot FROM revisions r JOIN documents d ON d.id = r.document_id"
                " WHERE d.docid = %s AND r.number = %s",
                (docid, number),
            ).fetchone()
        )
        if row is None:
            raise NotFound(f"document {docid!r} has no revision {number}")
        if row["snapshot"] is None:  # the current revision: its content is the document itself
            return self.get(docid).content()
        snapshot: dict[str, object] = row["snapshot"]
        return snapshot

    def iter_documents(
        self, batch_size: int = 500, with_revisions: bool = False
    ) -> Iterator[Document]:
        last = 0
        while True:

            def work(conn: Conn, after: int = last) -> tuple[int, list[Document]]:
                rows = conn.execute(
                    f"SELECT {_SELECT} FROM documents WHERE id > %s ORDER BY id LIMIT %s",
                    (after, batch_size),
                ).fetchall()
                by_id = {r["id"]: document_from_row(r) for r in rows}
                load_passages(conn, by_id)
                if with_revisions:
                    load_revisions(conn, by_id)
                return (int(rows[-1]["id"]) if rows else after), list(by_id.values())

            last, docs = self._read(work)
            if not docs:
                return
            yield from docs

    def _scan(self, columns: str, where: str = "TRUE", batch: int = 10_000) -> Iterator[DictRow]:
        """Rows of ``documents`` in key order, read ``batch`` at a time (keyset paging: each
        read is its own short transaction, so a long scan holds no snapshot open)."""
        last = 0
        while True:

            def work(conn: Conn, after: int = last) -> list[DictRow]:
                return conn.execute(
                    f"SELECT id, {columns} FROM documents WHERE ({where}) AND id > %s"
                    " ORDER BY id LIMIT %s",
                    (after, batch),
                ).fetchall()

            rows = self._read(work)
            if not rows:
                return
            yield from rows
            last = int(rows[-1]["id"])

    def iter_index_entries(self) -> Iterator[IndexEntry]:
        for row in self._scan("docid, content_hash"):
            yield IndexEntry(docid=row["docid"], content_hash=row["content_hash"])

    def count(self) -> int:
        return self._read(
            lambda conn: int(conn.execute("SELECT count(*) AS n FROM documents").fetchone()["n"])  # type: ignore[index]
        )

    def stats(self, exclude_collections: Sequence[str] = ()) -> dict[str, object]:
        hidden = list(exclude_collections)
        # documents of the hidden collections are left out of every figure that counts them
        visible = "NOT (collection = ANY(%(hidden)s))" if hidden else "true"
        of_visible = f"document_id IN (SELECT id FROM documents WHERE {visible})"
        params = {"hidden": hidden}

        def work(conn: Conn) -> dict[str, object]:
            def one(sql: str) -> Any:
                row = conn.execute(sql, params).fetchone()
                assert row is not None
                return next(iter(row.values()))

            def grouped(sql: str) -> dict[str, int]:
                return {str(r["k"]): int(r["n"]) for r in conn.execute(sql, params)}

            row = conn.execute(
                "SELECT count(*) AS n, coalesce(sum(length(body)), 0) AS chars,"
                " min(publication_date) AS earliest, max(publication_date) AS latest"
                f" FROM documents WHERE {visible}",
                params,
            ).fetchone()
            assert row is not None
            return {
                "documents": int(row["n"]),
                "body_chars": int(row["chars"]),
                "earliest_publication_date": iso_date(row["earliest"]),
                "latest_publication_date": iso_date(row["latest"]),
                "passages": int(one(f"SELECT count(*) FROM passages WHERE {of_visible}")),
                "revisions": int(one(f"SELECT count(*) FROM revisions WHERE {of_visible}")),
                "docids_issued": int(one("SELECT count(*) FROM docids")),
                "ingest_runs": int(one("SELECT count(*) FROM ingest_runs")),
                "ingest_errors": int(one("SELECT count(*) FROM ingest_errors")),
                "by_language": grouped(
                    f"SELECT language AS k, count(*) AS n FROM documents WHERE {visible}"
                    " GROUP BY language ORDER BY 2 DESC, 1"
                ),
                "by_collection": grouped(
                    f"SELECT collection AS k, count(*) AS n FROM documents WHERE {visible}"
                    " GROUP BY collection ORDER BY 2 DESC, 1"
                ),
                "by_type": grouped(
                    f"SELECT document_type AS k, count(*) AS n FROM documents WHERE {visible}"
                    " GROUP BY document_type ORDER BY 2 DESC, 1"
                ),
                "top_countries": grouped(
                    "SELECT code AS k, count(*) AS n FROM documents, unnest(countries) AS code"
                    f" WHERE {visible} GROUP BY code ORDER BY 2 DESC, 1 LIMIT 20"
                ),
                "top_publishers": grouped(
                    f"SELECT publisher AS k, count(*) AS n FROM documents WHERE {visible}"
                    " GROUP BY publisher ORDER BY 2 DESC, 1 LIMIT 20"
                ),
            }

        return self._read(work)

    def recent_errors(self, limit: int = 50) -> list[tuple[str, str, str]]:
        rows = self._read(
            lambda conn: conn.execute(
                "SELECT recorded_at, origin, message FROM ingest_errors ORDER BY id DESC LIMIT %s",
                (limit,),
            ).fetchall()
        )
        return [(iso_datetime(r["recorded_at"]) or "", r["origin"], r["message"]) for r in rows]

    # --- harvesting (postgres_harvest.py) ------------------------------------------------
    def list_updated(
        self, selection: HarvestFilter, after: HarvestPosition | None = None, limit: int = 100
    ) -> list[HarvestedRecord]:
        return self._read(lambda conn: harvest.list_updated(conn, selection, after, limit))

    def count_updated(self, selection: HarvestFilter) -> int:
        return self._read(lambda conn: harvest.count_updated(conn, selection))

    def set_counts(self, exclude_collections: Sequence[str] = ()) -> SetCounts:
        return self._read(lambda conn: harvest.set_counts(conn, exclude_collections))

    def get_harvested(self, docids: Sequence[str]) -> dict[str, HarvestedRecord]:
        wanted = list(dict.fromkeys(docids))
        if not wanted:
            return {}
        return self._read(lambda conn: harvest.get_harvested(conn, wanted))

    # --- enrichment ---------------------------------------------------------------------
    def iter_minhashes(self) -> Iterator[tuple[str, str, bytes]]:
        for row in self._scan("docid, dup_group, minhash", "minhash IS NOT NULL", 5000):
            yield str(row["docid"]), str(row["dup_group"]), bytes(row["minhash"])

    def group_sizes(
        self, groups: Sequence[str], exclude_collections: Sequence[str] = ()
    ) -> dict[str, int]:
        wanted = [g for g in dict.fromkeys(groups) if g]
        if not wanted:
            return {}
        hidden = list(exclude_collections)
        visible = " AND NOT (collection = ANY(%s))" if hidden else ""
        return self._read(
            lambda conn: {
                str(r["dup_group"]): int(r["n"])
                for r in conn.execute(
                    "SELECT dup_group, count(*) AS n FROM documents WHERE dup_group = ANY(%s)"
                    f"{visible} GROUP BY dup_group",
                    (wanted, hidden) if hidden else (wanted,),
                )
            }
        )

    # --- folders (store/folder_tables.py) -------------------------------------------------
    @functools.cached_property
    def folders(self) -> FolderTables:
        def rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
            def work(conn: Conn) -> list[tuple[Any, ...]]:
                cur = conn.cursor(row_factory=tuple_row)
                return list(cur.execute(sql.replace("?", "%s"), params).fetchall())

            return self._read(work)

        def change(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]] | int:
            def work(conn: Conn) -> list[tuple[Any, ...]] | int:
                cur = conn.cursor(row_factory=tuple_row)
                cur.execute(sql.replace("?", "%s"), params)
                return list(cur.fetchall()) if cur.description else cur.rowcount

            return self._transaction(work, "writing folders")

        return FolderTables(rows, change, lambda value: value, now_utc)

    def pending_entities(self, limit: int) -> list[Document]:
        def work(conn: Conn) -> list[Document]:
            rows = conn.execute(
                f"SELECT {_SELECT}, revision FROM documents WHERE NOT entities_done"
                " ORDER BY id LIMIT %s",
                (limit,),
            ).fetchall()
            by_id = {r["id"]: document_from_row(r) for r in rows}
            with self._pending_lock:
                self._pending.update((r["docid"], int(r["revision"])) for r in rows)
            load_passages(conn, by_id)
            return list(by_id.values())

        return self._read(work)

    def count_pending_entities(self) -> int:
        return self._read(
            lambda conn: int(
                conn.execute(  # type: ignore[index]
                    "SELECT count(*) AS n FROM documents WHERE NOT entities_done"
                ).fetchone()["n"]
            )
        )

    def set_dup_groups(self, rows: Sequence[tuple[str, str, bytes]]) -> None:
        """Store (docid, dup_group, fingerprint) as recomputed by ``sourcebook enrich --dedup``."""
        stamp = now_utc()

        def work(conn: Conn) -> None:
            for docid, group, minhash in sorted(rows):
                conn.execute(
                    "UPDATE documents SET dup_group = %s, minhash = %s WHERE docid = %s",
                    (group, minhash, docid),
                )
            self._append_log(conn, [(docid, "updated", stamp) for docid, _, _ in rows])

        self._transaction(work, "storing near-duplicate groups")

    def set_entities(self, entities: Sequence[tuple[str, list[str], list[str]]]) -> None:
        """Store (docid, people, organisations) and mark the documents done. A document handed
        out by ``pending_entities`` is only marked when it still has the revision it had then:
        an editor's update meanwhile (a new revision) keeps it pending for the next round."""
        with self._pending_lock:
            revisions = {d: self._pending.pop(d, None) for d, _, _ in entities}
        stamp = now_utc()

        def work(conn: Conn) -> None:
            logged = []
            for docid, people, organisations in sorted(entities):
                row = conn.execute(
                    "UPDATE documents SET people = %s, organisations = %s, entities_done = true"
                    " WHERE docid = %s AND (%s::integer IS NULL OR revision = %s) RETURNING docid",
                    (people, organisations, docid, revisions[docid], revisions[docid]),
                ).fetchone()
                if row is not None:
                    logged.append(docid)
            order = {d: i for i, (d, _, _) in enumerate(entities)}
            self._append_log(
                conn, [(d, "updated", stamp) for d in sorted(logged, key=order.__getitem__)]
            )

        self._transaction(work, "storing entities")
