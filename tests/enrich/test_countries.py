"""Country tagging: our own small texts, one test per trap rule, and the seed record."""

from __future__ import annotations

from pathlib import Path

import pytest

from sourcebook.enrich.countries import CountryTagger, parse_dateline
from sourcebook.enrich.places import places
from sourcebook.ingest.refworld import RefworldParser
from sourcebook.ingest.registry import Source
from sourcebook.model import Document


@pytest.fixture(scope="module")
def tagger() -> CountryTagger:
    return CountryTagger()


def mentioned(tagger: CountryTagger, body: str, title: str = "") -> set[str]:
    return {c.country for c in tagger.tag(Document(title=title, body=body))}


def countries(tagger: CountryTagger, body: str, title: str = "") -> list[str]:
    return tagger.countries(Document(title=title, body=body))


def test_names_short_forms_demonyms_and_cities(tagger: CountryTagger) -> None:
    found = mentioned(
        tagger,
        "Russia and the Tajik government met Afghan and Syrian envoys in Almaty, then flew "
        "to the United Kingdom.",
    )
    assert found == {"RU", "TJ", "AF", "SY", "KZ", "GB"}


def test_no_match_inside_words(tagger: CountryTagger) -> None:
    assert mentioned(tagger, "Romanians and Omanis are not in Romania's Oman Street list.") == {
        "RO",
        "OM",
    }
    assert mentioned(tagger, "The Indochina war ended; Omanisation went on.") == set()


def test_abbreviations_need_capitals(tagger: CountryTagger) -> None:
    assert mentioned(tagger, "Give us the news from the U.S. and the UK.") == {"US", "GB"}
    assert mentioned(tagger, "Let us go, uk style.") == set()


def test_longest_match_and_blockers(tagger: CountryTagger) -> None:
    assert mentioned(tagger, "Papua New Guinea signed a deal.") == {"PG"}
    assert mentioned(tagger, "Latin American debtors met in the Persian Gulf.") == set()
    assert mentioned(tagger, "Farmers in New Mexico and New South Wales.") == {"US", "AU"}


def test_russian_declension_and_arabic_clitics(tagger: CountryTagger) -> None:
    assert mentioned(tagger, "Президент России прибыл в Таджикистан, а затем в Москве.") == {
        "RU",
        "TJ",
    }
    assert mentioned(tagger, "وسوريا وإيران") == {"SY", "IR"}
    assert mentioned(tagger, "رئیس جمهور روسیه در دوشنبه") == {"RU", "TJ"}


def test_person_names_are_not_countries(tagger: CountryTagger) -> None:
    assert mentioned(tagger, "The ball went to Michael Jordan in the final seconds.") == set()
    assert mentioned(tagger, "Yesterday Chad Smith and Mr. Jordan played golf.") == set()
    assert mentioned(tagger, "King Hussein of Jordan visited Chad.") == {"JO", "TD"}
    assert "RU" not in mentioned(tagger, "On Tuesday, Vladimir Putin spoke to reporters.")


def test_georgia_the_state_and_the_country(tagger: CountryTagger) -> None:
    assert mentioned(tagger, "The plant near Atlanta, Georgia, will close.") == {"US"}
    assert mentioned(tagger, "Georgia's governor signed the budget; Alabama followed.") == {"US"}
    assert mentioned(tagger, "Protesters in Tbilisi said Georgia must resist.") == {"GE"}
    assert mentioned(tagger, "Georgia and Armenia signed a border treaty.") == {"GE", "AM"}


def test_common_words_that_are_towns(tagger: CountryTagger) -> None:
    # lower case: never a town
    assert (
        mentioned(tagger, "the shares split in a nice move for mobile reading in the bath") == set()
    )
    # a capital at the start of a sentence or in all capitals: not enough
    assert mentioned(tagger, "Split decisions are rare. Nice work. Reading is fun.") == set()
    assert mentioned(tagger, "NICE SPLIT OF MOBILE SHARES") == set()
    # a capital in mid-sentence: the town
    assert mentioned(tagger, "The ferry from Split reached Genoa, and trains left Nice.") == {
        "HR",
        "IT",
        "FR",
    }


def test_turkey_the_bird(tagger: CountryTagger) -> None:
    assert (
        mentioned(tagger, "Turkey prices rose before Thanksgiving as poultry farms cut output.")
        == set()
    )
    assert (
        mentioned(tagger, "TURKEY OUTPUT UP", "US poultry: turkeys and broilers rose.") - {"US"}
        == set()
    )
    assert mentioned(tagger, "Turkey said Ankara would buy poultry from Brazil.") == {"TR", "BR"}


