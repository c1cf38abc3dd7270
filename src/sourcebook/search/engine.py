"""The search service: parse, compile, rank, filter, facet, page and pick passages.

It reads the index for ranking and facets and the store for the passages of the page's hits, so
a hit's passages always carry offsets into the stored body. Plain-text queries sorted by
relevance are ranked by BM25 fused with vector search when vectors exist (``search/hybrid.py``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import tantivy

from sourcebook.access import EVERYTHING, AccessFilter
from sourcebook.config import Settings
from sourcebook.countries import country_name, language_name, resolve_country, resolve_language
from sourcebook.errors import NotFound, QuerySyntaxError, SearchTimeout, SourcebookError
from sourcebook.ids import group_name
from sourcebook.index.analyzers import LANGUAGES, analyzer_language
from sourcebook.index.schema import SAMPLE_BUCKETS
from sourcebook.index.tantivy_index import SearchIndex
from sourcebook.model import Document, FacetValue, Hit, PassageHit, SearchResult
from sourcebook.search import crosslang
from sourcebook.search.budget import Deadline, SearchBudget
from sourcebook.search.compile import (
    CompileContext,
    Weights,
    compile_node,
    date_range_query,
    terms_any,
)
from sourcebook.search.crosslang import UNAVAILABLE_NOTICE
from sourcebook.search.explain import CUT_NOTICE, Explainer
from sourcebook.search.highlight import TermPatterns, best_passages, positive_terms
from sourcebook.search.hybrid import HybridRanking, VectorSearch, semantic_passage
from sourcebook.search.limits import QueryLimits, TermCounter, check_query
from sourcebook.search.plain import plain_terms
from sourcebook.search.query import (
    And,
    MatchAll,
    Node,
    Not,
    Or,
    Term,
    looks_like_syntax,
    parse_plain,
    parse_query,
    syntax_ignored,
)
from sourcebook.search.request import FACETS, MODES, SORTS, SearchRequest
from sourcebook.search.similar import SimilarOptions, similar_documents
from sourcebook.store.base import Store

if TYPE_CHECKING:
    from sourcebook.enrich.embeddings import Embedder

log = logging.getLogger(__name__)

Occur = tantivy.Occur
Query = tantivy.Query

_FACET_FIELDS = {
    "country": "country",
    "publisher": "publisher_exact",
    "type": "type",
    "language": "language",
    "year": "year",
    "collection": "collection",
    "place": "place_exact",
    "person": "person_exact",
    "organisation": "organisation_exact",
}
#: Collapsing near-duplicates reads this many candidates per hit wanted (then dedupes them).
COLLAPSE_WINDOW_FACTOR = 3
COLLAPSE_WINDOW_MAX = 2_000
#: Plain-text queries with at most this many content words require all of them.
PLAIN_AND_MAX_TERMS = 4
#: Plain-text queries may be this many times longer than the syntax limit (then truncated).
PLAIN_LENGTH_FACTOR = 4
RELAXED_NOTICE = "no document has all the words; showing documents with any of them"
MEMORY_REFUSAL = (
    "this search needs more memory than the server allows: narrow it, with fewer wildcards or "
    "OR-ed words, or a shorter phrase or proximity"
)


@dataclass
class _SearchRun:
    """What one ``search`` call carries down to its helpers: its deadline and its notices."""

    deadline: Deadline = field(default_factory=Deadline)
    notices: list[str] = field(default_factory=list)
    #: Facet counts started on the pool, abandoned to the budget if the search is refused.
    pending: list[Future[Any]] = field(default_factory=list)


#: The search running on this thread (a context variable: one engine serves many threads).
_RUN: ContextVar[_SearchRun | None] = ContextVar("sourcebook_search_run", default=None)


def _current_run() -> _SearchRun:
    return _RUN.get() or _SearchRun()


def _notice(text: str) -> None:
    run = _RUN.get()
    if run is not None and text not in run.notices:
        run.notices.append(text)


class SearchEngine:
    """Runs :class:`SearchRequest` s against one store and its index."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        index: SearchIndex,
        embedder: Embedder | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.index = index
        #: Vector search for hybrid ranking (``embedder``: the model; default per settings).
        self.vectors = VectorSearch(settings, embedder)
        self._languages_cache: tuple[tuple[int, int], tuple[str, ...]] | None = None
        self.weights = Weights()
        self._duplicates_cache: tuple[tuple[int, int], bool] | None = None
        #: Facets are counted in Tantivy (which releases the GIL) while the hits' records and
        #: passages are read here, so the two overlap on a second core.
        self._facet_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="facets")
        #: The cost model (search/limits.py) and the time budget (search/budget.py).
        self.limits = QueryLimits.from_settings(settings)
        self.budget = SearchBudget(settings.search_timeout_seconds, settings.search_overdue_max)

    def close(self) -> None:
        self._facet_pool.shutdown(wait=True)

    # --- helpers ------------------------------------------------------------------------
    def active_languages(self, searcher: Any) -> tuple[str, ...]:
        """Analyzer languages that have documents (so a query fans out only where needed)."""
        # A searcher object is new on every call; its size identifies the index generation.
        generation = (searcher.num_docs, searcher.num_segments)
        if self._languages_cache and self._languages_cache[0] == generation:
            return self._languages_cache[1]
        total = searcher.num_docs
        found: set[str] = set()
        if total:
            agg = searcher.aggregate(
                Query.all_query(), {"l": {"terms": {"field": "language", "size": 1000}}}
            )
            counted = 0
            for bucket in agg["l"]["buckets"]:
                found.add(analyzer_language(str(bucket["key"])))
                counted += int(bucket["doc_count"])
            if counted < total:  # documents of unknown language
                found.add(analyzer_language("", self.settings.default_language))
        languages = tuple(lang for lang in LANGUAGES if lang in found) or ("en",)
        self._languages_cache = (generation, languages)
        return languages

    def _validate(self, request: SearchRequest) -> None:
        if request.mode != "plain" and len(request.query) > self.settings.max_query_chars:
            raise QuerySyntaxError(
                f"the query is {len(request.query):,} characters long; the limit is "
                f"{self.settings.max_query_chars:,}"
            )
        if request.sort not in SORTS:
            raise QuerySyntaxError(f"unknown sort {request.sort!r}; use one of {', '.join(SORTS)}")
        if request.mode not in MODES:
            raise QuerySyntaxError(f"unknown mode {request.mode!r}; use one of {', '.join(MODES)}")
        if request.page < 1:
            raise QuerySyntaxError("page numbers start at 1")
        if not 1 <= request.page_size <= self.settings.page_size_max:
            raise QuerySyntaxError(f"page size must be between 1 and {self.settings.page_size_max}")
        if request.date_from and request.date_to and request.date_from > request.date_to:
            raise QuerySyntaxError("the start date is after the end date")

    # --- the query ----------------------------------------------------------------------
    def parse(self, request: SearchRequest) -> tuple[Node, bool]:
        """The AST for the request and whether it is plain-text mode."""
        text = request.query.strip()
        if not text:
            return MatchAll(), False
        plain = request.mode == "plain" or (request.mode == "auto" and not looks_like_syntax(text))
        limit = self.settings.max_query_chars
        if plain:
            # pasted text is never refused for its length: its first words are searched
            return parse_plain(
                text[: limit * PLAIN_LENGTH_FACTOR], limit * PLAIN_LENGTH_FACTOR
            ), True
        return parse_query(text, limit), False

    def _filters(self, schema: Any, request: SearchRequest) -> list[Any]:
        filters: list[Any] = []

        def any_term(field: str, values: Sequence[str]) -> None:
            if values:
                filters.append(Query.term_set_query(schema, field, list(values)))

        countries = []
        for value in request.countries:
            code = resolve_country(value)
            if code is None:
                raise QuerySyntaxError(f"unknown country filter {value!r}")
            countries.append(code)
        languages = []
        for value in request.languages:
            code = resolve_language(value)
            if code is None:
                raise QuerySyntaxError(f"unknown language filter {value!r}")
            languages.append(code)
        any_term("country", countries)
        any_term("language", languages)
        any_term("publisher_exact", request.publishers)
        any_term("type", [t.lower() for t in request.types])
        any_term("collection", request.collections)
        any_term("place_exact", request.places)
        any_term("person_exact", request.people)
        any_term("organisation_exact", request.organisations)
        any_term("docid", request.docids)
        if request.date_from or request.date_to:
            filters.append(date_range_query(schema, request.date_from, request.date_to))
        visible = access_query(schema, request.access)
        if visible is not None:
            filters.append(visible)
        return filters

    def _with_filters(self, main: Any, request: SearchRequest) -> Any:
        filters = self._filters(self.index.schema, request)
        if not filters:
            return main
        clauses = [(Occur.Must, main)]
        clauses += [(Occur.Must, Query.const_score_query(f, 0.0)) for f in filters]
        return Query.boolean_query(clauses)

    def build_query(
        self, request: SearchRequest, searcher: Any
    ) -> tuple[Any, Node, list[tuple[str, float]], bool]:
        """(tantivy query, AST for highlighting, plain terms that may be relaxed to any-of,
        whether the query is plain text).

        Plain text in ``auto`` mode is read as keywords: up to PLAIN_AND_MAX_TERMS content words
        are all required (relaxed to any word when nothing has them all). Explicit ``plain``
        mode is for pasted text and questions: any word, ranked by BM25.
        """
        node, plain = self.parse(request)
        languages = self.active_languages(searcher)
        ctx = CompileContext(
            self.index.schema, languages, request.query, self.weights, self._group_of(request)
        )
        relaxable: list[tuple[str, float]] = []
        if plain:
            terms = plain_terms(
                request.query[: self.settings.max_query_chars * PLAIN_LENGTH_FACTOR], languages
            )
            words = [w for w, _ in terms]
            if request.mode == "auto":  # say so when syntax in the text was not used
                reason = syntax_ignored(request.query.strip(), self.settings.max_query_chars)
                if reason is not None:
                    first = reason.split(maxsplit=1)[0]
                    if not (len(first) > 1 and first.isupper()):  # "This…" -> "this…"; OR stays
                        reason = reason[0].lower() + reason[1:]
                    _notice(f"searched as plain words: {' '.join(words)} ({reason})")
            node = Or(tuple(Term(w) for w in words)) if len(words) > 1 else Term(words[0])
            required = 1
            if request.mode == "auto" and len(terms) <= PLAIN_AND_MAX_TERMS:
                required = len(terms)
                relaxable = terms if required > 1 else []
            main = terms_any(ctx, terms, required)
        else:
            check_query(node, languages, self.limits, request.query, _term_counter(searcher))
            try:
                main = compile_node(ctx, node)
            except ValueError as exc:  # Tantivy refused to build it (a regex too large...)
                raise QuerySyntaxError(f"the index cannot run this query: {exc}") from exc
        return self._with_filters(main, request), node, relaxable, plain

    # --- running ------------------------------------------------------------------------
    def search(self, request: SearchRequest) -> SearchResult:
        """Run ``request`` within the time budget; ``SearchTimeout`` when it takes too long."""
        run = _SearchRun(self.budget.start())
        token = _RUN.set(run)
        try:
            result = self._search(request)
        except MemoryError as exc:
            self.budget.abandon(run.pending)
            raise SearchTimeout(MEMORY_REFUSAL) from exc
        except SearchTimeout:
            self.budget.abandon(run.pending)  # facets still counting are overdue work too
            raise
        finally:
            _RUN.reset(token)
        result.notices = [*run.notices, *result.notices]
        return result

    def _search(self, request: SearchRequest) -> SearchResult:
        started = time.perf_counter()
        self._validate(request)
        searcher = self.index.searcher()
        query, node, relaxable, plain = self.build_query(request, searcher)
        offset = (request.page - 1) * request.page_size
        stop = offset + request.page_size
        ranking: HybridRanking | None = None
        ranked_by = "bm25"
        hybrid = plain and request.sort == "relevance" and self.vectors.ready()
        # facets are counted on another thread from the start, overlapping the ranking
        early = (
            (query, self._submit_facets(self._facets, searcher, query, request, None))
            if request.facets and not hybrid
            else None
        )
        if hybrid:
            # hybrid: the BM25 top ``depth`` is fused with the vector top (search/hybrid.py)
            query, top = self._bm25(
                searcher, query, relaxable, request, 0, self.settings.hybrid_depth
            )
            ranking, ranked_by = self._hybrid(searcher, request, query, top.hits)
            relaxable = []
        elif request.crosslang and plain and request.sort == "relevance":
            _notice(UNAVAILABLE_NOTICE)
        collapse = (
            request.collapse and not _names_field(node, "group") and self._has_duplicates(searcher)
        )
        window = min(stop * COLLAPSE_WINDOW_FACTOR + 20, COLLAPSE_WINDOW_MAX)
        collapsed = 0
        if ranking is not None:
            total = ranking.count(searcher)
            if collapse:
                leaders = _collapse(searcher, ranking.ordered(searcher, window))
                picked = leaders[offset:stop]
                total, collapsed = self._collapsed_total(
                    searcher, ranking.union, total, min(window, total), leaders
                )
            else:
                picked = ranking.ordered(searcher, stop, offset)
        elif collapse:  # one search for the count and the window the page is collapsed from
            query, wide = self._bm25(searcher, query, relaxable, request, 0, window)
            matches = int(wide.count or 0)
            leaders = _collapse(searcher, wide.hits)
            while len(leaders) < stop and len(wide.hits) < matches and window < COLLAPSE_WINDOW_MAX:
                window = min(window * 4, COLLAPSE_WINDOW_MAX)  # many reprints: read further
                query, wide = self._bm25(searcher, query, [], request, 0, window)
                leaders = _collapse(searcher, wide.hits)
            picked = leaders[offset:stop]
            total, collapsed = self._collapsed_total(
                searcher, query, matches, len(wide.hits), leaders
            )
        else:
            query, result = self._bm25(searcher, query, relaxable, request, offset)
            total = int(result.count or 0)
            picked = list(result.hits)
        facet_query = ranking.union if ranking is not None else query
        facets_future = None
        if request.facets:
            if early is not None and early[0] is facet_query:
                facets_future = early[1]
            else:  # hybrid, or the query was relaxed to any word
                facets_future = self._submit_facets(
                    self._facets, searcher, facet_query, request, total
                )
        docids = [searcher.doc(address).get_first("docid") for _key, address in picked]
        scores = [float(key) if request.sort == "relevance" else 0.0 for key, _ in picked]
        docs = self.store.get_many(docids)
        sizes = (
            self.store.group_sizes([d.dup_group for d in docs.values()], request.access.excluded)
            if collapse
            else {}
        )
        terms = positive_terms(node) if request.passages else TermPatterns()
        explainer = (
            Explainer(searcher, query, ranking, self.settings.fusion(), _current_run().deadline)
            if request.explain
            else None
        )
        hits = []
        for docid, score, (_key, address) in zip(docids, scores, picked, strict=True):
            doc = docs.get(docid)
            if doc is None:  # indexed but gone from the store: `sourcebook check` repairs this
                log.warning("index holds %s but the store does not", docid)
                continue
            passages = best_passages(doc, terms, request.passages, self.settings.default_language)
            if ranking is not None and passages and not any(p.highlights for p in passages):
                # found for its meaning alone: show the passage the vectors matched
                passages = semantic_passage(doc, ranking.passages.get(docid)) or passages
            hit = _hit(doc, score, passages)
            hit.similar = max(sizes.get(doc.dup_group, 1) - 1, 0)
            if explainer is not None:
                hit.explanation = explainer.explain(docid, address, hit.score)
            hits.append(hit)
        if explainer is not None and explainer.cut:
            _notice(CUT_NOTICE)
        facets, sampled = (
            self.budget.wait(facets_future, _current_run().deadline)
            if facets_future is not None
            else ({}, False)
        )
        return SearchResult(
            query=request.query,
            total=total,
            hits=hits,
            facets=facets,
            page=request.page,
            page_size=request.page_size,
            sort=request.sort,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            ranking=ranked_by if ranking is not None else "bm25",
            facets_approximate=sampled,
            collapsed=collapsed,
        )

    def _submit_facets(self, fn: Any, *args: Any) -> Future[Any]:
        """Start counting facets on the pool, on the books of the running search."""
        future: Future[Any] = self._facet_pool.submit(fn, *args)
        _current_run().pending.append(future)
        return future

    def _bm25(
        self,
        searcher: Any,
        query: Any,
        relaxable: list[tuple[str, float]],
        request: SearchRequest,
        offset: int,
        limit: int = 0,
    ) -> tuple[Any, Any]:
        """(the query run, its BM25 result); relaxed to any word when every word was required
        and no document has them all."""
        result = self._run(searcher, query, request, offset, limit)
        if relaxable and result.count == 0 and request.relax:
            ctx = CompileContext(
                self.index.schema, self.active_languages(searcher), request.query, self.weights
            )
            query = self._with_filters(terms_any(ctx, relaxable, 1), request)
            result = self._run(searcher, query, request, offset, limit)
            _notice(RELAXED_NOTICE)
        return query, result

    def _group_of(self, request: SearchRequest) -> Callable[[str], str | None]:
        """``group:DOCID`` reads as the group of that document, when this request may read it."""

        def group_of(docid: str) -> str | None:
            try:
                doc = self.store.get(docid)
            except NotFound:
                return None
            if not request.access.allows(doc.collection):
                return None
            return group_name(doc.dup_group or doc.docid)

        return group_of

    def _hybrid(
        self, searcher: Any, request: SearchRequest, query: Any, top: list[Any]
    ) -> tuple[HybridRanking | None, str]:
        """The fused ranking and its name (``hybrid`` or ``crosslang``, search/crosslang.py),
        or None (then BM25 alone) when the vector side fails."""
        schema = self.index.schema
        try:
            choice = crosslang.choose(self.settings, request, self.vectors.multilingual())
            ranking = self.vectors.rank(
                searcher,
                schema,
                request.query,
                top,
                query,
                self._filters(schema, request),
                fusion=choice.fusion,
                words_only=choice.words_only,
            )
        except SourcebookError as exc:
            log.warning("hybrid ranking failed, ranking by BM25 alone: %s", exc)
            return None, "bm25"
        if ranking is not None and choice.notice:
            _notice(choice.notice)
        return ranking, choice.ranking

    def similar(
        self,
        doc: Document,
        limit: int = 5,
        options: SimilarOptions | None = None,
        access: AccessFilter = EVERYTHING,
    ) -> list[Hit]:
        """Documents like ``doc`` that the viewer may read, not its reprints
        (``search/similar.py``)."""
        found = similar_documents(self, doc, limit, options or SimilarOptions(), access)
        return [_hit(other, score, []) for other, score in found]

    def _collapsed_total(
        self, searcher: Any, query: Any, matches: int, read: int, leaders: list[Any]
    ) -> tuple[int, int]:
        """(hits listed in all, matching documents folded under them) for a collapsed search.

        One honest rule: ``total`` counts what the pages list, one hit per group, and
        ``collapsed`` the matches each listed hit stands for beside itself, so total + collapsed
        is the number of matching documents. Exact when every match was read (``read``);
        else the matches that joined an earlier document's group are counted in the index
        (exact when each group's original matches too, as a reprint's original does).
        """
        if read >= matches:
            return len(leaders), matches - len(leaders)
        agg = searcher.aggregate(query, {"l": {"terms": {"field": "dup_leader", "size": 2}}})
        folded = sum(int(b["doc_count"]) for b in agg["l"]["buckets"] if int(float(b["key"])) == 0)
        return matches - folded, folded

    def _has_duplicates(self, searcher: Any) -> bool:
        """Whether any near-duplicate group has two members (else collapsing is skipped)."""
        generation = (searcher.num_docs, searcher.num_segments)
        if self._duplicates_cache is None or self._duplicates_cache[0] != generation:
            groups = (
                searcher.cardinality(Query.all_query(), "dup_group") if searcher.num_docs else 0
            )
            # cardinality is an estimate (HyperLogLog): only a clear gap means duplicates
            self._duplicates_cache = (generation, groups < searcher.num_docs * 0.999)
        return self._duplicates_cache[1]

    def _run(
        self, searcher: Any, query: Any, request: SearchRequest, offset: int, limit: int = 0
    ) -> Any:
        kwargs: dict[str, Any] = {
            "limit": limit or request.page_size,
            "count": True,
            "offset": offset,
        }
        if request.sort == "newest":
            kwargs.update(order_by_field="date", order=tantivy.Order.Desc)
        elif request.sort == "oldest":
            kwargs.update(order_by_field="date", order=tantivy.Order.Asc)
        elif request.sort == "title":
            kwargs.update(order_by_field="title_sort", order=tantivy.Order.Asc)
        try:
            return self.budget.call(_current_run().deadline, searcher.search, query, **kwargs)
        except ValueError as exc:
            raise QuerySyntaxError(f"the index could not run this query: {exc}") from exc
        except MemoryError as exc:
            raise SearchTimeout(MEMORY_REFUSAL) from exc

    def _facets(
        self, searcher: Any, query: Any, request: SearchRequest, total: int | None
    ) -> tuple[dict[str, list[FacetValue]], bool]:
        """Facet counts for ``query``'s matches, and whether they are estimated from a sample.

        Counting costs time in proportion to the matches (tens of milliseconds for every
        document of a million-passage archive), so for a query matching more than
        ``settings.facet_exact_limit`` documents the counts come from the documents of a fixed
        pseudo-random set of ``sample`` buckets holding about that many, scaled up, as
        Elasticsearch's ``random_sampler`` aggregation does. Such counts are marked
        approximate; clicking a value gives its exact count as the total.
        """
        size = max(1, request.facet_size)
        aggs = {
            name: {"terms": {"field": field, "size": 100 if name == "year" else size}}
            for name, field in _FACET_FIELDS.items()
        }
        scale = 1.0
        limit = self.settings.facet_exact_limit
        if total is None and not request.exact_facets:
            total = int(searcher.search(query, limit=1, count=True).count or 0)
        if total is not None and not request.exact_facets and total > limit:
            buckets_wanted = math.ceil(SAMPLE_BUCKETS * limit / total)
            if buckets_wanted < SAMPLE_BUCKETS:
                sample = Query.range_query(
                    self.index.schema, "sample", tantivy.FieldType.Unsigned, 0, buckets_wanted - 1
                )
                query = Query.boolean_query([(Occur.Must, query), (Occur.Must, sample)])
                scale = SAMPLE_BUCKETS / buckets_wanted
        raw = searcher.aggregate(query, aggs)
        facets: dict[str, list[FacetValue]] = {}
        for name in FACETS:
            buckets = raw.get(name, {}).get("buckets", [])
            values = [
                FacetValue(str(b["key"]), _estimate(int(b["doc_count"]), scale, total or 0))
                for b in buckets
            ]
            if name == "year":
                values.sort(key=lambda v: v.value, reverse=True)
            for value in values:
                value.label = _facet_label(name, value.value)
            facets[name] = values
        return facets, scale > 1.0


