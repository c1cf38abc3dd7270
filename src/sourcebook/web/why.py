"""The "Why this result" disclosure of the search page: a hit's explanation as table rows.

The figures come from :mod:`sourcebook.search.explain`; this module only words them. Every
string goes through the template's autoescaping.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sourcebook.countries import language_name
from sourcebook.search.explain import Explanation, TermScore

#: Rows of matched terms shown (the rest are summed up in one line).
MAX_TERMS = 12
KIND_LABELS = {
    "phrase": "phrase",
    "pattern": "wildcard or prefix",
    "other": "other match",
}
LIST_LABELS = {"bm25": "Words (BM25)", "vector": "Meaning (vectors)"}
FUSION_LABELS = {
    "zscore": "z-scores of each list, weighted and summed",
    "minmax": "min-max scaled scores of each list, weighted and summed",
    "rrf": "reciprocal rank fusion: weight / (k + rank), summed",
}


@dataclass
class TermRow:
    what: str
    where: str
    freq: str
    doc_freq: str
    boost: str
    score: str


@dataclass
class ListRow:
    name: str
    rank: str
    score: str
    normalised: str
    weight: str
    contribution: str


@dataclass
class WhyView:
    summary: str
    terms: list[TermRow] = field(default_factory=list)
    more_terms: str = ""
    fusion: str = ""
    lists: list[ListRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _number(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "–"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.{digits}f}"


def _where(term: TermScore) -> str:
    if not term.field:
        return "not named by the index"
    if term.language and term.language != "xx":
        return f"{term.field} ({language_name(term.language)} stems)"
    return term.field


def why_view(explanation: Explanation) -> WhyView:
    """The rows and sentences the template shows for one hit."""
    if explanation.ranking == "hybrid":
        summary = f"Score {explanation.score:.3f}: words and meaning, fused."
    else:
        summary = f"Score {explanation.score:.3f}: BM25 over the words matched."
    view = WhyView(summary=summary)
    shown = explanation.terms[:MAX_TERMS]
    for term in shown:
        view.terms.append(
            TermRow(
                what=term.term if term.kind == "term" else KIND_LABELS.get(term.kind, term.kind),
                where=_where(term),
                freq=_number(term.freq),
                doc_freq=_number(term.doc_freq),
                boost=f"×{term.boost:.2f}",
                score=_number(term.score),
            )
        )
    rest = explanation.terms[MAX_TERMS:]
    if rest:
        view.more_terms = (
            f"{len(rest)} more matches add {sum(t.score for t in rest):.3f} to the BM25 score."
        )
    if explanation.bm25 is None:
        view.notes.append("No query word is in it: it was found for its meaning (vector search).")
    elif explanation.terms:
        view.notes.append(f"BM25 score {explanation.bm25:.3f}, the sum of the parts above.")
    if explanation.lists:
        view.fusion = FUSION_LABELS.get(explanation.fusion, explanation.fusion)
        for part in explanation.lists:
            view.lists.append(
                ListRow(
                    name=LIST_LABELS.get(part.name, part.name),
                    rank=str(part.rank) if part.rank else "not in its top list",
                    score=_number(part.score),
                    normalised=_number(part.normalised),
                    weight=_number(part.weight, 2),
                    contribution=_number(part.contribution),
                )
            )
    if explanation.note:
        view.notes.append(explanation.note[:1].upper() + explanation.note[1:] + ".")
    return view
