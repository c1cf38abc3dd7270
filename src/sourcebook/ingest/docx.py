"""Word documents (``.docx``, Office Open XML) through python-docx.

The body is the document's paragraphs and tables in the order they appear: each paragraph (a
heading too) is a paragraph of its own, a manual line break stays a line break, and each table
row is one paragraph with its cells joined by " | " (a merged cell counted once). Text in
content controls, fields, smart tags and tracked insertions is read (python-docx's own
``Paragraph.text`` skips all of those); headers, footers, comments, text boxes and tracked
deletions are not part of the text.

Metadata comes from the core properties where they are stated and are not a program's
placeholder: ``title`` and ``author`` (several names split on ";"), ``language``. Without a
title property, the title is a paragraph styled *Title* or *Heading 1* among the first five,
else the first paragraph (unless the text opens with a table: a table row is not a title).
``created`` and ``modified`` are file dates, not publication dates (see
:mod:`sourcebook.ingest.office`); a date line near the top gives the publication date.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Iterator
from typing import Any

import docx
import docx.document
import lxml.etree
from docx.opc.exceptions import OpcError
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml.etree import LxmlError

from sourcebook.countries import resolve_language
from sourcebook.errors import ParseError
from sourcebook.ingest.office import (
    ZIP_MAGIC,
    open_zip,
    stated_authors,
    stated_date,
    stated_title,
)
from sourcebook.ingest.registry import BY_CONTENT, BY_EXTENSION, NO_MATCH, Source
from sourcebook.ingest.text import clean_inline, join_paragraphs
from sourcebook.model import BadRecord, Document

log = logging.getLogger(__name__)

__all__ = ["DocxParser", "parse_docx_file"]

_TITLE_STYLES = ("title", "heading 1")
_TITLE_WITHIN = 5


class DocxParser:
    """Word documents (python-docx)."""

    name = "docx"
    media_types: tuple[str, ...] = (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    extensions: tuple[str, ...] = ("docx",)

    def match(self, source: Source) -> int:
        head = source.head
        if head.startswith(ZIP_MAGIC) and b"word/" in head and b"[Content_Types].xml" in head:
            return BY_CONTENT
        if source.extension in self.extensions or source.media_type in self.media_types:
            return BY_EXTENSION
        return NO_MATCH

    def parse(self, source: Source) -> Iterator[Document | BadRecord]:
        yield parse_docx_file(source)


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_NS = {"w": _W, "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006"}
#: Runs that are text of the paragraph: tracked insertions, content controls, fields and smart
#: tags included; tracked deletions, moved-away text and text boxes (written twice, once as a
#: fallback) left out.
_RUNS = lxml.etree.XPath(
    ".//w:r[not(ancestor::w:del or ancestor::w:moveFrom or ancestor::w:txbxContent"
    " or ancestor::mc:Fallback)]",
    namespaces=_NS,
)
_CELL_PARAGRAPHS = lxml.etree.XPath(
    ".//w:p[not(ancestor::w:txbxContent or ancestor::mc:Fallback)]", namespaces=_NS
)


def _text_of(p: Any) -> str:
    """A ``w:p`` element's text; python-docx's own ``Paragraph.text`` reads only direct runs."""
    raw = "".join(run.text for run in _RUNS(p))
    lines = (clean_inline(line) for line in raw.split("\n"))
    return "\n".join(line for line in lines if line)


def _blocks(container: Any, parent: Any) -> Iterator[Paragraph | Table]:
    """Paragraphs and tables in document order, inside block-level content controls too."""
    for child in container.iterchildren():
        if child.tag == f"{{{_W}}}p":
            yield Paragraph(child, parent)
        elif child.tag == f"{{{_W}}}tbl":
            yield Table(child, parent)
        elif child.tag == f"{{{_W}}}sdt":
            content = child.find(f"{{{_W}}}sdtContent")
            if content is not None:
                yield from _blocks(content, parent)
        elif child.tag == f"{{{_W}}}customXml":
            yield from _blocks(child, parent)


def _table_rows(table: Table) -> Iterator[str]:
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell is repeated once per grid column
                continue
            seen.add(id(cell._tc))
            text = clean_inline(" ".join(_text_of(p) for p in _CELL_PARAGRAPHS(cell._tc)))
            if text:
                cells.append(text)
        if cells:
            yield " | ".join(cells)


def _style_name(paragraph: Paragraph) -> str:
    try:
        style = paragraph.style
    except (KeyError, ValueError, AttributeError):
        return ""
    return (style.name or "").lower() if style is not None else ""


def _open(source: Source) -> docx.document.Document:
    name = source.path.name
    data = source.read_bytes()
    archive = open_zip(data, name, "DOCX", source.max_bytes)
    if "word/document.xml" not in archive.namelist():
        raise ParseError(f"{name} is a zip archive but not a Word document (no word/document.xml)")
    try:
        return docx.Document(io.BytesIO(data))
    except (OpcError, KeyError, ValueError, LxmlError, zipfile.BadZipFile) as exc:
        raise ParseError(f"{name} is not a readable Word document: {exc}") from exc


def parse_docx_file(source: Source) -> Document:
    """One document from a DOCX file (see the module docstring)."""
    try:
        return _read_docx(source)
    except (LxmlError, KeyError, ValueError, AttributeError) as exc:  # a malformed part
        raise ParseError(f"{source.path.name} is not a readable Word document: {exc}") from exc


def _read_docx(source: Source) -> Document:
    name = source.path.name
    document = _open(source)
    paragraphs: list[str] = []
    styled_title = ""
    opening = ""  # the first paragraph, when the text does not open with a table
    for block in _blocks(document.element.body, document):
        if isinstance(block, Paragraph):
            text = _text_of(block._p)
            if not text:
                continue
            near_top = len(paragraphs) < _TITLE_WITHIN  # deeper, a heading names a section
            if not styled_title and near_top and _style_name(block) in _TITLE_STYLES:
                styled_title = text.replace("\n", " ")
            if not paragraphs:
                opening = text.replace("\n", " ")
            paragraphs.append(text)
        else:
            paragraphs.extend(_table_rows(block))
    props = document.core_properties
    title = stated_title(props.title) or styled_title
    if not title and len(opening) <= 200:
        title = opening  # a table row is never taken for a title
    if paragraphs and paragraphs[0].replace("\n", " ") == title:
        paragraphs.pop(0)  # the title is also the first line of the text
    if not title and not paragraphs:
        raise ParseError(f"{name}: the Word document has no text")
    return Document(
        title=title,
        authors=stated_authors(props.author),
        publication_date=stated_date(paragraphs),
        body=join_paragraphs(paragraphs),
        language=resolve_language(props.language or "") or "",
        source_key=f"file:{source.path.resolve()}",
        origin=str(source.path),
    )
