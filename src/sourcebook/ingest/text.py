"""Plain text and Markdown files, with optional front matter for hand-written records.

The first line of a plain text file is its title (the BBC and Wikinews corpora, and most text
dumps, are written that way); a Markdown file's title is its first level-1 heading. A file that
carries its own metadata does so in a front-matter block using *our* field names, so the record
a person writes by hand and the record Sourcebook exports mean the same thing. A typo in a key
is logged and ignored (a Jekyll-style ``layout:`` key must not make a file unreadable), but a
value that cannot be read (an impossible date, an unknown country) fails the file: it is a record
someone wrote on purpose, and a silently dropped date would be worse than a loud error.

Markdown is reduced to plain text, not rendered: heading markers, emphasis and link syntax go,
the words stay. Lists and tables keep one line per item or row, because joining table cells into
one long sentence would destroy them; everywhere else a paragraph is one line of normalised
white space. A dateline that opens the story ("22 mai 2012. - ...", "February 27, 2017"; within
the first three paragraphs, since a lead or photo caption may come first) is the publisher's own
statement of the date, so it fills ``publication_date`` when the front matter does not. Plain
text blocks whose lines are longer than any hard-wrapped line are one paragraph per line (text
exported from web pages often has no blank lines at all).

The small text helpers here (:func:`clean_inline`, :func:`join_paragraphs`,
:func:`plain_paragraphs`) are shared by the other parsers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import fields
from datetime import date, datetime
from typing import Any

from sourcebook.countries import resolve_country, resolve_language
from sourcebook.dates import leading_date, parse_date, parse_datetime
from sourcebook.errors import ParseError
from sourcebook.ingest.registry import BY_EXTENSION, FALLBACK, NO_MATCH, Source, utf16_bom
from sourcebook.model import BadRecord, Document

log = logging.getLogger(__name__)

__all__ = [
    "TextParser",
    "clean_inline",
    "join_paragraphs",
    "markdown_paragraphs",
    "parse_countries",
    "plain_paragraphs",
    "split_names",
]

_SPACE = re.compile(r"\s+")
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLANK_LINE = re.compile(r"\n[ \t\u00a0]*\n")
#: Longer than any line of hard-wrapped text (72-80 columns, Reuters 65).
_WRAPPED_LINE = 100


def clean_inline(text: str) -> str:
    """One line of text: invisible and control characters removed, white space collapsed."""
    text = _CONTROL.sub("", _INVISIBLE.sub("", text))
    return _SPACE.sub(" ", text).strip()


def join_paragraphs(paragraphs: Iterable[str]) -> str:
    """The body form: non-empty paragraphs separated by one blank line."""
    return "\n\n".join(p for p in paragraphs if p)


def plain_paragraphs(text: str) -> list[str]:
    """Paragraphs of plain text: blocks between blank lines, each on one normalised line.

    A block whose lines are not hard-wrapped (one is longer than any wrapped line would be)
    holds one paragraph per line, as in text exported from web pages.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    for block in _BLANK_LINE.split(text):
        lines = [line for line in block.split("\n") if line.strip()]
        if len(lines) > 1 and max(len(line) for line in lines) > _WRAPPED_LINE:
            out.extend(clean for clean in (clean_inline(line) for line in lines) if clean)
            continue
        cleaned = clean_inline(block)
        if cleaned:
            out.append(cleaned)
    return out


def split_names(value: str) -> list[str]:
    """Split a list of names on ";", or on "," when every part is a full name.

    "Jane Doe, John Roe" is two people; "Doe, Jane" is one, written surname first.
    """
    if ";" in value:
        parts = value.split(";")
    else:
        parts = value.split(",")
        if len(parts) > 1 and any(len(part.split()) < 2 for part in parts):
            parts = [value]
    return [name for name in (clean_inline(part) for part in parts) if name]


def parse_countries(values: Iterable[str]) -> tuple[list[str], list[str]]:
    """ISO alpha-2 codes for country names or codes, and the values that matched no country."""
    codes: list[str] = []
    unknown: list[str] = []
    for value in values:
        value = clean_inline(value)
        if not value:
            continue
        code = resolve_country(value)
        if code is None:
            unknown.append(value)
        elif code not in codes:
            codes.append(code)
    return codes, unknown


# -- Markdown -------------------------------------------------------------------------------------

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_RULE = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_FENCE = re.compile(r"^\s{0,3}(```+|~~~+)")
_LIST_ITEM = re.compile(r"^\s{0,3}([-*+]|\d{1,9}[.)])\s+(.*)$")
_TABLE_ROW = re.compile(r"^\s*\|")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_QUOTE = re.compile(r"^\s{0,3}>\s?")
_LINK_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+\S+")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS = re.compile(
    r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])|(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"
)
_CODE = re.compile(r"`+([^`]+)`+")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")


