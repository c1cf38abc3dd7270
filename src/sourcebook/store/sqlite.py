"""The embedded backend: SQLite in WAL mode, the archive's source of truth on a laptop.

One connection per thread (SQLite connections must not cross threads); writes are serialised by a
process-wide lock, and the database's own locking keeps a second writing process out.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from sourcebook.errors import AccessDenied, NotFound, StorageError
from sourcebook.model import Document, Passage, Revision
from sourcebook.store.base import (
    Change,
    IndexEntry,
    LoggedChange,
    RunStatus,
    StoredVersion,
)
from sourcebook.store.codec import (
    DOCUMENT_COLUMNS,
    document_from_row,
    document_values,
    dumps,
    now_utc,
    parse_iso_datetime,
)
from sourcebook.store.folder_tables import FolderTables
from sourcebook.store.sources_sql import DELETE_ORPHAN_BLOBS
from sourcebook.store.sqlite_accounts import SQLiteAccounts
from sourcebook.store.sqlite_harvest import SQLiteHarvest
from sourcebook.store.sqlite_saved import SQLiteSaved
from sourcebook.store.sqlite_sources import SQLiteSources

#: Each connection's private page cache. Every thread has its own connection, so a server's
#: reader threads each hold up to this much; pages beyond it are read again from the operating
#: system's (shared) cache. 16 MB serves a search's pages as fast as 64 MB did.
CACHE_KIB = 16 * 1024
#: The cache of a connection that writes: index pages of large archives stay in memory during
#: an ingest.
WRITE_CACHE_KIB = 64 * 1024

#: Harvest keys of deleted records: this plus the position of the deletion in the change log, so
#: they never equal a live document's key (SQLite may reuse the largest rowid once it is deleted).
TOMBSTONE_KEYS = 2**62

_SELECT_COLUMNS = ", ".join(("id", *DOCUMENT_COLUMNS))
_INSERT_SQL = (
    f"INSERT INTO documents ({', '.join(DOCUMENT_COLUMNS)}, content_hash, revision, created_at,"
    f" updated_at, minhash) VALUES ({', '.join('?' * (len(DOCUMENT_COLUMNS) + 5))})"
)
_UPDATE_SQL = (
    "UPDATE documents SET "
    + ", ".join(f"{c} = ?" for c in DOCUMENT_COLUMNS)
    + ", content_hash = ?, revision = ?, updated_at = ? WHERE id = ?"
)


class _Rows:
    """Rows of the tables that refer to documents, gathered during a batch of inserts."""

    def __init__(self) -> None:
        self.docids: list[tuple[str, str, str]] = []
        self.revisions: list[tuple[Any, str, str]] = []
        self.passages: list[tuple[Any, int, int, int, str]] = []
        self.countries: list[tuple[Any, str, int]] = []

    def add_children(self, doc_id: Any, doc: Document) -> None:
        self.passages.extend((doc_id, p.seq, p.start, p.end, p.language) for p in doc.passages)
        self.countries.extend((doc_id, code, rank) for rank, code in enumerate(doc.countries))

    def write(self, conn: sqlite3.Connection) -> None:
        if self.docids:
            conn.executemany("INSERT OR IGNORE INTO docids VALUES (?, ?, ?)", self.docids)
        if self.revisions:
            conn.executemany(
                "INSERT INTO revisions (document_id, number, content_hash, recorded_at,"
                " changed_fields) VALUES (?, 1, ?, ?, '[]')",
                self.revisions,
            )
        if self.passages:
            conn.executemany(
                "INSERT INTO passages (document_id, seq, start, end, language)"
                " VALUES (?, ?, ?, ?, ?)",
                self.passages,
            )
        if self.countries:
            conn.executemany(
                "INSERT OR IGNORE INTO document_countries VALUES (?, ?, ?)", self.countries
            )
        for rows in (self.docids, self.revisions, self.passages, self.countries):
            rows.clear()  # written rows are never written twice


def migration_scripts() -> list[tuple[str, str]]:
    """(name, sql) of every migration shipped with the package, in order."""
    folder = resources.files("sourcebook.store") / "migrations"
    scripts = [
        (entry.name.removesuffix(".sql"), entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    ]
    return sorted(scripts)


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot write, to an archive the user may only read.

    ``mode=ro`` first: it reads a WAL database as long as SQLite can open (or create) the
    ``-shm`` file next to it, and so sees a live writer's commits. In a folder the user cannot
    write, with no ``-shm`` left (a cleanly closed database has none), it fails with "attempt
    to write a readonly database"; then ``immutable=1``, which reads the file as it is, with no
    locking (right for an archive nobody writes: a writer's later commits are not seen).
    """
    uri = path.resolve().as_uri()
    last: sqlite3.Error | None = None
    for options in ("mode=ro", "mode=ro&immutable=1"):
        try:
            conn = sqlite3.connect(
                f"{uri}?{options}", uri=True, timeout=30, check_same_thread=False
            )
        except sqlite3.Error as exc:
            last = exc
            continue
        try:
            conn.execute("PRAGMA query_only=1")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as exc:
            conn.close()
            last = exc
            continue
        return conn
    raise StorageError(f"cannot read the archive database {path}: {last}") from last