def access_query(schema: Any, access: AccessFilter) -> Any | None:
    """The access filter as an index query (None: the viewer may read everything)."""
    if access.nothing:  # not a single document: a range no document's bucket falls in
        return Query.range_query(
            schema, "sample", tantivy.FieldType.Unsigned, SAMPLE_BUCKETS, SAMPLE_BUCKETS + 1
        )
    if not access.hidden:
        return None
    hidden = Query.term_set_query(schema, "collection", list(access.excluded))
    return Query.boolean_query([(Occur.Must, Query.all_query()), (Occur.MustNot, hidden)])


def _estimate(count: int, scale: float, total: int) -> int:
    """A sampled count scaled up to the whole, to two significant figures, at most ``total``."""
    if scale <= 1.0:
        return count
    value = count * scale
    digits = max(0, len(str(int(value))) - 2)
    return min(total, int(round(value, -digits)))


def _hit(doc: Document, score: float, passages: list[PassageHit]) -> Hit:
    return Hit(
        docid=doc.docid,
        score=round(score, 4),
        title=doc.title,
        source_id=doc.source_id,
        publisher=doc.publisher,
        publication_date=doc.publication_date,
        countries=doc.countries,
        language=doc.language,
        document_type=doc.document_type,
        collection=doc.collection,
        passages=passages,
        dup_group=group_name(doc.dup_group) if doc.dup_group else "",
    )