def markdown_inline(text: str) -> str:
    """Plain text for one line of Markdown: link text kept, markup characters removed."""
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    text = _STRONG.sub(r"\2", text)
    text = _EMPHASIS.sub(lambda m: m.group(1) or m.group(2), text)
    text = _TAG.sub("", text)
    return clean_inline(text)


def _table_row(line: str) -> str:
    cells = [markdown_inline(cell) for cell in line.strip().strip("|").split("|")]
    return " | ".join(cell for cell in cells if cell)


class _MarkdownBlocks:
    """Collects paragraphs; each kind of block joins its lines its own way."""

    def __init__(self) -> None:
        self.paragraphs: list[str] = []
        self.kind = ""
        self.lines: list[str] = []

    def start(self, kind: str) -> None:
        if self.kind != kind:
            self.flush()
            self.kind = kind

    def add(self, kind: str, line: str) -> None:
        self.start(kind)
        self.lines.append(line)

    def flush(self) -> None:
        if self.lines:
            if self.kind == "text":
                text = markdown_inline(" ".join(self.lines))
            elif self.kind == "pre":
                text = "\n".join(line.rstrip() for line in self.lines).strip("\n")
            else:
                text = "\n".join(line for line in self.lines if line)
            if text.strip():
                self.paragraphs.append(text)
        self.lines = []
        self.kind = ""


def markdown_paragraphs(text: str) -> list[str]:
    """Paragraphs of plain text from Markdown (headings become paragraphs of their own)."""
    blocks = _MarkdownBlocks()
    fence = ""
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if fence:
            if line.strip().startswith(fence):
                blocks.flush()
                fence = ""
            else:
                blocks.add("pre", _CONTROL.sub("", line))
            continue
        opening = _FENCE.match(line)
        if opening:
            blocks.flush()
            fence = opening.group(1)
            blocks.start("pre")
            continue
        if not line.strip():
            blocks.flush()
            continue
        heading = _HEADING.match(line)
        if heading:
            blocks.flush()
            blocks.paragraphs.append(markdown_inline(heading.group(2)))
            continue
        if blocks.kind == "text" and len(blocks.lines) == 1 and _SETEXT.match(line):
            blocks.flush()  # the one-line paragraph above an underline is a heading
            continue
        if _RULE.match(line) or _LINK_DEF.match(line):
            blocks.flush()
            continue
        if _TABLE_ROW.match(line):
            if not _TABLE_RULE.match(line):
                blocks.add("table", _table_row(line))
            continue
        line = _QUOTE.sub("", line)
        item = _LIST_ITEM.match(line)
        if item:
            marker = item.group(1)
            marker = "-" if marker in "*+" else marker
            blocks.add("list", f"{marker} {markdown_inline(item.group(2))}")
            continue
        if blocks.kind == "list" and line[:1].isspace():
            blocks.lines[-1] = f"{blocks.lines[-1]} {markdown_inline(line)}"
            continue
        blocks.add("text", line.strip())
    blocks.flush()
    return blocks.paragraphs


# -- front matter ---------------------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s?(.*)$")
_STRING_FIELDS = frozenset(
    {
        "title",
        "publisher",
        "source_url",
        "original_url",
        "source_id",
        "document_type",
        "collection",
        "cite_as",
        "disclaimer",
        "copyright",
    }
)
_DATE_FIELDS = frozenset({"publication_date", "accessed_date"})
_FRONT_FIELDS = _STRING_FIELDS | _DATE_FIELDS | {"countries", "authors", "language", "last_updated"}
assert {f.name for f in fields(Document)} >= _FRONT_FIELDS


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _list_value(value: str) -> str:
    value = value.strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    return value


