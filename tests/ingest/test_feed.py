"""FeedParser: RSS 2.0, RSS 1.0 and Atom fixtures, damaged feeds, and the real CRS feed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sourcebook.errors import ParseError
from sourcebook.ingest.feed import FeedParser
from sourcebook.ingest.registry import BY_CONTENT, BY_EXTENSION, NO_MATCH, Source
from sourcebook.model import BadRecord, Document


def parse_all(path: Path) -> list[Document]:
    results: list[Document | BadRecord] = list(FeedParser().parse(Source.from_path(path)))
    docs = [r for r in results if isinstance(r, Document)]
    assert len(docs) == len(results)
    return docs


@pytest.fixture
def feed_dir(fixtures_dir: Path) -> Path:
    return fixtures_dir / "ingest" / "feed"


def test_rss2_items(feed_dir: Path) -> None:
    path = feed_dir / "rss2.xml"
    first, _, _ = parse_all(path)
    assert first.title == "Illustrative: Activist released on bail"
    assert first.source_id == "monitor-example-0001"
    assert first.source_key == "feed:monitor-example-0001"
    assert first.original_url == "https://monitor.example.org/news/1"
    # 23:30 at -04:00 was the 14th where it was published (already the 15th in UTC)
    assert first.publication_date == date(2024, 5, 14)
    assert first.authors == ["Amina Example"]
    assert first.publisher == "Example Monitor – Central Asia"  # the feed's title
    assert first.language == "en"
    assert first.source_tags == {"categories": ["Detention", "Tajikistan"]}
    assert first.body == (
        "An illustrative item written for Sourcebook tests.\n\nSecond paragraph with a link."
    )
    assert first.origin == f"{path}#1"
    assert first.countries == []  # a category is the publisher's tag, not our country


def test_rss2_content_publisher_and_missing_guid(feed_dir: Path) -> None:
    path = feed_dir / "rss2.xml"
    _, second, third = parse_all(path)
    assert second.source_key == "feed:https://monitor.example.org/news/2"  # no guid: the link
    assert second.publisher == "Example Partner Agency"  # dc:publisher of the item
    assert second.body == "Heading\n\nFull illustrative text.\n\nFirst point\n\nSecond point"
    assert "Short summary" not in second.body
    assert third.title == "Illustrative: Title only, no guid, no link"
    assert third.body == "" and third.original_url == "" and third.publication_date is None
    assert third.source_key == f"feed:{path.resolve()}#3"


def test_atom(feed_dir: Path) -> None:
    [entry] = parse_all(feed_dir / "atom.xml")
    assert entry.title == "Illustratif : audience reportée"  # type="html" title, markup removed
    assert entry.source_key == "feed:urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    assert entry.publication_date == date(2024, 5, 19)  # published, in its own time zone
    assert entry.authors == ["Camille Exemple", "Louis Exemple"]
    assert entry.publisher == "Exemple Observatoire"
    assert entry.original_url == "https://observatoire.example.org/2024/05/audience"
    assert entry.body == "Texte illustratif écrit pour les tests de Sourcebook."


def test_rss1(feed_dir: Path) -> None:
    [item] = parse_all(feed_dir / "rss1.rdf")
    assert item.title == "Illustrative RSS 1.0 item"
    assert item.publication_date == date(2024, 4, 2)
    assert item.body == "Plain text summary of an invented item."
    assert item.publisher == "Example RDF Digest"


def test_damaged_feed_with_items_is_accepted(feed_dir: Path) -> None:
    items = parse_all(feed_dir / "damaged.xml")
    assert [i.title for i in items] == ["Illustrative item one", "Illustrative item two"]


def test_broken_feed_without_items_is_a_parse_error(feed_dir: Path) -> None:
    with pytest.raises(ParseError, match=r"broken\.xml"):
        parse_all(feed_dir / "broken.xml")


def test_match(feed_dir: Path, fixtures_dir: Path, tmp_path: Path) -> None:
    parser = FeedParser()
    for name in ("rss2.xml", "atom.xml", "rss1.rdf", "damaged.xml"):
        assert parser.match(Source.from_path(feed_dir / name)) == BY_CONTENT + 5, name
    assert parser.match(Source.from_path(feed_dir / "not-a-feed.xml")) == NO_MATCH
    assert parser.match(Source.from_path(fixtures_dir / "ingest/html/article.html")) == NO_MATCH
    empty_rss = tmp_path / "later.rss"
    empty_rss.write_text("")
    assert parser.match(Source.from_path(empty_rss)) == BY_EXTENSION


# -- real data -------------------------------------------------------------------------------


@pytest.mark.shared
def test_everycrsreport_feed(shared_data: Path) -> None:
    path = shared_data / "feeds" / "everycrsreport" / "everycrsreport-rss.xml"
    assert FeedParser().match(Source.from_path(path)) == BY_CONTENT + 5
    items = parse_all(path)
    assert len(items) == 25
    first = items[0]
    assert first.title == "Citizenship and Immigration Statuses of the U.S. Foreign-Born Population"
    assert first.original_url == "https://www.EveryCRSReport.com/reports/IF11806.html"
    assert (
        first.source_id
        == "https://www.EveryCRSReport.com/reports/IF11806.html/2026-09-22T000000-0400"
    )
    assert first.publication_date == date(2026, 9, 22)
    assert first.publisher == "EveryCRSReport.com - New Reports"
    assert first.language == "en"
    assert first.body == ""  # the feed carries titles and links only
    assert "Farm Bills: Major Legislative Actions, 19652026" in [i.title for i in items]
    assert len({i.source_key for i in items}) == 25
    for item in items:
        assert item.title and item.publication_date is not None
        assert item.original_url.startswith("https://www.EveryCRSReport.com/reports/")
        assert date(2026, 9, 1) <= item.publication_date <= date(2026, 9, 30)
