"""OpenDocument text: headings, paragraphs, lists and tables in order; meta.xml as stated."""

from __future__ import annotations

from pathlib import Path

import pytest
from odf import dc, meta, office, table, text
from odf.opendocument import OpenDocumentSpreadsheet, OpenDocumentText

from sourcebook.errors import ParseError
from sourcebook.ingest.odt import OdtParser, parse_odt_file
from sourcebook.ingest.registry import BY_CONTENT, BY_EXTENSION, Source
from tests.ingest.formats import assert_bad_files_reported, full_registry


def write_odt(path: Path, *, with_title: bool = True) -> Path:
    document = OpenDocumentText()
    if with_title:
        document.meta.addElement(dc.Title(text="Illustrative: Rapport sur la région"))
    document.meta.addElement(meta.InitialCreator(text="Jeanne Exemple"))
    document.meta.addElement(dc.Creator(text="Whoever Saved It Last"))
    document.meta.addElement(dc.Language(text="fr-FR"))
    document.meta.addElement(meta.CreationDate(text="2019-01-02T10:00:00"))
    document.text.addElement(text.H(outlinelevel=1, text="Introduction"))
    paragraph = text.P(text="Premier paragraphe")
    paragraph.addElement(text.LineBreak())
    paragraph.addText("et sa deuxième ligne.")
    document.text.addElement(paragraph)
    items = text.List()
    for value in ("Un élément", "Un autre"):
        item = text.ListItem()
        item.addElement(text.P(text=value))
        items.addElement(item)
    document.text.addElement(items)
    grid = table.Table(name="Incidents")
    grid.addElement(table.TableColumn(numbercolumnsrepeated=2))
    for row in (("Province", "Incidents"), ("Nord", "12")):
        table_row = table.TableRow()
        for value in row:
            cell = table.TableCell()
            cell.addElement(text.P(text=value))
            table_row.addElement(cell)
        grid.addElement(table_row)
    document.text.addElement(grid)
    section = text.Section(name="Fin")
    section.addElement(text.P(text="Dans une section, la fin."))
    document.text.addElement(section)
    document.save(str(path))
    return path


def test_fields_text_and_order(tmp_path: Path) -> None:
    path = write_odt(tmp_path / "rapport.odt")
    doc = parse_odt_file(Source.from_path(path))
    assert doc.title == "Illustrative: Rapport sur la région"
    assert doc.authors == ["Jeanne Exemple"]  # the initial creator, not the last saver
    assert doc.language == "fr"
    assert doc.publication_date is None  # the creation date is a file date
    assert doc.body.split("\n\n") == [
        "Introduction",
        "Premier paragraphe\net sa deuxième ligne.",
        "Un élément",
        "Un autre",
        "Province | Incidents",
        "Nord | 12",
        "Dans une section, la fin.",
    ]
    assert doc.source_key == f"file:{path.resolve()}"


def test_first_heading_is_the_title_without_dc_title(tmp_path: Path) -> None:
    doc = parse_odt_file(Source.from_path(write_odt(tmp_path / "r.odt", with_title=False)))
    assert doc.title == "Introduction"
    assert doc.body.startswith("Premier paragraphe")


def test_spreadsheet_is_not_a_text_document(tmp_path: Path) -> None:
    path = tmp_path / "sheet.odt"
    OpenDocumentSpreadsheet().save(str(path))
    with pytest.raises(ParseError, match=r"not an OpenDocument text file \(.*spreadsheet\)"):
        parse_odt_file(Source.from_path(path))


def test_auction_by_content_and_by_extension(tmp_path: Path) -> None:
    registry = full_registry()
    renamed = tmp_path / "attachment.dat"
    renamed.write_bytes(write_odt(tmp_path / "r.odt").read_bytes())
    assert OdtParser().match(Source.from_path(renamed)) == BY_CONTENT
    assert registry.auction(Source.from_path(renamed)).name == "odt"
    plain = tmp_path / "plain.odt"
    plain.write_text("plain text\n")
    assert OdtParser().match(Source.from_path(plain)) == BY_EXTENSION
    assert registry.auction(Source.from_path(plain)).name == "odt"


def test_bad_files_are_recorded_and_the_batch_goes_on(tmp_path: Path) -> None:
    good = write_odt(tmp_path / "good.odt").read_bytes()
    assert_bad_files_reported(
        tmp_path,
        good,
        "odt",
        "odt",
        {
            "truncated": r"truncated\.odt is a damaged or truncated ODT file",
            "corrupt": r"corrupt\.odt is a damaged (or truncated )?ODT file",
            "text": r"text\.odt is not a ODT file",
        },
    )


def test_notes_and_comments_are_not_part_of_the_sentence(tmp_path: Path) -> None:
    document = OpenDocumentText()
    paragraph = text.P(text="The camp held 1,200 people")
    note = text.Note(noteclass="footnote", id="ftn1")
    note.addElement(text.NoteCitation(text="1"))
    body = text.NoteBody()
    body.addElement(text.P(text="Source: field visit."))
    note.addElement(body)
    paragraph.addElement(note)
    comment = office.Annotation()
    comment.addElement(text.P(text="Check this figure"))
    paragraph.addElement(comment)
    paragraph.addText(" in March.")
    paragraph.addElement(text.S(c=3))
    paragraph.addText("End.")
    document.text.addElement(paragraph)
    path = tmp_path / "notes.odt"
    document.save(str(path))
    doc = parse_odt_file(Source.from_path(path))
    assert doc.title == "The camp held 1,200 people in March. End."


def test_no_title_from_a_table_or_a_deep_heading(tmp_path: Path) -> None:
    document = OpenDocumentText()
    grid = table.Table(name="T")
    row = table.TableRow()
    for value in ("Cell 1", "Cell 2"):
        cell = table.TableCell()
        cell.addElement(text.P(text=value))
        row.addElement(cell)
    grid.addElement(row)
    document.text.addElement(grid)
    for n in range(6):
        document.text.addElement(text.P(text=f"Paragraph {n}."))
    document.text.addElement(text.H(outlinelevel=1, text="Annex"))
    path = tmp_path / "table-first.odt"
    document.save(str(path))
    doc = parse_odt_file(Source.from_path(path))
    assert doc.title == ""
    assert doc.body.startswith("Cell 1 | Cell 2\n\nParagraph 0.") and doc.body.endswith("Annex")
