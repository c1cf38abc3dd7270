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
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sourcebook.periodic import Periodic
from sourcebook.services.sources import HarvestReport, harvest_due

if TYPE_CHECKING:
    from sourcebook.services.archive import Archive

log = logging.getLogger(__name__)


class Harvester(Periodic):
    thread_name = "sb-harvest"

    def __init__(self, archive: Archive, interval: float) -> None:
        super().__init__(interval)
        self.archive = archive
        self.runs = 0

    def start(self) -> None:
        super().start()
        log.info("harvesting due sources every %g s", self.interval)

    def poll(self) -> list[HarvestReport]:
        """Run the sources due now (until stopped); nothing while another process of this
        archive folder is polling."""
        with harvest_turn(self.archive.settings.home) as mine:
            if not mine:
                return []
            reports = harvest_due(self.archive, stop=self.stopping, done=_log_report)
        self.runs += 1
        return reports


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
