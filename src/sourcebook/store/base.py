"""The storage protocol every backend implements (httpx's ``BaseTransport`` pattern).

The store is the source of truth: the search index is rebuilt from it. Writes come from one writer
at a time (the ingest service); reads may come from many. One contract test suite
(``tests/store/test_contract.py``) runs against every backend.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from sourcebook.access import CollectionPolicy
from sourcebook.model import Document
from sourcebook.saved import SavedSearch
from sourcebook.sources.model import Original, Source
from sourcebook.store.accounts_base import AccountStore
from sourcebook.store.folder_tables import FolderTables

ChangeKind = Literal["added", "updated"]
#: What the change log records of a write.
LogKind = Literal["added", "updated", "deleted"]
#: An ingest run: still going, done, or stopped before its end (crash, SIGTERM, Ctrl+C).
RunStatus = Literal["running", "finished", "interrupted"]


@dataclass
class StoredVersion:
    """What the store knows about a source it already holds."""

    docid: str
    content_hash: str
    revision: int
    dup_group: str = ""


@dataclass
class Change:
    """A document to write: new (``added``) or a changed version of a held source (``updated``)."""

    kind: ChangeKind
    document: Document
    content_hash: str
    #: The document's MinHash signature (near-duplicate detection), when computed.
    minhash: bytes | None = None


@dataclass(frozen=True)
class LoggedChange:
    """One row of the store's change log: every write appends one, in the same transaction.

    ``position`` grows monotonically (never reused); the search index records the last position
    it holds and replays the rest, and future index followers read the log the same way.
    """

    position: int
    docid: str
    kind: LogKind
    changed_at: datetime


@dataclass
class IndexEntry:
    """The part of a stored document the index consistency check compares."""

    docid: str
    content_hash: str


#: Where a record stands in harvest order: (its store update time, its internal key).
HarvestPosition = tuple[datetime, int]


@dataclass(frozen=True)
class HarvestFilter:
    """Which documents a harvest selects (OAI-PMH selective harvesting; options object).

    ``since`` and ``until`` bound the store's own update time of the record (``updated_at``, UTC,
    to the second), both inclusive. ``collection`` and ``country`` (ISO alpha-2) select one set;
    ``any_collection`` and ``any_country`` select the parent sets: documents filed under some
    collection, documents with at least one country.
    """

    since: datetime | None = None
    until: datetime | None = None
    collection: str | None = None
    country: str | None = None
    any_collection: bool = False
    any_country: bool = False
    #: Collections left out (the viewer may not read them: ``sourcebook.access``).
    exclude_collections: tuple[str, ...] = ()


@dataclass
class HarvestedRecord:
    """A document with its place in harvest order, ordered by ``(updated_at, key)``.

    ``key`` is the store's internal key: stable for the life of the record, never shown to users;
    ``updated_at`` is when the store last changed the record (the OAI-PMH datestamp).
    """

    key: int
    updated_at: datetime
    document: Document
    #: A deleted record (a tombstone): ``document`` holds only its docid, collection and
    #: countries (its sets), and ``updated_at`` is when it was deleted.
    deleted: bool = False

    @property
    def position(self) -> HarvestPosition:
        return (self.updated_at, self.key)


@dataclass
class SetCounts:
    """How many documents each collection and each country (ISO alpha-2) holds."""

    collections: dict[str, int] = field(default_factory=dict)
    countries: dict[str, int] = field(default_factory=dict)


class ChangeFeed(Protocol):
    """Wake-ups when the change log grows (PostgreSQL LISTEN/NOTIFY): a follower waits on it
    instead of sleeping, so it applies a change as soon as its writer commits."""

    def wait(self, timeout: float) -> bool:
        """Block until a change is committed (True) or ``timeout`` seconds pass (False)."""
        ...

    def close(self) -> None: ...


class Store(AccountStore, Protocol):
    """What Sourcebook needs from a database (accounts: :class:`AccountStore`)."""

    def migrate(self) -> list[str]:
        """Apply pending migrations in order; return the names applied now."""
        ...

    def applied_migrations(self) -> list[str]: ...

    def close(self) -> None: ...

    # --- writing (one writer) -------------------------------------------------------------
    def lookup_sources(self, source_keys: Sequence[str]) -> dict[str, StoredVersion]:
        """The stored version of each of these source keys that the store holds."""
        ...

    def docid_owner(self, docid: str) -> str | None:
        """The source key a docid was issued to, if it was ever issued."""
        ...

    def docid_owners(self, docids: Sequence[str]) -> dict[str, str]:
        """``docid_owner`` of many docids in one go: the source keys of those ever issued."""
        ...

    def write(self, changes: Sequence[Change]) -> None:
        """Write added and updated documents (with passages and a new revision) atomically."""
        ...

    def delete(self, docid: str) -> None:
        """Remove a document with its passages and revisions (raises NotFound); its docid stays
        issued and is never given to another source, and a tombstone (docid, deletion time,
        sets) is kept for harvesters."""
        ...

    def start_run(self, inputs: Sequence[str]) -> int: ...

    def record_error(self, run_id: int, origin: str, message: str) -> None: ...

    def finish_run(
        self,
        run_id: int,
        added: int,
        updated: int,
        unchanged: int,
        failed: int,
        status: RunStatus = "finished",
    ) -> None: ...

    def close_unfinished_runs(self) -> int:
        """Mark every run still "running" as "interrupted"; the caller holds the writer lock,
        so no live writer owns them. Returns how many were closed."""
        ...

    def run_statuses(self) -> dict[int, str]:
        """Every ingest run's status by run id."""
        ...

    # --- the change log -------------------------------------------------------------------
    def last_position(self) -> int:
        """The position of the latest change (0 when nothing was ever written)."""
        ...

    def changes_since(self, position: int, limit: int = 1000) -> list[LoggedChange]:
        """Up to ``limit`` changes after ``position``, oldest first."""
        ...

    def listen(self) -> ChangeFeed | None:
        """A feed told of every commit that appends to the change log (its own connection), or
        None when the backend has none and followers poll (SQLite)."""
        ...

    # --- reading ---------------------------------------------------------------------------
    def get(self, docid: str) -> Document:
        """The whole document with passages and revisions; raises NotFound."""
        ...

    def get_many(self, docids: Sequence[str]) -> dict[str, Document]:
        """Documents with passages (no revisions) for these docids; missing ones are left out."""
        ...

    def get_revision_snapshot(self, docid: str, number: int) -> dict[str, object]:
        """The content of an earlier revision (raises NotFound)."""
        ...

    def iter_documents(
        self, batch_size: int = 500, with_revisions: bool = False
    ) -> Iterator[Document]:
        """Every document, oldest first, with passages (and revisions when asked)."""
        ...

    def iter_index_entries(self) -> Iterator[IndexEntry]: ...

    def count(self) -> int: ...

    def stats(self, exclude_collections: Sequence[str] = ()) -> dict[str, object]:
        """Counts for ``sourcebook stats``: documents, passages, revisions, by language etc.;
        the documents of ``exclude_collections`` are left out of every count of documents."""
        ...

    def recent_errors(self, limit: int = 50) -> list[tuple[str, str, str]]:
        """(recorded_at, origin, message) of the latest ingest errors."""
        ...

    # --- harvesting ------------------------------------------------------------------------
    def list_updated(
        self, selection: HarvestFilter, after: HarvestPosition | None = None, limit: int = 100
    ) -> list[HarvestedRecord]:
        """Up to ``limit`` selected documents (with passages) ordered by (updated_at, key),
        starting after ``after``: a stable cursor, since a changed record moves to the end."""
        ...

    def count_updated(self, selection: HarvestFilter) -> int:
        """How many documents the selection holds."""
        ...

    def set_counts(self, exclude_collections: Sequence[str] = ()) -> SetCounts:
        """Documents per collection (unfiled ones left out) and per country, outside
        ``exclude_collections``."""
        ...

    def get_harvested(self, docids: Sequence[str]) -> dict[str, HarvestedRecord]:
        """These documents (with passages) and their update times; missing ones are left out."""
        ...

    # --- enrichment -------------------------------------------------------------------------
    def iter_minhashes(self) -> Iterator[tuple[str, str, bytes]]:
        """(docid, dup_group, MinHash signature) in ingest order, to rebuild the dedup index."""
        ...

    def group_sizes(
        self, groups: Sequence[str], exclude_collections: Sequence[str] = ()
    ) -> dict[str, int]:
        """How many documents each near-duplicate group holds, outside ``exclude_collections``."""
        ...

    # --- folders (sourcebook.folders; the SQL is shared: store/folder_tables.py) -------------
    @property
    def folders(self) -> FolderTables:
        """Folders, their items (documents and quotes) and their shares."""
        ...

    # --- saved searches and their alerts (sourcebook.saved) ---------------------------------
    def save_search(self, saved: SavedSearch) -> SavedSearch:
        """Store a new saved search (its ``id`` and ``created_at`` filled in); a second one of
        the same owner and name raises Conflict."""
        ...

    def saved_searches(self, owner: str | None = None) -> list[SavedSearch]:
        """Every saved search (of ``owner`` when given), oldest first."""
        ...

    def delete_saved_search(self, search_id: int) -> None:
        """Remove a saved search (raises NotFound)."""
        ...

    def mark_digest_sent(self, search_id: int, position: int, sent_at: datetime) -> None:
        """Record that a digest covered the change log up to ``position``."""
        ...

    def added_since(self, position: int, until: int, limit: int) -> list[tuple[int, str]]:
        """(position, docid) of the documents added (or added again) after ``position`` up to
        ``until`` in the change log and still held, in log order, at most ``limit``."""
        ...

    # --- collections and who may read them (sourcebook.access) ------------------------------
    def list_collections(self) -> list[CollectionPolicy]:
        """Every collection with a recorded policy (a collection without one is public)."""
        ...

    def set_collection(self, policy: CollectionPolicy) -> None:
        """Record (or replace) a collection's policy."""
        ...

    def set_dup_groups(self, rows: Sequence[tuple[str, str, bytes]]) -> None:
        """Store (docid, dup_group, fingerprint) as recomputed by ``sourcebook enrich --dedup``."""
        ...

    def pending_entities(self, limit: int) -> list[Document]:
        """Documents whose current revision still awaits entity extraction (oldest first)."""
        ...

    def count_pending_entities(self) -> int: ...

    def set_entities(self, entities: Sequence[tuple[str, list[str], list[str]]]) -> None:
        """Store (docid, people, organisations) and mark the documents done."""
        ...

    # --- sources and kept originals (store/sources_sql.py) ----------------------------------
    def add_source(self, source: Source) -> Source:
        """Register a source (its ``created_at`` set now); Conflict when the name is taken."""
        ...

    def get_source(self, name: str) -> Source:
        """A source with its state; raises NotFound."""
        ...

    def list_sources(self) -> list[Source]:
        """Every source, by name."""
        ...

    def save_source_state(self, source: Source) -> None:
        """Write a source's state fields (ETag, OAI-PMH position, times, counts); NotFound."""
        ...

    def remove_source(self, name: str) -> None:
        """Forget a source (what it harvested stays); raises NotFound."""
        ...

    def add_originals(self, originals: Sequence[tuple[Original, bytes]]) -> list[int]:
        """Keep fetched pages or files as received, in one transaction (equal bytes stored
        once); their ids (also set on each Original). Deleting a document removes its
        originals."""
        ...

    def latest_originals(self, docids: Sequence[str]) -> dict[str, Original]:
        """The newest original kept for each of these documents (those with one)."""
        ...

    def list_originals(self, docid: str) -> list[Original]:
        """The originals kept for a document, newest first (without their bytes)."""
        ...

    def get_original(self, docid: str, original_id: int) -> tuple[Original, bytes]:
        """One original of a document with its bytes; raises NotFound."""
        ...
