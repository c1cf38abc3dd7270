"""Uploaded files waiting for a worker: a table of the queue's database.

In organisation mode the API does not ingest an upload in the search node's process: it keeps
the files in ``sourcebook_job_uploads`` (one row per file: the upload's id, its number, the name
the client sent and the bytes) and queues an ``upload`` job. A worker on any machine reads the
rows, stages and ingests the files, and drops the rows once the job succeeded; a worker killed
half-way leaves them for the job's next run, which finds what the first run stored "unchanged".
Rows are bounded by the upload limits (``SOURCEBOOK_MAX_FILE_BYTES``, 100 files an upload).
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Sequence
from typing import Any

from sourcebook.jobs.queue import connect_queue_db
from sourcebook.staging import Upload


class PostgresUploadRows:
    """``sourcebook_job_uploads`` in the queue's database."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _connect(self) -> Any:
        return connect_queue_db(self.url)

    def put(self, uploads: Sequence[Upload]) -> str:
        """Keep these files (in one transaction); returns the upload's new id."""
        upload_id = secrets.token_hex(12)
        with self._connect() as conn, conn.transaction(), conn.cursor() as cur:
            for number, upload in enumerate(uploads, 1):
                upload.file.seek(0)
                cur.execute(
                    "INSERT INTO sourcebook_job_uploads (upload_id, number, name, content) "
                    "VALUES (%s, %s, %s, %s)",
                    (upload_id, number, upload.filename, upload.file.read()),
                )
        return upload_id

    def get(self, upload_id: str) -> list[Upload]:
        """The upload's files in their order (none once a run of its job succeeded)."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT name, content FROM sourcebook_job_uploads WHERE upload_id = %s "
                "ORDER BY number",
                (upload_id,),
            ).fetchall()
        return [Upload(name, io.BytesIO(bytes(content))) for name, content in rows]

    def drop(self, upload_id: str) -> None:
        with self._connect() as conn:
            conn.execute("DELETE FROM sourcebook_job_uploads WHERE upload_id = %s", (upload_id,))
