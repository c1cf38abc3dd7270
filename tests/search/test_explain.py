"""Explain: why each hit ranks where it does, read from Tantivy's own score explanations, on real
archives (SQLite + Tantivy; hybrid with the bag-of-words embedder of the embedding tests)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from sourcebook.config import Settings
from sourcebook.search.budget import Deadline
from sourcebook.search.explain import AFTER_FUSED, CUT_NOTICE, Explainer, Explanation
from sourcebook.search.request import SearchRequest
from sourcebook.services import Archive, IngestOptions
from tests.search import test_hybrid
from tests.search.test_hybrid import doc

#: The hybrid tests' archive: 40 bulletins embedded with the bag-of-words embedder.
toy_archive = test_hybrid.toy_archive


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    docs = [
        doc("a", "Border security", "Troops guard the border. The border is closed to traders."),
        doc("b", "Harvest report", "The harvest failed near the border after the drought."),
        doc("c", "Elections", "Voters chose a parliament; observers reported fraud."),
        doc("d", "Security council", "The council discussed security and the elections."),
    ]
    with Archive(Settings(home=tmp_path_factory.mktemp("explain") / "archive")) as archive:
        archive.add_documents(docs, IngestOptions(enrich=False))
        yield archive


def explained(archive: Archive, query: str, **options: object) -> list[tuple[str, Explanation]]:
    result = archive.search(SearchRequest(query=query, explain=True, **options))  # type: ignore[arg-type]
    out = []
    for hit in result.hits:
        assert hit.explanation is not None
        out.append((hit.source_id, hit.explanation))
    return out


def test_without_explain_hits_carry_none(archive: Archive) -> None:
    result = archive.search(SearchRequest(query="border security"))
    assert result.hits and all(hit.explanation is None for hit in result.hits)


def test_bm25_terms_add_up_to_the_score(archive: Archive) -> None:
    result = archive.search(SearchRequest(query="border security", explain=True))
    assert [h.source_id for h in result.hits][:1] == ["a"]
    for hit in result.hits:
        why = hit.explanation
        assert why is not None and why.ranking == "bm25" and why.bm25 is not None
        assert why.score == hit.score
        assert sum(t.score for t in why.terms) == pytest.approx(why.bm25, rel=1e-4)
        assert hit.score == pytest.approx(why.bm25, abs=1e-3)
        assert [t.score for t in why.terms] == sorted((t.score for t in why.terms), reverse=True)
    top = result.hits[0].explanation
    assert top is not None
    body = next(t for t in top.terms if t.term == "border" and t.field == "body")
    assert body.language == "en" and body.kind == "term"
    assert body.freq == 3  # the body field holds the title too
    assert body.doc_freq == 2 and body.idf is not None and body.idf > 0
    title = next(t for t in top.terms if t.term == "secur" and t.field == "title")  # a stem
    assert title.boost == pytest.approx(0.2)  # the title bonus (docs/ranking.md)


def test_a_repeated_query_word_weighs_more(archive: Archive) -> None:
    once = dict(explained(archive, "border", mode="plain"))["b"]
    twice = dict(explained(archive, "border border", mode="plain"))["b"]
    assert once.terms[0].boost == pytest.approx(1.0)
    assert twice.terms[0].boost == pytest.approx(1.0 + 0.6931, rel=1e-3)  # 1 + ln 2
    assert twice.terms[0].score == pytest.approx(once.terms[0].score * twice.terms[0].boost)


def test_phrases_and_patterns_are_listed_as_such(archive: Archive) -> None:
    by_id = dict(explained(archive, '"border is closed" OR secur*', mode="syntax"))
    assert {t.kind for t in by_id["a"].terms} == {"phrase", "pattern"}
    assert all(t.term == "" for t in by_id["a"].terms)  # scored as a whole, no term named
    assert sum(t.score for t in by_id["a"].terms) == pytest.approx(by_id["a"].bm25, rel=1e-4)
    assert {t.kind for t in by_id["d"].terms} == {"pattern"}  # security: the prefix only


def test_filters_add_nothing_to_the_explanation(archive: Archive) -> None:
    plain = dict(explained(archive, "border"))
    filtered = dict(explained(archive, "border", languages=["en"]))
    assert filtered["a"].terms == plain["a"].terms


def test_hybrid_lists_ranks_weights_and_parts(toy_archive: Archive) -> None:
    result = toy_archive.search(SearchRequest(query="flood aid", explain=True, page_size=20))
    assert result.ranking == "hybrid"
    fused = vector_only = after = 0
    for hit in result.hits:
        why = hit.explanation
        assert why is not None and why.ranking == "hybrid"
        if why.note == AFTER_FUSED:
            after += 1
            assert not why.lists and why.bm25 is not None
            continue
        fused += 1
        assert why.fusion == "zscore"
        assert [p.name for p in why.lists] == ["bm25", "vector"]
        assert [p.weight for p in why.lists] == pytest.approx([0.6, 0.4])
        assert sum(p.contribution for p in why.lists) == pytest.approx(hit.score, abs=1e-3)
        bm25, vector = why.lists
        if bm25.rank is not None:
            assert bm25.score == pytest.approx(why.bm25, rel=1e-4)
        if vector.rank is not None:
            assert vector.score is not None and -1.0 <= vector.score <= 1.0
        if why.bm25 is None:  # found for its meaning only: no word, no BM25 rank
            vector_only += 1
            assert bm25.rank is None and not why.terms and vector.rank is not None
    assert fused and after  # the fused top 8 of each list, then BM25 order
    assert vector_only  # the toy vectors bring in a bulletin without "flood" or "aid"


def test_past_the_time_budget_hits_are_left_unexplained(archive: Archive) -> None:
    engine = archive.engine
    searcher = engine.index.searcher()
    request = SearchRequest(query="border", mode="plain")
    query, *_ = engine.build_query(request, searcher)
    (score, address), *_ = searcher.search(query, limit=1).hits
    live = Explainer(searcher, query, deadline=Deadline(time.monotonic() + 60))
    assert live.explain("x", address, score) is not None and not live.cut
    spent = Explainer(searcher, query, deadline=Deadline(time.monotonic() - 1))
    assert spent.explain("x", address, score) is None and spent.cut
    assert CUT_NOTICE.startswith("some hits are not explained")
