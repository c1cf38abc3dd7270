"""The job queue as the CLI, the API and the page read it (organisation mode).

An embedded archive has no queue: :func:`queue_overview` says so with ``None`` and
:data:`NO_QUEUE` explains what runs instead.
"""

from __future__ import annotations

from sourcebook.config import Settings
from sourcebook.jobs.queue import STATES, JobQueue, QueueOverview

NO_QUEUE = (
    "This archive is embedded (SQLite): there is no job queue. Its commands run the jobs "
    "in-process, with the same functions a worker runs: `sourcebook ingest`, `sourcebook enrich "
    "--entities`, `sourcebook enrich --embeddings`, `sourcebook reindex`. The queue and "
    "`sourcebook worker` come with organisation mode (SOURCEBOOK_DATABASE_URL, see "
    "docs/organisation.md)."
)


def queue_overview(
    settings: Settings, limit: int = 20, status: str | None = None
) -> QueueOverview | None:
    """Counts per kind and state, the latest jobs, the workers; None without a queue."""
    if not settings.database_url:
        return None
    return JobQueue(settings).overview(limit=limit, status=status)


__all__ = ["NO_QUEUE", "STATES", "queue_overview"]
