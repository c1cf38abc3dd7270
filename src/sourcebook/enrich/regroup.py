"""Recompute every near-duplicate group of an archive (``sourcebook enrich --dedup``).

Groups are assigned at ingest (``Archive._flush``), so an archive grouped by an earlier rule
keeps its groups until this runs: it fingerprints every document again, in ingest order, with
the current :class:`~sourcebook.enrich.dedup.ReprintRule`, stores the new groups and
fingerprints, and re-indexes the documents whose group changed (the index's ``dup_group``,
``dup_key`` and ``dup_leader`` fields). Search works throughout; a run that stops part-way
leaves a consistent archive (each batch is stored and indexed before the next) and is simply
run again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sourcebook.enrich.dedup import DedupIndex
from sourcebook.index.tantivy_index import SearchIndex
from sourcebook.model import Document
from sourcebook.store.base import Store
from sourcebook.store.codec import content_hash

log = logging.getLogger(__name__)

BATCH = 500


@dataclass
class RegroupReport:
    documents: int = 0
    #: documents whose group changed
    changed: int = 0
    #: groups of two or more documents after the run
    groups: int = 0


def regroup(
    store: Store,
    index: SearchIndex,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[RegroupReport, DedupIndex]:
    """(what changed, the new dedup index) for the whole archive."""
    dedup = DedupIndex()
    report = RegroupReport()
    rows: list[tuple[str, str, bytes]] = []
    changed: list[Document] = []

    def flush() -> None:
        if not rows:
            return
        store.set_dup_groups(rows)
        if changed:
            index.upsert([(d, content_hash(d)) for d in changed])
            index.commit()
        if progress is not None:
            progress(len(rows), report.documents)
        rows.clear()
        changed.clear()

    for doc in store.iter_documents():
        fingerprint = dedup.fingerprint(f"{doc.title}\n{doc.body}", doc.publication_date)
        group = dedup.add_signature(doc.docid, fingerprint)
        report.documents += 1
        rows.append((doc.docid, group, fingerprint.to_bytes()))
        if group != (doc.dup_group or doc.docid):
            doc.dup_group = group
            changed.append(doc)
            report.changed += 1
        if len(rows) >= BATCH:
            flush()
    flush()
    index.release_writer()
    report.groups = len(dedup.groups())
    log.info("regrouped %d documents: %d changed group", report.documents, report.changed)
    return report, dedup
