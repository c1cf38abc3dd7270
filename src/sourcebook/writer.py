"""One writer per archive: a lock file held with ``flock`` for the whole of any write.

Ingest, import, delete, reindex, ``check --repair``, enrichment and API uploads all take the lock
*before* they write anything to the store or the index, so a second writer (another process, or
another thread of a server) waits a bounded time and is then refused with a ``Conflict`` naming
the writer that holds the archive, having touched nothing. The lock is released by the operating
system when its process dies, so a killed ingest never leaves the archive locked.

The file holds a line describing the current holder (pid, what it does, when it started), read
only to say who is writing; the lock itself is the ``flock``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sourcebook.errors import Conflict

log = logging.getLogger(__name__)

LOCK_FILE = "writer.lock"
#: How often a waiting writer tries again.
_POLL_SECONDS = 0.05


class WriterLock:
    """The archive's writer lock. Re-entrant within its holder thread: a write that calls
    another (an ingest that replays the index first) takes it once."""

    def __init__(self, home: Path, wait_seconds: float = 5.0) -> None:
        self.path = home / LOCK_FILE
        self.wait_seconds = wait_seconds
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this process (any thread) holds the lock."""
        return self._fd is not None

    @property
    def depth(self) -> int:
        """How many nested ``hold`` calls the holding thread is in (0: not held)."""
        return self._depth

    def holder(self) -> str:
        """Who holds the archive, as a phrase: "another ingest (pid 12, started 10:02:03 UTC)"."""
        try:
            info = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            info = {}
        if not isinstance(info, dict) or "pid" not in info:
            return "another writer"
        return (
            f"another {info.get('what') or 'writer'} (pid {info['pid']}, "
            f"started {info.get('started', '?')})"
        )

    def _try_flock(self, fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    @contextlib.contextmanager
    def hold(self, what: str, wait_seconds: float | None = None) -> Iterator[None]:
        """Hold the lock for ``what`` (ingest, delete, ...); raise Conflict after waiting."""
        wait = self.wait_seconds if wait_seconds is None else wait_seconds
        deadline = time.monotonic() + max(0.0, wait)
        if not self._thread_lock.acquire(timeout=max(0.0, wait)):
            raise Conflict(self._refusal(wait))
        try:
            if self._depth == 0:
                self._acquire_file(what, deadline, wait)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._release_file()
        finally:
            self._thread_lock.release()

    def _refusal(self, wait: float) -> str:
        return (
            f"{self.holder()} is writing to this archive; waited {wait:g} s "
            "(SOURCEBOOK_WRITER_WAIT_SECONDS). Try again when it has finished."
        )

    def _acquire_file(self, what: str, deadline: float, wait: float) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            waited = False
            while not self._try_flock(fd):
                if time.monotonic() >= deadline:
                    raise Conflict(self._refusal(wait))
                if not waited:
                    log.warning("waiting up to %g s for %s to finish writing", wait, self.holder())
                    waited = True
                time.sleep(_POLL_SECONDS)
        except BaseException:
            os.close(fd)
            raise
        started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        line = json.dumps({"pid": os.getpid(), "what": what, "started": started})
        os.ftruncate(fd, 0)
        os.pwrite(fd, line.encode("utf-8"), 0)
        self._fd = fd

    def _release_file(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