def read_front_matter(text: str, where: str) -> tuple[dict[str, Any], str]:
    """The typed fields of a leading ``---`` block, and the text after it."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    values: dict[str, Any] = {}
    for number, line in enumerate((match.group(1) or "").split("\n"), start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pair = _FRONT_KEY.match(line)
        if not pair:
            raise ParseError(f"{where}: front matter line {number} is not 'key: value': {line!r}")
        key, raw = pair.group(1).lower().replace("-", "_"), _unquote(pair.group(2))
        if key not in _FRONT_FIELDS:
            log.warning("%s: front matter key %r is not a record field; ignored", where, key)
            continue
        values[key] = _front_value(key, raw, where, number)
    return values, text[match.end() :]


def _front_value(key: str, raw: str, where: str, number: int) -> Any:
    if key in _STRING_FIELDS:
        return clean_inline(raw)
    if key in _DATE_FIELDS:
        day = parse_date(raw)
        if raw.strip() and day is None:
            raise ParseError(f"{where}: front matter line {number}: {key} {raw!r} is not a date")
        return day
    if key == "language":
        code = resolve_language(raw) if raw.strip() else ""
        if code is None:
            raise ParseError(f"{where}: front matter line {number}: unknown language {raw!r}")
        return code
    if key == "last_updated":
        moment = parse_datetime(raw)
        if raw.strip() and moment is None:
            raise ParseError(
                f"{where}: front matter line {number}: last_updated {raw!r} is not a date"
            )
        return moment
    if key == "authors":
        return [_unquote(v) for v in split_names(_list_value(raw))]
    value = _list_value(raw)
    separator = ";" if ";" in value else ","
    codes, unknown = parse_countries(_unquote(v.strip()) for v in value.split(separator))
    if unknown:
        listed = ", ".join(repr(u) for u in unknown)
        raise ParseError(f"{where}: front matter line {number}: unknown country {listed}")
    return codes


# -- the parser -----------------------------------------------------------------------------------


def _looks_binary(data: bytes) -> bool:
    if utf16_bom(data):  # UTF-16 text is full of NUL bytes; judge its characters instead
        data = data[: len(data) // 2 * 2].decode("utf-16", errors="replace").encode("utf-8")
    if b"\x00" in data:
        return True
    if not data:
        return False
    controls = sum(1 for byte in data if byte < 32 and byte not in (9, 10, 12, 13))
    return controls / len(data) > 0.05


def _first_heading(paragraphs: list[str], raw_text: str) -> int | None:
    """Index of the paragraph that is the first level-1 heading in the Markdown source."""
    for line in raw_text.split("\n"):
        heading = _HEADING.match(line)
        if heading and len(heading.group(1)) == 1:
            title = markdown_inline(heading.group(2))
            return paragraphs.index(title) if title in paragraphs else None
    return None


class TextParser:
    """Plain text (``.txt``) and Markdown (``.md``), with optional front matter."""

    name = "text"
    media_types: tuple[str, ...] = ("text/plain", "text/markdown", "text/x-markdown")
    extensions: tuple[str, ...] = ("txt", "text", "md", "markdown")

    def match(self, source: Source) -> int:
        if _looks_binary(source.head):
            return NO_MATCH
        if source.extension in self.extensions or source.media_type in self.media_types:
            return BY_EXTENSION
        return FALLBACK

    def parse(self, source: Source) -> Iterator[Document | BadRecord]:
        yield parse_text_file(source)


def parse_text_file(source: Source) -> Document:
    """One document from a text or Markdown file (see the module docstring)."""
    where = str(source.path)
    data = source.read_bytes()
    if _looks_binary(data[:65536]):
        raise ParseError(f"{source.path.name} is binary (it holds NUL or control bytes), not text")
    text = source.read_text().replace("\r\n", "\n").replace("\r", "\n")
    meta, text = read_front_matter(text, source.path.name)
    markdown = source.extension in ("md", "markdown") or source.media_type in (
        "text/markdown",
        "text/x-markdown",
    )
    title: str = meta.get("title", "")
    if markdown:
        paragraphs = markdown_paragraphs(text)
        index = _first_heading(paragraphs, text)
        if not title and index is not None:
            title = paragraphs.pop(index)
    else:
        if not title:
            first, _, text = text.lstrip().partition("\n")
            title = clean_inline(first)
        paragraphs = plain_paragraphs(text)
    if not title and paragraphs:
        first, _, rest = paragraphs[0].partition("\n")
        title = clean_inline(first)
        paragraphs[0:1] = [rest] if rest.strip() else []
    if paragraphs and clean_inline(paragraphs[0]) == title:
        paragraphs.pop(0)  # the title repeated at the top of the body (Wikinews)
    if not title and not paragraphs:
        raise ParseError(f"{source.path.name} is empty: no title and no text")
    publication_date: date | None = meta.get("publication_date")
    if publication_date is None:
        # a dateline opens the story, sometimes after a one-line lead or photo caption
        publication_date = next(
            (found for found in map(leading_date, paragraphs[:3]) if found), None
        )
    last_updated: datetime | None = meta.get("last_updated")
    source_id: str = meta.get("source_id", "")
    doc = Document(
        source_id=source_id,
        title=title,
        publisher=meta.get("publisher", ""),
        authors=meta.get("authors", []),
        publication_date=publication_date,
        last_updated=last_updated,
        source_url=meta.get("source_url", ""),
        original_url=meta.get("original_url", ""),
        accessed_date=meta.get("accessed_date"),
        cite_as=meta.get("cite_as", ""),
        disclaimer=meta.get("disclaimer", ""),
        copyright=meta.get("copyright", ""),
        body=join_paragraphs(paragraphs),
        document_type=meta.get("document_type", ""),
        language=meta.get("language", ""),
        countries=meta.get("countries", []),
        collection=meta.get("collection", ""),
        source_key=f"text:{source_id}" if source_id else f"file:{source.path.resolve()}",
        origin=where,
    )
    return doc