def _term_counter(searcher: Any) -> TermCounter:
    """How many terms of a field start with a prefix (for the wildcard limit)."""
    return lambda field, prefix: len(searcher.terms_with_prefix(field, prefix))


def _names_field(node: Node, field: str) -> bool:
    """Whether the query uses ``field:`` anywhere."""
    if isinstance(node, And | Or):
        return any(_names_field(item, field) for item in node.items)
    if isinstance(node, Not):
        return _names_field(node.item, field)
    return getattr(node, "field", None) == field


def _collapse(searcher: Any, hits: list[Any]) -> list[Any]:
    """One hit per near-duplicate group, in ranked order: the group's earliest member when it
    matched (a reprint never hides the original), else its best-ranked member."""
    if not hits:
        return []
    addresses = [address for _score, address in hits]
    keys = searcher.fast_field_values("dup_key", addresses)
    leaders = searcher.fast_field_values("dup_leader", addresses)
    slot: dict[int, int] = {}
    out: list[Any] = []
    for hit, key, leader in zip(hits, keys, leaders, strict=True):
        if key is None:
            out.append(hit)
        elif key not in slot:
            slot[key] = len(out)
            out.append(hit)
        elif leader:
            out[slot[key]] = (out[slot[key]][0], hit[1])  # keep the rank, show the original
    return out


def _facet_label(name: str, value: str) -> str:
    if name == "country":
        return country_name(value)
    if name == "language":
        return language_name(value)
    return value


__all__ = ["SearchEngine", "SearchRequest"]
