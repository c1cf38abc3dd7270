"""Search nodes take the vectors of queued ``embed`` jobs by themselves.

``embed`` jobs write vectors to the queue's database (:mod:`sourcebook.jobs.vectors`); each
``sourcebook serve`` node of an organisation copies them into its own vector index. A thread of
the server does so every ``SOURCEBOOK_VECTOR_PULL_SECONDS`` (60), and only when something may
have changed since its last pull: the number of vector rows of the archive's model, or the
store's change-log position (a changed document's vectors are written again). The pull is the
same as ``sourcebook jobs pull-vectors`` and takes the vector index's writer lock, so among the
processes of ``serve --workers N`` one pulls at a time and the others find nothing left.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sourcebook.jobs.queue import JobQueue
from sourcebook.jobs.vectors import PostgresVectorRows, pull_vectors
from sourcebook.periodic import Periodic

if TYPE_CHECKING:
    from sourcebook.services.archive import Archive

log = logging.getLogger(__name__)


class VectorPuller(Periodic):
    thread_name = "sb-vectors"
    poll_at_start = False  # the server's warm-up loads the model meanwhile

    def __init__(self, archive: Archive, interval: float) -> None:
        super().__init__(interval)
        self.archive = archive
        self.queue = JobQueue(archive.settings)
        self.rows = PostgresVectorRows(self.queue.url)
        self.pulls = 0
        self._seen: tuple[int, int] | None = None

    def poll(self) -> dict[str, int] | None:
        """Pull when the queued vectors or the store changed since the last pull; the pull's
        counts, or None when there was nothing to look at."""
        if not self.queue.installed():
            return None  # no job ever queued: no vectors table yet
        model = self.archive.engine.vectors.embedder.name
        with self.queue.connect() as conn:
            row: Any = conn.execute(
                "SELECT count(*) FROM sourcebook_job_vectors WHERE model = %s", (model,)
            ).fetchone()
        seen = (int(row[0]), self.archive.store.last_position())
        if seen == self._seen:
            return None
        report = pull_vectors(self.archive, self.rows)
        self._seen = seen
        self.pulls += 1
        if report["documents"] or report["removed"]:
            log.info("pulled the vectors of %s documents (%s removed)", *_counts(report))
        return report


def _counts(report: dict[str, int]) -> tuple[int, int]:
    return report["documents"], report["removed"]


def start_vector_puller(archive: Archive) -> VectorPuller | None:
    """The pulling thread of an organisation's search node, started; None in an embedded
    archive, with ``vector_pull_seconds`` 0, or without the semantic extra."""
    settings = archive.settings
    if not settings.database_url or settings.vector_pull_seconds <= 0 or archive.read_only:
        return None
    if archive.engine.vectors.extra_missing():
        return None
    puller = VectorPuller(archive, settings.vector_pull_seconds)
    puller.start()
    return puller
