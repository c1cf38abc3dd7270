"""A search node follows the store: its own search index applies the store's change log.

The store (SQLite, or PostgreSQL shared by several nodes) appends every write to its change log;
each node's Tantivy index (``settings.index_path``, in its own archive folder) records the last
log position it holds (:mod:`sourcebook.index_sync`). :func:`catch_up` applies what the index
does not hold yet, under this archive folder's writer lock, and is the one way a node does so:
on open (``Archive``), and in ``sourcebook serve`` (:class:`Follower`, a background thread):
at once when the store notifies a commit (PostgreSQL LISTEN/NOTIFY, ``Store.listen``), and every
``SOURCEBOOK_FOLLOW_SECONDS`` in any case (the only way with SQLite, and the fallback when a
notification is lost). The index writer is held only while applying. A node never writes
another node's index: the lock and the index are in its own folder.

With SQLite the archive folder holds store and index: a CLI ingest next to a server writes the
index itself, and the server's follower then only reloads its searcher. The same holds for the
processes of ``serve --workers N``, which share one folder: whichever follower takes the lock
applies the changes, the others reload their searchers when the index's position file moves
(watched every :data:`RELOAD_WATCH_SECONDS` while another process holds the lock).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sourcebook.errors import Conflict, StorageError
from sourcebook.index.tantivy_index import SearchIndex
from sourcebook.store.base import ChangeFeed, Store

if TYPE_CHECKING:
    from sourcebook.services import Archive

log = logging.getLogger(__name__)

#: Searches say the index is behind only once its oldest missing change is this old: a follower
#: applies changes within a second or two, and a note on every search in between would be noise.
LAG_NOTICE_SECONDS = 5.0
#: While another process holds this folder's writer lock (a sibling ``serve`` worker applying a
#: change, a CLI ingest), how often the follower looks whether the index's position file moved.
RELOAD_WATCH_SECONDS = 0.1
#: Longest single wait on the change feed, so that ``stop`` never waits longer.
_WAIT_SLICE_SECONDS = 0.25


@dataclass(frozen=True)
class IndexLag:
    """How far a node's search index is behind the store."""

    store_position: int
    #: None: the index does not know its position (new, or rebuilt after a crash).
    index_position: int | None
    #: Log changes the index does not hold (None when its position is unknown).
    changes: int | None
    #: Age in seconds of the oldest change the index does not hold (0 when level).
    seconds: float


def measure_lag(store: Store, index: SearchIndex) -> IndexLag:
    """The index's lag: a small file, the log's last key and, when behind, one log row."""
    last = store.last_position()
    position = index.position
    if position is None:
        return IndexLag(last, None, None, 0.0)
    changes = max(0, last - position)
    seconds = 0.0
    if changes:
        oldest = store.changes_since(position, 1)
        if oldest:
            changed = oldest[0].changed_at
            if changed.tzinfo is None:
                changed = changed.replace(tzinfo=UTC)
            seconds = max(0.0, (datetime.now(UTC) - changed).total_seconds())
    return IndexLag(last, position, changes, round(seconds, 3))


def catch_up(
    archive: Archive, what: str = "index replay", wait_seconds: float = 0.0, quiet: bool = False
) -> bool:
    """Apply to the archive's index the store changes it does not hold, under the writer lock
    (taking it closes runs left unfinished, then replays the log: ``index_sync.begin_write``).

    False when it could not: another writer holds this archive (it applies them itself when it
    commits), or the index cannot be written; searches then say how far behind it is."""
    try:
        with archive.writing(what, wait_seconds=wait_seconds):
            return True
    except Conflict:  # the follower of a server meets it every poll while an ingest runs
        log.log(
            logging.DEBUG if quiet else logging.INFO,
            "%s: the index catches up when it finishes",
            archive.writer.holder(),
        )
    except (OSError, StorageError) as exc:
        log.warning("the search index cannot catch up with the store: %s", exc)
    return False


class Follower:
    """The background thread of ``sourcebook serve`` that keeps its index level with the store.

    When the store notifies a commit, and every ``interval`` seconds in any case, it compares
    the store's last log position with the index's; when behind it applies the difference
    (:func:`catch_up`). When the index moved without it (a CLI ingest into the same SQLite
    archive, a sibling ``serve`` worker), it reloads the searcher so searches see it."""

    def __init__(self, archive: Archive, interval: float, notify: bool = True) -> None:
        self.archive = archive
        self.interval = interval
        #: Wait on the store's notifications (``Store.listen``) as well as polling.
        self.notify = notify
        #: Wall-clock time of the last poll that left the index level with the store.
        self.last_level: float | None = None
        #: Wall-clock time the follower last applied changes itself.
        self.last_applied: float | None = None
        self._seen_position = archive.index.position
        #: Wake-ups by the store's notifications (a measure that LISTEN works).
        self.notified = 0
        self._feed: ChangeFeed | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval <= 0 or self._thread is not None:
            return
        self.archive.lag_notice_seconds = LAG_NOTICE_SECONDS
        try:
            self._feed = self.archive.store.listen() if self.notify else None
        except StorageError as exc:  # LISTEN refused: polling alone still follows the store
            log.warning("%s; following the store by polling only", exc)
        self._thread = threading.Thread(target=self._run, name="sb-follower", daemon=True)
        self._thread.start()
        log.info(
            "following the store's change log%s, polling every %g s",
            " on its notifications" if self._feed is not None else "",
            self.interval,
        )

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._feed is not None:
            self._feed.close()
            self._feed = None

    def _wait(self, seconds: float) -> None:
        """Until the store notifies a commit, ``seconds`` pass, or ``stop``."""
        deadline = time.monotonic() + seconds
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self._feed is None:
                self._stop.wait(left)
                return
            if self._feed.wait(min(left, _WAIT_SLICE_SECONDS)):
                self.notified += 1
                return

    def _run(self) -> None:
        level = True
        while not self._stop.is_set():
            self._wait(self.interval if level else min(self.interval, RELOAD_WATCH_SECONDS))
            if self._stop.is_set():
                return
            try:
                level = self.poll()
            except Exception:  # a database restart, a full disk: try again next time
                level = True
                log.exception("following the store failed; trying again in %g s", self.interval)

    def poll(self) -> bool:
        """One step; True when the index is level with the store afterwards (False: another
        process holds the writer lock and applies the changes; the index is watched until it
        moves)."""
        index, store = self.archive.index, self.archive.store
        position = index.position
        if position != self._seen_position:
            index.reload()  # another process committed to this folder's index
            self._seen_position = position
        if position is not None and store.last_position() <= position:
            self.last_level = time.time()
            return True
        if not catch_up(self.archive, "index follower", quiet=True):
            return False
        # another process may have committed just before the lock was taken, leaving nothing
        # to apply here: reload in any case, or this searcher would stay behind
        index.reload()
        self._seen_position = index.position
        self.last_applied = self.last_level = time.time()
        return True
