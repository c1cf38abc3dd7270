"""Why a hit ranks where it does: its BM25 terms, its vector similarity, and the fusion.

``SearchRequest(explain=True)`` (``explain=true`` in the API, the "Why this result" disclosure on
the search page) gives each hit an :class:`Explanation`:

* the BM25 part comes from Tantivy's own score explanation of the query for that document
  (``Query.explain``), read back into one :class:`TermScore` per matched index term and field:
  its contribution to the score after the boosts above it (the title bonus, a repeated query
  word's weight), the term's frequency in the field, how many documents hold it and its idf.
  Phrases and wildcard patterns are scored as a whole, so they appear as one entry without a
  term. The contributions add up to the BM25 score (up to float rounding);
* with hybrid ranking, each list's part (BM25 and vectors): the hit's rank and raw score in
  that list (the BM25 score, or the cosine similarity of the query's and the document's
  vectors), the normalised value fusion read, the list's weight and what it added to the fused
  score. A hit found by one list only gets that list's floor from the other (as fusion does).

Computing an explanation costs one extra scoring pass over the hit (about a tenth of a
millisecond), so it is only done when asked for, and only for the page's hits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sourcebook.index.analyzers import LANGUAGES
from sourcebook.index.schema import field_names
from sourcebook.search.budget import Deadline
from sourcebook.search.fusion import Fusion, normalise

if TYPE_CHECKING:
    from sourcebook.search.hybrid import HybridRanking

_TERM = re.compile(r'Term\(field=(\d+), type=\w+, "(.*)"\)$')
_BOOST = re.compile(r"^Boost x([0-9.eE+-]+) of")
CUT_NOTICE = "some hits are not explained: the search used up its time budget"
AFTER_FUSED = (
    "ranked after the fused lists (beyond their depth), in BM25 order; the score listed is "
    "the last fused score"
)
#: Explanation nodes deeper than this are not read (a query is limited far below it).
MAX_DEPTH = 64


@dataclass
class TermScore:
    """One matched term (or phrase, or pattern) in one field, and what it added to BM25."""

    #: "title", "body" or another searched field ("country", "person"...).
    field: str
    #: The analyzer language of a text field ("en"; "xx" unstemmed), "" for other fields.
    language: str
    #: The index term (lower-cased, accent-folded, stemmed); "" for a phrase or a pattern.
    term: str
    #: "term", "phrase", "pattern" (wildcard or prefix: a constant score) or "other".
    kind: str
    #: Its contribution to the document's BM25 score, boosts included.
    score: float
    #: The product of the boosts applied to it (title bonus x query-word weight).
    boost: float = 1.0
    #: Occurrences in the field, documents holding the term, and its idf (None: not given).
    freq: float | None = None
    doc_freq: float | None = None
    idf: float | None = None


@dataclass
class ListPart:
    """One ranked list's part in a fused (hybrid) score."""

    #: "bm25" or "vector".
    name: str
    #: Rank in that list (1 = first); None when the list did not return the hit.
    rank: int | None
    #: The raw score there: BM25, or the cosine similarity of query and document vectors.
    score: float | None
    #: The value fusion read: z-score or min-max of the raw score, or 1 / (k + rank) for RRF
    #: (the list's floor when the hit is missing from it).
    normalised: float
    weight: float
    #: weight x normalised: what this list added to the fused score.
    contribution: float


@dataclass
class Explanation:
    """Why one hit ranks where it does."""

    #: "bm25" or "hybrid".
    ranking: str
    #: The hit's score as listed (BM25, or the fused score).
    score: float
    #: The document's BM25 score for the query; None when it does not match the words (a hit
    #: found by vector search alone).
    bm25: float | None
    terms: list[TermScore] = field(default_factory=list)
    #: Hybrid only: how the lists were fused ("zscore", "minmax" or "rrf") and each list's part.
    fusion: str = ""
    lists: list[ListPart] = field(default_factory=list)
    #: A sentence for what the figures do not say (e.g. ranked after the fused list).
    note: str = ""


