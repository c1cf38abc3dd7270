"""Hybrid ranking: the BM25 list fused with the vector list, for plain-text relevance queries.

BM25 finds documents that share the query's words; the vector index (``<home>/vectors/``,
written by ``sourcebook enrich --embeddings``) finds the ones that say the same in other words.
For a plain-text query sorted by relevance, when the semantic extra is installed and vectors
exist, the search engine asks :class:`VectorSearch` for a :class:`HybridRanking`:

1. the BM25 top ``depth`` with the request's filters (the engine's query, as without vectors);
2. the query's embedding and the vector top ``depth``, kept to documents that are in the index
   and pass the same filters (Tantivy is asked which of the candidates match the filters; with
   filters, more candidates are read so that about ``depth`` survive);
3. both lists fused (``Settings.fusion()``, by default ``DEFAULT_FUSION``: z-scores, 0.6 BM25 +
   0.4 vectors), then, past the fused list, the remaining BM25 matches in BM25 order.

The total and the facets count the union: documents matching the words, and the vector hits
shown (which need not share a word with the query). Documents not embedded yet still come
through BM25. Without the extra or without vectors the engine ranks by BM25 alone, exactly as
before. The vector index is reloaded when the embedding job saves (``changed_on_disk``); the
model loads once per process, on the first query or when the web app warms it at start-up.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import tantivy

from sourcebook.config import Settings
from sourcebook.errors import SourcebookError
from sourcebook.ids import id_number
from sourcebook.index import VECTORS_MANIFEST
from sourcebook.model import Document, PassageHit
from sourcebook.search.fusion import Fusion

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from sourcebook.enrich.embeddings import Embedder
    from sourcebook.index.vectors import VectorIndex

log = logging.getLogger(__name__)

Occur = tantivy.Occur
Query = tantivy.Query

#: Passage vectors read per wanted document before max-pooling per document.
PASSAGES_PER_DOCUMENT = 5
#: With filters, this many times more vector candidates are read (most may fail the filters).
FILTER_OVERFETCH = 10
#: Filters passed by at most this many documents, and this share of the index, keep the vector
#: search to their vectors; past either, candidates are read first and checked against the
#: filters. At 100,000 passages of 29,397 documents (docs/semantic.md) keeping cost 7.5 ms
#: against 11.3 for checking with 5% of the documents passing, the same at 25%, more at 50%;
#: reading which documents pass grows with their number (Python objects per document).
KEEP_MAX_DOCUMENTS = 10_000
KEEP_MAX_SHARE = 0.2
#: Characters of the query given to the model.
MAX_QUERY_CHARS = 2_000

Ranked = list[tuple[str, float]]


def vector_top(index: VectorIndex, query: ArrayLike, depth: int, unit: str) -> Ranked:
    """The ``depth`` best documents for a query vector; passages are max-pooled per document."""
    return _pooled(index, query, depth, unit)[0]


def _pooled(
    index: VectorIndex, query: ArrayLike, depth: int, unit: str
) -> tuple[Ranked, dict[str, int]]:
    """(the ``depth`` best documents, each one's best passage number when vectors are passages)."""
    if unit == "document":
        return index.search(query, depth), {}
    return index.search_documents(query, depth, PASSAGES_PER_DOCUMENT)


@dataclass
class HybridRanking:
    """A fused ranking, and how to continue it and count it."""

    #: (score, doc address), best first: the fused lists.
    fused: list[tuple[float, Any]]
    #: BM25 matches not in ``fused`` (they continue the list, in BM25 order).
    rest: Any
    #: Documents matching the words or shown for their meaning (total and facets).
    union: Any
    #: For passage vectors: the best passage of each vector hit (shown when no word matches).
    passages: dict[str, int] = field(default_factory=dict)
    #: The lists that were fused, (docid, raw score) best first: BM25, then vectors (explain).
    lists: tuple[Ranked, ...] = ()

    def ordered(self, searcher: Any, stop: int, start: int = 0) -> list[tuple[float, Any]]:
        """Positions ``start`` to ``stop`` of the whole ranking (fused, then the rest)."""
        out = self.fused[start:stop]
        if stop > len(self.fused):
            floor = self.fused[-1][0] if self.fused else 0.0
            skip = max(start - len(self.fused), 0)
            limit = stop - len(self.fused) - skip
            tail = searcher.search(self.rest, limit=limit, count=False, offset=skip).hits
            out += [(floor, address) for _score, address in tail]
        return out

    def count(self, searcher: Any) -> int:
        return int(searcher.search(self.union, limit=1, count=True).count or 0)


class VectorSearch:
    """The archive's vector index and query embedder, as search uses them (many readers)."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._index: VectorIndex | None = None
        self._failed: tuple[int, int, int] | None = None  # manifest that would not load
        self._extra_missing: str | None = None
        self._extra_checked = embedder is not None
        self._lock = threading.Lock()
        self._warming: threading.Thread | None = None

    @property
    def embedder(self) -> Embedder:
        """The model (shared by every archive of the process; loaded on first use)."""
        if self._embedder is None:
            from sourcebook.enrich.embeddings import shared_embedder

            settings = self.settings
            self._embedder = shared_embedder(
                settings.semantic_model,
                settings.semantic_runtime,
                settings.model_cache_dir,
                settings.semantic_threads,
            )
        return self._embedder

    def extra_missing(self) -> str | None:
        """What to install for the model (None when it can load); checked once, loads nothing."""
        if not self._extra_checked:
            from sourcebook.enrich.embeddings import embedder_unavailable

            self._extra_missing = embedder_unavailable(
                self.settings.semantic_model,
                self.settings.semantic_runtime,
                self.settings.model_cache_dir,
            )
            self._extra_checked = True
        return self._extra_missing

    def index(self) -> VectorIndex | None:
        """The saved vector index, reloaded when the embedding job saved since (None: none)."""
        manifest = self.settings.vectors_path / VECTORS_MANIFEST
        if self._index is None and not manifest.is_file():
            return None  # no vectors: NumPy and the vector index are never imported
        from sourcebook.index.vectors import VectorIndex

        with self._lock:
            if self._index is not None and not self._index.changed_on_disk():
                return self._index
            try:
                stamp = _stamp(manifest)
            except OSError:
                self._index = None
                return None
            if stamp == self._failed:
                return None
            try:
                self._index = VectorIndex.load(manifest.parent, self.embedder.name)
            except SourcebookError as exc:
                log.warning("hybrid search is off: %s", exc)
                self._index, self._failed = None, stamp
                return None
            log.info("loaded %d vectors from %s", len(self._index), manifest.parent)
            return self._index

    def has_vectors(self) -> bool:
        """Whether the embedding job has saved vectors (one ``stat``; loads nothing)."""
        return self._index is not None or (self.settings.vectors_path / VECTORS_MANIFEST).is_file()

    def multilingual(self) -> bool:
        """Whether the model's vectors are multilingual (cross-language search can use them)."""
        from sourcebook.enrich.multilingual import is_multilingual

        return is_multilingual(self.embedder.name)

    def ready(self) -> bool:
        """Whether hybrid ranking is on: the setting, the model's packages and saved vectors,
        and no warm-up still loading the model (queries meanwhile are ranked by BM25)."""
        if not self.settings.hybrid:
            return False
        if self._index is None and not (self.settings.vectors_path / VECTORS_MANIFEST).is_file():
            return False  # no vectors yet: nothing to import or load
        if self.extra_missing() is not None:
            return False
        if self._warming is not None and self._warming.is_alive():
            return False
        index = self.index()
        return index is not None and len(index) > 0

    def warm(self) -> None:
        """Load the vectors and the model now (about 15 s), if hybrid search will use them, and
        build the vector index's int8 first pass (large indexes)."""
        if self.ready():
            self.embedder.embed_queries(["warm up"])
            index = self.index()
            if index is not None:
                index.prepare_fast_scan()

    def warm_in_background(self) -> threading.Thread | None:
        """:meth:`warm` on a daemon thread, so a server answers (with BM25) while it loads."""
        if not self.settings.hybrid or self.extra_missing() is not None:
            return None
        if not (self.settings.vectors_path / VECTORS_MANIFEST).is_file():
            return None

        def run() -> None:
            try:
                index = self.index()
                if index is not None and len(index):
                    self.embedder.embed_queries(["warm up"])
                    index.prepare_fast_scan()
            except Exception:  # a failed warm-up is retried by the first query
                log.exception("warming the embedding model failed")

        thread = threading.Thread(target=run, name="sb-warm-embeddings", daemon=True)
        self._warming = thread
        thread.start()
        return thread

    def wait_until_warm(self, timeout: float | None = None) -> None:
        """Wait for a warm-up started by :meth:`warm_in_background` (tests, scripts)."""
        if self._warming is not None:
            self._warming.join(timeout)

    # --- ranking ------------------------------------------------------------------------
    def rank(
        self,
        searcher: Any,
        schema: Any,
        text: str,
        bm25: Sequence[tuple[float, Any]],
        bm25_query: Any,
        filters: Sequence[Any],
        fusion: Fusion | None = None,
        words_only: bool = False,
    ) -> HybridRanking | None:
        """Fuse the BM25 top (``bm25``: score, address) with the vector top for ``text``.

        ``bm25_query`` is the engine's query (with the filters), ``filters`` the filter queries
        alone. ``fusion`` defaults to ``Settings.fusion()``; ``words_only`` keeps the vector
        list to documents matching ``bm25_query`` (cross-language search turned off,
        ``search/crosslang.py``). None when there is nothing to fuse (no index, or an empty
        query vector list).
        """
        index = self.index()
        if index is None:
            return None
        fusion = fusion or self.settings.fusion()
        if words_only:
            filters = [*filters, bm25_query]
        depth = fusion.depth
        unit = self.settings.semantic_unit
        vector = self.embedder.embed_queries([text[:MAX_QUERY_CHARS]])[0]
        passing = _passing(searcher, filters) if filters else None
        if passing is not None:
            # few documents pass the filters: only their vectors are scored
            vectors, passages, address_of = _kept_top(searcher, index, vector, depth, unit, passing)
        else:
            vectors, passages, address_of = _checked_top(
                searcher, schema, index, vector, depth, unit, filters
            )
        bm25_list: Ranked = []
        for score, address in bm25[:depth]:
            docid = str(searcher.doc(address).get_first("docid"))
            address_of.setdefault(docid, address)
            bm25_list.append((docid, float(score)))
        fused = fusion.fuse([bm25_list, vectors])
        ids = [docid for docid, _ in fused]
        shown = [docid for docid, _ in vectors]
        rest = Query.boolean_query(
            [(Occur.Must, bm25_query), (Occur.MustNot, _docids(schema, ids))]
        )
        union = (
            Query.boolean_query(
                [(Occur.Should, bm25_query), (Occur.Should, _docids(schema, shown))]
            )
            if shown
            else bm25_query
        )
        return HybridRanking(
            fused=[(score, address_of[docid]) for docid, score in fused],
            rest=rest,
            union=union,
            passages={d: passages[d] for d in shown if d in passages},
            lists=(bm25_list, vectors),
        )


def _kept_top(
    searcher: Any,
    index: VectorIndex,
    vector: Any,
    depth: int,
    unit: str,
    passing: dict[int, Any],
) -> tuple[Ranked, dict[str, int], dict[str, Any]]:
    """The vector top among the documents that pass the filters (``passing``: their
    ``doc_key`` -> address), scoring only their vectors."""
    per_document = PASSAGES_PER_DOCUMENT if unit == "passage" else 1
    found, passages = index.search_documents(vector, depth, per_document, only=list(passing))
    address_of = {docid: passing[id_number(docid)] for docid, _ in found}
    # a 63-bit number could in principle be shared by two docids: the address must be its own
    kept = [
        (docid, score)
        for docid, score in found
        if searcher.doc(address_of[docid]).get_first("docid") == docid
    ]
    return kept, passages, {docid: address_of[docid] for docid, _ in kept}


def _checked_top(
    searcher: Any,
    schema: Any,
    index: VectorIndex,
    vector: Any,
    depth: int,
    unit: str,
    filters: Sequence[Any],
) -> tuple[Ranked, dict[str, int], dict[str, Any]]:
    """The vector top, read first and checked against the filters in Tantivy after."""
    wanted = depth * FILTER_OVERFETCH if filters else depth
    candidates, passages = _pooled(index, vector, wanted, unit)
    # checked best first until ``depth`` pass: the best ``depth`` first (one round without
    # filters), then as many more as the share that passed says are needed (with a
    # margin), so a filter costs two or three Tantivy searches, not ten
    address_of: dict[str, Any] = {}
    vectors: Ranked = []
    start, size = 0, depth
    while start < len(candidates) and len(vectors) < depth:
        part = candidates[start : start + size]
        found = _addresses_passing(searcher, schema, [d for d, _ in part], filters)
        address_of.update(found)
        vectors += [(d, s) for d, s in part if d in found]
        start += len(part)
        share = max(len(vectors) / start, 1 / FILTER_OVERFETCH)
        size = max(depth, int(1.5 * (depth - len(vectors)) / share))
    return vectors[:depth], passages, address_of


def keep_limit(documents: int) -> float:
    """The most documents passing the filters for which the vector search is kept to theirs,
    in an index of ``documents``."""
    return min(KEEP_MAX_DOCUMENTS, KEEP_MAX_SHARE * documents)


def _passing(searcher: Any, filters: Sequence[Any]) -> dict[int, Any] | None:
    """``doc_key`` -> address of every document passing ``filters``, when few do (at most
    :data:`KEEP_MAX_DOCUMENTS` and :data:`KEEP_MAX_SHARE` of the index; None: more, then
    candidates are checked instead)."""
    query = Query.boolean_query([(Occur.Must, Query.const_score_query(f, 0.0)) for f in filters])
    count = int(searcher.search(query, limit=1, count=True).count or 0)
    if count > keep_limit(int(searcher.num_docs)):
        return None
    if count == 0:
        return {}
    addresses = [address for _score, address in searcher.search(query, count, count=False).hits]
    keys = searcher.fast_field_values("doc_key", addresses)
    if any(key is None for key in keys):  # a segment without the field: check candidates
        return None
    return dict(zip(keys, addresses, strict=True))


def semantic_passage(doc: Document, seq: int | None) -> list[PassageHit]:
    """The passage the vectors matched best, for a hit that shares no word with the query."""
    for passage in doc.passages:
        if passage.seq == seq:
            return [
                PassageHit(seq=passage.seq, start=passage.start, end=passage.end, text=passage.text)
            ]
    return []


def _docids(schema: Any, docids: Sequence[str]) -> Any:
    return Query.const_score_query(Query.term_set_query(schema, "docid", list(docids)), 0.0)


def _addresses_passing(
    searcher: Any, schema: Any, docids: Sequence[str], filters: Sequence[Any]
) -> dict[str, Any]:
    """docid -> address of those of ``docids`` that are indexed and pass every filter."""
    if not docids:
        return {}
    clauses = [(Occur.Must, _docids(schema, docids))]
    clauses += [(Occur.Must, Query.const_score_query(f, 0.0)) for f in filters]
    found = searcher.search(Query.boolean_query(clauses), limit=len(docids), count=False).hits
    return {str(searcher.doc(address).get_first("docid")): address for _score, address in found}


def _stamp(path: os.PathLike[str]) -> tuple[int, int, int]:
    st = os.stat(path)
    return (st.st_ino, st.st_mtime_ns, st.st_size)


__all__ = [
    "FILTER_OVERFETCH",
    "PASSAGES_PER_DOCUMENT",
    "HybridRanking",
    "VectorSearch",
    "keep_limit",
    "semantic_passage",
    "vector_top",
]
