"""OpenDocument text (``.odt``, LibreOffice and others) through odfpy.

The body is the document's headings, paragraphs, list items and table rows in document order:
each heading, paragraph or list item is a paragraph of its own (a line break inside one stays a
line break), each table row one paragraph with its cells joined by " | ". Sections and lists are
walked into; footnotes, comments, frames (text boxes, images) and tracked deletions are not
part of the text.

Metadata comes from ``meta.xml`` where it is stated: ``dc:title``, ``meta:initial-creator`` (the
author: ODF's ``dc:creator`` is whoever saved the file last, so it is not used), ``dc:language``.
Without a title, a heading among the first five blocks (else the first paragraph, unless the
text opens with a table) is the title. File dates (``meta:creation-date``, ``dc:date``) are not
publication dates (see :mod:`sourcebook.ingest.office`).
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Iterator
from typing import Any
from xml.sax import SAXException

from odf import opendocument
from odf.namespaces import DCNS, DRAWNS, METANS, OFFICENS, TABLENS, TEXTNS

from sourcebook.countries import resolve_language
from sourcebook.errors import ParseError
from sourcebook.ingest.office import (
    open_zip,
    stated_authors,
    stated_date,
    stated_title,
    zip_mimetype,
)
from sourcebook.ingest.registry import BY_CONTENT, BY_EXTENSION, NO_MATCH, Source
from sourcebook.ingest.text import clean_inline, join_paragraphs
from sourcebook.model import BadRecord, Document

log = logging.getLogger(__name__)

__all__ = ["OdtParser", "parse_odt_file"]

ODT_TYPE = "application/vnd.oasis.opendocument.text"
_ELEMENT_NODE = 1
_TEXT_NODE = 3
_TITLE_WITHIN = 5


class OdtParser:
    """OpenDocument text files (odfpy)."""

    name = "odt"
    media_types: tuple[str, ...] = (ODT_TYPE, "application/vnd.oasis.opendocument.text-template")
    extensions: tuple[str, ...] = ("odt", "ott")

    def match(self, source: Source) -> int:
        if zip_mimetype(source.head).startswith(ODT_TYPE):
            return BY_CONTENT
        if source.extension in self.extensions or source.media_type in self.media_types:
            return BY_EXTENSION
        return NO_MATCH

    def parse(self, source: Source) -> Iterator[Document | BadRecord]:
        yield parse_odt_file(source)


def _children(element: Any) -> Iterator[Any]:
    for child in element.childNodes:
        if child.nodeType == _ELEMENT_NODE:
            yield child


#: Inline elements whose text is not the paragraph's: footnotes and endnotes (their bodies
#: would land mid-sentence), comments, text boxes and images in frames, ruby annotations.
_INLINE_SKIP = frozenset(
    [
        (TEXTNS, "note"),
        (OFFICENS, "annotation"),
        (DRAWNS, "frame"),
        (DRAWNS, "custom-shape"),
        (TEXTNS, "ruby-text"),
    ]
)


def _inline_text(element: Any, out: list[str]) -> None:
    for child in element.childNodes:
        if child.nodeType == _TEXT_NODE:
            out.append(child.data)
        elif child.nodeType == _ELEMENT_NODE:
            qname = child.qname
            if qname in _INLINE_SKIP:
                continue
            if qname == (TEXTNS, "line-break"):
                out.append("\n")
            elif qname == (TEXTNS, "tab"):
                out.append("\t")
            elif qname == (TEXTNS, "s"):
                out.append(" " * int(child.getAttribute("c") or 1))
            else:
                _inline_text(child, out)


def _text(element: Any) -> str:
    pieces: list[str] = []
    _inline_text(element, pieces)
    lines = (clean_inline(line) for line in "".join(pieces).split("\n"))
    return "\n".join(line for line in lines if line)


def _table_rows(table: Any) -> Iterator[str]:
    for element in _children(table):
        if element.qname == (TABLENS, "table-row"):
            cells = [
                clean_inline(_text(cell))
                for cell in _children(element)
                if cell.qname == (TABLENS, "table-cell")
            ]
            row = " | ".join(cell for cell in cells if cell)
            if row:
                yield row
        else:  # table-header-rows, table-rows, table-row-group
            yield from _table_rows(element)


def _blocks(element: Any) -> Iterator[tuple[str, str]]:
    """(kind, text) in document order: kind is "h" (heading), "p" (paragraph) or "row"."""
    for child in _children(element):
        namespace, local = child.qname
        if namespace == TEXTNS and local in ("h", "p"):
            text = _text(child)
            if text:
                yield local, text
        elif namespace == TABLENS and local == "table":
            yield from (("row", row) for row in _table_rows(child))
        elif namespace == TEXTNS and local in ("tracked-changes", "sequence-decls", "note"):
            continue
        else:  # lists, list items, sections, soft page breaks...
            yield from _blocks(child)


def _meta(doc: Any, namespace: str, local: str) -> str:
    for child in _children(doc.meta):
        if child.qname == (namespace, local):
            return clean_inline(_text(child))
    return ""


def _load(source: Source) -> Any:
    name = source.path.name
    data = source.read_bytes()
    archive = open_zip(data, name, "ODT", source.max_bytes)
    try:
        mimetype = archive.read("mimetype").decode("ascii", errors="replace").strip()
    except KeyError:
        mimetype = ""
    if not mimetype.startswith(ODT_TYPE):
        found = mimetype or "no mimetype member"
        raise ParseError(f"{name} is not an OpenDocument text file ({found})")
    try:
        return opendocument.load(io.BytesIO(data))
    except (
        KeyError,
        ValueError,
        IndexError,
        AttributeError,
        SAXException,
        zipfile.BadZipFile,
    ) as exc:
        raise ParseError(f"{name} is not a readable OpenDocument text: {exc}") from exc


def parse_odt_file(source: Source) -> Document:
    """One document from an ODT file (see the module docstring)."""
    name = source.path.name
    doc = _load(source)
    blocks = list(_blocks(doc.text))
    paragraphs = [text for _, text in blocks]
    title = stated_title(_meta(doc, DCNS, "title"))
    if not title:
        # a heading near the top: one deep in the text names a section, not the document
        title = next(
            (t.replace("\n", " ") for kind, t in blocks[:_TITLE_WITHIN] if kind == "h"), ""
        )
    if not title and blocks and blocks[0][0] == "p" and len(blocks[0][1]) <= 200:
        title = blocks[0][1].replace("\n", " ")  # a table row is never taken for a title
    if paragraphs and paragraphs[0].replace("\n", " ") == title:
        paragraphs.pop(0)
    if not title and not paragraphs:
        raise ParseError(f"{name}: the OpenDocument text has no text")
    return Document(
        title=title,
        authors=stated_authors(_meta(doc, METANS, "initial-creator")),
        publication_date=stated_date(paragraphs),
        body=join_paragraphs(paragraphs),
        language=resolve_language(_meta(doc, DCNS, "language")) or "",
        source_key=f"file:{source.path.resolve()}",
        origin=str(source.path),
    )
