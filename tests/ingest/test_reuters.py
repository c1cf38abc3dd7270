"""ReutersParser: our SGML fixture story by story, and all fifteen real Reuters-21578 files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sourcebook.errors import ParseError
from sourcebook.ingest.registry import BY_CONTENT, NO_MATCH, Source
from sourcebook.ingest.reuters import ReutersParser
from sourcebook.model import BadRecord, Document, EmptyRecord


def parse_all(path: Path) -> list[Document | BadRecord | EmptyRecord]:
    return list(ReutersParser().parse(Source.from_path(path)))


@pytest.fixture
def reuters_dir(fixtures_dir: Path) -> Path:
    return fixtures_dir / "ingest" / "reuters"


def test_normal_story(reuters_dir: Path) -> None:
    path = reuters_dir / "mini.sgm"
    story = parse_all(path)[0]
    assert isinstance(story, Document)
    assert story.source_id == "900001"
    assert story.source_key == "reuters21578:900001"
    assert story.title == "ILLUSTRATIVE COCOA REVIEW <EXMP>"  # &lt; &gt; decoded
    assert story.publication_date == date(1987, 2, 26)
    assert story.authors == ["Jane Example"]
    assert story.publisher == "Reuters"
    assert story.document_type == "news"
    assert story.collection == "reuters-21578"
    assert story.body.split("\n\n") == [
        "SALVADOR, Feb 26 - Showers continued throughout the week in this illustrative story "
        "written for Sourcebook tests, & the wrapped lines join into one paragraph.",
        "An indented line starts the second paragraph, as on the wire.",
        "Reuter",
    ]
    assert story.source_tags == {
        "places": ["el-salvador", "usa"],
        "topics": ["cocoa"],
        "orgs": ["ico-coffee"],
    }
    assert story.countries == []  # PLACES are subject tags, never our countries
    assert story.origin == f"{path}#1"


def test_brief_and_unproc_stories(reuters_dir: Path) -> None:
    _, brief, table, empty, after = parse_all(reuters_dir / "mini.sgm")
    assert isinstance(brief, Document)
    assert brief.title == "ILLUSTRATIVE BRIEF HEADLINE ONLY"
    assert brief.body == ""  # the distribution's "Blah blah blah." placeholder is dropped
    assert brief.publication_date == date(1987, 3, 3)  # routing codes after the time ignored
    assert brief.source_tags == {"places": ["uk"]}
    assert isinstance(table, Document)
    assert table.title == "ILLUSTRATIVE WEEKLY TABLE - MAR 4"
    assert table.body == (
        "Two weeks ended Mar 3 daily avgs-mlns\n"
        "Example reserves.............644 vs.....1,337\n"
        "Example borrowings...........680 vs.......425\n\n"
        "Illustrative note below the table."
    )
    assert table.source_tags == {}
    assert isinstance(empty, EmptyRecord)
    assert "NEWID=900004" in empty.message and "empty" in empty.message
    assert isinstance(after, Document) and after.body == "Still parsed."


def test_truncated_file(reuters_dir: Path) -> None:
    [bad] = parse_all(reuters_dir / "truncated.sgm")
    assert isinstance(bad, BadRecord)
    assert "not closed" in bad.message


def test_file_without_stories(reuters_dir: Path) -> None:
    with pytest.raises(ParseError, match="no <REUTERS> stories"):
        parse_all(reuters_dir / "no-stories.sgm")


def test_match(reuters_dir: Path, fixtures_dir: Path) -> None:
    parser = ReutersParser()
    assert parser.match(Source.from_path(reuters_dir / "mini.sgm")) == BY_CONTENT + 5
    assert parser.match(Source.from_path(reuters_dir / "no-stories.sgm")) == NO_MATCH
    assert parser.match(Source.from_path(fixtures_dir / "ingest/text/plain.txt")) == NO_MATCH


# -- real data -------------------------------------------------------------------------------

#: Stories in reut2-000 ... reut2-014 (1,000 a file); one of them is empty in the source.
REAL_STORIES = 15_000
EMPTY_STORY = "NEWID=12793"


@pytest.mark.shared
def test_all_real_files(shared_data: Path) -> None:
    paths = sorted((shared_data / "reuters21578").glob("reut2-*.sgm"))
    assert len(paths) == 15
    results = [r for path in paths for r in ReutersParser().parse(Source.from_path(path))]
    docs = [r for r in results if isinstance(r, Document)]
    assert not [r for r in results if isinstance(r, BadRecord)]
    empty = [r for r in results if isinstance(r, EmptyRecord)]
    assert len(results) == REAL_STORIES
    # the only empty story: <TEXT TYPE="UNPROC"> holding nothing but control characters
    assert [b.where.rsplit("/", 1)[-1] for b in empty] == ["reut2-012.sgm#793"]
    assert EMPTY_STORY in empty[0].message
    assert len(docs) == REAL_STORIES - 1
    assert len({d.source_key for d in docs}) == len(docs)
    assert {d.source_id for d in docs} == {str(n) for n in range(1, 15_001)} - {"12793"}
    assert all(d.title for d in docs)
    assert all(d.publication_date is not None for d in docs)
    assert all(d.countries == [] for d in docs)
    assert not any("&#" in d.body or "&lt;" in d.body or "\x03" in d.body for d in docs)
    assert sum(1 for d in docs if "places" in d.source_tags) > 12_000
    first = docs[0]
    assert first.title == "BAHIA COCOA REVIEW"
    assert first.body.startswith("SALVADOR, Feb 26 - Showers continued throughout the week")
    assert first.source_tags["places"] == ["el-salvador", "usa", "uruguay"]
