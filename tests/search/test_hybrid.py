"""Hybrid search: BM25 fused with vector search, on real archives (SQLite + Tantivy + vectors).

The tests that show what hybrid search is for use the real all-MiniLM-L6-v2 model; they need
the ``sourcebook[semantic]`` extra, skip cleanly without it and are slow (the model loads in
about 15 s). The wiring (filters, paging, counts, the fallback to BM25) is also tested with a
small bag-of-words embedder, so it runs where torch is not installed (CI).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from sourcebook.config import Settings
from sourcebook.enrich.embeddings import available, shared_embedder, unavailable_reason
from sourcebook.index.vectors import VectorIndex
from sourcebook.model import Document
from sourcebook.search.fusion import DEFAULT_FUSION
from sourcebook.search.request import SearchRequest
from sourcebook.services import Archive, IngestOptions
from tests.enrich.test_embeddings import ToyEmbedder

needs_minilm = pytest.mark.skipif(not available(), reason=unavailable_reason() or "")

FLOOD_QUERY = "heavy rain flooded the capital"


def doc(key: str, title: str, body: str, **fields: object) -> Document:
    return Document(
        source_key=f"test:{key}", source_id=key, title=title, body=body, language="en", **fields
    )  # type: ignore[arg-type]


def corpus() -> list[Document]:
    """Two floods told without the query's words, and decoys that share words with it."""
    return [
        doc(
            "storm",
            "Overnight storm",
            "Storm water inundated the city, leaving thousands of homes under water.\n\n"
            "Emergency crews pumped out basements until dawn.",
            countries=["BD"],
            publication_date=date(2020, 7, 1),
        ),
        doc(
            "monsoon",
            "Monsoon damage",
            "Torrential downpours submerged villages and washed away roads.",
            countries=["PK"],
            publication_date=date(2015, 8, 1),
        ),
        doc(
            "fighting",
            "Heavy fighting near the border",
            "Heavy fighting was reported near the border between the two armies.",
            countries=["AF"],
            publication_date=date(2021, 1, 1),
        ),
        doc(
            "vote",
            "Elections",
            "Voters chose a new parliament in the capital amid reports of fraud.",
            countries=["KG"],
            publication_date=date(2019, 1, 1),
        ),
        doc(
            "wheat",
            "Wheat prices",
            "Grain exports rose as the harvest improved.",
            countries=["KZ"],
            publication_date=date(2018, 1, 1),
        ),
    ]


def ids(result: object) -> list[str]:
    return [hit.source_id for hit in result.hits]  # type: ignore[attr-defined]


# --- without vectors: BM25, exactly as before ---------------------------------------------------
def test_without_vectors_search_is_bm25_unchanged(tmp_path: Path) -> None:
    home = tmp_path / "archive"
    with Archive(Settings(home=home)) as archive:
        archive.add_documents(corpus())
        on = archive.search(SearchRequest(query=FLOOD_QUERY))
        assert archive.stats()["embedded_documents"] == 0
    with Archive(Settings(home=home, hybrid=False)) as archive:
        off = archive.search(SearchRequest(query=FLOOD_QUERY))
    assert on.ranking == off.ranking == "bm25"
    assert ids(on) == ids(off) == ["fighting", "vote"]
    assert [h.score for h in on.hits] == [h.score for h in off.hits]
    assert on.total == off.total == 2
    assert not (home / "vectors").exists()  # searching never creates the vector index


# --- the wiring, with a bag-of-words embedder (no torch) ----------------------------------------
def bulletins() -> list[Document]:
    out = []
    for n in range(40):
        words = ["flood", "river", "rain", "aid", "border", "harvest", "election", "camp"]
        topic = " ".join(words[n % 3 : n % 3 + 3 + n % 4])
        out.append(
            doc(
                f"b{n:02d}",
                f"Bulletin {n}",
                f"Report {n} on {topic} in the region.",
                countries=["TJ" if n % 2 else "AF"],
                publication_date=date(2000 + n % 20, 1, 1),
            )
        )
    return out


@pytest.fixture
def toy_archive(tmp_path: Path) -> Iterator[Archive]:
    settings = Settings(home=tmp_path / "archive", hybrid_depth=8)
    with Archive(settings, embedder=ToyEmbedder()) as archive:
        archive.add_documents(bulletins(), IngestOptions(enrich=False))
        archive.enrich_embeddings()
        yield archive


