"""The search service on a real archive (SQLite + Tantivy) built from documents we write here."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from sourcebook.config import Settings
from sourcebook.errors import QuerySyntaxError
from sourcebook.model import Document
from sourcebook.search.request import SearchRequest
from sourcebook.services import Archive


def doc(key: str, title: str, body: str, **fields: object) -> Document:
    return Document(source_key=f"test:{key}", source_id=key, title=title, body=body, **fields)  # type: ignore[arg-type]


DOCS = [
    doc(
        "tj1",
        "Putin and Rahmon agree to bolster Tajik-Afghan border security",
        "Russian President Vladimir Putin said he agreed with Tajikistan's president to jointly "
        "bolster security along the Tajik-Afghan border.\n\nAbout 7,000 troops are stationed at "
        "three facilities in Tajikistan.",
        publisher="Radio Free Europe/Radio Liberty",
        publication_date=date(2017, 2, 27),
        countries=["TJ", "AF", "RU"],
        language="en",
        document_type="news",
    ),
    doc(
        "tj2",
        "Tajikistan: treatment of returnees",
        "Returnees from Russia face questioning by security services.\n\nLawyers report that "
        "returnees were detained at the border crossing.",
        publisher="Illustrative Research Unit",
        publication_date=date(2019, 6, 1),
        countries=["TJ"],
        language="en",
        document_type="report",
    ),
    doc(
        "af1",
        "Afghanistan: situation of Hazaras",
        "Hazaras returning from Iran reported discrimination. Security incidents increased in "
        "2021.\n\nThe report covers Kabul and Herat.",
        publisher="Illustrative Research Unit",
        publication_date=date(2021, 9, 15),
        countries=["AF", "IR"],
        language="en",
        document_type="report",
    ),
    doc(
        "fr1",
        "Frontières du Tadjikistan",
        "Les frontières du Tadjikistan avec l'Afghanistan restent fermées. La sécurité est "
        "renforcée.",
        publisher="Agence illustrative",
        publication_date=date(2018, 3, 3),
        countries=["TJ"],
        language="fr",
        document_type="news",
    ),
    doc(
        "nodate",
        "An undated note on negotiations",
        "Negotiations between the parties continued without a date being given.",
        language="en",
    ),
]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    home: Path = tmp_path_factory.mktemp("engine")
    with Archive(Settings(home=home)) as arch:
        report = arch.add_documents([Document(**vars(d)) for d in DOCS])
        assert report.total("added") == len(DOCS)
        yield arch


def ids(archive: Archive, query: str, **kwargs: object) -> list[str]:
    result = archive.search(SearchRequest(query=query, mode="syntax", **kwargs))  # type: ignore[arg-type]
    return [archive.get(h.docid).source_id for h in result.hits]


def test_and_is_the_default(archive: Archive) -> None:
    assert ids(archive, "returnees border") == ["tj2"]


def test_or_not_and_minus(archive: Archive) -> None:
    assert set(ids(archive, "Hazaras OR Putin")) == {"af1", "tj1"}
    assert set(ids(archive, "security -Putin")) == {"tj2", "af1"}
    assert set(ids(archive, "security NOT Putin")) == {"tj2", "af1"}
    assert set(ids(archive, "(Hazaras OR returnees) AND Russia")) == {"tj2"}


def test_phrase_and_proximity(archive: Archive) -> None:
    assert ids(archive, '"Tajik-Afghan border"')[0] == "tj1"
    assert ids(archive, '"returnees detained"') == []
    assert ids(archive, '"returnees detained"~2') == ["tj2"]


def test_wildcards_match_stemmed_words(archive: Archive) -> None:
    assert ids(archive, "negotiat*") == ["nodate"]
    assert set(ids(archive, "Haz*ras")) == {"af1"}


def test_fields(archive: Archive) -> None:
    assert set(ids(archive, "title:Tajikistan")) == {"tj2"}
    assert set(ids(archive, 'publisher:"Illustrative Research Unit"')) == {"tj2", "af1"}
    assert set(ids(archive, "country:IR")) == {"af1"}
    assert set(ids(archive, "country:Iran")) == {"af1"}
    assert set(ids(archive, "type:report")) == {"tj2", "af1"}
    assert set(ids(archive, "language:fr")) == {"fr1"}
    assert set(ids(archive, "date:2017-01-01..2018-12-31")) == {"tj1", "fr1"}
    assert set(ids(archive, "date:2019")) == {"tj2"}


def test_per_language_stemming(archive: Archive) -> None:
    assert ids(archive, "frontière") == ["fr1"]
    assert ids(archive, "securite") == ["fr1"]  # accents folded


def test_unknown_country_is_a_clear_error(archive: Archive) -> None:
    with pytest.raises(QuerySyntaxError, match="unknown country 'Narnia'"):
        ids(archive, "country:Narnia")


def test_filters_and_facets(archive: Archive) -> None:
    result = archive.search(SearchRequest(query="security", countries=["TJ"]))
    assert {archive.get(h.docid).source_id for h in result.hits} == {"tj1", "tj2", "fr1"} - {"fr1"}
    facets = {name: {v.value: v.count for v in values} for name, values in result.facets.items()}
    assert facets["country"]["TJ"] == 2
    assert facets["type"] == {"news": 1, "report": 1}
    assert facets["year"] == {"2017": 1, "2019": 1}
    labels = {v.value: v.label for v in result.facets["country"]}
    assert labels["TJ"] == "Tajikistan"
    ranged = archive.search(SearchRequest(date_from=date(2019, 1, 1)))
    assert ranged.total == 2


def test_sorting_and_paging(archive: Archive) -> None:
    newest = archive.search(SearchRequest(sort="newest", page_size=10))
    dates = [h.publication_date for h in newest.hits]
    assert dates[:4] == sorted([d for d in dates if d], reverse=True)
    assert dates[-1] is None  # undated last
    oldest = archive.search(SearchRequest(sort="oldest"))
    assert oldest.hits[0].publication_date == date(2017, 2, 27)
    titles = [h.title for h in archive.search(SearchRequest(sort="title")).hits]
    assert titles == sorted(titles, key=str.casefold)
    page2 = archive.search(SearchRequest(sort="oldest", page=2, page_size=2))
    assert [h.docid for h in page2.hits] == [h.docid for h in oldest.hits[2:4]]
    assert page2.total == len(DOCS)


def test_passages_have_offsets_and_highlights(archive: Archive) -> None:
    result = archive.search(SearchRequest(query="troops facilities"))
    hit = result.hits[0]
    body = archive.get(hit.docid).body
    passage = hit.passages[0]
    assert body[passage.start : passage.end] == passage.text
    marked = [passage.text[h.start : h.end] for h in passage.highlights]
    assert marked == ["troops", "facilities"]


def test_plain_mode_questions(archive: Archive) -> None:
    result = archive.search(
        SearchRequest(query="What is the situation of Hazaras returning from Iran?")
    )
    assert archive.get(result.hits[0].docid).source_id == "af1"
    # "TSS (Time Sharing System)" style text never raises
    archive.search(SearchRequest(query="border (security) AND?", mode="plain"))


def test_plain_mode_relaxes_to_any_word(archive: Archive) -> None:
    result = archive.search(SearchRequest(query="Hazaras zanzibar"))
    assert result.total == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"unterminated', "quote"),
        ("(border", "never closed"),
        ("foo:bar", "unknown field"),
        ("date:2017-13-01", "date"),
    ],
)
def test_syntax_errors_are_clear(archive: Archive, query: str, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        archive.search(SearchRequest(query=query, mode="syntax"))
    assert message in str(info.value).lower()


def test_request_bounds(archive: Archive) -> None:
    with pytest.raises(QuerySyntaxError, match="page size"):
        archive.search(SearchRequest(page_size=10_000))
    with pytest.raises(QuerySyntaxError, match="limit"):
        archive.search(SearchRequest(query="x" * 5000))
    with pytest.raises(QuerySyntaxError, match="sort"):
        archive.search(SearchRequest(sort="random"))  # type: ignore[arg-type]


def test_similar_documents(archive: Archive) -> None:
    tj1 = next(h for h in archive.search(SearchRequest(query="Rahmon")).hits)
    similar = archive.similar(tj1.docid)
    assert similar and tj1.docid not in [h.docid for h in similar]


def test_browse_counts_over_the_whole_archive(archive: Archive) -> None:
    countries = {v.value: v.count for v in archive.browse("country")}
    assert countries == {"TJ": 3, "AF": 2, "RU": 1, "IR": 1}
    publishers = {v.value: v.count for v in archive.browse("publisher")}
    assert publishers["Illustrative Research Unit"] == 2


def test_facets_of_broad_queries_are_estimated_from_a_sample(tmp_path: Path) -> None:
    # 3,000 documents, two thirds of them about TJ; facets are counted exactly up to 600 matches
    docs = [
        doc(
            f"n{i}",
            f"Illustrative bulletin {i}",
            "Border crossing notes." if i % 2 else "Market prices notes.",
            countries=["TJ"] if i % 3 else ["AF"],
            language="en",
        )
        for i in range(3_000)
    ]
    with Archive(Settings(home=tmp_path, facet_exact_limit=600)) as arch:
        arch.add_documents(docs)
        broad = arch.search(SearchRequest(query="notes", page_size=1, passages=0))
        assert broad.total == 3_000 and broad.facets_approximate
        counts = {v.value: v.count for v in broad.facets["country"]}
        assert abs(counts["TJ"] - 2_000) < 400 and abs(counts["AF"] - 1_000) < 400
        assert counts["TJ"] == round(counts["TJ"], -2)  # two significant figures
        # the same query twice gives the same estimate (the sample is fixed, not random)
        again = arch.search(SearchRequest(query="notes", page_size=1, passages=0))
        assert {v.value: v.count for v in again.facets["country"]} == counts
        # a narrower query is counted exactly
        narrow = arch.search(SearchRequest(query="border", countries=["AF"], passages=0))
        assert not narrow.facets_approximate and narrow.total == 500
        assert {v.value: v.count for v in narrow.facets["country"]} == {"AF": 500}
        # browsing (and the advanced-search choices) always count exactly
        assert {v.value: v.count for v in arch.browse("country")} == {"TJ": 2_000, "AF": 1_000}
        exact = arch.search(SearchRequest(query="notes", exact_facets=True, passages=0))
        assert not exact.facets_approximate
