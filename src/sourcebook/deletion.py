"""Deleting documents: from the store (which keeps the docid issued and a tombstone for OAI-PMH,
and logs the deletion) and from the search index, under the archive's writer lock.

The vector index (semantic search) drops the vectors of deleted documents on the next run of
``sourcebook enrich --embeddings``; until then hybrid search skips them, since hits are read
from the store.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sourcebook import index_sync
from sourcebook.errors import NotFound
from sourcebook.index.tantivy_index import SearchIndex
from sourcebook.search.request import SearchRequest
from sourcebook.store.base import Store

if TYPE_CHECKING:
    from sourcebook.search.engine import SearchEngine

log = logging.getLogger(__name__)


@dataclass
class DeleteReport:
    """What a deletion did: docids removed, and docids asked for that the store does not hold."""

    deleted: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def delete_documents(store: Store, index: SearchIndex, docids: Iterable[str]) -> DeleteReport:
    """Delete these documents (the caller holds the writer lock)."""
    report = DeleteReport()
    for docid in dict.fromkeys(d.strip() for d in docids if d.strip()):
        try:
            store.delete(docid)
        except NotFound:
            report.missing.append(docid)
            continue
        report.deleted.append(docid)
        if len(report.deleted) % 500 == 0:  # keep a long deletion visible as it goes
            index.delete(report.deleted[-500:])
            index_sync.commit_applied(store, index)
    rest = len(report.deleted) % 500
    if rest:
        index.delete(report.deleted[-rest:])
    index_sync.commit_applied(store, index)
    log.info("deleted %d documents", len(report.deleted))
    return report


def matching_docids(engine: SearchEngine, index: SearchIndex, request: SearchRequest) -> list[str]:
    """Every docid the request's query and filters match, as written (a plain-text query is
    not relaxed to any word, and near-duplicates are not collapsed)."""
    searcher = index.searcher()
    total = int(searcher.num_docs)
    if total == 0:
        return []
    query = engine.build_query(request, searcher)[0]
    result = searcher.search(query, limit=total, count=False)
    return [searcher.doc(address).get_first("docid") for _score, address in result.hits]