def test_hybrid_pages_through_the_fused_list_then_bm25(toy_archive: Archive) -> None:
    first = toy_archive.search(SearchRequest(query="flood aid", page_size=100))
    assert first.ranking == "hybrid"
    every = ids(first)
    assert len(every) == len(set(every)) == first.total
    pages: list[str] = []
    for page in range(1, 8):
        result = toy_archive.search(SearchRequest(query="flood aid", page=page, page_size=6))
        assert result.ranking == "hybrid" and result.total == first.total
        pages += ids(result)
    assert pages == every  # pages cut one ranking: the fused top, then the other BM25 matches
    scores = [h.score for h in first.hits]
    assert scores == sorted(scores, reverse=True)
    bare = toy_archive.search(SearchRequest(query="flood aid", passages=0, facets=False))
    assert bare.ranking == "hybrid" and bare.hits and not any(h.passages for h in bare.hits)


def test_vector_hits_pass_the_same_filters(toy_archive: Archive) -> None:
    request = SearchRequest(query="flood aid", countries=["TJ"], date_from=date(2005, 1, 1))
    result = toy_archive.search(request)
    assert result.ranking == "hybrid" and result.hits
    for hit in result.hits:
        assert hit.countries == ["TJ"]
        assert hit.publication_date is not None and hit.publication_date >= date(2005, 1, 1)
    assert {v.value for v in result.facets["country"]} == {"TJ"}
    assert sum(v.count for v in result.facets["country"]) == result.total


class DistinctEmbedder(ToyEmbedder):
    """The toy vectors plus a small fixed part per text, so no two documents' scores tie (the
    toy's bag of words gives many equal scores, whose order is the last bit of a dot product)."""

    name = "toy-hash-64-distinct"

    def _vectors(self, texts: Sequence[str]) -> NDArray[np.float32]:
        out = super()._vectors(texts)
        for row, text in enumerate(texts):
            seed = int.from_bytes(hashlib.md5(text.encode()).digest()[:4], "big")
            out[row] += 0.05 * np.random.default_rng(seed).standard_normal(64).astype(np.float32)
        normed: NDArray[np.float32] = out / np.linalg.norm(out, axis=1, keepdims=True)
        return normed


