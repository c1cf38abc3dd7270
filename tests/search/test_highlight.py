"""Best passages and highlights: the fast candidate scan agrees with stemming every word."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sourcebook.model import Document, Passage
from sourcebook.search import highlight
from sourcebook.search.highlight import best_passages, positive_terms
from sourcebook.search.query import parse_query


def _doc(paragraphs: list[str], language: str = "en") -> Document:
    passages, start = [], 0
    for seq, text in enumerate(paragraphs):
        passages.append(Passage(seq=seq, start=start, end=start + len(text), text=text))
        start += len(text) + 2
    return Document(
        docid="d1", title="t", body="\n\n".join(paragraphs), language=language, passages=passages
    )


def _marked(doc: Document, query: str) -> list[list[str]]:
    hits = best_passages(doc, positive_terms(parse_query(query)), limit=5)
    return [[p.text[h.start : h.end] for h in p.highlights] for p in hits]


def _full_scan(doc: Document, query: str, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    with monkeypatch.context() as m:
        m.setattr(highlight, "_needles", lambda matcher: None)
        return _marked(doc, query)


@pytest.mark.parametrize(
    ("paragraph", "query", "expected"),
    [
        # the stem is a prefix of its word but for the last letter
        ("Officials were using force.", "use", ["using"]),
        ("Journalists living in exile.", "live*", ["living"]),
        ("A happy outcome, for “some”.", "happiness", ["happy"]),
        # accents folded letter for letter (curly quotes and dashes keep the fast path)
        ("Les réfugiés — «nombreux» — attendent.", "refugies", ["réfugiés"]),
    ],
)
def test_highlights_words_whose_stem_differs_at_the_end(
    paragraph: str, query: str, expected: list[str]
) -> None:
    language = "fr" if "réfugiés" in paragraph else "en"
    assert _marked(_doc([paragraph], language), query) == [expected]


def test_russian_yo_and_mixed_scripts(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _doc(["Встреча с Фёдоровым в Душанбе.", "Straße und Ærø: nichts."], "ru")
    assert _marked(doc, "Федоровым") == [["Фёдоровым"]]  # ё is е to the stemmer
    assert _marked(doc, "Душанбе") == [["Душанбе"]]
    # ß and æ fold to two letters: that passage is checked word by word, and still matches
    de = _doc(["Die Straße nach Ærø."], "de")
    assert _marked(de, "strasse") == _full_scan(de, "strasse", monkeypatch) == [["Straße"]]


_WORDS = st.sampled_from(
    [
        "using",
        "use",
        "living",
        "live",
        "lives",
        "happy",
        "happiness",
        "réfugiés",
        "refugee",
        "Straße",
        "İstanbul",
        "naïve",
        "élection",
        "elections",
        "Фёдоров",
        "федоров",
        "граница",
        "границы",
        "½",
        "x²",
        "border",
        "borders",
        "2021",
        "TSS",
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    text=st.lists(_WORDS | st.sampled_from([" ", ", ", " — ", "“", "”"]), max_size=25).map("".join),
    query=_WORDS,
    language=st.sampled_from(["en", "fr", "ru", "de", ""]),
)
def test_fast_scan_equals_full_scan(text: str, query: str, language: str) -> None:
    doc = _doc([text or "x"], language)
    with pytest.MonkeyPatch.context() as m:
        expected = _full_scan(doc, query, m)
    assert _marked(doc, query) == expected
