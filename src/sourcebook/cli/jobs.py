"""Commands of the job queue (organisation mode): ``worker`` and ``jobs``."""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from sourcebook.cli.base import _open, _read, _settings, app, console, err
from sourcebook.errors import ConfigError
from sourcebook.jobs.queue import JobQueue, QueueOverview
from sourcebook.services.jobs import NO_QUEUE, STATES, queue_overview

jobs_app = typer.Typer(
    help="The job queue of an organisation archive: what is queued, running, failed or done; "
    "queue jobs for `sourcebook worker` processes; retry or cancel them.",
    invoke_without_command=True,
)
app.add_typer(jobs_app, name="jobs")


def _queue() -> JobQueue:
    return JobQueue(_settings())


@app.command()
def worker(
    concurrency: Annotated[
        int, typer.Option(min=1, help="Jobs this process runs at once (threads).")
    ] = 1,
    once: Annotated[
        bool, typer.Option("--once", help="Stop when the queue is empty instead of waiting.")
    ] = False,
    threads: Annotated[
        int,
        typer.Option(
            min=0, help="Threads of the embedding model (ONNX Runtime or torch); 0: one per core."
        ),
    ] = 0,
    warm: Annotated[
        bool,
        typer.Option("--warm", help="Load the embedding model before taking jobs."),
    ] = False,
) -> None:
    """Take jobs from the queue and run them (organisation mode): ingest, entities, embed,
    reindex. Stop with Ctrl+C or SIGTERM (running jobs finish first); a worker killed outright
    has its running jobs queued again for another worker."""
    from sourcebook.jobs.queue import require_queue
    from sourcebook.jobs.worker import run_worker, worker_name

    settings = _settings()
    require_queue(settings)
    if threads:
        settings = settings.model_copy(update={"semantic_threads": threads})
        try:  # torch, when the model runs on it (SOURCEBOOK_SEMANTIC_RUNTIME=torch)
            torch: Any = importlib.import_module("torch")
        except ImportError:
            pass
        else:
            torch.set_num_threads(threads)
    archive = _open(settings)
    with archive:
        if warm:
            reason = archive.engine.vectors.extra_missing()
            if reason:
                raise ConfigError(f"cannot load the embedding model: {reason}")
            archive.engine.vectors.embedder.embed_queries(["warm up"])

        def ready() -> None:
            err.print(f"worker {worker_name()} ready (concurrency {concurrency})")

        run_worker(settings, archive, concurrency=concurrency, once=once, on_ready=ready)


@jobs_app.callback()
def jobs_main(ctx: typer.Context) -> None:
    """Without a subcommand: the queue's counts and recent jobs (as `jobs list`)."""
    if ctx.invoked_subcommand is None:
        list_jobs()


