"""The job queue of organisation mode: procrastinate on the archive's PostgreSQL database.

Built from :class:`~sourcebook.config.Settings` by whoever needs it (never at import time):
``JobQueue(settings)``. The queue's tables live beside the store's: procrastinate's own
(``procrastinate_jobs``, ``procrastinate_workers``, ``procrastinate_events``...) and two of ours,
``sourcebook_job_progress`` (how far each job is, its report or why it failed),
``sourcebook_job_vectors`` (vectors the ``embed`` job computed, which every search node pulls)
and ``sourcebook_job_uploads`` (files uploaded through the API, until an ``upload`` job ingested
them).
See docs/architecture.md ("Jobs") for why procrastinate.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sourcebook.config import Settings
from sourcebook.errors import ConfigError, Conflict, NotFound, StorageError
from sourcebook.jobs.definitions import JOBS

if TYPE_CHECKING:
    import procrastinate
    import psycopg

#: Task names in the queue are ``sourcebook.<job>``.
PREFIX = "sourcebook."
#: One queue for every job; workers take from it.
QUEUE = "sourcebook"
#: Key of the advisory lock under which the queue's tables are created.
SCHEMA_LOCK = 0x5B0B_0008

TABLES = """
CREATE TABLE IF NOT EXISTS sourcebook_job_progress (
    job_id bigint PRIMARY KEY,
    kind text NOT NULL,
    done bigint NOT NULL DEFAULT 0,
    total bigint,
    unit text NOT NULL DEFAULT 'documents',
    runs integer NOT NULL DEFAULT 0,
    worker text,
    started_at timestamptz,
    updated_at timestamptz,
    finished_at timestamptz,
    error text,
    report jsonb
);
CREATE TABLE IF NOT EXISTS sourcebook_job_vectors (
    model text NOT NULL,
    unit_id text NOT NULL,
    docid text NOT NULL,
    tag text NOT NULL,
    vector bytea NOT NULL,
    PRIMARY KEY (model, unit_id)
);
CREATE INDEX IF NOT EXISTS sourcebook_job_vectors_docid ON sourcebook_job_vectors (model, docid);
CREATE TABLE IF NOT EXISTS sourcebook_job_uploads (
    upload_id text NOT NULL,
    number integer NOT NULL,
    name text NOT NULL,
    content bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (upload_id, number)
);
"""

#: procrastinate's job states, in the order the CLI shows them.
STATES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborting", "aborted")


def require_queue(settings: Settings) -> str:
    """The queue's database URL; ConfigError when there is no queue (the embedded default)."""
    if not settings.database_url:
        raise ConfigError(
            "there is no job queue in an embedded archive (SQLite): its commands "
            "(ingest, enrich, reindex) run the same jobs in-process; the queue and "
            "`sourcebook worker` need organisation mode (SOURCEBOOK_DATABASE_URL, see "
            "docs/organisation.md)"
        )
    try:
        import procrastinate  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            "the job queue needs procrastinate: pip install 'sourcebook[postgres]'"
        ) from exc
    return settings.database_url


def connect_queue_db(url: str) -> psycopg.Connection[Any]:
    """An autocommit connection to the queue's database (StorageError when it cannot be had)."""
    import psycopg

    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise StorageError(f"the job queue's database: {exc}") from exc


def build_app(settings: Settings) -> procrastinate.App:
    """The procrastinate app on the archive's database, with every job registered."""
    import procrastinate

    url = require_queue(settings)
    connector = procrastinate.PsycopgConnector(conninfo=url, min_size=1, max_size=2)
    app = procrastinate.App(connector=connector)
    from sourcebook.jobs.worker import run_queued_job

    for kind in JOBS:
        app.task(name=PREFIX + kind, queue=QUEUE, pass_context=True)(run_queued_job)
    return app


@dataclass
class JobInfo:
    """One job as the CLI, the API and the page show it."""

    id: int
    kind: str
    status: str
    arguments: dict[str, Any]
    attempts: int
    queued_at: datetime | None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    done: int = 0
    total: int | None = None
    unit: str = "documents"
    worker: str | None = None
    error: str | None = None
    report: dict[str, Any] | None = None
    lock: str | None = None
    #: Times a worker started it (a job whose worker died runs again).
    runs: int = 0

    def progress_text(self) -> str:
        """ "n of N unit (p%)", or "n unit" when the total is unknown."""
        if self.total:
            share = 100 * self.done / self.total
            return f"{self.done:,} of {self.total:,} {self.unit} ({share:.0f}%)"
        return f"{self.done:,} {self.unit}" if self.done else ""

    def to_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "arguments": self.arguments,
            "runs": self.runs,
            "queued_at": iso(self.queued_at),
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "progress": {"done": self.done, "total": self.total, "unit": self.unit},
            "worker": self.worker,
            "error": self.error,
            "report": self.report,
        }


