"""The Enrichment record and the Enricher that fills it."""

from __future__ import annotations

import json

from sourcebook.enrich.base import Enricher, Enrichment
from sourcebook.enrich.dedup import DedupIndex
from sourcebook.enrich.entities import Entities
from sourcebook.model import Document, Passage

BODY = (
    "DUSHANBE, March 3 (AP) - Tajik officials met Afghan border guards near Kulob on Monday, "
    "the government of Tajikistan said in a statement.\n\n"
    "Президент России прибыл в Душанбе для переговоров о безопасности границы."
)


def make_doc(docid: str = "d1") -> Document:
    doc = Document(docid=docid, title="Tajik-Afghan border talks", body=BODY)
    first = BODY.index("\n\n")
    doc.passages = [
        Passage(0, 0, first, BODY[:first]),
        Passage(1, first + 2, len(BODY), BODY[first + 2 :]),
    ]
    return doc


def test_enrich_fills_every_field() -> None:
    enricher = Enricher(dedup=DedupIndex())
    found = enricher.enrich(make_doc())
    assert found.language == "en"
    assert found.passage_languages == ["en", "ru"]
    assert found.countries[0] == "TJ" and "AF" in found.countries
    assert {p.name for p in found.places} >= {"Kulob", "Dushanbe"}
    assert found.dup_group == "d1"
    assert enricher.enrich(make_doc("d2")).dup_group == "d1"
    json.dumps(found.to_dict())  # JSON-friendly


def test_apply_never_overwrites_the_source() -> None:
    doc = Document(language="fr", countries=["FR"])
    Enrichment(language="en", countries=["TJ"]).apply(doc)
    assert doc.language == "fr" and doc.countries == ["FR"] and doc.derived == []
    empty = Document()
    Enrichment(language="en", countries=["TJ", "AF"]).apply(empty)
    assert empty.language == "en" and empty.countries == ["TJ", "AF"]
    assert empty.derived == ["language", "countries"]
    Enrichment(language="en", countries=["TJ"]).apply(empty)
    assert empty.derived == ["language", "countries"]


def test_add_entities_orders_by_count() -> None:
    found = Enrichment()
    entities = Entities()
    entities.people.update({"Putin": 1, "Rahmon": 3})
    found.add_entities(entities)
    assert list(found.people) == ["Rahmon", "Putin"]
