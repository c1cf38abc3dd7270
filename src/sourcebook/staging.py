"""Ingest by upload: stage the uploaded files under safe names, run ``Archive.ingest``, clean up.

Parsers that find no identity in a file (plain text, a PDF, HTML without a canonical URL) key the
document on its path (``file:<path>``), so the staging path must be stable for the same upload:
files are staged as ``<staging folder>/<content hash>/<safe name>``. Uploading the same file
twice leaves it unchanged; two different files that share a name never overwrite each other's
record. The staged copies are removed once ingested (the store keeps the content).

The embedded archive stages in its own folder (``<archive>/uploads``) and ingests at once. In
organisation mode the API keeps the files in the queue's database and a worker ingests them
(the ``upload`` job, :mod:`sourcebook.jobs.uploads`), staging them in a folder that has the
same name on every worker (:func:`worker_staging`), so a job run again on another worker finds
its documents under the same source keys.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sourcebook.ingest.report import ProgressCallback
from sourcebook.services import Archive, IngestOptions

#: Files one upload request may carry.
MAX_UPLOAD_FILES = 100
#: Longest staged file name (the extension is kept: parsers look at it).
MAX_NAME_CHARS = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_COPY_CHUNK = 1024 * 1024


@dataclass
class Upload:
    filename: str
    file: IO[bytes]


def display_name(filename: str) -> str:
    """The uploaded file's own name, without any folders the client sent."""
    return filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "upload"


def safe_name(filename: str, number: int) -> str:
    """A file name that is safe on any file system: ASCII letters, digits, ``.``, ``_``, ``-``;
    not hidden, not ``..``, not too long, extension kept."""
    name = unicodedata.normalize("NFKD", display_name(filename))
    name = name.encode("ascii", "ignore").decode("ascii")
    name = _UNSAFE.sub("_", name).lstrip("._-")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = ext[:16]
    stem = stem[: MAX_NAME_CHARS - len(ext) - 1].rstrip("._-")
    if not stem:
        stem = f"upload-{number}"
    return f"{stem}.{ext}" if ext else stem


def worker_staging() -> Path:
    """Where workers stage queued uploads: the same path on every machine (the system's
    temporary folder), so that the documents' ``file:`` source keys do not depend on the worker."""
    return Path(tempfile.gettempdir()) / "sourcebook-uploads"


def _stage(upload: Upload, staging: Path, number: int) -> Path:
    staging.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    upload.file.seek(0)
    with tempfile.NamedTemporaryFile(dir=staging, prefix=".partial-", delete=False) as tmp:
        while chunk := upload.file.read(_COPY_CHUNK):
            digest.update(chunk)
            tmp.write(chunk)
    folder = staging / digest.hexdigest()[:20]
    folder.mkdir(exist_ok=True)
    target = folder / safe_name(upload.filename, number)
    os.replace(tmp.name, target)
    return target


def _unstage(paths: list[Path], staging: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # another staged file is still in the folder
            path.parent.rmdir()
    for leftover in staging.glob(".partial-*"):
        leftover.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty: another upload is being staged
        staging.rmdir()


def ingest_staged(
    archive: Archive,
    staging: Path,
    uploads: Sequence[Upload],
    options: IngestOptions,
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Stage, ingest, clean up; the report (the API's ``IngestOut`` fields) names files by their
    uploaded names only, never by a path of the server."""
    staged: list[Path] = []
    names: dict[str, str] = {}
    try:
        for number, upload in enumerate(uploads, 1):
            path = _stage(upload, staging, number)
            staged.append(path)
            names[str(path)] = display_name(upload.filename)
        report = archive.ingest(staged, options, progress=progress)
    finally:
        _unstage(staged, staging)

    def hide_paths(message: str) -> str:
        for path, name in names.items():
            message = message.replace(path, name)
        return message.replace(str(staging) + os.sep, "")

    return {
        "run_id": report.run_id,
        "seconds": round(report.seconds, 3),
        "added": report.total("added"),
        "updated": report.total("updated"),
        "unchanged": report.total("unchanged"),
        "failed": report.total("failed"),
        "files": [
            {
                "path": names.get(outcome.path, display_name(outcome.path)),
                "parser": outcome.parser,
                "status": outcome.status,
                "added": outcome.added,
                "updated": outcome.updated,
                "unchanged": outcome.unchanged,
                "failed": outcome.failed,
                "skipped": outcome.skipped,
                "errors": [hide_paths(e) for e in outcome.errors],
            }
            for outcome in report.files
        ],
    }


def ingest_uploads(
    archive: Archive, home: Path, uploads: Sequence[Upload], options: IngestOptions
) -> dict[str, Any]:
    """The embedded archive's upload: staged in ``<archive>/uploads``, ingested at once."""
    # the writer lock first: an upload refused (409) while another writer runs wrote nothing
    with archive.writing("upload"):
        return ingest_staged(archive, home / "uploads", uploads, options)
