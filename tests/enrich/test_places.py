"""Places: cities and regions with country, coordinates and counts."""

from __future__ import annotations

from sourcebook.enrich.places import places
from sourcebook.model import Document


def test_places_count_every_spelling_and_declension() -> None:
    doc = Document(
        title="Moscow talks",
        body="Officials in Moscow met envoys from Dushanbe. В Москве и в Душанбе. Москва.",
    )
    found = {p.canonical: p for p in places(doc)}
    assert found["Moscow"].count == 4 and found["Moscow"].country == "RU"
    assert found["Moscow"].name == "Moscow"
    assert found["Dushanbe"].count == 2
    assert found["Dushanbe"].lat is not None and 38 < found["Dushanbe"].lat < 39


def test_regions_and_countries() -> None:
    found = places(Document(body="Fighting in Idlib and Helmand; Texas and Khatlon too. Syria."))
    kinds = {p.name: p.kind for p in found}
    assert set(kinds) == {"Idlib", "Helmand", "Texas", "Khatlon"}  # Syria is a country
    assert kinds["Helmand"] == kinds["Texas"] == kinds["Khatlon"] == "region"
    assert {p.country for p in found} == {"SY", "AF", "US", "TJ"}


def test_ambiguous_city_follows_the_document_country() -> None:
    pk = places(Document(body="In Pakistan, police in Hyderabad arrested two men."))
    india = places(Document(body="In India, police in Hyderabad arrested two men."))
    assert pk[0].country == "PK" and india[0].country == "IN"


def test_dateline_place_reads_in_title_case() -> None:
    found = places(Document(body="NEW YORK, March 3 - Shares rose in heavy trading on Tuesday."))
    assert found[0].name == "New York" and found[0].country == "US"
