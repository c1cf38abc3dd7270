"""The embedding job: brings the vector index in line with the store, resumably.

``sourcebook enrich --embeddings`` (``Archive.enrich_embeddings``) runs it in the background of
a working archive. Each vector is saved with a tag, ``<content hash>/<units>`` of the document
it was computed from (:func:`~sourcebook.enrich.embeddings.unit_tag`), so one comparison of the
store's (docid, content hash) list with the saved tags (:func:`plan_embeddings`) says what to do:

* new documents, and documents whose content changed, are embedded (a changed document's old
  vectors are removed first: its passages may now be fewer);
* documents a stopped run embedded in part (some passages saved) get the rest;
* vectors of documents no longer in the store are removed;
* vectors of the other unit kind (``SOURCEBOOK_SEMANTIC_UNIT`` changed) are replaced.

Vectors are saved every ``chunk`` units (:func:`~sourcebook.enrich.embeddings.embed_missing`),
so a stopped run loses at most one chunk, and search uses what is saved as soon as it is saved.
The job holds the vector index's writer lock: a second job at the same time stops with
:class:`~sourcebook.errors.Conflict`. A run that leaves more than ``COMPACT_SEGMENTS`` segments
rewrites the index as one.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sourcebook.enrich.embeddings import embed_missing, unit_docid, unit_tag, units_of

if TYPE_CHECKING:
    from sourcebook.enrich.embeddings import Embedder
    from sourcebook.model import Document

#: Units embedded (and saved) together.
DEFAULT_CHUNK = 256
#: Documents read from the store at a time.
LOAD_BATCH = 64
#: A run that leaves more segments than this rewrites the index as one (loading stays quick).
COMPACT_SEGMENTS = 200


@dataclass
class EmbeddingPlan:
    """What an embedding job has to do, from comparing the store with the saved vectors."""

    #: Docids to embed (new, changed, or partly embedded), in store order.
    pending: list[str] = field(default_factory=list)
    #: Unit ids whose vectors must go: deleted documents, changed ones, the other unit kind.
    remove: list[str] = field(default_factory=list)
    #: Documents whose vectors are current.
    current: int = 0
    #: Documents embedded before whose content (or unit kind) changed since.
    changed: set[str] = field(default_factory=set)
    #: Documents with vectors that are no longer in the store.
    deleted: int = 0


def plan_embeddings(
    stored: Iterable[tuple[str, str]], saved: Mapping[str, str], unit: str
) -> EmbeddingPlan:
    """Compare the store's (docid, content hash) with the saved vectors (unit id -> tag).

    A document is current when each of its vectors is of the ``unit`` kind and tagged with its
    content hash, and all of its units are there.
    """
    by_doc: dict[str, list[str]] = {}
    for item in saved:
        by_doc.setdefault(unit_docid(item), []).append(item)
    plan = EmbeddingPlan()
    for docid, chash in stored:
        items = by_doc.pop(docid, None)
        if not items:
            plan.pending.append(docid)
            continue
        right_kind = all(("#" in item) == (unit == "passage") for item in items)
        tags = {saved[item] for item in items}
        tag = tags.pop() if len(tags) == 1 else ""
        tag_hash, _, count = tag.rpartition("/")
        if right_kind and tag_hash == chash and count.isdigit():
            if len(items) >= int(count):
                plan.current += 1
            else:  # a stopped run saved some of its passages: embed the others
                plan.pending.append(docid)
            continue
        plan.changed.add(docid)
        plan.remove.extend(items)
        plan.pending.append(docid)
    for items in by_doc.values():
        plan.deleted += 1
        plan.remove.extend(items)
    return plan


@dataclass
class EmbeddingStatus:
    """How much of the archive has current vectors."""

    documents: int
    embedded: int

    @property
    def pending(self) -> int:
        return self.documents - self.embedded


@dataclass
class EmbeddingReport:
    """What one run of the job did."""

    model: str
    unit: str
    #: Documents embedded by this run (new, changed or completed).
    documents: int = 0
    #: Vectors computed by this run.
    vectors: int = 0
    #: Of ``documents``, those re-embedded because their content changed.
    changed: int = 0
    #: Documents whose vectors were removed because they left the store.
    removed: int = 0
    #: Documents with current vectors after the run, and in the store.
    embedded: int = 0
    total: int = 0
    #: Time spent embedding and saving (loading the model is left out).
    seconds: float = 0.0

    @property
    def pending(self) -> int:
        return max(self.total - self.embedded, 0)

    @property
    def rate(self) -> float:
        """Documents embedded per second."""
        return self.documents / self.seconds if self.seconds else 0.0


def embedding_status(stored: Iterable[tuple[str, str]], folder: Path, unit: str) -> EmbeddingStatus:
    """Documents in the store and documents with current vectors (reads no vector)."""
    from sourcebook.index.vectors import MANIFEST, VectorIndex

    pairs = list(stored)
    saved = VectorIndex.read_entries(folder) if (folder / MANIFEST).is_file() else {}
    return EmbeddingStatus(len(pairs), plan_embeddings(pairs, saved, unit).current)


def run_embedding_job(
    stored: Sequence[tuple[str, str]],
    load: Callable[[Sequence[str]], Mapping[str, Document]],
    embedder: Embedder,
    folder: Path,
    unit: str,
    chunk: int = DEFAULT_CHUNK,
    limit: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> EmbeddingReport:
    """Embed what the vector index in ``folder`` lacks or holds outdated; remove what is gone.

    ``stored``: every (docid, content hash) of the store; ``load``: documents (with passages)
    by docid. ``limit`` > 0 stops after that many documents. ``progress(advance, done)`` counts
    documents as their vectors are saved.
    """
    from sourcebook.index.vectors import VectorIndex, writer_lock

    started = time.perf_counter()
    report = EmbeddingReport(model=embedder.name, unit=unit, total=len(stored))
    with writer_lock(folder):
        index = VectorIndex.open(folder, embedder.dimension, embedder.name)
        plan = plan_embeddings(stored, index.entries(), unit)
        index.remove(plan.remove)
        todo = plan.pending[:limit] if limit > 0 else plan.pending
        if todo:  # the model loads now (seconds), not inside the measured embedding time
            embedder.embed_queries(["warm up"])
            started = time.perf_counter()
        hashes = dict(stored)
        tag_of: dict[str, str] = {}
        ends: list[int] = []  # units queued by the end of each document
        queued = 0

        def units() -> Iterator[tuple[str, str]]:
            nonlocal queued
            for start in range(0, len(todo), LOAD_BATCH):
                batch = todo[start : start + LOAD_BATCH]
                docs = load(batch)
                for docid in batch:
                    doc = docs.get(docid)
                    if doc is None:  # deleted since the plan: the next run removes its vectors
                        continue
                    items = units_of(doc, unit)
                    tag = unit_tag(hashes[docid], len(items))
                    missing = [(item, text) for item, text in items if not index.has(item)]
                    queued += len(missing)
                    ends.append(queued)  # before its units go: a save may end with them
                    for item, text in missing:
                        tag_of[item] = tag
                        yield item, text

        reported = 0

        def saved(vectors_done: int) -> None:
            nonlocal reported
            done = bisect.bisect_right(ends, vectors_done)
            if progress is not None and done > reported:
                progress(done - reported, done)
            reported = done

        report.vectors = embed_missing(units(), embedder, index, chunk, saved, tag_of.pop)
        index.save()  # the removals, when nothing was embedded
        if index.segments > COMPACT_SEGMENTS:
            index.compact()
    report.documents = len(ends)
    report.changed = len(plan.changed.intersection(todo))
    report.removed = plan.deleted
    report.embedded = plan.current + report.documents
    report.seconds = time.perf_counter() - started
    return report


__all__ = [
    "DEFAULT_CHUNK",
    "EmbeddingPlan",
    "EmbeddingReport",
    "EmbeddingStatus",
    "embedding_status",
    "plan_embeddings",
    "run_embedding_job",
]
