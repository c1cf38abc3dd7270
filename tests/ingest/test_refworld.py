"""RefworldParser: the real seed record, field by field, and our text and HTML fixtures."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from sourcebook.errors import ParseError
from sourcebook.ingest.refworld import RefworldParser, _doubled
from sourcebook.ingest.registry import BY_CONTENT, NO_MATCH, Source
from sourcebook.ingest.text import TextParser
from sourcebook.model import Document

SEED_CITE = (
    "Radio Free Europe/Radio Liberty, Putin and Rahmon agree to bolster Tajik-Afghan border "
    "security, 27 February 2017, available at: https://www.refworld.org/docid/5975a5b29.html "
    "[accessed 19 May 2023]"
)
SEED_DISCLAIMER = (
    "This is not a UNHCR publication. UNHCR is not responsible for, nor does it necessarily "
    "endorse, its content. Any views expressed are solely those of the author or publisher and "
    "do not necessarily reflect those of UNHCR, the United Nations or its Member States."
)
SEED_COPYRIGHT = (
    "Copyright (c) 2007-2009. RFE/RL, Inc. Reprinted with the permission of Radio Free "
    "Europe/Radio Liberty, 1201 Connecticut Ave., N.W. Washington DC 20036"
)
CAPTION = (
    "Russian President Vladimir Putin (left) and Tajik President Emomali Rahmon following "
    "their talks in Dushanbe on February 27."
)


def parse_one(path: Path) -> Document:
    [doc] = list(RefworldParser().parse(Source.from_path(path)))
    assert isinstance(doc, Document)
    return doc


@pytest.fixture
def refworld_dir(fixtures_dir: Path) -> Path:
    return fixtures_dir / "ingest" / "refworld"


# -- the real seed record ---------------------------------------------------------------------


@pytest.mark.shared
def test_seed_record_fields(seed_record: Path) -> None:
    doc = parse_one(seed_record)
    assert doc.docid == ""
    assert doc.source_key == "refworld:5975a5b29"
    assert doc.source_id == "5975a5b29"
    assert doc.title == "Putin and Rahmon agree to bolster Tajik-Afghan border security"
    assert doc.publisher == "Radio Free Europe/Radio Liberty"
    assert doc.authors == []
    assert doc.publication_date == date(2017, 2, 27)
    assert doc.last_updated == datetime(2023, 5, 17, 15, 20, tzinfo=UTC)
    assert doc.last_updated.tzinfo is not None
    assert doc.source_url == "https://www.refworld.org/docid/5975a5b29.html"
    assert doc.original_url == ""  # the text form has no link target
    assert doc.accessed_date == date(2023, 5, 19)
    assert doc.cite_as == SEED_CITE
    assert doc.disclaimer == SEED_DISCLAIMER
    assert doc.copyright == SEED_COPYRIGHT
    # not stated by the record, so not filled
    assert doc.document_type == ""
    assert doc.language == ""
    assert doc.countries == []
    assert doc.collection == ""
    assert doc.source_tags == {}
    assert doc.origin == str(seed_record)


@pytest.mark.shared
def test_seed_record_body(seed_record: Path) -> None:
    body = parse_one(seed_record).body
    paragraphs = body.split("\n\n")
    assert paragraphs[0] == "February 27, 2017"
    assert paragraphs[1].startswith("Russian President Vladimir Putin has said in the midst")
    assert paragraphs[-1] == "With reporting by TASS, Interfax and RIA"
    assert "'Exemplary Ties'" in paragraphs
    assert len(paragraphs) == 18
    for furniture in (CAPTION, "Link to original story", "Copyright notice", "Search Refworld"):
        assert furniture not in body
    assert "Disclaimer" not in body and "Cite as" not in body and "Last Updated" not in body
    assert all(p == " ".join(p.split()) for p in paragraphs)  # normalised, one line each
    assert "<" not in body


@pytest.mark.shared
def test_seed_record_wins_the_auction(seed_record: Path) -> None:
    source = Source.from_path(seed_record)
    assert RefworldParser().match(source) == BY_CONTENT + 5
    assert RefworldParser().match(source) > TextParser().match(source)


@pytest.mark.shared
def test_seed_record_identity_is_stable(seed_record: Path) -> None:
    assert parse_one(seed_record).source_key == parse_one(seed_record).source_key


# -- our fixtures ------------------------------------------------------------------------------


def test_text_fixture_fields(refworld_dir: Path) -> None:
    doc = parse_one(refworld_dir / "record.txt")
    assert doc.title == "Illustrative: Border crossing reopens after seasonal closure"
    assert doc.publisher == "Example News Service"
    assert doc.authors == ["Jane Example", "John Sample"]
    assert doc.publication_date == date(2024, 6, 1)
    assert doc.last_updated == datetime(2024, 6, 3, 9, 5, tzinfo=UTC)
    assert doc.document_type == "News"
    assert doc.countries == ["TJ", "AF"]
    assert doc.source_tags == {
        "countries": ["Tajikistan", "Afghanistan"],
        "topics": ["Border controls", "Freedom of movement"],
    }
    assert doc.source_id == "0a1b2c3d4"
    assert doc.source_key == "refworld:0a1b2c3d4"
    assert doc.accessed_date == date(2024, 6, 3)
    assert doc.copyright == "Copyright (c) 2024 Example News Service. Illustrative sample."
    assert doc.body.split("\n\n") == [
        "June 1, 2024",
        "This is an illustrative sample written for Sourcebook; the events below are invented.",
        "Officials said the crossing would reopen for pedestrians and trucks on weekdays.",
        "Traders welcomed the decision.",
    ]


def test_html_fixture_matches_the_text_form(refworld_dir: Path) -> None:
    text = parse_one(refworld_dir / "record.txt")
    page = parse_one(refworld_dir / "record.html")
    assert page.original_url == "https://news.example.org/2024/06/01/border-crossing"
    for name in ("source_key", "title", "publisher", "authors", "publication_date", "body"):
        assert getattr(page, name) == getattr(text, name), name
    for name in ("last_updated", "source_url", "accessed_date", "cite_as", "disclaimer"):
        assert getattr(page, name) == getattr(text, name), name
    for name in ("copyright", "document_type", "countries", "source_tags", "source_id"):
        assert getattr(page, name) == getattr(text, name), name
    assert "Search Refworld" not in page.body
    assert "Home" not in page.body


def test_match_scores(refworld_dir: Path, fixtures_dir: Path, tmp_path: Path) -> None:
    parser = RefworldParser()
    assert parser.match(Source.from_path(refworld_dir / "record.txt")) == BY_CONTENT + 5
    assert parser.match(Source.from_path(refworld_dir / "record.html")) == BY_CONTENT + 5
    assert parser.match(Source.from_path(fixtures_dir / "ingest/text/plain.txt")) == NO_MATCH
    assert parser.match(Source.from_path(fixtures_dir / "ingest/html/article.html")) == NO_MATCH
    other = tmp_path / "other.html"
    other.write_text("<html><body><p>Last Updated: today. Publisher. Cite as.</p></body></html>")
    assert parser.match(Source.from_path(other)) == NO_MATCH  # no Refworld marker


def test_header_without_body_or_title_is_a_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "stub.txt"
    path.write_text("Last Updated: Monday, 3 June 2024, 09:05 GMT\n\n")
    with pytest.raises(ParseError, match=r"stub\.txt"):
        parse_one(path)


def test_labels_glued_or_spaced(tmp_path: Path) -> None:
    path = tmp_path / "glued.txt"
    path.write_text(
        "Last Updated: 3 June 2024\n\nAn illustrative title\n\n"
        "PublisherExample Agency\nPublication Date1 June 2024\n"
        "Countries\nTajikistan\nRussia\n"
        "Cite as Example Agency, An illustrative title, 1 June 2024\n"
        "DisclaimerNot a real record.\n\nBody paragraph.\n"
    )
    doc = parse_one(path)
    assert doc.publisher == "Example Agency"
    assert doc.publication_date == date(2024, 6, 1)
    assert doc.countries == ["TJ", "RU"]
    assert doc.source_url == "" and doc.source_id == ""
    assert doc.source_key == f"file:{path.resolve()}"
    assert doc.last_updated == datetime(2024, 6, 3, tzinfo=UTC)
    assert doc.body == "Body paragraph."


def test_title_that_starts_like_a_label(tmp_path: Path) -> None:
    path = tmp_path / "title.txt"
    path.write_text(
        "Last Updated: 3 June 2024\n\nPublisher detained in an illustrative case\n\n"
        "Publisher Example Agency\nDisclaimerNot real.\n\nBody.\n"
    )
    doc = parse_one(path)
    assert doc.title == "Publisher detained in an illustrative case"
    assert doc.publisher == "Example Agency"


@pytest.mark.parametrize(
    ("line", "doubled"),
    [
        (CAPTION + CAPTION, True),
        (CAPTION + " " + CAPTION, True),
        (CAPTION, False),
        ("ha ha", False),
        ("Putin said Putin said something else entirely here, twice over.", False),
    ],
)
def test_doubled_caption(line: str, doubled: bool) -> None:
    assert _doubled(line) is doubled


def test_un_style_country_names(tmp_path: Path) -> None:
    path = tmp_path / "countries.txt"
    path.write_text(
        "Last Updated: 3 June 2024\n\nAn illustrative title\n\n"
        "Countries Iran, Islamic Republic of, Afghanistan; Korea, Republic of\n"
        "DisclaimerNot real.\n\nBody.\n"
    )
    doc = parse_one(path)
    assert doc.countries == ["IR", "AF", "KR"]
    assert doc.source_tags["countries"] == [
        "Iran, Islamic Republic of",
        "Afghanistan",
        "Korea, Republic of",
    ]


@pytest.mark.parametrize("tail", ["", " of"])
def test_a_long_country_list_is_read_quickly_and_capped(
    refworld_dir: Path, tmp_path: Path, tail: str, caplog: pytest.LogCaptureFixture
) -> None:
    """20,000 unknown names (a 400 kB line): split in linear time, not gluing the "... of"
    pieces into one ever longer name, at most 300 names kept, one warning with a count."""
    import time

    names = ", ".join(f"Nowhereland{n}{tail}" for n in range(20_000))
    text = (refworld_dir / "record.txt").read_text()
    path = tmp_path / "record.txt"
    path.write_text(text.replace("Countries Tajikistan, Afghanistan", f"Countries {names}"))
    started = time.perf_counter()
    doc = parse_one(path)
    assert time.perf_counter() - started < 5
    assert 0 < len(doc.source_tags["countries"]) <= 300
    assert doc.countries == []
    warnings = [r.getMessage() for r in caplog.records if "not recognised" in r.getMessage()]
    assert len(warnings) == 1 and "and 2" in warnings[0] and len(warnings[0]) < 2_000
