"""PdfParser: our generated PDFs (good, damaged, encrypted) and the real CRS reports."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from sourcebook.errors import ParseError
from sourcebook.ingest.pdf import PdfParser
from sourcebook.ingest.registry import BY_CONTENT, BY_EXTENSION, NO_MATCH, Source
from sourcebook.model import Document

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ingest" / "pdf" / "report.pdf"

#: The illustrative report: a running head on every page, a date line, two paragraphs a page.
REPORT_PAGES = [
    [
        "Illustrative Briefing Series",
        "Updated March 4, 2024",
        "Illustrative Report on Internal Displacement",
        "Overview",
        "This report is an illustrative sample written for Sourcebook",
        "tests; it describes no real events and no real places at all.",
        "It ends here.",
        "A second paragraph follows the first one on the opening page",
        "and it is wrapped across two lines of the page to test joining.",
    ],
    [
        "Illustrative Briefing Series",
        "Page two continues with a paragraph that wraps its words onto",
        "the next line of text, and then finishes with a short line.",
        "That is all.",
    ],
    [
        "Illustrative Briefing Series",
        "Page three closes the report with a final paragraph written",
        "for the same tests, ending on a shorter line than the rest.",
        "The end.",
    ],
]
REPORT_INFO = {"Title": "Illustrative Report on Internal Displacement", "Author": "Jane Example"}


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(
    pages: list[list[str]], info: dict[str, str] | None = None, lang: str = "en-GB"
) -> bytes:
    """A minimal valid PDF with one Helvetica text line per string (no library needed)."""
    objects: list[bytes] = []
    font_id = 3 + 2 * len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(f"<< /Type /Catalog /Pages 2 0 R /Lang ({lang}) >>".encode())
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    for i, lines in enumerate(pages):
        text = " ".join(f"({_escape(line)}) Tj T*" for line in lines)
        stream = f"BT /F1 11 Tf 14 TL 72 740 Td {text} ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {4 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    info_ref = ""
    if info:
        entries = " ".join(f"/{key} ({_escape(value)})" for key, value in info.items())
        objects.append(f"<< {entries} /CreationDate (D:20010101000000Z) >>".encode())
        info_ref = f" /Info {len(objects)} 0 R"
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info_ref} >>\n".encode()
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _write(tmp_path: Path, name: str, data: bytes) -> Source:
    path = tmp_path / name
    path.write_bytes(data)
    return Source.from_path(path)


def _parse(source: Source) -> Document:
    [doc] = list(PdfParser().parse(source))
    assert isinstance(doc, Document)
    return doc


def _encrypted(user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(REPORT_PAGES, REPORT_INFO))))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_committed_fixture_is_current() -> None:
    assert FIXTURE.read_bytes() == make_pdf(REPORT_PAGES, REPORT_INFO)


def test_report_fields() -> None:
    doc = _parse(Source.from_path(FIXTURE))
    assert doc.title == "Illustrative Report on Internal Displacement"
    assert doc.authors == ["Jane Example"]
    assert doc.publication_date == date(2024, 3, 4)  # the "Updated" line, not CreationDate 2001
    assert doc.language == "en"
    assert doc.source_key == f"file:{FIXTURE.resolve()}"
    assert doc.docid == ""
    assert doc.origin == str(FIXTURE)


def test_body_paragraphs_and_running_head() -> None:
    body = _parse(Source.from_path(FIXTURE)).body
    assert "Illustrative Briefing Series" not in body  # on every page: a running head
    paragraphs = body.split("\n\n")
    assert "Overview" in paragraphs
    assert (
        "This report is an illustrative sample written for Sourcebook tests; it describes no "
        "real events and no real places at all. It ends here."
    ) in paragraphs
    assert paragraphs[-1] == (
        "Page three closes the report with a final paragraph written for the same tests, "
        "ending on a shorter line than the rest. The end."
    )
    assert "\n\n\n" not in body


def test_title_from_first_page_without_metadata(tmp_path: Path) -> None:
    doc = _parse(_write(tmp_path, "nometa.pdf", make_pdf(REPORT_PAGES)))
    # the running head is the first substantial line of page one
    assert doc.title == "Illustrative Briefing Series"
    assert doc.authors == []


def test_placeholder_title_is_ignored(tmp_path: Path) -> None:
    info = {"Title": "Microsoft Word - draft7.docx", "Author": "Doe, Jane"}
    doc = _parse(_write(tmp_path, "placeholder.pdf", make_pdf(REPORT_PAGES[1:], info)))
    assert doc.title.startswith("Illustrative Briefing Series")
    assert doc.authors == ["Doe, Jane"]  # one person, surname first
    assert doc.publication_date is None  # no date line; the creation date is not used


def test_several_authors(tmp_path: Path) -> None:
    info = {"Title": "T", "Author": "Jane Example, John Sample"}
    doc = _parse(_write(tmp_path, "authors.pdf", make_pdf(REPORT_PAGES, info)))
    assert doc.authors == ["Jane Example", "John Sample"]


def test_match() -> None:
    parser = PdfParser()
    assert parser.match(Source.from_path(FIXTURE)) == BY_CONTENT


def test_match_by_extension_and_not_at_all(tmp_path: Path) -> None:
    parser = PdfParser()
    assert parser.match(_write(tmp_path, "x.pdf", b"junk")) == BY_EXTENSION
    assert parser.match(_write(tmp_path, "x.txt", b"plain text")) == NO_MATCH


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.pdf", b"", "empty"),
        ("junk.pdf", b"\x00\x01not a pdf at all\xff", "not a PDF"),
        ("truncated.pdf", make_pdf(REPORT_PAGES, REPORT_INFO)[:300], "truncated.pdf"),
        ("garbage.pdf", b"%PDF-1.4\n" + b"\x8f" * 400, "garbage.pdf"),
    ],
)
def test_bad_pdf_is_a_parse_error(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        _parse(_write(tmp_path, name, data))


def test_encrypted_with_password_is_a_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="encrypted"):
        _parse(_write(tmp_path, "locked.pdf", _encrypted("secret")))


def test_encrypted_with_empty_password_is_read(tmp_path: Path) -> None:
    doc = _parse(_write(tmp_path, "restricted.pdf", _encrypted("")))
    assert doc.title == "Illustrative Report on Internal Displacement"
    assert "It ends here." in doc.body


# -- real data --------------------------------------------------------------------------------


@pytest.mark.shared
def test_crs_reports(shared_data: Path) -> None:
    folder = shared_data / "crs-reports"
    catalogue = [
        json.loads(line) for line in (folder / "metadata.jsonl").read_text().splitlines() if line
    ]
    assert len(catalogue) == 9
    for entry in catalogue:
        path = folder / entry["pdf"]
        source = Source.from_path(path)
        assert PdfParser().match(source) == BY_CONTENT
        doc = _parse(source)
        assert doc.title == entry["title"], path.name
        assert doc.publication_date == date.fromisoformat(entry["publication_date"]), path.name
        assert len(doc.body) > 5000, path.name
        assert "\n\n\n" not in doc.body
        assert doc.source_key == f"file:{path.resolve()}"


if __name__ == "__main__":  # regenerate the committed fixture
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_bytes(make_pdf(REPORT_PAGES, REPORT_INFO))
