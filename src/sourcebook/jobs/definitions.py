"""The jobs: plain functions of (archive, arguments) that a queue worker, or the archive's own
process, calls.

Each job takes a :class:`JobRun` (the archive it works on, a way to say how far it is, and where
its vectors go) and keyword arguments that are plain JSON values (they travel through the queue),
and returns a small JSON report. Every job is idempotent: run twice, or run again after a
worker died half-way through it, it leaves the archive as one run would:

* ``ingest``: ingest files (by path on the worker's machine); re-ingesting finds what a killed
  run stored "unchanged" (the store keys documents by source), and each batch is one store
  transaction, so a kill stores a batch whole or not at all.
* ``upload``: ingest files uploaded through the API, kept in the queue's database until the job
  succeeded (:class:`UploadRows`); staged under the same path on every worker, so a run again
  elsewhere finds the same source keys.
* ``entities``: people and organisations of documents still pending; a document is marked done
  only with the revision it was read at (``Store.set_entities``).
* ``embed``: vectors of a batch of documents, written in one transaction to where every search
  node pulls them from (:class:`VectorRows`); rewriting a document's vectors replaces them.
* ``reindex``: rebuild the search index of the worker's own archive folder from the store.
* ``harvest``: run one source (feed, OAI-PMH, pages, sitemap); a source's state is saved with
  what it stored, so a killed run fetches again what it had not stored.

A job is a function and one line in :data:`JOBS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sourcebook.errors import ConfigError, NotFound

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from sourcebook.services import Archive
    from sourcebook.staging import Upload

#: How far a job is: (done, total or None when unknown, unit).
Progress = Callable[[int, int | None, str], None]

JSON = dict[str, Any]


class VectorRows(Protocol):
    """Where ``embed`` writes vectors (organisation mode: a table of the queue's database)."""

    def tags_of(self, docids: Sequence[str], model: str) -> dict[str, str]:
        """unit id -> tag of the vectors already written for these documents."""
        ...

    def replace(
        self,
        model: str,
        docids: Sequence[str],
        rows: Sequence[tuple[str, str, str]],
        vectors: NDArray[np.float32],
    ) -> None:
        """In one transaction: drop these documents' vectors, write ``rows`` (unit id, docid,
        tag) with ``vectors`` (one row each)."""
        ...


class UploadRows(Protocol):
    """Where the API keeps uploaded files for the ``upload`` job (the queue's database)."""

    def get(self, upload_id: str) -> list[Upload]:
        """The upload's files, in order; none once the job succeeded."""
        ...

    def drop(self, upload_id: str) -> None: ...


def _no_progress(done: int, total: int | None, unit: str) -> None:
    return None


@dataclass
class JobRun:
    """What a job gets besides its arguments."""

    archive: Archive
    progress: Progress = _no_progress
    vectors: VectorRows | None = None
    uploads: UploadRows | None = None
    #: Extra facts a job may add to its report (e.g. the worker's name).
    notes: dict[str, Any] = field(default_factory=dict)


def ingest(run: JobRun, paths: Sequence[str], collection: str = "", enrich: bool = True) -> JSON:
    """Ingest files and folders (paths on the worker's machine); progress in bytes read."""
    from sourcebook.services import IngestOptions

    files = [Path(p) for p in paths]
    missing = [str(p) for p in files if not p.exists()]
    if missing:
        raise NotFound(f"no such file on this worker: {', '.join(missing)}")
    total = sum(_size(p) for p in files)
    read = 0

    def step(advance: int, documents: int) -> None:
        nonlocal read
        read += advance
        run.progress(read, total or None, "bytes")

    options = IngestOptions(collection=collection, enrich=enrich, detect_language=enrich)
    report = run.archive.ingest(files, options, progress=step)
    return {
        "documents": report.documents,
        "added": report.total("added"),
        "updated": report.total("updated"),
        "unchanged": report.total("unchanged"),
        "failed": report.total("failed"),
        "failed_files": report.failed_files,
        "status": report.status,
        "seconds": round(report.seconds, 3),
    }


def upload(
    run: JobRun, upload: str, collection: str = "", replace: bool = False, names: str = ""
) -> JSON:
    """Ingest the files of an API upload (``names``: what the client sent, for the jobs list);
    the report is the API's ingest report."""
    from sourcebook.services import IngestOptions
    from sourcebook.staging import ingest_staged, worker_staging

    if run.uploads is None:
        raise ConfigError("the upload job reads the queue's database: organisation mode only")
    files = run.uploads.get(upload)
    if not files:  # a run that succeeded already dropped them
        return {"upload": upload, "status": "ingested before", "files": []}
    total = sum(f.file.seek(0, 2) for f in files)  # their sizes: the end of each
    read = 0

    def step(advance: int, documents: int) -> None:
        nonlocal read
        read += advance
        run.progress(read, total or None, "bytes")

    options = IngestOptions(collection=collection, replace_existing=replace)
    report = ingest_staged(run.archive, worker_staging(), files, options, progress=step)
    run.uploads.drop(upload)
    return {"upload": upload, "status": "ingested", **report}


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def entities(run: JobRun, limit: int = 0, batch_size: int = 64) -> JSON:
    """People and organisations of up to ``limit`` pending documents (0: all)."""
    total = run.archive.pending_entities()
    if limit:
        total = min(total, limit)

    def step(advance: int, done: int) -> None:
        run.progress(done, total, "documents")

    done = run.archive.enrich_entities(batch_size=batch_size, limit=limit, progress=step)
    return {"documents": done, "pending": run.archive.pending_entities()}


def embed(run: JobRun, docids: Sequence[str]) -> JSON:
    """Vectors of these documents (the archive's model and unit kind), written in one go.

    Documents whose vectors are current (same content hash and unit count) are left as they
    are; a document deleted since the job was queued is skipped.
    """
    from sourcebook.enrich.embeddings import unit_tag, units_of
    from sourcebook.store.codec import content_hash

    if run.vectors is None:
        raise ConfigError("the embed job writes to the queue's database: organisation mode only")
    vectors = run.archive.engine.vectors
    reason = vectors.extra_missing()
    if reason:
        raise ConfigError(f"cannot embed documents: {reason}")
    embedder = vectors.embedder
    unit = run.archive.settings.semantic_unit
    docs = run.archive.store.get_many(list(docids))
    saved = run.vectors.tags_of(list(docs), embedder.name)
    rows: list[tuple[str, str, str]] = []
    texts: list[str] = []
    todo: list[str] = []
    current = 0
    for docid, doc in docs.items():
        items = units_of(doc, unit)
        tag = unit_tag(content_hash(doc), len(items))
        if items and all(saved.get(item) == tag for item, _ in items):
            current += 1
            continue
        todo.append(docid)
        for item, text in items:
            rows.append((item, docid, tag))
            texts.append(text)
    run.progress(0, len(docids), "documents")
    computed = embedder.embed_documents(texts)
    run.vectors.replace(embedder.name, todo, rows, computed)
    run.progress(len(docids), len(docids), "documents")
    return {
        "documents": len(todo),
        "vectors": len(rows),
        "current": current,
        "gone": len(docids) - len(docs),
        "model": embedder.name,
    }


def reindex(run: JobRun) -> JSON:
    """Rebuild the search index of the worker's archive folder from the store."""
    total = run.archive.count()

    def step(advance: int, done: int) -> None:
        run.progress(done, total, "documents")

    return {"documents": run.archive.reindex(progress=step)}


def harvest(run: JobRun, source: str, only_if_due: bool = True) -> JSON:
    """Run one source (docs/sources.md): fetch what is new and store it with its originals.
    With ``only_if_due`` a source run since it was queued (by another job or `sources run`)
    is left alone, so a timer may queue the due sources as often as it likes."""
    from sourcebook.services.sources import due_sources, harvest_source

    if only_if_due and source not in {s.name for s in due_sources(run.archive)}:
        return {"source": source, "status": "not due"}
    run.progress(0, None, "documents")
    report = harvest_source(run.archive, source)
    return {
        "source": report.source,
        "status": report.status,
        "requests": report.requests,
        "items": report.items,
        "added": report.added,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "failed": report.failed,
        "originals": report.originals,
        "errors": report.errors[:5],
        "seconds": round(report.seconds, 3),
    }


#: Every job by name. A job is ``fn(run, **arguments) -> report``.
JOBS: Mapping[str, Callable[..., JSON]] = {
    "ingest": ingest,
    "upload": upload,
    "entities": entities,
    "embed": embed,
    "reindex": reindex,
    "harvest": harvest,
}


def job_function(kind: str) -> Callable[..., JSON]:
    try:
        return JOBS[kind]
    except KeyError:
        raise NotFound(f"no job called {kind!r}; jobs: {', '.join(JOBS)}") from None


__all__ = ["JOBS", "JobRun", "Progress", "UploadRows", "VectorRows", "job_function"]
