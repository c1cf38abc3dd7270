"""Rich Text Format (``.rtf``) through striprtf.

RTF is plain 7-bit text with control words, so the text comes from striprtf's conversion
(``\\par`` ends a paragraph, ``\\line`` is a line break, table cells are joined by " | ", one row a
paragraph; code pages and ``\\u`` escapes are decoded). Hidden destinations (font and colour
tables, pictures, headers, footers, footnotes, fields' instructions) are not part of the text.

Metadata comes from the ``{\\info}`` group where it is stated: ``{\\title}``, ``{\\author}``. Its
``\\creatim`` and ``\\revtim`` are file dates, not publication dates (see
:mod:`sourcebook.ingest.office`). Without a title the first short paragraph is the title.

A file that does not open with ``{\\rtf``, or whose groups are not closed (a truncated file), is a
ParseError.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from striprtf.striprtf import rtf_to_text

from sourcebook.errors import ParseError
from sourcebook.ingest.office import stated_authors, stated_date, stated_title
from sourcebook.ingest.registry import BY_CONTENT, BY_EXTENSION, NO_MATCH, Source, decode_text
from sourcebook.ingest.text import clean_inline, join_paragraphs
from sourcebook.model import BadRecord, Document

log = logging.getLogger(__name__)

__all__ = ["RtfParser", "parse_rtf_file", "rtf_paragraphs"]

_RTF_START = re.compile(rb"^\s*\{\\rtf")
_CODEPAGE = re.compile(r"\\ansicpg(\d+)")
_ESCAPED_OR_BRACE = re.compile(r"\\[\\{}]|[{}]")
_CELL_RUN = re.compile(r"\s*\|[\s|]*")
#: ``\line`` (a line break inside a paragraph) passed through striprtf as U+2028
_LINE_WORD = re.compile(r"(?<!\\)\\line(?![a-z])\s?")
_LINE_SEPARATOR = "\u2028"


class RtfParser:
    """Rich Text Format files (striprtf)."""

    name = "rtf"
    media_types: tuple[str, ...] = ("application/rtf", "text/rtf")
    extensions: tuple[str, ...] = ("rtf",)

    def match(self, source: Source) -> int:
        if _RTF_START.match(source.head):
            return BY_CONTENT
        if source.extension in self.extensions or source.media_type in self.media_types:
            return BY_EXTENSION
        return NO_MATCH

    def parse(self, source: Source) -> Iterator[Document | BadRecord]:
        yield parse_rtf_file(source)


def _group_end(text: str, start: int) -> int:
    """Index just past the group opening at ``text[start] == "{"``, or -1 when never closed."""
    depth = 0
    for match in _ESCAPED_OR_BRACE.finditer(text, start):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth == 0:
                return match.end()
    return -1


def _info_field(text: str, info: str, word: str) -> str:
    """The text of ``{\\word ...}`` inside the info group, decoded like the body."""
    match = re.search(r"\{\\" + word + r"(?![a-z])", info)
    if not match:
        return ""
    end = _group_end(info, match.start())
    if end < 0:
        return ""
    inner = info[match.end() : end - 1]
    codepage = _CODEPAGE.search(text[:2048])
    header = rf"{{\rtf1\ansi\ansicpg{codepage.group(1)} " if codepage else r"{\rtf1\ansi "
    return clean_inline(_to_text(header + inner + "}"))


def _to_text(rtf: str) -> str:
    try:
        return str(rtf_to_text(rtf, errors="replace"))
    except (LookupError, ValueError, IndexError) as exc:
        raise ParseError(f"the RTF could not be converted: {exc}") from exc


def _paragraphs(text: str) -> list[str]:
    out: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if "|" in line:
            line = _CELL_RUN.sub(" | ", line).strip(" |")
        parts = (clean_inline(part) for part in line.split(_LINE_SEPARATOR))
        cleaned = "\n".join(part for part in parts if part)
        if cleaned:
            out.append(cleaned)
    return out


def rtf_paragraphs(rtf: str) -> list[str]:
    """Paragraphs of an RTF text (also an Outlook message's RTF body)."""
    return _paragraphs(_to_text(_LINE_WORD.sub(r"\\u8232?", rtf)))


def parse_rtf_file(source: Source) -> Document:
    """One document from an RTF file (see the module docstring)."""
    name = source.path.name
    data = source.read_bytes()
    if not data.strip():
        raise ParseError(f"{name} is empty")
    if not _RTF_START.match(data):
        raise ParseError(f"{name} is not an RTF file (it does not start with {{\\rtf)")
    if b"\x00" in data:
        raise ParseError(f"{name} is a damaged RTF file: RTF is text, but it holds NUL bytes")
    text = decode_text(data)
    start = text.index("{")
    if _group_end(text, start) < 0:
        raise ParseError(f"{name} is a truncated RTF file: its groups are not closed")
    info_at = re.search(r"\{\\info(?![a-z])", text)
    info = ""
    if info_at:
        end = _group_end(text, info_at.start())
        info = text[info_at.start() : end] if end > 0 else ""
    try:
        paragraphs = rtf_paragraphs(text)
    except ParseError as exc:
        raise ParseError(f"{name}: {exc}") from exc
    title = stated_title(_info_field(text, info, "title")) if info else ""
    if not title and paragraphs and len(paragraphs[0]) <= 200:
        title = paragraphs[0]
    if paragraphs and paragraphs[0] == title:
        paragraphs.pop(0)
    if not title and not paragraphs:
        raise ParseError(f"{name}: the RTF file has no text")
    return Document(
        title=title,
        authors=stated_authors(_info_field(text, info, "author")) if info else [],
        publication_date=stated_date(paragraphs),
        body=join_paragraphs(paragraphs),
        source_key=f"file:{source.path.resolve()}",
        origin=str(source.path),
    )
