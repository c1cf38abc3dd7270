"""Keeping the search index level with the store: replay of the change log, rebuild, check.

The store appends every write to its change log (``Store.changes_since``); the index records the
last position it holds (``SearchIndex.position``). Whoever holds the writer lock replays the
changes past that position from the store's current state: documents that exist are upserted,
deleted ones removed. Replay is idempotent, so a crash at any point (between the store and the
index, or between the index commit and its position file) heals on the next open.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence

from sourcebook.index.tantivy_index import SearchIndex
from sourcebook.ingest.report import CheckReport, ProgressCallback
from sourcebook.model import Document
from sourcebook.store.base import Store
from sourcebook.store.codec import content_hash

log = logging.getLogger(__name__)

#: Changes replayed per index commit.
REPLAY_BATCH = 2_000


def index_lag(store: Store, index: SearchIndex) -> int | None:
    """How many changes the index is behind the store; None when its position is unknown."""
    position = index.position
    if position is None:
        return None
    return max(0, store.last_position() - position)


def begin_write(store: Store, index: SearchIndex) -> None:
    """What the first writer does on taking the lock: no other writer is alive, so runs still
    "running" were cut short (a crash, a kill); and the index catches up with the store."""
    closed = store.close_unfinished_runs()
    if closed:
        log.warning("%d ingest run(s) never finished: closed as interrupted", closed)
    catch_up(store, index)


def index_notice(store: Store, index: SearchIndex, grace_seconds: float = 0.0) -> str:
    """A one-line note for search results when the index is behind the store ('' if not).

    ``grace_seconds``: say nothing while the oldest change the index lacks is younger (a
    follower in this process applies it soon). Cheap enough for every search (a small file and
    the log's last key); the store is counted only when the index is empty and does not know
    its position."""
    lag = index_lag(store, index)
    if lag is None:
        stored = store.count() if index.num_docs() == 0 else 0
        if stored:
            return (
                f"the search index is missing or empty but the store holds {stored:,} "
                "documents: open the archive with write access (or run `sourcebook reindex`)"
            )
        return ""
    if not lag:
        return ""
    age = ""
    if grace_seconds > 0:
        from sourcebook.follower import measure_lag  # follower imports this module

        seconds = measure_lag(store, index).seconds
        if seconds < grace_seconds:
            return ""
        age = f" ({seconds:,.0f} s)"
    return (
        f"the search index is {lag:,} change{'s' if lag != 1 else ''}{age} behind the store: "
        "results may miss recent "
        "changes until it catches up (the writer now running does, or the next one)"
    )


def catch_up(store: Store, index: SearchIndex) -> int:
    """Bring the index level with the store; returns the changes replayed (the caller holds
    the writer lock). An index that does not know its position (new, rebuilt after a schema
    change, or made before the change log) is compared with the store instead and repaired."""
    position = index.position
    if position is None:
        last = store.last_position()
        report = compare(store, index)
        if not report.ok:
            log.warning(
                "the search index does not match the store (%d missing, %d extra, %d stale): "
                "repairing it",
                len(report.missing),
                len(report.extra),
                len(report.stale) + len(report.duplicated),
            )
            repair(store, index, report)
        index.commit(last)
        return len(report.missing) + len(report.extra) + len(report.stale)
    replayed = 0
    while True:
        changes = store.changes_since(position, REPLAY_BATCH)
        if not changes:
            break
        if replayed == 0:
            log.info("replaying store changes the search index does not hold (after #%d)", position)
        _apply(store, index, [c.docid for c in changes])
        position = changes[-1].position
        index.commit(position)
        replayed += len(changes)
    if replayed:
        log.info("replayed %d store changes into the search index", replayed)
    return replayed


def _apply(store: Store, index: SearchIndex, docids: Sequence[str]) -> None:
    """Index the store's current state of these documents: upsert those it holds, delete the
    rest (not committed). Idempotent, whatever changes the log says led there."""
    unique = list(dict.fromkeys(docids))
    if not unique:
        return
    docs = store.get_many(unique)
    index.delete([d for d in unique if d not in docs])
    index.upsert([(doc, content_hash(doc)) for doc in docs.values()])


def commit_applied(store: Store, index: SearchIndex) -> int:
    """Commit what a writer sent to the index, recording only a log position the index holds.

    The store's last position may include changes of another writer (PostgreSQL: another
    process, another machine) that this index never saw. So the log past the recorded position
    is read instead: each change to a document this writer upserted or deleted since the last
    commit (``index.touched``, counted) is its own; any other change is applied from the store's
    current state before the position moves over it. Returns the changes applied that way."""
    position = index.position
    if position is None:  # nothing vouched for: the next writer compares and repairs
        index.commit()
        return 0
    mine = Counter(index.touched)
    others = 0
    while True:
        changes = store.changes_since(position, REPLAY_BATCH)
        if not changes:
            break
        foreign: list[str] = []
        for change in changes:
            if mine[change.docid] > 0:
                mine[change.docid] -= 1
            else:
                foreign.append(change.docid)
        _apply(store, index, foreign)
        others += len(foreign)
        position = changes[-1].position
    index.commit(position)
    if others:
        log.info("applied %d changes of other writers while committing", others)
    return others


def compare(store: Store, index: SearchIndex) -> CheckReport:
    """Docids and content hashes of the store against the index."""
    stored = {e.docid: e.content_hash for e in store.iter_index_entries()}
    indexed: dict[str, str] = {}
    duplicated: list[str] = []
    entries = 0
    for entry in index.iter_entries():
        entries += 1
        if entry.docid in indexed:
            duplicated.append(entry.docid)
        indexed[entry.docid] = entry.content_hash
    return CheckReport(
        store_documents=len(stored),
        index_documents=entries,
        missing=sorted(set(stored) - set(indexed)),
        extra=sorted(set(indexed) - set(stored)),
        stale=sorted(d for d in set(stored) & set(indexed) if stored[d] != indexed[d]),
        duplicated=sorted(set(duplicated)),
    )


def repair(store: Store, index: SearchIndex, report: CheckReport) -> None:
    """Re-index or remove what ``compare`` found different (not committed)."""
    index.delete(report.extra)
    redo = sorted(set(report.missing) | set(report.stale) | set(report.duplicated))
    for i in range(0, len(redo), 1000):
        docs = store.get_many(redo[i : i + 1000])
        index.upsert([(d, content_hash(d)) for d in docs.values()])


def rebuild(store: Store, index: SearchIndex, progress: ProgressCallback | None = None) -> int:
    """Rebuild the whole index from the store; returns the documents indexed."""
    last = store.last_position()
    # until the rebuild is committed whole, the index holds less than any position says: a crash
    # half-way leaves no position, so the next writer compares it with the store and repairs
    index.forget_position()
    index.delete_all()
    n = 0
    batch: list[tuple[Document, str]] = []

    def send(batch: Sequence[tuple[Document, str]]) -> None:
        nonlocal n
        index.upsert(batch, replace=False)
        n += len(batch)
        if progress and batch:
            progress(len(batch), n)

    for doc in store.iter_documents():
        batch.append((doc, content_hash(doc)))
        if len(batch) >= 1000:
            send(batch)
            batch = []
    send(batch)
    index.commit(last)
    return n
