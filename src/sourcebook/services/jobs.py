"""The job queue as the CLI, the API and the page read it (organisation mode).

An embedded archive has no queue: :func:`queue_overview` says so with ``None`` and
:data:`NO_QUEUE` explains what runs instead.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

from sourcebook.config import Settings
from sourcebook.jobs.queue import STATES, JobQueue, QueueOverview
from sourcebook.staging import Upload, display_name

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


def uploads_queued(settings: Settings) -> bool:
    """Whether API uploads become ``upload`` jobs (``Settings.upload_jobs``)."""
    if settings.upload_jobs == "auto":
        return bool(settings.database_url) and importlib.util.find_spec("procrastinate") is not None
    return settings.upload_jobs == "queue"


def queue_upload(
    settings: Settings, uploads: Sequence[Upload], collection: str, replace: bool
) -> dict[str, Any]:
    """Keep the files in the queue's database and queue the job that ingests them; the API's
    202 answer (the job's id and where to follow it)."""
    from sourcebook.jobs.uploads import PostgresUploadRows

    queue = JobQueue(settings)
    queue.install()
    rows = PostgresUploadRows(queue.url)
    upload_id = rows.put(uploads)
    names = ", ".join(display_name(u.filename) for u in uploads)
    arguments = {"upload": upload_id, "collection": collection, "replace": replace}
    try:
        (job_id,) = queue.enqueue("upload", [{**arguments, "names": names[:500]}])
    except BaseException:
        rows.drop(upload_id)
        raise
    return {
        "job": job_id,
        "status": "todo",
        "files": len(uploads),
        "job_url": f"/api/jobs/{job_id}",
        "explanation": "Queued: a `sourcebook worker` ingests the files; the job's state, "
        "progress and, once done, its report (the ingest report) are at job_url.",
    }


def job_overview(settings: Settings, job_id: int) -> dict[str, Any] | None:
    """One job as the API shows it; None without a queue."""
    if not settings.database_url:
        return None
    return JobQueue(settings).get(job_id).to_json()


__all__ = ["NO_QUEUE", "STATES", "job_overview", "queue_overview", "queue_upload", "uploads_queued"]
