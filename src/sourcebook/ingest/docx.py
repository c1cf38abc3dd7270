"""Word documents (``.docx``, Office Open XML) through python-docx.

The body is the document's paragraphs and tables in the order they appear: each paragraph (a
heading too) is a paragraph of its own, a manual line break stays a line break, and each table
row is one paragraph with its cells joined by " | " (a merged cell counted once). Headers,
footers, comments and tracked deletions are not part of the text.

Metadata comes from the core properties where they are stated and are not a program's
placeholder: ``title`` and ``author`` (several names split on ";"), ``language``. Without a
title property, the title is the first paragraph styled *Title* or *Heading 1*, else the first
paragraph. ``created`` and ``modified`` are file dates, not publication dates (see
:mod:`sourcebook.ingest.office`); a date line near the top gives the publication date.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Iterator

import docx
import docx.document
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


def _paragraph_text(paragraph: Paragraph) -> str:
    lines = (clean_inline(line) for line in paragraph.text.split("\n"))
    return "\n".join(line for line in lines if line)


def _table_rows(table: Table) -> Iterator[str]:
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell is repeated once per grid column
                continue
            seen.add(id(cell._tc))
            text = clean_inline(cell.text)
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
    name = source.path.name
    document = _open(source)
    paragraphs: list[str] = []
    styled_title = ""
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = _paragraph_text(block)
            if not text:
                continue
            if not styled_title and _style_name(block) in _TITLE_STYLES:
                styled_title = text.replace("\n", " ")
            paragraphs.append(text)
        else:
            paragraphs.extend(_table_rows(block))
    props = document.core_properties
    title = stated_title(props.title) or styled_title
    if not title and paragraphs and len(paragraphs[0]) <= 200:
        title = paragraphs[0].replace("\n", " ")
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
