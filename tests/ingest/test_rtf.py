"""Rich Text Format: text with code-page and Unicode escapes, tables, the {\\info} group."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sourcebook.errors import ParseError
from sourcebook.ingest.registry import BY_CONTENT, BY_EXTENSION, Source
from sourcebook.ingest.rtf import RtfParser, parse_rtf_file
from tests.ingest.formats import assert_bad_files_reported, full_registry

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ingest" / "office" / "report.rtf"


def test_fields_text_and_order() -> None:
    doc = parse_rtf_file(Source.from_path(FIXTURE))
    assert doc.title == "Illustrative: Situation des déplacés"  # {\title}, \'e9 in cp1252
    assert doc.authors == ["Jane Example", "Jean Exemple"]
    assert doc.publication_date == date(2024, 3, 15)  # the date line, not \creatim (2019)
    assert doc.body.split("\n\n") == [
        "15 mars 2024",
        "Le camp de Kabōl a accueilli 1 200 personnes.\nSeconde ligne.",  # \u333? and \line
        "Province | Incidents",
        "Nord | 12",
        "Dernier paragraphe.",  # the {\footer} group is not text
    ]
    assert doc.source_key == f"file:{FIXTURE.resolve()}"


def test_without_info_group_the_first_line_is_the_title(tmp_path: Path) -> None:
    path = tmp_path / "memo.rtf"
    path.write_bytes(rb"{\rtf1\ansi Memo on returns\par The text.\par}")
    doc = parse_rtf_file(Source.from_path(path))
    assert (doc.title, doc.authors, doc.body) == ("Memo on returns", [], "The text.")


def test_empty_rtf_is_a_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.rtf"
    path.write_bytes(rb"{\rtf1\ansi{\fonttbl{\f0 Arial;}}}")
    with pytest.raises(ParseError, match="has no text"):
        parse_rtf_file(Source.from_path(path))


def test_auction_by_content_and_by_extension(tmp_path: Path) -> None:
    registry = full_registry()
    renamed = tmp_path / "report.txt"
    renamed.write_bytes(FIXTURE.read_bytes())
    assert RtfParser().match(Source.from_path(renamed)) == BY_CONTENT
    assert registry.auction(Source.from_path(renamed)).name == "rtf"  # not the text parser
    plain = tmp_path / "plain.rtf"
    plain.write_text("plain text\n")
    assert RtfParser().match(Source.from_path(plain)) == BY_EXTENSION
    assert registry.auction(Source.from_path(plain)).name == "rtf"


def test_bad_files_are_recorded_and_the_batch_goes_on(tmp_path: Path) -> None:
    assert_bad_files_reported(
        tmp_path,
        FIXTURE.read_bytes(),
        "rtf",
        "rtf",
        {
            "truncated": r"truncated\.rtf is a truncated RTF file: its groups are not closed",
            "corrupt": r"corrupt\.rtf is a damaged RTF file: RTF is text, but it holds NUL bytes",
            "text": r"text\.rtf is not an RTF file \(it does not start with \{\\rtf\)",
        },
    )
