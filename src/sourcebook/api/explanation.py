"""The JSON shape of a hit's ``explanation`` (``/api/search?explain=true``; search/explain.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from sourcebook.search.explain import Explanation, ListPart, TermScore


class TermScoreOut(BaseModel):
    """A matched term (or phrase, or pattern) in one field and its part of the BM25 score."""

    field: str = Field(
        description="`title`, `body` or another searched field; empty for a phrase or pattern "
        "(Tantivy scores those as a whole without naming the field)."
    )
    language: str = Field(
        description="Analyzer language of a text field (`en`; `xx`: unstemmed), else empty."
    )
    term: str = Field(
        description="The index term: lower-cased, accents folded, stemmed (`secur` for "
        "security); empty for a phrase or a pattern."
    )
    kind: str = Field(description="`term`, `phrase`, `pattern` (wildcard, prefix) or `other`.")
    score: float = Field(description="What it adds to the BM25 score, boosts included.")
    boost: float = Field(
        description="Product of the boosts on it: the title bonus (0.2) times the weight of a "
        "repeated query word (1 + ln count)."
    )
    freq: float | None = Field(description="Occurrences in the field (phrases: of the phrase).")
    doc_freq: float | None = Field(description="Documents holding the term.")
    idf: float | None = Field(description="BM25 idf: log(1 + (N - n + 0.5) / (n + 0.5)).")

    @classmethod
    def of(cls, term: TermScore) -> TermScoreOut:
        return cls(
            field=term.field,
            language=term.language,
            term=term.term,
            kind=term.kind,
            score=round(term.score, 4),
            boost=round(term.boost, 4),
            freq=term.freq,
            doc_freq=term.doc_freq,
            idf=None if term.idf is None else round(term.idf, 4),
        )


class ListPartOut(BaseModel):
    """One ranked list's part in a hybrid (fused) score."""

    name: str = Field(description="`bm25` or `vector`.")
    rank: int | None = Field(description="Rank in that list (1 = first); null: not in it.")
    score: float | None = Field(
        description="Raw score there: BM25, or the cosine similarity of the query's and the "
        "document's vectors; null when the list did not return the hit."
    )
    normalised: float = Field(
        description="What fusion read: the z-score or min-max of the raw score, or "
        "1 / (k + rank) for RRF; the list's floor when the hit is not in it."
    )
    weight: float = Field(description="The list's weight in the fusion.")
    contribution: float = Field(description="weight x normalised: its part of the hit's score.")

    @classmethod
    def of(cls, part: ListPart) -> ListPartOut:
        return cls(
            name=part.name,
            rank=part.rank,
            score=None if part.score is None else round(part.score, 4),
            normalised=round(part.normalised, 4),
            weight=part.weight,
            contribution=round(part.contribution, 4),
        )


class ExplanationOut(BaseModel):
    """Why a hit ranks where it does (docs/ranking.md, "Explain")."""

    ranking: str = Field(description="`bm25` or `hybrid`.")
    score: float = Field(description="The hit's score as listed.")
    bm25: float | None = Field(
        description="The document's BM25 score for the query; null when it does not match the "
        "words (found by vector search alone)."
    )
    terms: list[TermScoreOut] = Field(
        description="Matched terms per field, largest contribution first; they add up to `bm25`."
    )
    fusion: str = Field(description="Hybrid: `zscore`, `minmax` or `rrf`; else empty.")
    lists: list[ListPartOut] = Field(
        description="Hybrid: each fused list's part; their contributions add up to `score`."
    )
    note: str = Field(description="What the figures leave out, if anything.")

    @classmethod
    def of(cls, explanation: Explanation) -> ExplanationOut:
        return cls(
            ranking=explanation.ranking,
            score=explanation.score,
            bm25=None if explanation.bm25 is None else round(explanation.bm25, 4),
            terms=[TermScoreOut.of(t) for t in explanation.terms],
            fusion=explanation.fusion,
            lists=[ListPartOut.of(p) for p in explanation.lists],
            note=explanation.note,
        )

    def to_explanation(self) -> Explanation:
        """The explanation back (the CLI prints a local server's answer as its own)."""
        return Explanation(
            ranking=self.ranking,
            score=self.score,
            bm25=self.bm25,
            terms=[TermScore(**t.model_dump()) for t in self.terms],
            fusion=self.fusion,
            lists=[ListPart(**p.model_dump()) for p in self.lists],
            note=self.note,
        )
