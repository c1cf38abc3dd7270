""" "Similar documents" for a record: by its vector when the archive has vectors, else a
more-like-this over its distinctive terms, re-ranked by shared countries.

Measured by ``benchmarks/eval_similar.py`` (topic agreement of the top 5 on BBC news; see
docs/enrichment.md). The choices:

* **Distinctive terms**: Tantivy's more-like-this picks the document's terms by tf-idf; terms in
  more than ``max_doc_fraction`` of the archive ("said", "year", a publisher's boilerplate) are
  never picked, nor terms no other document has (``min_doc_frequency``).
* **Countries**: for COI a document on the same country is the better neighbour; the term
  score (scaled to the best candidate's) gets ``country_weight`` times the Jaccard overlap of
  the two documents' countries.
* **Never similar**: the document itself; its reprints (its near-duplicate group: those are
  listed as reprints, "N similar", not as related reading); records with fewer than
  ``min_words`` words of text (empty records, title-only wire flashes), which match anything.
* **Vectors**: when vector search is on, the document's own vectors (its passages' mean) find
  its nearest neighbours, with the same exclusions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import tantivy

from sourcebook.access import EVERYTHING, AccessFilter
from sourcebook.ids import group_name
from sourcebook.index.analyzers import analyzer_language
from sourcebook.index.schema import text_field
from sourcebook.model import Document

if TYPE_CHECKING:
    from sourcebook.search.engine import SearchEngine

log = logging.getLogger(__name__)

Occur = tantivy.Occur
Query = tantivy.Query

#: How much of a long body more-like-this reads to pick its terms.
SAMPLE_CHARS = 20_000


@dataclass(frozen=True)
class SimilarOptions:
    min_doc_frequency: int = 2
    #: terms in more than this share of the documents are not distinctive (0: no bound)
    max_doc_fraction: float = 0.2
    max_query_terms: int = 100
    min_word_length: int = 3
    #: weight of shared countries against the (scaled) term score
    country_weight: float = 0.3
    #: records with fewer words of text than this are never listed as similar
    min_words: int = 15
    #: leave out the document's reprints (its near-duplicate group)
    exclude_reprints: bool = True
    #: candidates read per document wanted (then filtered and re-ranked)
    overfetch: int = 4
    #: use the archive's vectors when vector search is on
    vectors: bool = True


#: How "similar documents" worked before version 2 (for the benchmark's before/after).
SIMILAR_V1 = SimilarOptions(
    min_doc_frequency=2,
    max_doc_fraction=0.0,
    max_query_terms=25,
    country_weight=0.0,
    min_words=0,
    exclude_reprints=False,
    overfetch=1,
    vectors=False,
)


def similar_documents(
    engine: SearchEngine,
    doc: Document,
    limit: int,
    options: SimilarOptions,
    access: AccessFilter = EVERYTHING,
) -> list[tuple[Document, float]]:
    """(document, score) of up to ``limit`` documents like ``doc`` that the viewer may read
    (``access``), best first."""
    searcher = engine.index.searcher()
    wanted = limit * max(1, options.overfetch) + 1
    if not access.unrestricted:
        wanted *= 2  # neighbours in hidden collections are dropped below
    found = _by_vectors(engine, doc, wanted) if options.vectors else None
    if found is None:
        found = _by_terms(engine, searcher, doc, wanted, options, access)
    if not found:
        return []
    docs = engine.store.get_many([d for d, _ in found])
    group = doc.dup_group or doc.docid
    best = max(score for _, score in found) or 1.0
    mine = set(doc.countries)
    ranked: list[tuple[Document, float]] = []
    for docid, score in found:
        other = docs.get(docid)
        if other is None or docid == doc.docid or not access.allows(other.collection):
            continue
        if options.exclude_reprints and (other.dup_group or other.docid) == group:
            continue
        if options.min_words and len(other.body.split(None, options.min_words)) < options.min_words:
            continue
        theirs = set(other.countries)
        overlap = len(mine & theirs) / len(mine | theirs) if mine and theirs else 0.0
        ranked.append((other, score / best + options.country_weight * overlap))
    ranked.sort(key=lambda pair: -pair[1])
    return ranked[:limit]


def _by_terms(
    engine: SearchEngine,
    searcher: Any,
    doc: Document,
    wanted: int,
    options: SimilarOptions,
    access: AccessFilter,
) -> list[tuple[str, float]]:
    schema = engine.index.schema
    lang = analyzer_language(doc.language, engine.settings.default_language)
    fields = {
        text_field("title", lang): [doc.title],
        text_field("body", lang): [doc.body[:SAMPLE_CHARS]],
    }
    fields = {k: v for k, v in fields.items() if v[0].strip()}
    if not fields:
        return []
    total = int(searcher.num_docs)
    max_df = max(100, int(total * options.max_doc_fraction)) if options.max_doc_fraction else None
    like = Query.more_like_this_document_fields_query(
        schema,
        fields,
        min_doc_frequency=options.min_doc_frequency,
        max_doc_frequency=max_df,
        min_term_frequency=1,
        max_query_terms=options.max_query_terms,
        min_word_length=options.min_word_length,
    )
    clauses = [(Occur.Must, like), (Occur.MustNot, Query.term_query(schema, "docid", doc.docid))]
    if options.exclude_reprints and doc.dup_group:
        clauses.append(
            (Occur.MustNot, Query.term_query(schema, "dup_group", group_name(doc.dup_group)))
        )
    if access.hidden:
        hidden = Query.term_set_query(schema, "collection", list(access.excluded))
        clauses.append((Occur.MustNot, hidden))
    result = searcher.search(Query.boolean_query(clauses), limit=wanted, count=False)
    return [
        (searcher.doc(address).get_first("docid"), float(score)) for score, address in result.hits
    ]


def _by_vectors(engine: SearchEngine, doc: Document, wanted: int) -> list[tuple[str, float]] | None:
    """Nearest neighbours of the document's own vectors; None when it has none (or vector
    search is off), and the terms decide."""
    vectors = engine.vectors
    if not vectors.ready():
        return None
    index = vectors.index()
    if index is None:
        return None
    items = [doc.docid] if index.has(doc.docid) else []
    items += [f"{doc.docid}#{p.seq}" for p in doc.passages if index.has(f"{doc.docid}#{p.seq}")]
    if not items:
        return None
    import numpy as np

    from sourcebook.search.hybrid import vector_top

    mean = np.mean([index.vector(item) for item in items], axis=0)
    norm = float(np.linalg.norm(mean))
    if not norm:
        return None
    unit = engine.settings.semantic_unit
    return vector_top(index, mean / norm, wanted, unit)