def test_china_the_porcelain(tagger: CountryTagger) -> None:
    assert mentioned(tagger, "The auction sold fine China and bone China plates.") == set()
    assert mentioned(tagger, "China exported plates to Japan.") == {"CN", "JP"}


def test_datelines() -> None:
    assert (d := parse_dateline("NEW YORK, March 3 - Shares rose.")) and d.country == "US"
    assert (d := parse_dateline("PORTLAND, Ore., Feb 26 - Red Lion")) and d.country == "US"
    assert (d := parse_dateline("ELWOOD, KAN., Feb 26 - Shr loss")) and d.country == "US"
    assert (d := parse_dateline("KANATA, Ontario, March 4 - Oper")) and d.country == "CA"
    assert (d := parse_dateline("DUSHANBE, Tajikistan (AP) — Tajik")) and d.country == "TJ"
    assert (d := parse_dateline("KABUL (Reuters) - The")) and d.country == "AF"
    assert (d := parse_dateline("TBILISI, Georgia, March 3 - x")) and d.country == "GE"
    assert (d := parse_dateline("ATLANTA, Georgia, March 3 - x")) and d.country == "US"
    # ambiguous city: the largest namesake (Brazil's third city, not San Salvador)
    assert (d := parse_dateline("SALVADOR, Feb 26 - Showers continued")) and d.country == "BR"
    assert parse_dateline("Shares rose in New York - a note") is None


def test_dateline_decides_the_document_country(tagger: CountryTagger) -> None:
    body = (
        "HOUSTON, March 2 - The company said on Monday it would sell most of its refining "
        "and marketing assets later this year.\n\n"
        "A spokesman said talks with a buyer from Japan and with a Canadian firm had ended."
    )
    assert countries(tagger, body, "OIL FIRM TO SELL ASSETS") == ["US"]


def test_salience_title_and_lead_weigh_more(tagger: CountryTagger) -> None:
    body = "\n\n".join(
        [
            "The Kazakh government announced new grain quotas on Monday, officials in Astana said.",
            "Traders said prices would rise.",
            "Exporters expect demand to hold up through the summer and into the autumn season.",
            "A similar scheme was tried years ago in Argentina.",
        ]
    )
    ranked = CountryTagger().tag(Document(title="Kazakhstan sets grain quotas", body=body))
    assert ranked[0].country == "KZ" and ranked[0].in_title
    assert [c.country for c in ranked if c.salient] == ["KZ"]


def test_tag_never_changes_the_document(tagger: CountryTagger) -> None:
    doc = Document(title="Tajikistan", body="Dushanbe.", countries=["AF"])
    tagger.tag(doc)
    assert doc.countries == ["AF"] and doc.derived == []


def _seed(seed_record: Path) -> Document:
    docs = [
        d for d in RefworldParser().parse(Source.from_path(seed_record)) if isinstance(d, Document)
    ]
    return docs[0]


def test_seed_record_countries(seed_record: Path, tagger: CountryTagger) -> None:
    doc = _seed(seed_record)
    found = tagger.countries(doc)
    assert found[0] == "TJ"
    assert set(found) == {"TJ", "AF", "RU", "KZ", "KG", "SY"}


def test_seed_record_places(seed_record: Path, tagger: CountryTagger) -> None:
    found = {p.name: p for p in places(_seed(seed_record), tagger)}
    assert {"Dushanbe", "Kulob", "Almaty", "Astana", "Bishkek"} <= set(found)
    assert found["Dushanbe"].country == "TJ" and found["Dushanbe"].kind == "capital"
    assert found["Kulob"].canonical == "Kŭlob"
    assert found["Astana"].count == 3
    assert "Vladimir" not in found  # Vladimir Putin, not the Russian city


def test_a_title_case_headline_town_counts_when_the_body_names_it(tagger: CountryTagger) -> None:
    """The body's names are read for a title-case headline only (ingest speed), and then still
    settle it: a one-word town the headline and the body both name is kept."""
    doc = Document(
        source_key="t:headline-town",
        title="Protest Grows In Kandahar",
        body="Hundreds gathered on Friday in Kandahar to protest against the new tax.",
    )
    in_title = [m for m in tagger.mentions(doc) if m.zone == "title"]
    assert [(m.text, m.country) for m in in_title] == [("Kandahar", "AF")]
    alone = Document(source_key="t:upper", title="PROTEST GROWS IN KANDAHAR", body="")
    assert [m.country for m in tagger.mentions(alone)] == ["AF"]
