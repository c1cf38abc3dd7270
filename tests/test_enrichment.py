"""Enrichment inside the archive: derived fields at ingest, facets, collapsing, the entity job."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sourcebook.config import Settings
from sourcebook.model import Document
from sourcebook.search.request import SearchRequest
from sourcebook.services import Archive

STORY = (
    "DUSHANBE, March 3 - Officials in Tajikistan said on Monday that the border with "
    "Afghanistan near Kulob would stay open for returnees, and that talks with Uzbekistan on "
    "water sharing would resume in Tashkent next month. Aid agencies in Dushanbe welcomed the "
    "decision and said families had waited for weeks at the crossing in the cold."
)


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    with Archive(Settings(home=tmp_path / "archive")) as arch:
        yield arch


def test_countries_places_and_passage_languages_are_derived(archive: Archive) -> None:
    archive.add_documents([Document(source_key="t:1", title="Border stays open", body=STORY)])
    doc = next(archive.store.iter_documents())
    assert doc.countries[0] == "TJ"
    assert "countries" in doc.derived and "language" in doc.derived
    assert {"Dushanbe", "Kulob"} <= {p.name for p in doc.places}
    assert all(p.language == "en" for p in doc.passages)
    result = archive.search(SearchRequest(query="returnees"))
    facets = {name: {v.value for v in values} for name, values in result.facets.items()}
    assert "Dushanbe" in facets["place"] and "Kŭlob" in facets["place"]
    assert archive.search(SearchRequest(query="place:kulob")).total == 1
    assert archive.search(SearchRequest(places=["Dushanbe"])).total == 1


def test_source_countries_are_never_overwritten(archive: Archive) -> None:
    given = Document(source_key="t:2", title="A note", body=STORY, countries=["UZ"])
    archive.add_documents([given])
    doc = next(archive.store.iter_documents())
    assert doc.countries == ["UZ"] and "countries" not in doc.derived


def test_reprints_collapse_to_the_original_with_a_count(archive: Archive) -> None:
    original = Document(source_key="t:orig", title="Border stays open", body=STORY)
    reprint = Document(
        source_key="t:copy",
        title="Border stays open (reprint)",
        body=STORY.replace("on Monday", "on Monday evening") + " Reporting by a wire service.",
    )
    other = Document(
        source_key="t:other",
        title="Floods",
        body="Floods hit the south of Tajikistan after heavy rain on Monday.",
    )
    archive.add_documents([original])
    archive.add_documents([reprint, other])
    docs = {d.source_key: d for d in archive.store.iter_documents()}
    assert docs["t:copy"].dup_group == docs["t:orig"].docid
    assert docs["t:other"].dup_group == docs["t:other"].docid
    result = archive.search(SearchRequest(query="Tajikistan Monday"))
    assert [h.docid for h in result.hits].count(docs["t:copy"].docid) == 0
    top = next(h for h in result.hits if h.docid == docs["t:orig"].docid)
    assert top.similar == 1
    group = archive.search(SearchRequest(query=f"group:{docs['t:orig'].docid}"))
    assert {h.docid for h in group.hits} == {docs["t:orig"].docid, docs["t:copy"].docid}
    expanded = archive.search(SearchRequest(query="Tajikistan Monday", collapse=False))
    assert len(expanded.hits) == 3


def test_unchanged_source_stays_unchanged_whatever_enrichment_derives(
    archive: Archive, tmp_path: Path
) -> None:
    path = tmp_path / "story.txt"
    path.write_text(f"Border stays open\n\n{STORY}\n", encoding="utf-8")
    assert archive.ingest([path]).total("added") == 1
    again = archive.ingest([path])
    assert again.total("unchanged") == 1


def test_entity_job_is_resumable_and_feeds_facets(archive: Archive) -> None:
    pytest.importorskip("spacy")
    from sourcebook.enrich.entities import EntityExtractor

    if not EntityExtractor.available():
        pytest.skip("the spaCy English model is not installed")
    docs = [
        Document(
            source_key=f"t:e{i}",
            title=f"Talks {i}",
            body="President Emomali Rahmon met officials of the United Nations High "
            f"Commissioner for Refugees in Dushanbe on day {i}.",
        )
        for i in range(5)
    ]
    archive.add_documents(docs)
    assert archive.pending_entities() == 5
    assert archive.enrich_entities(batch_size=2, limit=3) == 3
    assert archive.pending_entities() == 2
    assert archive.enrich_entities(batch_size=2) == 2
    assert archive.pending_entities() == 0
    result = archive.search(SearchRequest(query="Rahmon"))
    people = {v.value for v in result.facets["person"]}
    assert "Emomali Rahmon" in people
    assert archive.search(SearchRequest(query="person:rahmon")).total == 5
    assert archive.check().ok
