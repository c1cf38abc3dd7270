"""Reading the archive as someone: every read a page, the API, a feed or OAI-PMH makes.

An :class:`ArchiveView` is the archive seen by one :class:`~sourcebook.viewer.Viewer`. It is
made per request (``Archive.view(viewer)``), computes the viewer's
:class:`~sourcebook.access.AccessFilter` once from the collections' policies in the store, and
hands that one filter to the search engine and the store on every read. A document the viewer
may not read is "not found" (never "forbidden": its existence is not revealed), and it counts
nowhere: not in totals, facets, "N similar", set counts, statistics or exports.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from typing import IO, TYPE_CHECKING, Any

from sourcebook import cite, follower
from sourcebook.access import AccessFilter, CollectionPolicy, access_for
from sourcebook.errors import NotFound
from sourcebook.ingest.parents import ParentLink, parent_link
from sourcebook.model import Document, FacetValue, Hit, SearchResult
from sourcebook.records import document_to_json
from sourcebook.search.request import FACETS, SearchRequest
from sourcebook.store.base import (
    HarvestedRecord,
    HarvestFilter,
    HarvestPosition,
    SetCounts,
)
from sourcebook.viewer import Viewer

if TYPE_CHECKING:
    from sourcebook.services.archive import Archive

#: Statistics a viewer who may not read everything gets: figures about the documents they may
#: read. Operational figures (docids issued, ingest runs and errors, log positions, the folder)
#: would count hidden documents too.
VIEWER_STATS = (
    "documents",
    "body_chars",
    "earliest_publication_date",
    "latest_publication_date",
    "passages",
    "revisions",
    "by_language",
    "by_collection",
    "by_type",
    "top_countries",
    "top_publishers",
    "index_lag_seconds",
)


class ArchiveView:
    """The archive as one viewer may read it."""

    def __init__(self, archive: Archive, viewer: Viewer) -> None:
        self.archive = archive
        self.viewer = viewer

    @functools.cached_property
    def policies(self) -> dict[str, CollectionPolicy]:
        """The collections' policies, read from the store on the first read (on the thread
        that reads, not the server's event loop)."""
        return {p.name: p for p in self.archive.store.list_collections()}

    @functools.cached_property
    def access(self) -> AccessFilter:
        """The viewer's filter."""
        return access_for(
            self.viewer, self.policies.values(), self.archive.settings.anonymous_access
        )

    # --- documents -----------------------------------------------------------------------
    def get(self, docid: str) -> Document:
        doc = self.archive.get(docid)
        if not self.access.allows(doc.collection):
            raise NotFound(f"no document with docid {docid.strip()!r}")
        policy = self.policies.get(doc.collection)
        if policy is not None and policy.visibility == "restricted" and not self.viewer.operator:
            self.archive.audit.record_read(self.viewer, doc.docid)  # docs/security.md
        return doc

    def get_many(self, docids: Sequence[str]) -> dict[str, Document]:
        """The documents among ``docids`` the viewer may read (with passages, no revisions)."""
        found = self.archive.store.get_many(docids)
        return {d: doc for d, doc in found.items() if self.access.allows(doc.collection)}

    def parent(self, doc: Document) -> ParentLink | None:
        """The message or archive ``doc`` came from, when the viewer may read it."""
        link = parent_link(doc.source_key, self.archive.store)
        if link is None or not link.docid:
            return link
        try:
            self.get(link.docid)
        except NotFound:
            return None
        return link

    def cite(self, docid: str, style: str, accessed: date | None = None, base_url: str = "") -> str:
        return cite.format_citation(self.get(docid), style, accessed=accessed, base_url=base_url)

    # --- search --------------------------------------------------------------------------
    def search(self, request: SearchRequest) -> SearchResult:
        return self.archive.search(replace(request, access=self.access))

    def similar(self, docid: str, limit: int = 5) -> list[Hit]:
        return self.archive.engine.similar(self.get(docid), limit, access=self.access)

    def browse(self, facet: str, limit: int = 300) -> list[FacetValue]:
        if facet not in FACETS:
            raise NotFound(f"no facet {facet!r}; use one of {', '.join(FACETS)}")
        result = self.search(
            SearchRequest(page_size=1, passages=0, facet_size=limit, exact_facets=True)
        )
        return result.facets.get(facet, [])

    def count(self) -> int:
        if self.access.unrestricted:
            return self.archive.count()
        return int(self.stats()["documents"])

    def stats(self) -> dict[str, Any]:
        if self.access.unrestricted:
            return self.archive.stats()
        if self.access.nothing:
            empty: dict[str, Any] = {name: 0 for name in VIEWER_STATS}
            empty.update(earliest_publication_date=None, latest_publication_date=None)
            empty.update({name: {} for name in VIEWER_STATS if name.startswith(("by_", "top_"))})
            return empty
        figures = dict(self.archive.store.stats(self.access.excluded))
        lag = follower.measure_lag(self.archive.store, self.archive.index)
        figures["index_lag_seconds"] = lag.seconds
        return {name: figures.get(name) for name in VIEWER_STATS}

    # --- export --------------------------------------------------------------------------
    def export_jsonl(self, out: IO[str], public: bool = True) -> int:
        """Every document the viewer may read, one JSON object per line; returns the count."""
        if self.access.nothing:
            return 0
        n = 0
        for doc in self.archive.store.iter_documents(with_revisions=True):
            if self.access.allows(doc.collection):
                out.write(json.dumps(document_to_json(doc, public), ensure_ascii=False) + "\n")
                n += 1
        return n

    # --- harvesting (OAI-PMH, Atom) --------------------------------------------------------
    def _selection(self, selection: HarvestFilter) -> HarvestFilter:
        hidden = tuple(sorted({*selection.exclude_collections, *self.access.excluded}))
        return replace(selection, exclude_collections=hidden)

    def harvest(
        self, selection: HarvestFilter, after: HarvestPosition | None = None, limit: int = 100
    ) -> list[HarvestedRecord]:
        if self.access.nothing:
            return []
        return self.archive.harvest(self._selection(selection), after, limit)

    def harvest_count(self, selection: HarvestFilter) -> int:
        if self.access.nothing:
            return 0
        return self.archive.harvest_count(self._selection(selection))

    def harvest_sets(self) -> SetCounts:
        if self.access.nothing:
            return SetCounts()
        return self.archive.store.set_counts(self.access.excluded)

    def harvest_records(self, docids: Iterable[str]) -> dict[str, HarvestedRecord]:
        records = self.archive.harvest_records(docids)
        return {
            docid: record
            for docid, record in records.items()
            if self.access.allows(record.document.collection)
        }
