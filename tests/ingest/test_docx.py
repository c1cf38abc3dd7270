"""Word documents: text in order (headings, paragraphs, tables), stated core properties only."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import docx
import lxml.etree
import pytest

from sourcebook.errors import ParseError
from sourcebook.ingest.docx import DocxParser, parse_docx_file
from sourcebook.ingest.registry import BY_CONTENT, BY_EXTENSION, NO_MATCH, Source
from tests.ingest.formats import assert_bad_files_reported, full_registry


def write_docx(path: Path, *, title: str = "", author: str = "") -> Path:
    document = docx.Document()
    document.add_heading("Illustrative: Security situation in the north", level=0)
    document.add_paragraph("12 March 2024")
    document.add_heading("1. Background", level=1)
    paragraph = document.add_paragraph("Checkpoints were reinforced")
    paragraph.add_run().add_break()
    paragraph.add_run("along the river.")
    table = document.add_table(rows=2, cols=3)
    for cell, text in zip(table.rows[0].cells, ("Province", "Incidents", "Source"), strict=True):
        cell.text = text
    merged = table.cell(1, 0).merge(table.cell(1, 1))
    merged.text = "Nord, 12"
    table.cell(1, 2).text = "UNHCR"
    document.add_paragraph("After the table, the text goes on.")
    props = document.core_properties
    props.title = title
    props.author = author  # python-docx's own default is the placeholder "python-docx"
    props.language = "en-GB"
    document.save(path)
    return path


def test_fields_text_and_order(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "report.docx", author="Jane Example; John Sample")
    doc = parse_docx_file(Source.from_path(path))
    assert doc.title == "Illustrative: Security situation in the north"  # the Title paragraph
    assert doc.authors == ["Jane Example", "John Sample"]
    assert doc.language == "en"
    assert doc.publication_date == date(2024, 3, 12)  # the date line, not the file's dates
    assert doc.body.split("\n\n") == [
        "12 March 2024",
        "1. Background",
        "Checkpoints were reinforced\nalong the river.",
        "Province | Incidents | Source",
        "Nord, 12 | UNHCR",  # the merged cell once
        "After the table, the text goes on.",
    ]
    assert doc.source_key == f"file:{path.resolve()}"
    assert doc.origin == str(path)


def test_title_property_wins_and_placeholders_are_dropped(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "a.docx", title="Country report 2024", author="python-docx")
    doc = parse_docx_file(Source.from_path(path))
    assert doc.title == "Country report 2024"
    assert doc.authors == []  # a program's name is not an author
    assert doc.body.startswith("Illustrative: Security situation in the north\n\n12 March 2024")
    placeholder = write_docx(tmp_path / "b.docx", title="Word Document")
    assert parse_docx_file(Source.from_path(placeholder)).title.startswith("Illustrative")


def test_created_date_is_not_a_publication_date(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("A memo with no date line in it.")
    path = tmp_path / "memo.docx"
    document.save(path)
    doc = parse_docx_file(Source.from_path(path))
    assert document.core_properties.created is not None
    assert doc.publication_date is None
    assert doc.title == "A memo with no date line in it." and doc.body == ""


def test_empty_document_is_a_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.docx"
    docx.Document().save(path)
    with pytest.raises(ParseError, match="has no text"):
        parse_docx_file(Source.from_path(path))


def test_auction_by_content_and_by_extension(tmp_path: Path) -> None:
    registry = full_registry()
    good = write_docx(tmp_path / "report.docx").read_bytes()
    renamed = tmp_path / "download.bin"
    renamed.write_bytes(good)
    assert DocxParser().match(Source.from_path(renamed)) == BY_CONTENT
    assert registry.auction(Source.from_path(renamed)).name == "docx"
    assert next(registry.parse(Source.from_path(renamed))).title.startswith("Illustrative")
    text_named_docx = tmp_path / "notes.docx"
    text_named_docx.write_text("not a word file\n")
    assert DocxParser().match(Source.from_path(text_named_docx)) == BY_EXTENSION
    assert registry.auction(Source.from_path(text_named_docx)).name == "docx"
    other_zip = tmp_path / "x.zip"
    other_zip.write_bytes(b"PK\x03\x04" + bytes(100))
    assert DocxParser().match(Source.from_path(other_zip)) == NO_MATCH


def test_bad_files_are_recorded_and_the_batch_goes_on(tmp_path: Path) -> None:
    good = write_docx(tmp_path / "good.docx").read_bytes()
    assert_bad_files_reported(
        tmp_path,
        good,
        "docx",
        "docx",
        {
            "truncated": r"truncated\.docx is a damaged or truncated DOCX file",
            "corrupt": r"corrupt\.docx is a damaged (or truncated )?DOCX file",
            "text": r"text\.docx is not a DOCX file \(a DOCX file is a zip archive\)",
        },
    )


def test_a_table_row_is_never_the_title(tmp_path: Path) -> None:
    document = docx.Document()
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Province", "Incidents"
    document.add_paragraph("Text after the table.")
    path = tmp_path / "table-first.docx"
    document.save(path)
    doc = parse_docx_file(Source.from_path(path))
    assert doc.title == ""
    assert doc.body == "Province | Incidents\n\nText after the table."


def test_tracked_changes_content_controls_and_fields(tmp_path: Path) -> None:
    """Word's own markup around runs: what a reader sees is kept, deleted text is not."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    document = docx.Document()
    first = document.add_paragraph("The camp held ")
    body = document.element.body

    def element(tag: str, *children: Any, text: str = "") -> Any:
        node = lxml.etree.SubElement(lxml.etree.Element("x"), f"{{{w}}}{tag}")
        if text:
            node.text = text
        for child in children:
            node.append(child)
        return node

    inserted = element("ins", element("r", element("t", text="1,200")))
    deleted = element("del", element("r", element("delText", text="900")))
    field = element("fldSimple", element("r", element("t", text=" people")))
    first._p.append(deleted)
    first._p.append(inserted)
    first._p.append(field)
    control = element(
        "sdt", element("sdtContent", element("p", element("r", element("t", text="In a control."))))
    )
    body.insert(list(body).index(first._p) + 1, control)
    path = tmp_path / "tracked.docx"
    document.save(path)
    doc = parse_docx_file(Source.from_path(path))
    assert (doc.title, doc.body) == ("The camp held 1,200 people", "In a control.")


def test_a_malformed_part_is_a_parse_error(tmp_path: Path) -> None:
    good = write_docx(tmp_path / "good.docx")
    broken = tmp_path / "broken.docx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/document.xml":
                data = data[: len(data) // 2]  # well-zipped, but the XML stops halfway
            dst.writestr(info, data)
    with pytest.raises(ParseError, match=r"broken\.docx is not a readable Word document"):
        parse_docx_file(Source.from_path(broken))
