"""One ingest run: batches documents, writes each batch to the store and the index, keeps the
per-file report, and closes the run as finished or interrupted.

Each batch is one store transaction (which appends to the change log) followed by the index
update; the index is committed, with the change-log position it reaches, at least every
``settings.index_commit_seconds`` and at the end. A crash at any point loses no stored
document: the next writer replays what the index missed (``index_sync.catch_up``).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sourcebook import index_sync
from sourcebook.errors import Conflict, SourcebookError
from sourcebook.ids import is_valid_docid, make_docid
from sourcebook.ingest.report import FileOutcome, IngestOptions, IngestReport
from sourcebook.model import BadRecord, Document, EmptyRecord
from sourcebook.store.base import Change, ChangeKind, RunStatus
from sourcebook.store.codec import content_hash, now_utc

if TYPE_CHECKING:
    from sourcebook.services import Archive

log = logging.getLogger(__name__)

#: Asked between records: True when the run should stop (SIGTERM, Ctrl+C).
StopCheck = Callable[[], bool]


class Stopped(BaseException):  # not an error: a requested stop
    """Raised between records when a stop was requested; the run closes as interrupted.

    A BaseException, so the ingest loop's guard against parser bugs does not swallow it.
    """


class _Batch:
    def __init__(self) -> None:
        self.docs: list[tuple[Document, str, FileOutcome]] = []
        self.keys: set[str] = set()


class IngestRun:
    """One ingest run (the caller holds the archive's writer lock)."""

    def __init__(
        self,
        archive: Archive,
        inputs: list[str],
        options: IngestOptions,
        stop: StopCheck | None = None,
    ) -> None:
        self.archive = archive
        self.options = options
        self.stop = stop
        self.run_id = archive.store.start_run(inputs)
        self.report = IngestReport(run_id=self.run_id, files=[])
        self.batch = _Batch()
        self.started = time.perf_counter()
        self.last_commit = time.monotonic()
        self.pending = 0  # documents written to the index since its last commit

    def outcome(self, path: str) -> FileOutcome:
        outcome = FileOutcome(path=path)
        self.report.files.append(outcome)
        return outcome

    def check_stop(self) -> None:
        if self.stop is not None and self.stop():
            raise Stopped

    def add(
        self,
        items: Iterable[Document | BadRecord | EmptyRecord],
        options: IngestOptions,
        outcome: FileOutcome,
    ) -> None:
        archive = self.archive
        for item in items:
            self.check_stop()
            if isinstance(item, BadRecord):
                archive._fail(self.run_id, outcome, item.where, item.message)
                continue
            if isinstance(item, EmptyRecord):
                outcome.skipped += 1
                outcome.notes.append(f"{item.where}: {item.message}")
                continue
            try:
                doc = archive._prepare(item, options)
            except SourcebookError as exc:
                archive._fail(self.run_id, outcome, item.origin or outcome.path, str(exc))
                continue
            if doc.source_key in self.batch.keys:
                self.flush()
            self.batch.docs.append((doc, content_hash(doc), outcome))
            self.batch.keys.add(doc.source_key)
            if len(self.batch.docs) >= archive.settings.ingest_batch_size:
                self.flush()

    def flush(self, force_commit: bool = False) -> None:
        self.pending += write_batch(self.archive, self.batch, self.run_id, self.options)
        self.batch = _Batch()
        due = time.monotonic() - self.last_commit >= self.archive.settings.index_commit_seconds
        if self.pending and (force_commit or due):
            index_sync.commit_applied(self.archive.store, self.archive.index)
            self.pending = 0
            self.last_commit = time.monotonic()

    def finish(self, status: RunStatus = "finished") -> IngestReport:
        """Write what is batched (also when stopping: a batch is whole or absent), commit the
        index, and close the run with its counts."""
        self.flush(force_commit=True)
        return self.close(status)

    def close(self, status: RunStatus) -> IngestReport:
        report = self.report
        report.seconds = time.perf_counter() - self.started
        report.status = status
        self.archive.store.finish_run(
            self.run_id,
            report.total("added"),
            report.total("updated"),
            report.total("unchanged"),
            report.total("failed"),
            status,
        )
        return report


def first_docid(doc: Document) -> str:
    """The docid a new document asks for first: its own, or the unsalted one of its source."""
    return doc.docid or make_docid(doc.source_key, 0)


def assign_docid(
    archive: Archive, doc: Document, taken: set[str], owners: Mapping[str, str | None]
) -> str:
    """``owners``: the owners of the batch's first docids (``first_docid``), read in one query
    (one round trip per document made PostgreSQL ingest 3x slower); others are asked singly."""
    store = archive.store

    def owner_of(docid: str) -> str | None:
        return owners[docid] if docid in owners else store.docid_owner(docid)

    if doc.docid:
        if not is_valid_docid(doc.docid):
            raise SourcebookError(f"invalid docid {doc.docid!r}")
        owner = owner_of(doc.docid)
        if owner not in (None, doc.source_key) or doc.docid in taken:
            raise Conflict(f"docid {doc.docid} already belongs to another source ({owner})")
        return doc.docid
    for salt in range(100):
        candidate = make_docid(doc.source_key, salt)
        owner = owner_of(candidate)
        if owner in (None, doc.source_key) and candidate not in taken:
            return candidate
    raise Conflict(f"could not find a free docid for {doc.source_key}")


def write_batch(archive: Archive, batch: _Batch, run_id: int, options: IngestOptions) -> int:
    """Store one batch (one transaction, logged) and send it to the index; returns the
    documents written. "Unchanged" means the store holds this content; the index holds it
    too, since the writer replayed the change log when it took the lock."""
    if not batch.docs:
        return 0
    stored = archive.store.lookup_sources([d.source_key for d, _, _ in batch.docs])
    asked = [first_docid(d) for d, _, _ in batch.docs if d.source_key not in stored]
    issued = archive.store.docid_owners(asked) if asked else {}
    owners: dict[str, str | None] = {docid: issued.get(docid) for docid in asked}
    changes: list[Change] = []
    outcomes: list[tuple[FileOutcome, ChangeKind]] = []
    taken: set[str] = set()
    stamp = now_utc()
    for doc, chash, outcome in batch.docs:
        known = stored.get(doc.source_key)
        if known is not None and known.content_hash == chash:
            outcome.unchanged += 1
            continue
        try:
            kind: ChangeKind
            if known is not None and not options.replace_existing:
                raise Conflict(
                    f"{doc.source_key} already holds a record from another source; "
                    "send replace=true to replace it"
                )
            if known is not None:
                doc.docid = known.docid
                kind = "updated"
            else:
                doc.docid = assign_docid(archive, doc, taken, owners)
                kind = "added"
        except SourcebookError as exc:
            archive._fail(run_id, outcome, doc.origin or outcome.path, str(exc))
            continue
        taken.add(doc.docid)
        if doc.last_updated is None or (kind == "updated" and "last_updated" in doc.derived):
            # our record's own update time: the source did not state one
            doc.last_updated = stamp
            if "last_updated" not in doc.derived:
                doc.derived.append("last_updated")
        minhash: bytes | None = None
        if kind == "updated":
            doc.dup_group = known.dup_group if known is not None else ""
        elif options.enrich:
            fingerprint = archive.dedup.fingerprint(
                f"{doc.title}\n{doc.body}", doc.publication_date
            )
            doc.dup_group = archive.dedup.add_signature(doc.docid, fingerprint)
            minhash = fingerprint.to_bytes()
        changes.append(Change(kind=kind, document=doc, content_hash=chash, minhash=minhash))
        outcomes.append((outcome, kind))
    archive.store.write(changes)
    archive.index.upsert([(c.document, c.content_hash) for c in changes])
    for outcome, done in outcomes:
        setattr(outcome, done, getattr(outcome, done) + 1)
    return len(changes)


class StopSignals:
    """While entered, SIGTERM and SIGINT (Ctrl+C) ask the run to stop cleanly instead of killing
    it mid-write: the current batch is finished, the index committed, the run closed as
    interrupted. A second signal stops at once. Call the object to ask whether to stop."""

    def __init__(self) -> None:
        self.signum = 0
        self._previous: dict[int, Any] = {}

    def __call__(self) -> bool:
        return self.signum != 0

    def _handle(self, signum: int, _frame: object) -> None:
        if self.signum:  # asked twice: stop now
            signal.signal(signum, signal.SIG_DFL)
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            os.kill(os.getpid(), signum)
            return
        self.signum = signum
        log.warning("stopping after the current batch (signal %d)", signum)

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
