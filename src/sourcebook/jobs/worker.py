"""``sourcebook worker``: takes jobs from the queue and runs them on its archive folder.

A worker opens the archive (the shared PostgreSQL store and its own folder's search index) once,
then runs procrastinate's worker on the ``sourcebook`` queue. Around each job it records in
``sourcebook_job_progress`` when the job started, how far it is (at most every
``PROGRESS_SECONDS``), its report, or why it failed.

**A killed worker.** procrastinate workers write a heartbeat every ``job_heartbeat_seconds``.
Every worker, every few seconds, removes workers silent for ``job_stalled_seconds`` and queues
their running jobs again (:func:`rescue_stalled`); the job runs again from the start on another
worker, which is safe because every job is idempotent (definitions.py). A SIGKILL between two
store transactions loses nothing stored; one in the middle of a transaction loses that
transaction (PostgreSQL rolls it back); the worker's own index heals from the change log when
the folder is next opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from sourcebook.config import Settings
from sourcebook.jobs.definitions import JobRun, job_function
from sourcebook.jobs.queue import PREFIX, QUEUE, JobQueue, build_app
from sourcebook.jobs.uploads import PostgresUploadRows
from sourcebook.jobs.vectors import PostgresVectorRows

if TYPE_CHECKING:
    import procrastinate
    import psycopg

    from sourcebook.services import Archive

log = logging.getLogger(__name__)

#: Progress is written to the queue's database at most this often.
PROGRESS_SECONDS = 0.5
#: Kinds that write the worker's archive folder (its index): run one at a time per process.
FOLDER_JOBS = frozenset({"ingest", "upload", "entities", "reindex"})
#: The key of the worker's runtime in procrastinate's job context.
CONTEXT_KEY = "sourcebook"


class WorkerRuntime:
    """What a worker process's jobs share: the archive, the vector sink, the progress rows."""

    def __init__(self, settings: Settings, archive: Archive, name: str) -> None:
        self.settings = settings
        self.archive = archive
        self.name = name
        self.vectors = PostgresVectorRows(settings.database_url)
        self.uploads = PostgresUploadRows(settings.database_url)
        self._folder = threading.Lock()
        self._db_lock = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None

    def _execute(self, sql: str, params: tuple[Any, ...]) -> None:
        import psycopg

        with self._db_lock:
            for attempt in (1, 2):  # a connection the server dropped is opened again once
                try:
                    if self._conn is None or self._conn.closed:
                        self._conn = psycopg.connect(
                            self.settings.database_url, autocommit=True, connect_timeout=10
                        )
                    self._conn.execute(sql, params)
                    return
                except psycopg.OperationalError:
                    self._conn = None
                    if attempt == 2:
                        raise

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()

    def run(self, job_id: int, kind: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Run one job, recording its start, progress, report or failure."""
        self._execute(
            "INSERT INTO sourcebook_job_progress (job_id, kind, runs, worker, started_at, "
            "updated_at) VALUES (%s, %s, 1, %s, now(), now()) ON CONFLICT (job_id) DO UPDATE "
            "SET runs = sourcebook_job_progress.runs + 1, worker = excluded.worker, "
            "started_at = now(), updated_at = now(), finished_at = NULL, error = NULL, "
            "report = NULL, done = 0",
            (job_id, kind, self.name),
        )
        last = 0.0

        def progress(done: int, total: int | None, unit: str) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last < PROGRESS_SECONDS and (total is None or done < total):
                return
            last = now
            self._execute(
                "UPDATE sourcebook_job_progress SET done = %s, total = %s, unit = %s, "
                "updated_at = now() WHERE job_id = %s",
                (done, total, unit, job_id),
            )

        function = job_function(kind)
        run = JobRun(self.archive, progress, self.vectors, self.uploads)
        lock = self._folder if kind in FOLDER_JOBS else contextlib.nullcontext()
        try:
            with lock:
                report = function(run, **arguments)
        except BaseException as exc:
            reason = f"{type(exc).__name__}: {exc}"
            log.warning("job %s (%s) failed: %s", job_id, kind, reason)
            self._execute(
                "UPDATE sourcebook_job_progress SET error = %s, finished_at = now(), "
                "updated_at = now() WHERE job_id = %s",
                (reason, job_id),
            )
            raise
        self._execute(
            "UPDATE sourcebook_job_progress SET report = %s, finished_at = now(), "
            "updated_at = now() WHERE job_id = %s",
            (json.dumps(report), job_id),
        )
        return report


def run_queued_job(context: Any, /, **arguments: Any) -> dict[str, Any]:
    """The one procrastinate task behind every job: hands it to the worker's runtime."""
    runtime: WorkerRuntime = context.additional_context[CONTEXT_KEY]
    kind = str(context.job.task_name).removeprefix(PREFIX)
    return runtime.run(int(context.job.id), kind, arguments)


async def rescue_stalled(app: procrastinate.App, settings: Settings) -> None:
    """Forever: remove workers silent for ``job_stalled_seconds``, queue their jobs again."""
    every = max(min(settings.job_heartbeat_seconds, 5.0), 0.2)
    while True:
        try:
            await rescue_once(app, settings)
        except Exception:  # the database went away for a moment: try again next round
            log.exception("looking for stalled jobs failed")
        await asyncio.sleep(every)


async def rescue_once(app: procrastinate.App, settings: Settings) -> list[int]:
    manager = app.job_manager
    await manager.prune_stalled_workers(settings.job_stalled_seconds)
    retried = []
    for job in await manager.get_stalled_jobs(
        queue=QUEUE, seconds_since_heartbeat=settings.job_stalled_seconds
    ):
        try:
            await manager.retry_job(job)
        except Exception:  # another worker retried it first
            continue
        assert job.id is not None
        log.warning("job %s (%s) lost its worker: queued again", job.id, job.task_name)
        retried.append(job.id)
    return retried


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_worker(
    settings: Settings,
    archive: Archive,
    concurrency: int = 1,
    once: bool = False,
    on_ready: Any = None,
) -> None:
    """Take jobs until stopped (SIGTERM, SIGINT: running jobs finish first); with ``once``,
    until the queue is empty."""
    JobQueue(settings).install()
    runtime = WorkerRuntime(settings, archive, worker_name())
    app = build_app(settings)

    async def main() -> None:
        async with app.open_async():
            await rescue_once(app, settings)
            rescuer = asyncio.create_task(rescue_stalled(app, settings))
            if on_ready is not None:
                on_ready()
            try:
                await app.run_worker_async(
                    queues=[QUEUE],
                    name=runtime.name,
                    concurrency=concurrency,
                    wait=not once,
                    additional_context={CONTEXT_KEY: runtime},
                    update_heartbeat_interval=settings.job_heartbeat_seconds,
                    stalled_worker_timeout=settings.job_stalled_seconds,
                    fetch_job_polling_interval=min(settings.job_heartbeat_seconds, 5.0),
                )
            finally:
                rescuer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await rescuer

    try:
        asyncio.run(main())
    finally:
        runtime.close()


__all__ = ["WorkerRuntime", "rescue_once", "run_queued_job", "run_worker", "worker_name"]
