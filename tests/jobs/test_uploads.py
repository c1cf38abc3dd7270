"""Uploads in organisation mode: the API keeps the files in the queue's database and answers 202;
a worker ingests them; the job's report is the ingest report; a job run again after it
succeeded finds nothing left to do; the embedded archive still ingests at once."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from sourcebook.config import Settings
from sourcebook.jobs.definitions import JobRun, upload
from sourcebook.jobs.queue import JobQueue
from sourcebook.jobs.uploads import PostgresUploadRows
from sourcebook.jobs.worker import run_worker
from sourcebook.services import Archive
from sourcebook.staging import Upload, worker_staging
from tests.store.conftest import pg_url  # noqa: F401  (the fixture)

pytest.importorskip("procrastinate")

NOTE = "Floods reached the Kulob district on 3 May 2024, the governor's office said.\n"


def _rows(settings: Settings) -> int:
    with JobQueue(settings).connect() as conn:
        row = conn.execute("SELECT count(*) FROM sourcebook_job_uploads").fetchone()
    return int(row[0]) if row else 0


def test_an_upload_is_queued_and_a_worker_ingests_it(
    pg_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    from sourcebook.web.app import create_app
    from tests.web.client import Client

    settings = Settings(home=tmp_path / "node", database_url=pg_url)
    files = [
        ("files", ("../../etc/kulob <note>.txt", NOTE.encode(), "text/plain")),
        ("files", ("broken.pdf", b"%PDF-1.4 not really", "application/pdf")),
    ]
    with Client(create_app(settings)) as site:
        answer = site.post("/api/ingest", files=files, data={"collection": "news"})
        assert answer.status_code == 202, answer.text
        queued = answer.json()
        assert queued["status"] == "todo" and queued["files"] == 2
        assert queued["job_url"] == f"/api/jobs/{queued['job']}"
        assert site.get(queued["job_url"]).json()["status"] == "todo"
        assert _rows(settings) == 2
        with Archive(settings) as archive:
            assert archive.count() == 0  # nothing ingested by the server itself
            run_worker(settings, archive, once=True)
            assert archive.count() == 1
            (doc,) = archive.store.iter_documents()
            assert doc.collection == "news" and "Kulob" in doc.title
            assert str(worker_staging()) in doc.source_key  # the same path on every worker
        job = site.get(queued["job_url"]).json()
        assert job["status"] == "succeeded" and job["kind"] == "upload"
        report = job["report"]
        assert report["added"] == 1 and report["failed"] == 1
        paths = [f["path"] for f in report["files"]]
        assert paths == ["kulob <note>.txt", "broken.pdf"]  # the names sent, no server path
        assert not any(str(tmp_path) in e for f in report["files"] for e in f["errors"])
        assert _rows(settings) == 0  # dropped once ingested
        assert site.get("/api/jobs/999999").status_code == 404
    # the job run again after it succeeded has nothing left to do; the same file uploaded again
    # (its job run by any worker) is found unchanged under the same source key
    rows = PostgresUploadRows(JobQueue(settings).url)
    upload_id = JobQueue(settings).get(queued["job"]).arguments["upload"]
    with Archive(settings) as archive:
        run = JobRun(archive, uploads=rows)
        assert upload(run, upload_id)["status"] == "ingested before"
        again = rows.put([Upload("kulob <note>.txt", io.BytesIO(NOTE.encode()))])
        report = upload(run, again, collection="news")
        assert report["unchanged"] == 1 and report["added"] == 0
        assert archive.count() == 1


def test_inline_uploads_in_organisation_mode_when_asked(
    pg_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    from sourcebook.web.app import create_app
    from tests.web.client import Client

    settings = Settings(home=tmp_path / "node", database_url=pg_url, upload_jobs="inline")
    with Client(create_app(settings)) as site:
        answer = site.post("/api/ingest", files=[("files", ("a.txt", NOTE.encode(), "text/plain"))])
        assert answer.status_code == 200 and answer.json()["added"] == 1


def test_an_embedded_archive_ingests_uploads_at_once(tmp_path: Path) -> None:
    from sourcebook.web.app import create_app
    from tests.web.client import Client

    settings = Settings(home=tmp_path / "archive")
    with Client(create_app(settings)) as site:
        answer = site.post("/api/ingest", files=[("files", ("a.txt", NOTE.encode(), "text/plain"))])
        assert answer.status_code == 200 and answer.json()["added"] == 1
    assert not (tmp_path / "archive" / "uploads").exists()  # staged copies removed
