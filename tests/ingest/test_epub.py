"""EPUB: chapters in spine order, Dublin Core metadata, without an EPUB library."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import pytest

from sourcebook.errors import ParseError
from sourcebook.ingest.epub import EpubParser, parse_epub_file
from sourcebook.ingest.registry import BY_CONTENT, BY_EXTENSION, NO_MATCH, Source
from tests.ingest.formats import assert_bad_files_reported, full_registry, write_epub

METADATA = """
<dc:identifier id="uid">urn:isbn:9780000000002</dc:identifier>
<dc:identifier>urn:uuid:not-the-unique-one</dc:identifier>
<dc:title>Illustrative: Displacement in the Valley</dc:title>
<dc:creator>Jane Example</dc:creator>
<dc:creator>John Sample</dc:creator>
<dc:publisher>Example Research Institute</dc:publisher>
<dc:date>2023-11-20</dc:date>
<dc:language>en</dc:language>
<meta property="dcterms:modified">2025-01-01T00:00:00Z</meta>
"""
CHAPTERS = [
    ("cover.xhtml", "<p>Cover image credits</p>"),
    ("ch2.xhtml", "<h1>Chapter 2</h1><p>Returns began in <b>spring</b>.</p>"),
    (
        "ch1.xhtml",
        "<h1>Illustrative: Displacement in the Valley</h1><h2>Chapter 1</h2>"
        "<p>Families left in winter.</p><table><tr><td>Year</td><td>People</td></tr>"
        "<tr><td>2022</td><td>1,200</td></tr></table>",
    ),
]
# reading order is the spine's, not the manifest's; the cover is not linear
SPINE = '<itemref idref="c0" linear="no"/><itemref idref="c2"/><itemref idref="c1"/>'


def make(path: Path) -> Path:
    return write_epub(path, CHAPTERS, METADATA, spine=SPINE)


def test_fields_text_and_spine_order(tmp_path: Path) -> None:
    path = make(tmp_path / "book.epub")
    doc = parse_epub_file(Source.from_path(path))
    assert doc.title == "Illustrative: Displacement in the Valley"
    assert doc.authors == ["Jane Example", "John Sample"]
    assert doc.publisher == "Example Research Institute"
    assert doc.publication_date == date(2023, 11, 20)  # dc:date, not dcterms:modified
    assert doc.language == "en"
    assert doc.source_id == "urn:isbn:9780000000002"
    assert doc.body.split("\n\n") == [
        "Chapter 1",
        "Families left in winter.",
        "Year | People",
        "2022 | 1,200",
        "Chapter 2",
        "Returns began in spring.",
    ]
    assert "Cover image" not in doc.body


def _without(path: Path, member: str, out: Path) -> Path:
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename != member:
                dst.writestr(info, src.read(info))
    return out


def test_a_missing_chapter_is_skipped_all_missing_is_an_error(tmp_path: Path) -> None:
    full = make(tmp_path / "full.epub")
    partial = _without(full, "OEBPS/text/ch1.xhtml", tmp_path / "partial.epub")
    doc = parse_epub_file(Source.from_path(partial))
    assert doc.body == "Chapter 2\n\nReturns began in spring."
    one = write_epub(tmp_path / "one.epub", CHAPTERS[1:2], METADATA)
    empty = _without(one, "OEBPS/text/ch2.xhtml", tmp_path / "empty.epub")
    with pytest.raises(ParseError, match="none of the 1 chapters in its spine is present"):
        parse_epub_file(Source.from_path(empty))


def test_no_title_and_no_text_is_an_error(tmp_path: Path) -> None:
    path = write_epub(tmp_path / "blank.epub", [("a.xhtml", "<p> </p>")], "")
    with pytest.raises(ParseError, match="no title and no text"):
        parse_epub_file(Source.from_path(path))


def test_auction_by_content_and_by_extension(tmp_path: Path) -> None:
    registry = full_registry()
    renamed = tmp_path / "book.zip"
    renamed.write_bytes(make(tmp_path / "book.epub").read_bytes())
    assert EpubParser().match(Source.from_path(renamed)) == BY_CONTENT
    assert registry.auction(Source.from_path(renamed)).name == "epub"
    odt_like = write_epub(tmp_path / "x.zip", CHAPTERS, METADATA, mimetype="application/x-other")
    assert EpubParser().match(Source.from_path(odt_like)) == NO_MATCH
    plain = tmp_path / "plain.epub"
    plain.write_text("plain\n")
    assert EpubParser().match(Source.from_path(plain)) == BY_EXTENSION
    assert registry.auction(Source.from_path(plain)).name == "epub"


def test_bad_files_are_recorded_and_the_batch_goes_on(tmp_path: Path) -> None:
    good = make(tmp_path / "good.epub").read_bytes()
    assert_bad_files_reported(
        tmp_path,
        good,
        "epub",
        "epub",
        {
            "truncated": r"truncated\.epub is a damaged or truncated EPUB file",
            "corrupt": r"corrupt\.epub is a damaged (or truncated )?EPUB file",
            "text": r"text\.epub is not a EPUB file",
        },
    )


def test_encrypted_chapters_are_a_parse_error(tmp_path: Path) -> None:
    path = make(tmp_path / "drm.epub")
    encryption = """<?xml version="1.0"?>
<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container"
            xmlns:enc="http://www.w3.org/2001/04/xmlenc#">
  <enc:EncryptedData><enc:CipherData><enc:CipherReference URI="OEBPS/text/ch1.xhtml"/>
  </enc:CipherData></enc:EncryptedData>
  <enc:EncryptedData><enc:CipherData><enc:CipherReference URI="OEBPS/fonts/a.otf"/>
  </enc:CipherData></enc:EncryptedData>
</encryption>"""
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("META-INF/encryption.xml", encryption)
    with pytest.raises(ParseError, match=r"drm\.epub is encrypted \(DRM\): 1 of its 2 chapters"):
        parse_epub_file(Source.from_path(path))
    fonts_only = make(tmp_path / "fonts.epub")
    with zipfile.ZipFile(fonts_only, "a") as zf:
        zf.writestr("META-INF/encryption.xml", encryption.replace("OEBPS/text/ch1.xhtml", "x.otf"))
    assert parse_epub_file(Source.from_path(fonts_only)).body.startswith("Chapter 1")