def bm25_terms(tree: dict[str, Any]) -> list[TermScore]:
    """The term contributions of a Tantivy score explanation (``Explanation.to_json``), best first."""
    names = field_names()
    found: list[TermScore] = []

    def leaf(node: dict[str, Any], boost: float) -> TermScore:
        description = str(node.get("description", ""))
        kind = "other"
        name, language, term = "", "", ""
        for context in node.get("context") or []:
            match = _TERM.search(str(context))
            if match:
                kind, term = "term", match.group(2)
                number = int(match.group(1))
                name = names[number] if number < len(names) else f"field {number}"
        if description.startswith("Phrase"):
            kind = "phrase"
        elif description.startswith("Automaton"):
            kind = "pattern"
        kind_name, _, lang = name.rpartition("_")
        if kind_name in ("title", "body") and lang in LANGUAGES:
            name, language = kind_name, lang
        score = TermScore(
            field=name,
            language=language,
            term=term,
            kind=kind,
            score=float(node.get("value", 0.0)) * boost,
            boost=boost,
        )
        _stats(node, score)
        return score

    def walk(node: dict[str, Any], boost: float, depth: int) -> None:
        description = str(node.get("description", ""))
        value = float(node.get("value", 0.0))
        if depth > MAX_DEPTH or value == 0.0 or description == "AllQuery":
            return  # filters score 0, and "every document" names no word
        matched = _BOOST.match(description)
        if matched:
            boost *= float(matched.group(1))
        details = node.get("details") or []
        scored = (
            description.startswith(("TermQuery", "Phrase", "Automaton"))
            or not details
            or node.get("context")
        )
        if scored and not matched:
            found.append(leaf(node, boost))
            return
        for child in details:
            walk(child, boost, depth + 1)

    walk(tree, 1.0, 0)
    found.sort(key=lambda t: -t.score)
    return found


def _stats(node: dict[str, Any], into: TermScore) -> None:
    """Frequency, document frequency and idf from a term's (or phrase's) BM25 node."""
    stack = [node]
    while stack:
        item = stack.pop()
        description = str(item.get("description", ""))
        value = float(item.get("value", 0.0))
        if description.startswith("idf") and into.idf is None:
            into.idf = value
        elif description.startswith("n, number of docs") and into.doc_freq is None:
            into.doc_freq = value
        elif description.startswith("freq, occurrences") and into.freq is None:
            into.freq = value
        stack.extend(item.get("details") or [])


class Explainer:
    """Explains the hits of one search (the fused lists are normalised once, not per hit)."""

    def __init__(
        self,
        searcher: Any,
        query: Any,
        ranking: HybridRanking | None = None,
        fusion: Fusion | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        self.deadline = deadline or Deadline()
        #: Set when the time budget ran out: later hits are left unexplained.
        self.cut = False
        self.searcher = searcher
        self.query = query
        self.ranking = ranking
        self.fusion = fusion
        self._lists: list[tuple[str, dict[str, tuple[int, float]], dict[str, float], float]] = []
        if ranking is not None and fusion is not None:
            for name, run, weight in zip(
                ("bm25", "vector"), ranking.lists, fusion.weights, strict=False
            ):
                self._lists.append(self._prepare(name, run, weight))

    def _prepare(
        self, name: str, run: Sequence[tuple[str, float]], weight: float
    ) -> tuple[str, dict[str, tuple[int, float]], dict[str, float], float]:
        assert self.fusion is not None
        ranks = {docid: (n + 1, score) for n, (docid, score) in enumerate(run)}
        if self.fusion.method == "rrf":
            scaled = {docid: 1.0 / (self.fusion.k + rank) for docid, (rank, _s) in ranks.items()}
            floor = 0.0
        else:
            scaled = normalise(run, self.fusion.method)
            floor = min(scaled.values(), default=0.0) if self.fusion.method == "zscore" else 0.0
        return name, ranks, scaled, floor

    def explain(self, docid: str, address: Any, score: float) -> Explanation | None:
        """The hit's explanation; None once the search's time budget is spent."""
        remaining = self.deadline.remaining()
        if self.cut or (remaining is not None and remaining <= 0):
            self.cut = True
            return None
        bm25: float | None = None
        terms: list[TermScore] = []
        try:
            tree = json.loads(self.query.explain(self.searcher, address).to_json())
        except ValueError:  # the document does not match the words (found by its meaning)
            tree = None
        if tree is not None:
            bm25 = float(tree.get("value", 0.0))
            terms = bm25_terms(tree)
        if self.ranking is None or self.fusion is None:
            return Explanation(ranking="bm25", score=score, bm25=bm25, terms=terms)
        weights = list(self.fusion.weights)
        parts = []
        for (name, ranks, scaled, floor), weight in zip(self._lists, weights, strict=False):
            rank, raw = ranks.get(docid, (None, None))
            value = scaled.get(docid, floor)
            parts.append(
                ListPart(
                    name=name,
                    rank=rank,
                    score=raw,
                    normalised=value,
                    weight=weight,
                    contribution=weight * value,
                )
            )
        note = ""
        if not any(p.rank for p in parts):  # past the fused lists: no fused score of its own
            parts = []
            note = AFTER_FUSED
        return Explanation(
            ranking="hybrid",
            score=score,
            bm25=bm25,
            terms=terms,
            fusion=self.fusion.method,
            lists=parts,
            note=note,
        )


__all__ = ["CUT_NOTICE", "Explainer", "Explanation", "ListPart", "TermScore", "bm25_terms"]
