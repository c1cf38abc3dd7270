"""One bad record in a multi-record file (JSONL, RSS, Atom, Reuters SGML) is recorded with where
and why, and the records after it still go in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sourcebook.config import Settings
from sourcebook.services import Archive
from tests.ingest.fuzz_corpus import STORY, _atom, _jsonl, _rss, _sgml


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    with Archive(Settings(home=tmp_path / "archive")) as arch:
        yield arch


def _replace_record(data: bytes, start: bytes, new: bytes, end: bytes = b"") -> bytes:
    """``data`` with its second record (from the second ``start`` up to the third) replaced."""
    first = data.index(start)
    second = data.index(start, first + 1)
    third = data.index(start, second + 1)
    return data[:second] + new + end + data[third:]


JSONL_DAMAGE = {
    "nested": b'{"title": "deep", "body": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
    "not-json": b'{"title": "Record 2", "body": \n',
    "wrong-type": b'{"title": ["Record 2"], "body": "text"}\n',
    "bad-date": b'{"title": "Record 2", "body": "x", "publication_date": "2024-02-30"}\n',
    "not-an-object": b'["Record 2", "x"]\n',
}


@pytest.mark.parametrize("damage", sorted(JSONL_DAMAGE))
def test_a_bad_jsonl_line_is_skipped(archive: Archive, tmp_path: Path, damage: str) -> None:
    lines = _jsonl().split(b"\n")
    lines[1] = JSONL_DAMAGE[damage].rstrip(b"\n")
    path = tmp_path / "records.jsonl"
    path.write_bytes(b"\n".join(lines))
    (outcome,) = archive.ingest([path]).files
    assert (outcome.added, outcome.failed) == (4, 1), outcome.errors
    assert outcome.errors[0].startswith(f"{path}:2: ")
    assert "internal error" not in outcome.errors[0]


FEED_DAMAGE = {
    "unclosed-cdata": b"<title>Two</title><description><![CDATA[text</description>",
    "unclosed-comment": b"<title>Two</title><description>text</description><!-- oops",
    "unclosed-element": b"<title>Two</title><description>text",
    "empty": b"",
}


@pytest.mark.parametrize("damage", sorted(FEED_DAMAGE))
@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_a_bad_feed_item_does_not_swallow_the_rest(
    archive: Archive, tmp_path: Path, kind: str, damage: str
) -> None:
    if kind == "rss":
        data = _replace_record(_rss(), b"<item>", b"<item>" + FEED_DAMAGE[damage], b"</item>\n")
    else:
        data = _replace_record(_atom(), b"<entry>", b"<entry>" + FEED_DAMAGE[damage], b"\n")
    path = tmp_path / f"wire.{kind}"
    path.write_bytes(data)
    (outcome,) = archive.ingest([path]).files
    titles = {d.title for d in archive.store.iter_documents()}
    others = {f"Item {n}" if kind == "rss" else f"Entry {n}" for n in (1, 3, 4, 5)}
    assert others <= titles, (titles, outcome.errors)
    assert outcome.documents + outcome.failed == 5, outcome.errors
    for error in outcome.errors:
        assert error.startswith(f"{path}#2: "), error


SGML_DAMAGE = {
    "no-newid": b'<REUTERS TOPICS="NO">\n<TEXT><TITLE>TWO</TITLE><BODY>x</BODY></TEXT>\n',
    "unclosed": b'<REUTERS TOPICS="NO" NEWID="990002">\n<TEXT><TITLE>TWO</TITLE><BODY>x',
    "no-text": b'<REUTERS TOPICS="NO" NEWID="990002">\n<DATE>2-MAR-1987</DATE>\n</REUTERS>\n',
    "deep": b'<REUTERS NEWID="990002">\n<TEXT><BODY>'
    + b"<D>" * 50_000
    + STORY.encode()
    + b"</BODY></TEXT>\n</REUTERS>\n",
}


@pytest.mark.parametrize("damage", sorted(SGML_DAMAGE))
def test_a_bad_reuters_story_is_skipped(archive: Archive, tmp_path: Path, damage: str) -> None:
    path = tmp_path / "stories.sgm"
    path.write_bytes(_replace_record(_sgml(), b"<REUTERS", SGML_DAMAGE[damage]))
    (outcome,) = archive.ingest([path]).files
    titles = {d.title for d in archive.store.iter_documents()}
    assert {"STORY 1", "STORY 3", "STORY 4", "STORY 5"} <= titles, outcome.errors
    for error in outcome.errors:
        assert error.startswith(f"{path}#2: "), error