def test_a_vector_search_kept_to_the_filtered_documents_equals_checking_candidates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Few documents pass: only their vectors are scored. Many: candidates are read first and
    checked in Tantivy. Both give the same page, scores, total and facets."""
    from sourcebook.search import hybrid

    requests = [
        SearchRequest(query="flood aid", countries=["TJ"], date_from=date(2005, 1, 1)),
        SearchRequest(query="rain border", countries=["AF"], page_size=20),
        SearchRequest(query="harvest camp", date_to=date(2003, 1, 1)),
        SearchRequest(query="election", countries=["FR"]),  # nothing passes
    ]
    settings = Settings(home=tmp_path / "archive", hybrid_depth=8)
    with Archive(settings, embedder=DistinctEmbedder()) as archive:
        archive.add_documents(bulletins(), IngestOptions(enrich=False))
        archive.enrich_embeddings()
        ways: list[str] = []
        for way in ("_kept_top", "_checked_top"):
            real = getattr(hybrid, way)
            monkeypatch.setattr(
                hybrid, way, lambda *a, _real=real, _way=way: ways.append(_way) or _real(*a)
            )
        monkeypatch.setattr(hybrid, "KEEP_MAX_SHARE", 1.0)  # 40 documents: keep every filter
        kept = [archive.search(r) for r in requests]
        assert ways == ["_kept_top"] * 4
        monkeypatch.setattr(hybrid, "KEEP_MAX_DOCUMENTS", 0)  # every filter passes "too many"
        checked = [archive.search(r) for r in requests]
        assert ways[4:] == ["_checked_top"] * 3 + ["_kept_top"]  # none pass: nothing to check
    for a, b in zip(kept, checked, strict=True):
        assert (a.ranking, ids(a), a.total, a.facets) == (b.ranking, ids(b), b.total, b.facets)
        assert [h.score for h in a.hits] == pytest.approx([h.score for h in b.hits])
    assert kept[0].hits and kept[1].hits and not kept[3].hits


def test_hybrid_only_for_plain_text_by_relevance(toy_archive: Archive) -> None:
    assert toy_archive.search(SearchRequest(query="flood", sort="newest")).ranking == "bm25"
    assert toy_archive.search(SearchRequest(query="title:bulletin AND flood")).ranking == "bm25"
    assert toy_archive.search(SearchRequest(query="")).ranking == "bm25"
    assert toy_archive.search(SearchRequest(query="flood", mode="plain")).ranking == "hybrid"


def test_a_reader_sees_new_vectors_and_unembedded_documents_still_come_by_bm25(
    tmp_path: Path,
) -> None:
    settings = Settings(home=tmp_path / "archive")
    embedder = ToyEmbedder()
    with (
        Archive(settings, embedder=embedder) as writer,
        Archive(settings, embedder=embedder) as reader,
    ):
        writer.add_documents(bulletins()[:10], IngestOptions(enrich=False))
        assert reader.search(SearchRequest(query="flood")).ranking == "bm25"
        writer.enrich_embeddings()
        assert reader.search(SearchRequest(query="flood")).ranking == "hybrid"
        writer.add_documents([doc("late", "Late flood", "A flood came late.")])
        reader.index.reload()
        result = reader.search(SearchRequest(query="late flood"))
        assert result.ranking == "hybrid" and "late" in ids(result)


# --- the real model ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def minilm_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    if not available():
        pytest.skip(unavailable_reason() or "")
    home = tmp_path_factory.mktemp("hybrid") / "archive"
    with Archive(Settings(home=home, passage_target_chars=80)) as archive:
        archive.add_documents(corpus())
        report = archive.enrich_embeddings()
        assert report.documents == 5 and report.embedded == report.total == 5
        yield archive


@pytest.mark.slow
@needs_minilm
def test_a_paraphrase_is_found_only_with_hybrid(minilm_archive: Archive) -> None:
    hybrid = minilm_archive.search(SearchRequest(query=FLOOD_QUERY))
    assert hybrid.ranking == "hybrid"
    # both floods, in other words, above the decoy that shares none of the query's words
    assert {"storm", "monsoon"} <= set(ids(hybrid)[:3])
    assert ids(hybrid).index("storm") < ids(hybrid).index("wheat")
    storm = next(h for h in hybrid.hits if h.source_id == "storm")
    assert storm.passages and not storm.passages[0].highlights  # no word of the query in it
    assert hybrid.total == len(hybrid.hits)  # the words' matches and the hits by meaning

    with Archive(minilm_archive.settings.model_copy(update={"hybrid": False})) as bm25_only:
        bm25 = bm25_only.search(SearchRequest(query=FLOOD_QUERY))
    assert bm25.ranking == "bm25" and "storm" not in ids(bm25) and "monsoon" not in ids(bm25)


@pytest.mark.slow
@needs_minilm
def test_the_vector_side_respects_country_and_date_filters(minilm_archive: Archive) -> None:
    pakistan = minilm_archive.search(SearchRequest(query=FLOOD_QUERY, countries=["PK"]))
    assert pakistan.ranking == "hybrid" and ids(pakistan) == ["monsoon"]
    assert pakistan.total == 1 and [v.value for v in pakistan.facets["country"]] == ["PK"]
    recent = minilm_archive.search(SearchRequest(query=FLOOD_QUERY, date_from=date(2019, 1, 1)))
    assert "storm" in ids(recent) and "monsoon" not in ids(recent) and "wheat" not in ids(recent)


@pytest.mark.slow
@needs_minilm
def test_passage_vectors_show_the_passage_that_matched(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "archive", semantic_unit="passage", passage_target_chars=80)
    with Archive(settings) as archive:
        archive.add_documents(corpus())
        report = archive.enrich_embeddings()
        assert report.unit == "passage" and report.vectors > report.documents == 5
        result = archive.search(
            SearchRequest(query="workers emptied flooded cellars before sunrise")
        )
        assert result.ranking == "hybrid" and result.hits[0].source_id == "storm"
        assert result.hits[0].passages[0].text.startswith("Emergency crews")


@pytest.mark.slow
@needs_minilm
def test_the_model_loads_once_per_process(minilm_archive: Archive, tmp_path: Path) -> None:
    with Archive(Settings(home=tmp_path / "other")) as other:
        assert other.engine.vectors.embedder is minilm_archive.engine.vectors.embedder
    assert minilm_archive.engine.vectors.embedder is shared_embedder("minilm")
    index = VectorIndex.load(minilm_archive.settings.vectors_path)
    assert index.model == "all-MiniLM-L6-v2" and len(index) == 5


def test_the_default_fusion_is_the_one_chosen_on_scifact_train() -> None:
    assert Settings().fusion() == DEFAULT_FUSION
    rrf = Settings(hybrid_fusion="rrf", hybrid_vector_weight=0.5, hybrid_rrf_k=5).fusion()
    assert (rrf.method, rrf.weights, rrf.k, rrf.depth) == ("rrf", (0.5, 0.5), 5, 100)
