"""The job queue on a real PostgreSQL server with real `sourcebook worker` processes.

Each test has a fresh schema (tests/store/conftest.py); without a server they skip and say why,
and in CI (CI=true) they fail.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sourcebook.cli import app
from sourcebook.config import Settings
from sourcebook.errors import Conflict
from sourcebook.index.vectors import VectorIndex
from sourcebook.jobs.definitions import JobRun, embed
from sourcebook.jobs.queue import JobQueue
from sourcebook.jobs.vectors import PostgresVectorRows, plan_embed_batches, pull_vectors
from sourcebook.jobs.worker import run_worker
from sourcebook.services import Archive, IngestOptions
from tests.enrich.test_embeddings import ToyEmbedder
from tests.store.conftest import pg_url  # noqa: F401  (the fixture)
from tests.test_followers import write_records

FAST = {"SOURCEBOOK_JOB_HEARTBEAT_SECONDS": "0.5", "SOURCEBOOK_JOB_STALLED_SECONDS": "2"}


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), **FAST)
    env.pop("SOURCEBOOK_HOME", None)
    return env


def sourcebook(home: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from sourcebook.cli import main; main()"]
    database = ["--database", url] if url else []
    return subprocess.run(
        [*command, "--archive", str(home), *database, *args],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def start_worker(home: Path, url: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", "from sourcebook.cli import main; main()"]
    return subprocess.Popen(
        [*command, "--archive", str(home), "--database", url, "worker"],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cli(home: Path, url: str, *args: str) -> tuple[int, str]:
    """The CLI in this process (typer's runner)."""
    result = CliRunner().invoke(app, ["--archive", str(home), "--database", url, *args])
    return result.exit_code, result.output


def test_the_cli_queues_runs_lists_and_retries_jobs(
    pg_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """`sourcebook jobs ingest` queues, `sourcebook worker --once` runs; a job that fails is
    recorded with its reason, shown by `sourcebook jobs`, and `jobs retry` queues it again."""
    records = write_records(tmp_path / "in.jsonl", "q", 30, "flood")
    home = tmp_path / "node"
    code, out = cli(home, pg_url, "jobs", "ingest", "--no-enrich", str(records))
    assert code == 0 and "queued 1 ingest job" in out, out
    assert cli(home, pg_url, "jobs", "ingest", str(tmp_path / "missing"))[0] == 0
    code, out = cli(home, pg_url, "jobs")
    assert code == 0 and "queue depth: 2 waiting" in out

    code, out = cli(home, pg_url, "worker", "--once")
    assert code == 0, out
    code, out = cli(home, pg_url, "jobs", "list", "--json")
    data = json.loads(out)
    assert data["queue_depth"] == 0
    assert data["counts"]["ingest"] == {"succeeded": 1, "failed": 1}
    failed, done = data["jobs"]
    assert done["status"] == "succeeded" and done["report"]["added"] == 30
    assert done["progress"]["done"] == done["progress"]["total"] > 0
    assert failed["status"] == "failed"
    assert "no such file on this worker" in failed["error"] and str(tmp_path) in failed["error"]
    code, table = cli(home, pg_url, "jobs", "list", "--status", "failed")
    assert "no such file" in table and "failed" in table

    queue = JobQueue(Settings(database_url=pg_url))
    with pytest.raises(Conflict, match="only a failed job can be retried"):
        queue.retry(done["id"])
    assert cli(home, pg_url, "jobs", "retry", str(failed["id"]))[0] == 0
    assert queue.get(failed["id"]).status == "todo"
    queue.cancel(failed["id"])
    assert queue.get(failed["id"]).status == "cancelled"
    with pytest.raises(Conflict, match="only a queued job can be cancelled"):
        queue.cancel(failed["id"])
    with Archive(Settings(home=home, database_url=pg_url)) as archive:
        assert archive.count() == 30
    code, out = cli(home, pg_url, "jobs", "embed", "--batch", "8")
    assert code == 0 and "queued 4 embed jobs" in out, out
    code, out = cli(home, pg_url, "jobs", "entities", "--per-job", "20")
    assert code == 0 and "queued 2 entities jobs" in out, out
    entity_jobs = queue.overview(status="todo").jobs[:2]
    assert {job.kind for job in entity_jobs} == {"entities"}
    assert {job.lock for job in entity_jobs} == {"sourcebook-entities"}
    code, out = cli(home, pg_url, "jobs", "pull-vectors")
    assert code == 0 and "0 current, 30 still without vectors" in out, out


def test_a_killed_worker_s_job_is_retried_by_another_and_nothing_is_lost(
    pg_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """SIGKILL the worker in the middle of an ingest job: the other worker queues the job again
    once the dead one's heartbeat is stale, runs it, and every document is stored once; each
    worker's index equals the store and `sourcebook check` is clean."""
    folder = tmp_path / "in"
    folder.mkdir()
    for k in range(4):
        write_records(folder / f"part-{k}.jsonl", f"k{k}", 600, "border")
    settings = Settings(home=tmp_path / "cli", database_url=pg_url)
    (job_id,) = JobQueue(settings).enqueue("ingest", [{"paths": [str(folder)], "enrich": False}])
    first = start_worker(tmp_path / "node-a", pg_url)
    second: subprocess.Popen[str] | None = None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # until the first worker has stored something
            job = JobQueue(settings).get(job_id)
            if job.status == "doing" and job.done > 0:
                break
            time.sleep(0.05)
        assert job.status == "doing", job
        import psycopg

        first.send_signal(signal.SIGKILL)
        first.wait()
        with psycopg.connect(pg_url) as conn:
            stored = conn.execute("SELECT count(*) FROM documents").fetchone()
        assert stored is not None and stored[0] < 2400  # killed mid-job
        second = start_worker(tmp_path / "node-b", pg_url)
        (finished,) = JobQueue(settings).wait([job_id], timeout=180)
        assert finished.status == "succeeded", finished
        assert finished.runs == 2
    finally:
        stop(first)
        if second is not None:
            stop(second)
    with psycopg.connect(pg_url) as conn:
        counts = conn.execute("SELECT count(*), count(DISTINCT source_key) FROM documents")
        assert counts.fetchone() == (2400, 2400)
    for node in ("node-a", "node-b"):
        with Archive(Settings(home=tmp_path / node, database_url=pg_url)) as archive:
            assert archive.check().ok
        assert sourcebook(tmp_path / node, pg_url, "check").returncode == 0


def test_embed_jobs_write_vectors_once_that_nodes_pull(
    pg_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The embed job writes a batch's vectors in one go (again: nothing to do), a node pulls
    them with the tags its own embedding job writes, and a changed document is planned again."""
    settings = Settings(home=tmp_path / "node", database_url=pg_url)
    records = write_records(tmp_path / "in.jsonl", "e", 12, "militia")
    toy = ToyEmbedder()
    queue = JobQueue(settings)
    queue.install()
    rows = PostgresVectorRows(pg_url)
    with Archive(settings, embedder=toy) as archive:
        archive.ingest([records], IngestOptions(enrich=False, detect_language=False))
        batches, current = plan_embed_batches(archive, rows, 5)
        assert [len(b) for b in batches] == [5, 5, 2] and current == 0
        reports = [embed(JobRun(archive, vectors=rows), docids=b) for b in batches]
        assert sum(r["documents"] for r in reports) == 12
        assert embed(JobRun(archive, vectors=rows), docids=batches[0])["current"] == 5
        assert toy.embedded == 12
        assert plan_embed_batches(archive, rows, 5) == ([], 12)
        counts = pull_vectors(archive, rows)
        assert counts["documents"] == 12 and counts["pending"] == 0
        assert archive.embedding_status().pending == 0
        index = VectorIndex.load(settings.vectors_path)
        assert len(index) == 12
        assert pull_vectors(archive, rows)["documents"] == 0
        write_records(records, "e", 1, "flood")  # e:0 changes
        archive.ingest([records], IngestOptions(enrich=False, detect_language=False))
        batches, current = plan_embed_batches(archive, rows, 5)
        assert sum(len(b) for b in batches) == 1 and current == 11


def test_workers_run_jobs_in_process_and_the_queue_is_visible(
    pg_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """`run_worker(once=True)` in this process; `/api/jobs` and `/jobs` show the jobs."""
    from sourcebook.web.app import create_app
    from tests.web.client import Client

    settings = Settings(home=tmp_path / "node", database_url=pg_url)
    records = write_records(tmp_path / "in.jsonl", "w", 5, "<b>flood</b>")
    queue = JobQueue(settings)
    queue.enqueue("ingest", [{"paths": [str(records)], "enrich": False}])
    queue.enqueue("ingest", [{"paths": ["/nowhere/<script>x</script>"]}])
    with Archive(settings) as archive:
        run_worker(settings, archive, once=True)
        assert archive.count() == 5
    (reindex,) = queue.enqueue("reindex", [{}])
    with Archive(settings) as archive:
        run_worker(settings, archive, once=True)
    assert queue.get(reindex).report == {"documents": 5}
    with Client(create_app(settings)) as site:
        data = site.get("/api/jobs").json()
        assert data["queue"] is True and data["counts"]["ingest"]["succeeded"] == 1
        assert data["queue_depth"] == 0 and data["counts"]["reindex"] == {"succeeded": 1}
        assert data["jobs"][1]["error"].startswith("NotFound: no such file")
        failed = site.get("/api/jobs", params={"status": "failed"}).json()["jobs"]
        assert len(failed) == 1
        page = site.get("/jobs")
        assert page.status_code == 200
        assert "<script>x" not in page.text and "&lt;script&gt;x" in page.text
        assert "Queue depth" in page.text
    with Client(create_app(settings), peer=("203.0.113.9", 4000)) as outside:
        assert outside.get("/api/jobs").status_code == 401  # no credentials


def test_an_embedded_archive_has_no_queue(tmp_path: Path) -> None:
    from sourcebook.web.app import create_app
    from tests.web.client import Client

    settings = Settings(home=tmp_path / "archive")
    with Client(create_app(settings)) as site:
        data = site.get("/api/jobs").json()
        assert data["queue"] is False and "no job queue" in data["explanation"]
        assert "there is no job queue" in site.get("/jobs").text
    result = CliRunner().invoke(app, ["--archive", str(tmp_path / "archive"), "jobs"])
    assert result.exit_code == 0 and "there is no job queue" in result.output
    worker = sourcebook(tmp_path / "archive", "", "worker")
    assert worker.returncode == 2 and "organisation mode" in worker.stderr


def test_due_sources_are_harvested_as_jobs_on_the_queue(
    pg_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """`sourcebook jobs harvest` queues one job per due source; a worker runs it; queued again
    at once, the source is no longer due and the job fetches nothing."""
    from sourcebook.services.sources import add_source
    from sourcebook.sources.model import Source
    from tests.sources.server import etag_reply, serve
    from tests.sources.test_harvest import FEED

    settings = Settings(
        home=tmp_path / "node",
        database_url=pg_url,
        fetch_allow_hosts=["127.0.0.1"],
        fetch_host_interval_seconds=0,
    )
    with serve({"/feed.xml": etag_reply(FEED, '"v1"', "application/rss+xml")}) as site:
        with Archive(settings) as archive:
            add_source(archive, Source("monitor", f"{site.base}/feed.xml", "feed", 3600))
        queue = JobQueue(settings)
        (first,) = queue.enqueue("harvest", [{"source": "monitor"}], "harvest:monitor")
        (second,) = queue.enqueue("harvest", [{"source": "monitor"}], "harvest:monitor")
        with Archive(settings) as archive:
            run_worker(settings, archive, once=True)
            stored = archive.count()
        assert site.paths() == ["/feed.xml"]  # the second job found the source not due
    assert stored and queue.get(first).report["added"] == stored
    assert queue.get(second).report == {"source": "monitor", "status": "not due"}


def test_a_search_node_pulls_queued_vectors_by_itself(
    pg_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """`serve`'s puller copies what embed jobs wrote, and looks again only after a change."""
    from sourcebook.jobs.vector_puller import VectorPuller, start_vector_puller

    settings = Settings(home=tmp_path / "node", database_url=pg_url)
    records = write_records(tmp_path / "in.jsonl", "p", 6, "militia")
    rows = PostgresVectorRows(pg_url)
    with Archive(settings, embedder=ToyEmbedder()) as archive:
        archive.ingest([records], IngestOptions(enrich=False, detect_language=False))
        puller = VectorPuller(archive, 60)
        assert puller.poll() is None  # no job ever queued: no vectors table yet
        JobQueue(settings).install()
        batches, _ = plan_embed_batches(archive, rows, 10)
        assert puller.poll() == {  # nothing embedded yet: six documents pending
            "documents": 0,
            "vectors": 0,
            "removed": 0,
            "pending": 6,
            "current": 0,
        }
        embed(JobRun(archive, vectors=rows), docids=batches[0])
        report = puller.poll()
        assert report is not None and report["documents"] == 6 and report["pending"] == 0
        assert archive.embedding_status().pending == 0
        assert puller.poll() is None and puller.pulls == 2  # nothing changed since
        write_records(records, "p", 1, "flood")  # p:0 changes: its vectors are outdated
        archive.ingest([records], IngestOptions(enrich=False, detect_language=False))
        again = puller.poll()
        assert again is not None and again["pending"] == 1 and again["documents"] == 0
    # serve starts one only in organisation mode, and not with SOURCEBOOK_VECTOR_PULL_SECONDS=0
    off = settings.model_copy(update={"vector_pull_seconds": 0})
    with Archive(off, embedder=ToyEmbedder()) as archive:
        assert start_vector_puller(archive) is None
    with Archive(Settings(home=tmp_path / "laptop"), embedder=ToyEmbedder()) as archive:
        assert start_vector_puller(archive) is None
    with Archive(settings, embedder=ToyEmbedder()) as archive:
        started = start_vector_puller(archive)
        assert started is not None
        started.stop()
