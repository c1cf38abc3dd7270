"""``serve --harvest``: a background thread that runs due sources on their schedule, one at a
time, in the server's process (the embedded default; organisation mode runs
``harvest_source`` as a queue job instead).

Every ``harvest_poll_seconds`` it runs the sources whose interval has passed. Each source's
writes take the archive's writer lock like any other write (fetching does not hold it). Stopping
waits for the source being harvested, whose fetches are bounded by ``fetch_timeout_seconds``.

``serve --harvest --workers N`` starts a harvester in each of the N processes of one archive
folder: a poll runs only while it holds ``harvest.lock`` there (``flock``, not waited for), so
one process harvests at a time and the others skip their turn; a source is never fetched twice
for one due time.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sourcebook.services.sources import HarvestReport, harvest_due

if TYPE_CHECKING:
    from sourcebook.services.archive import Archive

log = logging.getLogger(__name__)


class Harvester:
    def __init__(self, archive: Archive, interval: float) -> None:
        self.archive = archive
        self.interval = interval
        self.runs = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="sb-harvest", daemon=True)
        self._thread.start()
        log.info("harvesting due sources every %g s", self.interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def poll(self) -> list[HarvestReport]:
        """Run the sources due now (until stopped); nothing while another process of this
        archive folder is polling."""
        with harvest_turn(self.archive.settings.home) as mine:
            if not mine:
                return []
            reports = harvest_due(self.archive, stop=self._stop.is_set, done=_log_report)
        self.runs += 1
        return reports

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:  # a database restart, a full disk: try again next time
                log.exception("harvesting sources failed; trying again in %g s", self.interval)
            if self._stop.wait(self.interval):
                break


@contextlib.contextmanager
def harvest_turn(home: Path) -> Iterator[bool]:
    """True while this process holds the archive folder's harvest lock; False at once when
    another process holds it."""
    fd = os.open(home / "harvest.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _log_report(report: HarvestReport) -> None:
    level = logging.WARNING if report.status == "failed" else logging.INFO
    log.log(level, "source %s", report.summary())


def start_harvester(archive: Archive) -> Harvester | None:
    """The harvest thread when the settings ask for one (``serve --harvest``), started."""
    if not archive.settings.serve_harvest or archive.read_only:
        return None
    harvester = Harvester(archive, archive.settings.harvest_poll_seconds)
    harvester.start()
    return harvester