@dataclass
class QueueOverview:
    """Counts of jobs per kind and state, the jobs shown, and the live workers."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    jobs: list[JobInfo] = field(default_factory=list)
    workers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def depth(self) -> int:
        """Jobs waiting for a worker."""
        return sum(states.get("todo", 0) for states in self.counts.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "queue_depth": self.depth,
            "counts": self.counts,
            "workers": self.workers,
            "jobs": [job.to_json() for job in self.jobs],
        }


class JobQueue:
    """Enqueue, list, retry and cancel jobs (the CLI, the API, the benchmark use this)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = require_queue(settings)

    @contextmanager
    def connect(self) -> Iterator[psycopg.Connection[Any]]:
        import psycopg

        try:
            with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
                yield conn
        except psycopg.Error as exc:
            raise StorageError(f"the job queue's database: {exc}") from exc

    def install(self) -> None:
        """Create the queue's tables when missing (under an advisory lock: once)."""
        import procrastinate

        with self.connect() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
            try:
                row = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
                if row is None or row[0] is None:
                    schema = procrastinate.schema.SchemaManager.get_schema()
                    conn.execute(schema)  # procrastinate's own DDL
                conn.execute(TABLES)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))

    def installed(self) -> bool:
        with self.connect() as conn:
            row = conn.execute("SELECT to_regclass('sourcebook_job_progress')").fetchone()
        return row is not None and row[0] is not None

    def enqueue(
        self,
        kind: str,
        arguments: Sequence[dict[str, Any]],
        lock: str | None = None,
    ) -> list[int]:
        """Queue one ``kind`` job per set of arguments; returns their ids. ``lock``: jobs
        with the same lock run one at a time (entities: two would read the same pending
        documents)."""
        if kind not in JOBS:
            raise NotFound(f"no job called {kind!r}; jobs: {', '.join(JOBS)}")
        self.install()
        app = build_app(self.settings)
        with app.open():
            deferrer = app.configure_task(PREFIX + kind, lock=lock, queue=QUEUE)
            ids = deferrer.batch_defer(*arguments) if arguments else []
        with self.connect() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO sourcebook_job_progress (job_id, kind) VALUES (%s, %s) "
                "ON CONFLICT (job_id) DO NOTHING",
                [(job_id, kind) for job_id in ids],
            )
        return ids

    def overview(
        self, limit: int = 20, status: str | None = None, ids: Sequence[int] | None = None
    ) -> QueueOverview:
        """Counts per kind and state, the last ``limit`` jobs (of ``status``), live workers."""
        if not self.installed():
            return QueueOverview()
        overview = QueueOverview()
        with self.connect() as conn:
            for task, state, n in conn.execute(
                "SELECT task_name, status::text, count(*) FROM procrastinate_jobs "
                "GROUP BY 1, 2 ORDER BY 1, 2"
            ):
                kind = task.removeprefix(PREFIX)
                overview.counts.setdefault(kind, {})[state] = n
            rows = conn.execute(
                "SELECT j.id, j.task_name, j.status::text, j.args, j.attempts, j.lock, "
                "(SELECT min(e.at) FROM procrastinate_events e WHERE e.job_id = j.id), "
                "p.started_at, p.finished_at, p.done, p.total, p.unit, p.worker, p.error, "
                "p.report, p.runs FROM procrastinate_jobs j "
                "LEFT JOIN sourcebook_job_progress p ON p.job_id = j.id "
                "WHERE (%(status)s::text IS NULL OR j.status::text = %(status)s) "
                "AND (%(ids)s::bigint[] IS NULL OR j.id = ANY(%(ids)s)) "
                "ORDER BY j.id DESC LIMIT %(limit)s",
                {"status": status, "limit": limit, "ids": list(ids) if ids is not None else None},
            ).fetchall()
            overview.jobs = [_job_info(row) for row in rows]
            overview.workers = [
                {"id": wid, "last_heartbeat": beat.isoformat()}
                for wid, beat in conn.execute(
                    "SELECT id, last_heartbeat FROM procrastinate_workers ORDER BY id"
                )
            ]
        return overview

    def get(self, job_id: int) -> JobInfo:
        jobs = self.overview(limit=1, ids=[job_id]).jobs
        if not jobs:
            raise NotFound(f"no job {job_id}")
        return jobs[0]

    def retry(self, job_id: int) -> None:
        """Queue a failed job again (a running one is retried by the workers themselves when
        its worker dies)."""
        from datetime import UTC

        job = self.get(job_id)
        if job.status != "failed":
            raise Conflict(f"job {job_id} is {job.status}: only a failed job can be retried")
        app = build_app(self.settings)
        with app.open():
            app.job_manager.retry_job_by_id(job_id, retry_at=datetime.now(UTC))

    def cancel(self, job_id: int) -> None:
        """Cancel a job no worker has taken yet."""
        job = self.get(job_id)
        app = build_app(self.settings)
        with app.open():
            if not app.job_manager.cancel_job_by_id(job_id):
                raise Conflict(f"job {job_id} is {job.status}: only a queued job can be cancelled")

    def wait(self, ids: Sequence[int], timeout: float, poll: float = 0.2) -> list[JobInfo]:
        """Wait until these jobs are finished (succeeded, failed, cancelled); their infos."""
        import time

        deadline = time.monotonic() + timeout
        wanted = set(ids)
        while True:
            jobs = self.overview(limit=len(wanted), ids=list(wanted)).jobs
            if all(job.status not in ("todo", "doing", "aborting") for job in jobs):
                return jobs
            if time.monotonic() > deadline:
                raise Conflict(f"jobs still running after {timeout:.0f} s")
            time.sleep(poll)


def _job_info(row: tuple[Any, ...]) -> JobInfo:
    (job_id, task, state, args, attempts, lock, queued, started, finished) = row[:9]
    done, total, unit, worker, error, report, runs = row[9:]
    return JobInfo(
        id=job_id,
        kind=task.removeprefix(PREFIX),
        status=state,
        arguments=args if isinstance(args, dict) else json.loads(args or "{}"),
        attempts=attempts,
        lock=lock,
        queued_at=queued,
        started_at=started,
        finished_at=finished,
        done=done or 0,
        total=total,
        unit=unit or "documents",
        worker=worker,
        error=error,
        report=report,
        runs=runs or 0,
    )


__all__ = ["PREFIX", "QUEUE", "JobInfo", "JobQueue", "QueueOverview", "build_app", "require_queue"]