@jobs_app.command("list")
def list_jobs(
    status: Annotated[
        str | None, typer.Option(help=f"Only jobs in this state: {', '.join(STATES)}.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Most jobs shown.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Jobs queued, running, failed and done per kind; the latest jobs with their progress,
    worker and failure reason."""
    if status is not None and status not in STATES:
        err.print(f"[red]error:[/red] --status is one of {', '.join(STATES)}")
        raise typer.Exit(2)
    overview = queue_overview(_settings(), limit=limit, status=status)
    if overview is None:
        if as_json:
            console.print_json(json.dumps({"queue": None, "explanation": NO_QUEUE}))
        else:
            console.print(escape(NO_QUEUE), soft_wrap=True)
        return
    if as_json:
        print(json.dumps(overview.to_json(), ensure_ascii=False))
        return
    _print_overview(overview)


def _print_overview(overview: QueueOverview) -> None:
    console.print(
        f"queue depth: {overview.depth:,} waiting; workers alive: {len(overview.workers)}"
    )
    if not overview.counts:
        console.print("no jobs yet")
        return
    counts = Table("kind", *STATES[:5])
    for kind, states in sorted(overview.counts.items()):
        counts.add_row(escape(kind), *(f"{states.get(s, 0):,}" for s in STATES[:5]))
    console.print(counts)
    recent = Table("id", "kind", "status", "progress", "runs", "worker", "failure")
    for job in overview.jobs:
        recent.add_row(
            str(job.id),
            escape(job.kind),
            escape(job.status),
            job.progress_text(),
            str(job.runs),
            escape(job.worker or ""),
            escape(job.error or ""),
        )
    console.print(recent)


def _queued(kind: str, ids: list[int]) -> None:
    if not ids:
        console.print(f"nothing to queue: no {kind} job needed")
        return
    first, last = ids[0], ids[-1]
    where = f"job {first}" if len(ids) == 1 else f"jobs {first}-{last}"
    console.print(f"queued {len(ids):,} {kind} {'job' if len(ids) == 1 else 'jobs'} ({where})")


@jobs_app.command("ingest")
def queue_ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="Files or folders, as the workers' machines see them.")
    ],
    collection: Annotated[str, typer.Option(help="File the documents under this collection.")] = "",
    enrich: Annotated[
        bool, typer.Option("--enrich/--no-enrich", help="Language, countries, places, dedup.")
    ] = True,
) -> None:
    """Queue one ingest job for these paths (a worker reads them: they must be on its
    machine, or on a shared disk)."""
    args = {"paths": [str(p.resolve()) for p in paths], "collection": collection, "enrich": enrich}
    _queued("ingest", _queue().enqueue("ingest", [args]))


@jobs_app.command("entities")
def queue_entities(
    per_job: Annotated[int, typer.Option(min=1, help="Documents per job.")] = 1000,
    batch: Annotated[int, typer.Option(min=1, help="Documents per store transaction.")] = 64,
) -> None:
    """Queue entity extraction of the pending documents, in jobs of --per-job documents
    (they run one at a time: each takes the next pending documents)."""
    queue = _queue()
    with _open() as archive:
        pending = archive.pending_entities()
    jobs = [{"limit": per_job, "batch_size": batch}] * math.ceil(pending / per_job)
    _queued("entities", queue.enqueue("entities", jobs, lock="sourcebook-entities"))


@jobs_app.command("embed")
def queue_embed(
    batch: Annotated[int, typer.Option(min=1, max=5000, help="Documents per job.")] = 64,
) -> None:
    """Queue embedding jobs for every document whose vectors are missing or outdated in the
    queue's vector table, --batch documents a job (workers run them in parallel)."""
    from sourcebook.jobs.vectors import PostgresVectorRows, plan_embed_batches

    queue = _queue()
    queue.install()
    with _open() as archive:
        batches, current = plan_embed_batches(archive, PostgresVectorRows(queue.url), batch)
    console.print(f"{current:,} documents have current vectors")
    _queued("embed", queue.enqueue("embed", [{"docids": b} for b in batches]))


@jobs_app.command("reindex")
def queue_reindex() -> None:
    """Queue a rebuild of the search index of the archive folder of the worker that takes
    it (each node rebuilds its own with `sourcebook reindex`)."""
    _queued("reindex", _queue().enqueue("reindex", [{}]))


@jobs_app.command("harvest")
def queue_harvest(
    names: Annotated[
        list[str] | None, typer.Argument(help="Sources to run (default: every due source).")
    ] = None,
) -> None:
    """Queue a harvest job per source: the named ones, or every source that is due (run this
    from a systemd timer or cron every few minutes; a source run meanwhile is skipped)."""
    from sourcebook.services.sources import due_sources

    queue = _queue()
    if names:
        wanted = list(names)
    else:
        with _read() as archive:
            wanted = [s.name for s in due_sources(archive)]
    ids: list[int] = []
    for name in wanted:  # one lock per source: never two harvests of one source at once
        ids += queue.enqueue(
            "harvest", [{"source": name, "only_if_due": not names}], f"harvest:{name}"
        )
    _queued("harvest", ids)


@jobs_app.command("pull-vectors")
def pull_vectors() -> None:
    """Copy the vectors queued embedding jobs computed into this node's vector index."""
    from sourcebook.jobs.vectors import PostgresVectorRows
    from sourcebook.jobs.vectors import pull_vectors as pull

    queue = _queue()
    queue.install()
    with _open() as archive:
        counts = pull(archive, PostgresVectorRows(queue.url))
    console.print(
        f"pulled vectors of {counts['documents']:,} documents ({counts['vectors']:,} vectors); "
        f"{counts['current']:,} current, {counts['pending']:,} still without vectors "
        f"(queue them: sourcebook jobs embed), {counts['removed']:,} removed"
    )


@jobs_app.command("retry")
def retry(job_id: Annotated[int, typer.Argument(help="The failed job's id.")]) -> None:
    """Queue a failed job again."""
    _queue().retry(job_id)
    console.print(f"job {job_id} queued again")


@jobs_app.command("cancel")
def cancel(job_id: Annotated[int, typer.Argument(help="The queued job's id.")]) -> None:
    """Cancel a job no worker has taken yet."""
    _queue().cancel(job_id)
    console.print(f"job {job_id} cancelled")
