"""TextParser: plain text, Markdown with front matter, bad inputs, and the real text corpora."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from sourcebook.errors import ParseError
from sourcebook.ingest.registry import BY_EXTENSION, FALLBACK, NO_MATCH, Source
from sourcebook.ingest.text import TextParser, markdown_paragraphs, plain_paragraphs, split_names
from sourcebook.model import Document


def parse_one(path: Path) -> Document:
    [doc] = list(TextParser().parse(Source.from_path(path)))
    assert isinstance(doc, Document)
    return doc


@pytest.fixture
def text_dir(fixtures_dir: Path) -> Path:
    return fixtures_dir / "ingest" / "text"


# -- plain text ------------------------------------------------------------------------------


def test_plain_text(text_dir: Path) -> None:
    path = text_dir / "plain.txt"
    doc = parse_one(path)
    assert doc.title == "Illustrative: Water shortages reported in southern districts"
    assert doc.body.split("\n\n") == [
        "This is an illustrative sample written for Sourcebook tests; the events are invented. "
        "Residents of three districts said the water supply had been cut for several days, and "
        "that trucks delivered drinking water twice a week.",
        "Local officials promised repairs before the summer.",
    ]
    assert doc.source_key == f"file:{path.resolve()}"
    assert doc.publication_date is None
    assert doc.publisher == "" and doc.countries == [] and doc.language == ""


def test_unwrapped_lines_are_paragraphs(text_dir: Path) -> None:
    doc = parse_one(text_dir / "unwrapped.txt")
    assert doc.title == "Illustrative: Concert draws full hall"
    paragraphs = doc.body.split("\n\n")
    assert paragraphs[0] == "A photo caption line under the title"
    assert len(paragraphs) == 3


def test_repeated_title_and_french_dateline(text_dir: Path) -> None:
    doc = parse_one(text_dir / "dateline-fr.txt")
    assert doc.title == "Illustratif : la frontière rouvre après trois mois"
    assert doc.body.startswith("22 août 2012, Tadjikistan. - Exemple")  # title not repeated
    assert doc.publication_date == date(2012, 8, 22)


def test_windows_1252_text(text_dir: Path) -> None:
    assert "£2" in parse_one(text_dir / "latin1.txt").body


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_text_with_bom(tmp_path: Path, encoding: str) -> None:
    # what Windows Notepad saves as "Unicode": full of NUL bytes, yet text
    text = "Душанбе: пограничный переход\r\n\r\nIllustrative note on the border, 2021.\r\n"
    path = tmp_path / "notes.txt"
    data = text.encode(encoding)
    path.write_bytes(data if encoding == "utf-16" else b"\xfe\xff" + data)
    assert TextParser().match(Source.from_path(path)) == BY_EXTENSION
    doc = parse_one(path)
    assert doc.title == "Душанбе: пограничный переход"
    assert doc.body == "Illustrative note on the border, 2021."


def test_plain_paragraphs_helper() -> None:
    assert plain_paragraphs("a\nb\n\n\n  c  d \r\n") == ["a b", "c d"]
    assert plain_paragraphs("soft\u00adhyphen and\u200bzero width") == ["softhyphen andzero width"]


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("Jane Doe; John Roe", ["Jane Doe", "John Roe"]),
        ("Jane Doe, John Roe", ["Jane Doe", "John Roe"]),
        ("Doe, Jane", ["Doe, Jane"]),
        ("", []),
    ],
)
def test_split_names(value: str, names: list[str]) -> None:
    assert split_names(value) == names


# -- Markdown and front matter ---------------------------------------------------------------


def test_front_matter_fields(text_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="sourcebook.ingest.text"):
        doc = parse_one(text_dir / "report.md")
    assert "layout" in caplog.text  # an unknown key is reported, not fatal
    assert doc.title == "Illustrative country report on Tajikistan"
    assert doc.publisher == "Sourcebook Examples"
    assert doc.authors == ["Jane Example", "John Sample"]
    assert doc.publication_date == date(2024, 3, 1)
    assert doc.last_updated == datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
    assert doc.accessed_date == date(2024, 3, 5)
    assert doc.source_url == "https://example.org/reports/tajikistan-2024"
    assert doc.original_url == "https://example.org/original/tajikistan-2024.pdf"
    assert doc.source_id == "example-tj-2024"
    assert doc.source_key == "text:example-tj-2024"
    assert doc.document_type == "Country report"
    assert doc.language == "en"
    assert doc.countries == ["TJ", "AF", "KG"]
    assert doc.collection == "examples"
    assert doc.cite_as.startswith("Sourcebook Examples, Illustrative country report")
    assert doc.disclaimer == "Illustrative sample written for Sourcebook; not a real report."
    assert doc.copyright == "Public domain (illustrative sample)"


def test_markdown_to_plain_text(text_dir: Path) -> None:
    paragraphs = parse_one(text_dir / "report.md").body.split("\n\n")
    assert paragraphs[0] == (
        "This report is illustrative: it was written for Sourcebook tests and describes no "
        "real events. See the method note for details."
    )
    assert "Section 1. Freedom of movement" in paragraphs
    assert "- Checkpoints on main roads\n- Exit permits for students" in paragraphs
    assert "1. First numbered point\n2. Second numbered point" in paragraphs
    assert "Year | Cases\n2022 | 12\n2023 | 15" in paragraphs
    assert "A quoted statement by an invented official." in paragraphs
    assert "code block   kept as is" in paragraphs
    assert "Setext heading" in paragraphs
    assert paragraphs[-1] == "A map Final paragraph with an image."
    body = "\n\n".join(paragraphs)
    for markup in ("**", "](", "# ", "```", "|---", "> "):
        assert markup not in body


def test_markdown_title_is_first_level_one_heading() -> None:
    paragraphs = markdown_paragraphs("Badge line\n\n# Real title\n\nText *here* and_there.\n")
    assert paragraphs == ["Badge line", "Real title", "Text here and_there."]


@pytest.mark.parametrize(
    ("name", "message"),
    [("bad-date.md", "not a date"), ("bad-country.md", "Atlantis")],
)
def test_bad_front_matter_values(text_dir: Path, name: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_one(text_dir / name)


def test_malformed_front_matter_line(tmp_path: Path) -> None:
    path = tmp_path / "record.md"
    path.write_text("---\ntitle: ok\nthis line has no key\n---\nBody.\n")
    with pytest.raises(ParseError, match="line 3"):
        parse_one(path)


# -- bad inputs and matching ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["empty.txt", "blank.txt"])
def test_empty_file_is_a_parse_error(text_dir: Path, name: str) -> None:
    with pytest.raises(ParseError, match="empty"):
        parse_one(text_dir / name)


def test_binary_file_is_a_parse_error(text_dir: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "junk.txt"
    renamed.write_bytes((text_dir / "junk.bin").read_bytes())
    with pytest.raises(ParseError, match="binary"):
        parse_one(renamed)


def test_match(text_dir: Path, tmp_path: Path) -> None:
    parser = TextParser()
    assert parser.match(Source.from_path(text_dir / "plain.txt")) == BY_EXTENSION
    assert parser.match(Source.from_path(text_dir / "report.md")) == BY_EXTENSION
    assert parser.match(Source.from_path(text_dir / "junk.bin")) == NO_MATCH
    other = tmp_path / "notes.log"
    other.write_text("some text")
    assert parser.match(Source.from_path(other)) == FALLBACK


# -- real data -------------------------------------------------------------------------------


def _parse_all(paths: list[Path]) -> list[Document]:
    return [parse_one(path) for path in paths]


@pytest.mark.shared
def test_bbc_news(shared_data: Path) -> None:
    paths = sorted((shared_data / "bbc-news" / "bbc").glob("*/*.txt"))
    docs = _parse_all(paths)
    assert len(docs) == 2225
    for path, doc in zip(paths, docs, strict=True):
        first_line = path.read_bytes().split(b"\n", 1)[0].decode("utf-8", "replace").strip()
        assert doc.title == " ".join(first_line.split()), path
        assert doc.body, path
        assert "\ufffd" not in doc.body, path
    latin1 = docs[paths.index(shared_data / "bbc-news" / "bbc" / "sport" / "199.txt")]
    assert "£" in latin1.body


@pytest.mark.shared
def test_state_department_reports(shared_data: Path) -> None:
    paths = sorted((shared_data / "us-state-dept-hrr" / "reports").glob("*.md"))
    docs = _parse_all(paths)
    assert len(docs) == 9
    for path, doc in zip(paths, docs, strict=True):
        assert doc.title.endswith(
            ("Country Reports on Human Rights Practices", "Human Rights Report")
        )
        assert "Executive Summary" in doc.body.split("\n\n"), path
        assert len(doc.body) > 10000, path
        assert "#" not in doc.body[:200], path
    titles = {path.stem: doc.title for path, doc in zip(paths, docs, strict=True)}
    assert titles["tajikistan"] == "Tajikistan — Country Reports on Human Rights Practices"
    assert titles["eritrea-2023"] == "Eritrea — 2023 Human Rights Report"


@pytest.mark.shared
def test_french_wikinews(shared_data: Path) -> None:
    folder = shared_data / "wikinews-fr-ru" / "fr"
    meta = [json.loads(line) for line in (folder / "metadata.jsonl").read_text().splitlines()]
    assert len(meta) == 100
    dated = 0
    for entry in meta:
        doc = parse_one(folder.parent / entry["path"])
        assert doc.title == entry["title"]
        assert doc.body and not doc.body.startswith(doc.title)
        expected = date.fromisoformat(entry["date"]) if entry["date"] else None
        assert doc.publication_date == expected, entry["path"]
        dated += expected is not None
    assert dated == 99


@pytest.mark.shared
def test_russian_wikinews(shared_data: Path) -> None:
    folder = shared_data / "wikinews-fr-ru" / "ru"
    meta = [json.loads(line) for line in (folder / "metadata.jsonl").read_text().splitlines()]
    assert len(meta) == 933
    for entry in meta:
        doc = parse_one(folder.parent / entry["path"])
        assert doc.title == " ".join(entry["title"].split()), entry["path"]
        assert doc.body, entry["path"]