class SQLiteStore(SQLiteHarvest, SQLiteSaved, SQLiteSources, SQLiteAccounts):
    """A Store on one SQLite file."""

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = path
        #: Read only: connections open with ``mode=ro`` and ``query_only``, never switch the
        #: journal mode, never create the file or its folder (see :func:`connect_read_only`).
        self.read_only = read_only
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()

    # --- connections --------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect_read_only(self.path) if self.read_only else self._connect_read_write()
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    def _connect_read_write(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            # SQLite silently opens a file it may not write read-only; setting WAL is the
            # first write, and it fails with "readonly database" or "unable to open".
            if "readonly" in str(exc) or "unable to open" in str(exc):
                raise AccessDenied(f"the archive at {self.path.parent} is read-only") from exc
            raise StorageError(f"cannot open the archive database {self.path}: {exc}") from exc
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the archive database {self.path}: {exc}") from exc
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def pending_migrations(self) -> list[str]:
        """Migrations shipped with this version that the database has not had (read only)."""
        conn = self._conn()
        if not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'"
        ).fetchone():
            return [name for name, _sql in migration_scripts()]
        applied = {r[0] for r in conn.execute("SELECT name FROM _migrations")}
        return [name for name, _sql in migration_scripts() if name not in applied]

    def close(self) -> None:
        with self._connections_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    # --- migrations ---------------------------------------------------------------------
    def applied_migrations(self) -> list[str]:
        conn = self._conn()
        conn.execute(
            "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)"
        )
        return [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY name")]

    def migrate(self) -> list[str]:
        applied = set(self.applied_migrations())
        done: list[str] = []
        conn = self._conn()
        with self._write_lock:
            for name, sql in migration_scripts():
                if name in applied:
                    continue
                try:
                    conn.executescript(
                        "BEGIN;\n"
                        + sql
                        + f"\nINSERT INTO _migrations VALUES ('{name}', '{now_utc().isoformat()}');"
                        + "\nCOMMIT;"
                    )
                except sqlite3.Error as exc:
                    conn.rollback()
                    if name in self.applied_migrations():
                        continue  # another process opening the archive applied it meanwhile
                    raise StorageError(f"migration {name} failed: {exc}") from exc
                done.append(name)
        return done

    # --- writing ------------------------------------------------------------------------
    def lookup_sources(self, source_keys: Sequence[str]) -> dict[str, StoredVersion]:
        out: dict[str, StoredVersion] = {}
        conn = self._conn()
        keys = list(source_keys)
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(
                "SELECT source_key, docid, content_hash, revision, dup_group FROM documents"
                f" WHERE source_key IN ({marks})",
                chunk,
            ):
                out[row[0]] = StoredVersion(
                    docid=row[1], content_hash=row[2], revision=row[3], dup_group=row[4]
                )
        return out

    def docid_owner(self, docid: str) -> str | None:
        row = (
            self._conn()
            .execute("SELECT source_key FROM docids WHERE docid = ?", (docid,))
            .fetchone()
        )
        return str(row[0]) if row else None

    def docid_owners(self, docids: Sequence[str]) -> dict[str, str]:
        owners: dict[str, str] = {}
        unique = list(dict.fromkeys(docids))
        for i in range(0, len(unique), 500):
            chunk = unique[i : i + 500]
            rows = self._conn().execute(
                f"SELECT docid, source_key FROM docids WHERE docid IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            owners.update({str(docid): str(key) for docid, key in rows})
        return owners

    def _writer(self) -> sqlite3.Connection:
        """This thread's connection, with the larger cache of a writer."""
        conn = self._conn()
        if not getattr(self._local, "writes", False):
            conn.execute(f"PRAGMA cache_size=-{WRITE_CACHE_KIB}")
            self._local.writes = True
        return conn

    def write(self, changes: Sequence[Change]) -> None:
        if not changes:
            return
        conn = self._writer()
        stamp = now_utc().isoformat()
        with self._write_lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
                added = _Rows()
                for change in changes:
                    if change.kind == "added":
                        self._insert(conn, change, stamp, added)
                    else:
                        added.write(conn)  # an update replaces children: earlier ones first
                        self._update(conn, change, stamp)
                added.write(conn)
                docids = [c.document.docid for c in changes]
                conn.executemany("DELETE FROM tombstones WHERE docid = ?", [(d,) for d in docids])
                conn.executemany(
                    "INSERT INTO changes (docid, kind, changed_at) VALUES (?, ?, ?)",
                    [(c.document.docid, c.kind, stamp) for c in changes],
                )
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise StorageError(f"writing {len(changes)} documents failed: {exc}") from exc
            except BaseException:  # KeyboardInterrupt mid-batch: none of it, never half
                conn.execute("ROLLBACK")
                raise

    @staticmethod
    def _insert(conn: sqlite3.Connection, change: Change, stamp: str, rows: _Rows) -> None:
        """The document row now (its id is needed); the rows that refer to it are collected
        and written for the whole batch at once (one statement per table, not per document)."""
        doc = change.document
        cur = conn.execute(
            _INSERT_SQL,
            (*document_values(doc), change.content_hash, 1, stamp, stamp, change.minhash),
        )
        doc_id = cur.lastrowid
        rows.docids.append((doc.docid, doc.source_key, stamp))
        rows.revisions.append((doc_id, change.content_hash, stamp))
        rows.add_children(doc_id, doc)

    def _update(self, conn: sqlite3.Connection, change: Change, stamp: str) -> None:
        doc = change.document
        row = conn.execute(
            f"SELECT {_SELECT_COLUMNS}, revision FROM documents WHERE source_key = ?",
            (doc.source_key,),
        ).fetchone()
        if row is None:
            raise StorageError(f"cannot update {doc.docid}: it is not in the store")
        old = document_from_row(row)
        old_content = old.content()
        new_content = doc.content()
        changed = sorted(k for k in new_content if new_content[k] != old_content.get(k))
        number = int(row["revision"]) + 1
        conn.execute(
            "UPDATE revisions SET snapshot = ? WHERE document_id = ? AND number = ?",
            (dumps(old_content), row["id"], row["revision"]),
        )
        conn.execute(
            "INSERT INTO revisions (document_id, number, content_hash, recorded_at, changed_fields)"
            " VALUES (?, ?, ?, ?, ?)",
            (row["id"], number, change.content_hash, stamp, dumps(changed)),
        )
        conn.execute(
            _UPDATE_SQL, (*document_values(doc), change.content_hash, number, stamp, row["id"])
        )
        # a new revision needs its entities extracted again
        conn.execute("UPDATE documents SET entities_done = 0 WHERE id = ?", (row["id"],))
        conn.execute("DELETE FROM passages WHERE document_id = ?", (row["id"],))
        conn.execute("DELETE FROM document_countries WHERE document_id = ?", (row["id"],))
        self._write_children(conn, row["id"], doc)

    @staticmethod
    def _write_children(conn: sqlite3.Connection, doc_id: Any, doc: Document) -> None:
        rows = _Rows()
        rows.add_children(doc_id, doc)
        rows.write(conn)

    def delete(self, docid: str) -> None:
        conn = self._writer()
        stamp = now_utc().isoformat()
        with self._write_lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
                row = conn.execute(
                    "SELECT id, collection, countries FROM documents WHERE docid = ?", (docid,)
                ).fetchone()
                if row is not None:
                    # passages, countries and revisions go with it (ON DELETE CASCADE); the
                    # docids table keeps the docid issued
                    conn.execute("DELETE FROM documents WHERE id = ?", (row[0],))
                    logged = conn.execute(
                        "INSERT INTO changes (docid, kind, changed_at) VALUES (?, 'deleted', ?)",
                        (docid, stamp),
                    )
                    conn.execute(
                        "INSERT OR REPLACE INTO tombstones VALUES (?, ?, ?, ?, ?)",
                        (docid, TOMBSTONE_KEYS + int(logged.lastrowid or 0), stamp, row[1], row[2]),
                    )
                    conn.execute("DELETE FROM originals WHERE docid = ?", (docid,))
                    conn.execute(DELETE_ORPHAN_BLOBS)
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise StorageError(f"deleting {docid} failed: {exc}") from exc
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        if row is None:
            raise NotFound(f"no document with docid {docid!r}")

    def start_run(self, inputs: Sequence[str]) -> int:
        conn = self._conn()
        with self._write_lock:
            cur = conn.execute(
                "INSERT INTO ingest_runs (started_at, inputs, status) VALUES (?, ?, 'running')",
                (now_utc().isoformat(), dumps(list(inputs))),
            )
            conn.commit()
        return int(cur.lastrowid or 0)

    def close_unfinished_runs(self) -> int:
        conn = self._conn()
        with self._write_lock:
            try:
                cur = conn.execute(
                    "UPDATE ingest_runs SET status = 'interrupted' WHERE status = 'running'"
                )
                conn.commit()
            except sqlite3.Error as exc:  # a read-only archive
                raise StorageError(f"cannot close unfinished ingest runs: {exc}") from exc
        return int(cur.rowcount)

    def run_statuses(self) -> dict[int, str]:
        rows = self._conn().execute("SELECT id, status FROM ingest_runs ORDER BY id")
        return {int(r[0]): str(r[1]) for r in rows}

    # --- the change log -----------------------------------------------------------------
    def last_position(self) -> int:
        row = self._conn().execute("SELECT max(position) FROM changes").fetchone()
        return int(row[0] or 0)

    def listen(self) -> None:
        """No notifications in SQLite: a follower polls (a small file and ``max(position)``)."""
        return None

    def changes_since(self, position: int, limit: int = 1000) -> list[LoggedChange]:
        rows = self._conn().execute(
            "SELECT position, docid, kind, changed_at FROM changes WHERE position > ?"
            " ORDER BY position LIMIT ?",
            (position, max(0, limit)),
        )
        out = []
        for row in rows:
            changed = parse_iso_datetime(row[3])
            assert changed is not None
            out.append(LoggedChange(int(row[0]), str(row[1]), row[2], changed))
        return out

    def record_error(self, run_id: int, origin: str, message: str) -> None:
        conn = self._conn()
        with self._write_lock:
            conn.execute(
                "INSERT INTO ingest_errors (run_id, origin, message, recorded_at) VALUES (?,?,?,?)",
                (run_id, origin, message, now_utc().isoformat()),
            )
            conn.commit()

    def finish_run(
        self,
        run_id: int,
        added: int,
        updated: int,
        unchanged: int,
        failed: int,
        status: RunStatus = "finished",
    ) -> None:
        conn = self._conn()
        with self._write_lock:
            conn.execute(
                "UPDATE ingest_runs SET finished_at = ?, added = ?, updated = ?, unchanged = ?,"
                " failed = ?, status = ? WHERE id = ?",
                (now_utc().isoformat(), added, updated, unchanged, failed, status, run_id),
            )
            conn.commit()

    # --- reading ------------------------------------------------------------------------
    def _passages(self, conn: sqlite3.Connection, ids: dict[int, Document]) -> None:
        if not ids:
            return
        marks = ",".join("?" * len(ids))
        for row in conn.execute(
            f"SELECT document_id, seq, start, end, language FROM passages WHERE document_id IN ({marks})"
            " ORDER BY document_id, seq",
            list(ids),
        ):
            doc = ids[row[0]]
            doc.passages.append(
                Passage(
                    seq=row[1],
                    start=row[2],
                    end=row[3],
                    text=doc.body[row[2] : row[3]],
                    language=row[4],
                )
            )

    def _revisions(self, conn: sqlite3.Connection, ids: dict[int, Document]) -> None:
        if not ids:
            return
        marks = ",".join("?" * len(ids))
        for rev in conn.execute(
            "SELECT document_id, number, content_hash, recorded_at, changed_fields FROM revisions"
            f" WHERE document_id IN ({marks}) ORDER BY document_id, number",
            list(ids),
        ):
            recorded = parse_iso_datetime(rev[3])
            assert recorded is not None
            ids[rev[0]].revisions.append(
                Revision(
                    number=rev[1],
                    content_hash=rev[2],
                    recorded_at=recorded,
                    changed_fields=json.loads(rev[4]),
                )
            )

    def get(self, docid: str) -> Document:
        conn = self._conn()
        row = conn.execute(
            f"SELECT {_SELECT_COLUMNS} FROM documents WHERE docid = ?", (docid,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no document with docid {docid!r}")
        doc = document_from_row(row)
        self._passages(conn, {row["id"]: doc})
        self._revisions(conn, {row["id"]: doc})
        return doc

    def get_many(self, docids: Sequence[str]) -> dict[str, Document]:
        conn = self._conn()
        wanted = list(dict.fromkeys(docids))
        by_id: dict[int, Document] = {}
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(
                f"SELECT {_SELECT_COLUMNS} FROM documents WHERE docid IN ({marks})", chunk
            ):
                by_id[row["id"]] = document_from_row(row)
        self._passages(conn, by_id)
        return {doc.docid: doc for doc in by_id.values()}

    def get_revision_snapshot(self, docid: str, number: int) -> dict[str, object]:
        row = (
            self._conn()
            .execute(
                "SELECT r.snapshot, d.revision FROM revisions r JOIN documents d ON d.id = r.document_id"
                " WHERE d.docid = ? AND r.number = ?",
                (docid, number),
            )
            .fetchone()
        )
        if row is None:
            raise NotFound(f"document {docid!r} has no revision {number}")
        if row[0] is None:  # the current revision: its content is the document itself
            return self.get(docid).content()
        snapshot: dict[str, object] = json.loads(row[0])
        return snapshot

    def iter_documents(
        self, batch_size: int = 500, with_revisions: bool = False
    ) -> Iterator[Document]:
        conn = self._conn()
        last = 0
        while True:
            rows = conn.execute(
                f"SELECT {_SELECT_COLUMNS} FROM documents WHERE id > ? ORDER BY id LIMIT ?",
                (last, batch_size),
            ).fetchall()
            if not rows:
                return
            by_id = {row["id"]: document_from_row(row) for row in rows}
            self._passages(conn, by_id)
            if with_revisions:
                self._revisions(conn, by_id)
            yield from by_id.values()
            last = rows[-1]["id"]

    def iter_index_entries(self) -> Iterator[IndexEntry]:
        for row in self._conn().execute("SELECT docid, content_hash FROM documents ORDER BY id"):
            yield IndexEntry(docid=row[0], content_hash=row[1])

    def count(self) -> int:
        return int(self._conn().execute("SELECT count(*) FROM documents").fetchone()[0])

    def stats(self, exclude_collections: Sequence[str] = ()) -> dict[str, object]:
        conn = self._conn()
        hidden = list(exclude_collections)
        # documents of the hidden collections are left out of every figure that counts them
        visible = f"collection NOT IN ({','.join('?' * len(hidden))})" if hidden else "1"
        of_visible = f"document_id IN (SELECT id FROM documents WHERE {visible})"

        def grouped(sql: str) -> dict[str, int]:
            return {str(r[0]): int(r[1]) for r in conn.execute(sql, hidden)}

        def count(sql: str) -> int:
            return int(conn.execute(sql, hidden).fetchone()[0])

        one = conn.execute(
            "SELECT count(*), coalesce(sum(length(body)), 0), min(publication_date),"
            f" max(publication_date) FROM documents WHERE {visible}",
            hidden,
        ).fetchone()
        return {
            "documents": int(one[0]),
            "body_chars": int(one[1]),
            "earliest_publication_date": one[2],
            "latest_publication_date": one[3],
            "passages": count(f"SELECT count(*) FROM passages WHERE {of_visible}"),
            "revisions": count(f"SELECT count(*) FROM revisions WHERE {of_visible}"),
            "docids_issued": int(conn.execute("SELECT count(*) FROM docids").fetchone()[0]),
            "ingest_runs": int(conn.execute("SELECT count(*) FROM ingest_runs").fetchone()[0]),
            "ingest_errors": int(conn.execute("SELECT count(*) FROM ingest_errors").fetchone()[0]),
            "by_language": grouped(
                f"SELECT language, count(*) FROM documents WHERE {visible}"
                " GROUP BY language ORDER BY 2 DESC"
            ),
            "by_collection": grouped(
                f"SELECT collection, count(*) FROM documents WHERE {visible}"
                " GROUP BY collection ORDER BY 2 DESC"
            ),
            "by_type": grouped(
                f"SELECT document_type, count(*) FROM documents WHERE {visible}"
                " GROUP BY document_type ORDER BY 2 DESC"
            ),
            "top_countries": grouped(
                f"SELECT code, count(*) FROM document_countries WHERE {of_visible}"
                " GROUP BY code ORDER BY 2 DESC LIMIT 20"
            ),
            "top_publishers": grouped(
                f"SELECT publisher, count(*) FROM documents WHERE {visible}"
                " GROUP BY publisher ORDER BY 2 DESC LIMIT 20"
            ),
        }

    def recent_errors(self, limit: int = 50) -> list[tuple[str, str, str]]:
        return [
            (r[0], r[1], r[2])
            for r in self._conn().execute(
                "SELECT recorded_at, origin, message FROM ingest_errors ORDER BY id DESC LIMIT ?",
                (limit,),
            )
        ]

    # --- enrichment -----------------------------------------------------------------------
    def iter_minhashes(self) -> Iterator[tuple[str, str, bytes]]:
        """(docid, dup_group, signature) of every document with a signature, in ingest order."""
        for row in self._conn().execute(
            "SELECT docid, dup_group, minhash FROM documents WHERE minhash IS NOT NULL ORDER BY id"
        ):
            yield str(row[0]), str(row[1]), bytes(row[2])

    def group_sizes(
        self, groups: Sequence[str], exclude_collections: Sequence[str] = ()
    ) -> dict[str, int]:
        """How many documents each near-duplicate group holds (outside the hidden collections)."""
        wanted = [g for g in dict.fromkeys(groups) if g]
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        hidden = list(exclude_collections)
        visible = f" AND collection NOT IN ({','.join('?' * len(hidden))})" if hidden else ""
        return {
            str(r[0]): int(r[1])
            for r in self._conn().execute(
                f"SELECT dup_group, count(*) FROM documents WHERE dup_group IN ({marks}){visible}"
                " GROUP BY dup_group",
                [*wanted, *hidden],
            )
        }

    # --- folders (store/folder_tables.py) -------------------------------------------------
    @functools.cached_property
    def folders(self) -> FolderTables:
        def rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in self._conn().execute(sql, params).fetchall()]

        def change(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]] | int:
            conn = self._writer()
            with self._write_lock:
                try:
                    cur = conn.execute(sql, params)
                    out: list[tuple[Any, ...]] | int = (
                        [tuple(r) for r in cur.fetchall()] if cur.description else cur.rowcount
                    )
                    conn.commit()
                except sqlite3.Error as exc:
                    conn.rollback()
                    raise StorageError(f"writing folders failed: {exc}") from exc
            return out

        return FolderTables(rows, change, parse_iso_datetime, lambda: now_utc().isoformat())

    def pending_entities(self, limit: int) -> list[Document]:
        """Documents whose current revision has not been through entity extraction yet."""
        conn = self._conn()
        rows = conn.execute(
            f"SELECT {_SELECT_COLUMNS} FROM documents WHERE entities_done = 0 ORDER BY id LIMIT ?",
            (limit,),
        ).fetchall()
        by_id = {row["id"]: document_from_row(row) for row in rows}
        self._passages(conn, by_id)
        return list(by_id.values())

    def count_pending_entities(self) -> int:
        row = self._conn().execute("SELECT count(*) FROM documents WHERE entities_done = 0")
        return int(row.fetchone()[0])

    def set_dup_groups(self, rows: Sequence[tuple[str, str, bytes]]) -> None:
        """Store (docid, dup_group, fingerprint) as recomputed by ``sourcebook enrich --dedup``."""
        conn = self._conn()
        with self._write_lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(
                    "UPDATE documents SET dup_group = ?, minhash = ? WHERE docid = ?",
                    [(group, minhash, docid) for docid, group, minhash in rows],
                )
                stamp = now_utc().isoformat()
                conn.executemany(
                    "INSERT INTO changes (docid, kind, changed_at) VALUES (?, 'updated', ?)",
                    [(docid, stamp) for docid, _, _ in rows],
                )
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise StorageError(f"storing near-duplicate groups failed: {exc}") from exc
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def set_entities(self, entities: Sequence[tuple[str, list[str], list[str]]]) -> None:
        """Store (docid, people, organisations) and mark those documents done."""
        conn = self._conn()
        with self._write_lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(
                    "UPDATE documents SET people = ?, organisations = ?, entities_done = 1"
                    " WHERE docid = ?",
                    [(dumps(p), dumps(o), d) for d, p, o in entities],
                )
                stamp = now_utc().isoformat()
                conn.executemany(
                    "INSERT INTO changes (docid, kind, changed_at) VALUES (?, 'updated', ?)",
                    [(d, stamp) for d, _, _ in entities],
                )
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise StorageError(f"storing entities failed: {exc}") from exc
            except BaseException:
                conn.execute("ROLLBACK")
                raise
