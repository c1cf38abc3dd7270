"""Vectors computed by queued ``embed`` jobs: a table of the queue's database, pulled by nodes.

In organisation mode each search node keeps its vector index in its own archive folder, as it
keeps its search index. Workers on other machines cannot write there, so an ``embed`` job writes
its vectors to ``sourcebook_job_vectors`` (model, unit id, docid, tag, float32 bytes), one
transaction per batch of documents; ``sourcebook jobs pull-vectors`` on a node copies the rows
whose tag matches the store's content into the node's vector index (the same tag the local
embedding job writes, so ``enrich --embeddings`` and a pull agree on what is current).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from sourcebook.errors import ConfigError
from sourcebook.jobs.queue import connect_queue_db

if TYPE_CHECKING:
    from sourcebook.services import Archive

#: Documents whose rows are read from the queue's database at a time by a pull.
PULL_BATCH = 500


class PostgresVectorRows:
    """The ``embed`` job's sink: ``sourcebook_job_vectors`` in the queue's database."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _connect(self) -> Any:
        return connect_queue_db(self.url)

    def tags_of(self, docids: Sequence[str], model: str) -> dict[str, str]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT unit_id, tag FROM sourcebook_job_vectors "
                "WHERE model = %s AND docid = ANY(%s)",
                (model, list(docids)),
            ).fetchall()
        return {unit: tag for unit, tag in rows}

    def all_tags(self, model: str) -> dict[str, str]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT unit_id, tag FROM sourcebook_job_vectors WHERE model = %s", (model,)
            ).fetchall()
        return {unit: tag for unit, tag in rows}

    def replace(
        self,
        model: str,
        docids: Sequence[str],
        rows: Sequence[tuple[str, str, str]],
        vectors: NDArray[np.float32],
    ) -> None:
        if len(rows) != len(vectors):
            raise ConfigError(f"{len(vectors)} vectors for {len(rows)} units")
        data = np.ascontiguousarray(vectors, dtype=np.float32)
        with self._connect() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute(
                "DELETE FROM sourcebook_job_vectors WHERE model = %s AND docid = ANY(%s)",
                (model, list(docids)),
            )
            cur.executemany(
                "INSERT INTO sourcebook_job_vectors (model, unit_id, docid, tag, vector) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (model, unit_id) DO UPDATE "
                "SET docid = excluded.docid, tag = excluded.tag, vector = excluded.vector",
                [
                    (model, unit, docid, tag, data[i].tobytes())
                    for i, (unit, docid, tag) in enumerate(rows)
                ],
            )

    def remove_units(self, model: str, units: Sequence[str]) -> None:
        if not units:
            return
        with self._connect() as conn:
            conn.execute(
                "DELETE FROM sourcebook_job_vectors WHERE model = %s AND unit_id = ANY(%s)",
                (model, list(units)),
            )

    def read(
        self, model: str, docids: Sequence[str]
    ) -> Iterator[tuple[str, str, str, NDArray[np.float32]]]:
        """(unit id, docid, tag, vector) of these documents."""
        with self._connect() as conn:
            for unit, docid, tag, blob in conn.execute(
                "SELECT unit_id, docid, tag, vector FROM sourcebook_job_vectors "
                "WHERE model = %s AND docid = ANY(%s) ORDER BY unit_id",
                (model, list(docids)),
            ):
                yield unit, docid, tag, np.frombuffer(blob, dtype=np.float32)


def plan_embed_batches(
    archive: Archive, rows: PostgresVectorRows, batch: int
) -> tuple[list[list[str]], int]:
    """Batches of docids whose queued vectors are missing or outdated, and the current count.

    Rows of documents no longer in the store (or of the other unit kind) are removed here.
    """
    from sourcebook.enrich.embedding_job import plan_embeddings
    from sourcebook.enrich.embeddings import unit_docid

    model = archive.engine.vectors.embedder.name
    stored = [(e.docid, e.content_hash) for e in archive.store.iter_index_entries()]
    plan = plan_embeddings(stored, rows.all_tags(model), archive.settings.semantic_unit)
    gone = [unit for unit in plan.remove if unit_docid(unit) not in plan.changed]
    rows.remove_units(model, gone)
    pending = plan.pending
    return [pending[i : i + batch] for i in range(0, len(pending), batch)], plan.current


def pull_vectors(archive: Archive, rows: PostgresVectorRows) -> dict[str, int]:
    """Copy into this node's vector index the queued vectors it lacks; returns counts.

    Only rows tagged with the store's current content are taken; documents with no such rows
    yet stay pending (queue ``embed`` jobs for them). Vectors of documents gone from the store
    are removed, as the local embedding job does.
    """
    from sourcebook.enrich.embedding_job import plan_embeddings
    from sourcebook.enrich.embeddings import unit_docid
    from sourcebook.index.vectors import VectorIndex, writer_lock

    embedder = archive.engine.vectors.embedder
    unit_kind = archive.settings.semantic_unit
    folder = archive.settings.vectors_path
    stored = [(e.docid, e.content_hash) for e in archive.store.iter_index_entries()]
    hashes = dict(stored)
    pulled = vectors = 0
    with writer_lock(folder):
        index = VectorIndex.open(folder, embedder.dimension, embedder.name)
        plan = plan_embeddings(stored, index.entries(), unit_kind)
        index.remove(plan.remove)
        for start in range(0, len(plan.pending), PULL_BATCH):
            docids = plan.pending[start : start + PULL_BATCH]
            by_doc: dict[str, list[tuple[str, str, NDArray[np.float32]]]] = {}
            for unit, docid, tag, vector in rows.read(embedder.name, docids):
                if ("#" in unit) != (unit_kind == "passage"):
                    continue
                tag_hash, _, count = tag.rpartition("/")
                if tag_hash == hashes.get(docid) and count.isdigit():
                    by_doc.setdefault(docid, []).append((unit, tag, vector))
            ids: list[str] = []
            tags: list[str] = []
            block: list[NDArray[np.float32]] = []
            for docid, items in by_doc.items():
                if len(items) < int(items[0][1].rpartition("/")[2]):
                    continue  # incomplete: never written so by a job (one transaction a batch)
                index.remove(unit for unit, _, _ in items if unit_docid(unit) == docid)
                for unit, tag, vector in items:
                    ids.append(unit)
                    tags.append(tag)
                    block.append(vector)
                pulled += 1
            if ids:
                index.add(ids, np.vstack(block), tags)
                vectors += len(ids)
            index.save()
        index.save()
    return {
        "documents": pulled,
        "vectors": vectors,
        "removed": plan.deleted,
        "pending": len(plan.pending) - pulled,
        "current": plan.current + pulled,
    }


__all__ = ["PostgresVectorRows", "plan_embed_batches", "pull_vectors"]
