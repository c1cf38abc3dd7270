"""Refworld records, as saved plain text or as the HTML page.

A Refworld record page carries a "Last Updated:" stamp, the title, a block of labelled fields
("Publisher", "Author", "Publication Date", "Countries", "Topics", "Cite as", "Disclaimer"...),
the body, a "Link to original story" line and a "Copyright notice:". The plain-text form is that
page's text with each label glued to its value ("Publisher Radio Free Europe/Radio Liberty",
"DisclaimerThis is not a UNHCR publication..."). The HTML form is converted to the same text
(each label row becomes one line), so both go through one label parser and cannot disagree.

Every labelled value is kept; nothing is inferred. In particular:

* ``source_url`` is the Refworld address in the "Cite as" line, and ``source_id`` is the
  Refworld docid in it (``/docid/5975a5b29.html``); ``accessed_date`` is the "[accessed ...]"
  date of that line. ``cite_as`` keeps the line itself, with white space normalised (the page
  has no-break spaces around "available at").
* "Countries" are the publisher's statement of what the record is about, so they go to
  ``countries`` as ISO codes; the names as written are also kept in ``source_tags["countries"]``
  so a name pycountry does not know is not lost. "Topics" go to ``source_tags["topics"]``.
* The page repeats a photo caption twice in a row in one line; that line is furniture and is
  removed, as are "Link to original story ...", the copyright line and "Search Refworld". The
  dateline ("February 27, 2017") is part of the story and stays in the body.

The docid decides the identity (``refworld:<docid>``), so the text and HTML forms of one record
are the same document. ``language`` stays empty in both: the page's ``<html lang>`` is the
language of Refworld's interface, not of the record, and the text form does not state one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import lxml.etree

from sourcebook.countries import resolve_country
from sourcebook.dates import parse_date, parse_datetime
from sourcebook.errors import ParseError
from sourcebook.ingest.html import html_to_paragraphs, parse_html_root
from sourcebook.ingest.registry import BY_CONTENT, NO_MATCH, Source
from sourcebook.ingest.text import clean_inline, join_paragraphs, parse_countries, split_names
from sourcebook.model import BadRecord, Document

log = logging.getLogger(__name__)

__all__ = ["RefworldParser", "parse_refworld_text"]

#: Label as printed -> our field. Longest first, so "Publication Date" wins over "Publisher".
_LABELS: dict[str, str] = {
    "Citation / Document Symbol": "document_symbol",
    "Publication Date": "publication_date",
    "Document type": "document_type",
    "Document Type": "document_type",
    "Publisher": "publisher",
    "Countries": "countries",
    "Country": "countries",
    "Authors": "authors",
    "Author": "authors",
    "Topics": "topics",
    "Topic": "topics",
    "Cite as": "cite_as",
    "Disclaimer": "disclaimer",
}
_LABEL = re.compile(
    r"^(?P<label>" + "|".join(re.escape(k) for k in sorted(_LABELS, key=len, reverse=True)) + r")"
    r"(?:\s*[:|]\s*|\s+|(?=[A-Z0-9\"“])|$)(?P<value>.*)$"
)
_LAST_UPDATED = re.compile(r"^Last Updated:\s*(?P<value>.+)$", re.I)
_LINK_LINE = re.compile(r"^Link to original (?:story|article|document)\b", re.I)
_COPYRIGHT = re.compile(r"^Copyright notice:\s*(?P<value>.*)$", re.I | re.S)
_FURNITURE = frozenset(
    {
        "search refworld",
        "search refworld by keyword",
        "print",
        "email",
        "share",
        "printable version",
        "email this document",
        "back to top",
    }
)
_REFWORLD_URL = re.compile(r"https?://(?:www\.)?refworld\.org/\S*?(?=[\s,;\]]|$)", re.I)
_ANY_URL = re.compile(r"https?://\S+?(?=[\s,;\]]|$)")
_DOCID = re.compile(r"/docid/([0-9a-f]{6,})\.html|[?&]docid=([0-9a-f]{6,})", re.I)
_ACCESSED = re.compile(r"\[accessed\s+([^\]]+)\]", re.I)
_LIST_SEPARATOR = re.compile(r"\n|;|\||,|\s-\s")
#: A parenthesis and what it holds (bounded, so an unclosed one costs nothing).
_IN_PARENS = re.compile(r"\([^()\n]{0,200}\)")
_COMMA_KEPT = "\ue000"  # a private-use character standing for a comma inside parentheses
#: Country names one record may carry (there are 249 ISO countries); the rest are dropped.
MAX_COUNTRY_NAMES = 300
#: Longer than any country name: such a piece is never glued to the next one.
_LONGEST_NAME = 80
_INVERTED_TAIL = re.compile(r"\b(?:of|of the)$|^the\b", re.I)

_TEXT_MARKERS = ("Last Updated:",)
_TEXT_LABELS = ("Cite as", "Publisher")


@dataclass
class _Fields:
    last_updated: str = ""
    title: list[str] = field(default_factory=list)
    labels: dict[str, list[str]] = field(default_factory=dict)
    body: list[str] = field(default_factory=list)
    copyright: str = ""
    original_url: str = ""


def _doubled(line: str) -> bool:
    """A caption printed twice back to back: "Putin (left)...February 27.Putin (left)..."."""
    text = line.strip()
    size = len(text)
    if size < 40:
        return False
    half = size // 2
    if size % 2 == 0:
        return text[:half] == text[half:]
    return text[half] == " " and text[:half] == text[half + 1 :]


def _split_fields(paragraphs: list[str]) -> _Fields:
    """Assign the header lines to fields and the remaining paragraphs to the body.

    The header is: an optional "Last Updated:" line (anything before it is page furniture in
    the HTML form), the title paragraph, then label lines. A line that follows a label line
    directly continues that label's value (a second country, say); the first unlabelled line
    after a blank line starts the body.
    """
    out = _Fields()
    lines = [clean_inline(line) for p in paragraphs for line in (*p.split("\n"), "")]
    index = 0
    for i, line in enumerate(lines):
        match = _LAST_UPDATED.match(line)
        if match:
            out.last_updated = clean_inline(match.group("value"))
            index = i + 1
            break
    while index < len(lines) and not lines[index]:
        index += 1
    while index < len(lines) and lines[index]:
        if out.title and _LABEL.match(lines[index]):
            break  # labels straight under the title, without a blank line
        out.title.append(lines[index])
        index += 1
    current: str | None = None
    after_blank = False
    while index < len(lines):
        line = lines[index]
        match = _LABEL.match(line) if line else None
        if not line:
            after_blank = True
        elif match:
            current = _LABELS[match.group("label")]
            value = clean_inline(match.group("value"))
            out.labels.setdefault(current, [])
            if value:
                out.labels[current].append(value)
            after_blank = False
        elif current is not None and not after_blank:
            out.labels[current].append(line)
        else:
            break
        index += 1
    block: list[str] = []
    for line in lines[index:]:
        if line:
            block.append(line)
        elif block:
            _body_paragraph(" ".join(block), out)
            block = []
    if block:
        _body_paragraph(" ".join(block), out)
    return out


def _body_paragraph(paragraph: str, out: _Fields) -> None:
    flat = clean_inline(paragraph)
    copyright_match = _COPYRIGHT.match(flat)
    if copyright_match:
        out.copyright = clean_inline(copyright_match.group("value"))
    elif _LINK_LINE.match(flat) or flat.lower() in _FURNITURE or _doubled(flat):
        return
    else:
        out.body.append(flat)


def _values(labels: dict[str, list[str]], key: str) -> list[str]:
    values: list[str] = []
    for chunk in labels.get(key, []):
        values.extend(v for v in (clean_inline(x) for x in _split_list(chunk)) if v)
    return values


def _split_list(chunk: str) -> list[str]:
    """A list written on one line, split at line breaks, ``;``, ``|``, `` - `` and commas, but not
    at commas inside parentheses ("Venezuela (Bolivarian Republic of)"). Linear: a look-ahead
    for the closing parenthesis at every comma took minutes on a list of thousands of names."""
    protected = _IN_PARENS.sub(lambda m: m.group(0).replace(",", _COMMA_KEPT), chunk)
    return [piece.replace(_COMMA_KEPT, ",") for piece in _LIST_SEPARATOR.split(protected)]


def _country_values(labels: dict[str, list[str]]) -> list[str]:
    """Country names, re-joining the UN-style names a comma split apart.

    Refworld writes "Iran, Islamic Republic of" and "Congo, Democratic Republic of the", so a
    piece is glued back to the one before it when together they name a country, or when the
    piece is such an inverted tail ("... of", "... of the").
    """
    names: list[str] = []
    pieces = _values(labels, "countries")
    for piece in pieces:
        if len(names) >= MAX_COUNTRY_NAMES:
            log.warning("a record names more than %d countries; the rest are dropped", len(names))
            break
        if names and len(names[-1]) <= _LONGEST_NAME:
            joined = f"{names[-1]}, {piece}"
            if resolve_country(joined) or _INVERTED_TAIL.search(piece):
                names[-1] = joined
                continue
        names.append(piece)
    return names


def _single(labels: dict[str, list[str]], key: str) -> str:
    return clean_inline(" ".join(labels.get(key, [])))


def _document(fields_: _Fields, source: Source) -> Document:
    labels = fields_.labels
    title = clean_inline(" ".join(fields_.title))
    if not title and not fields_.body:
        raise ParseError(f"{source.path.name}: no Refworld title or text found")
    cite_as = _single(labels, "cite_as")
    refworld_urls = _REFWORLD_URL.findall(cite_as)
    source_url = refworld_urls[0] if refworld_urls else ""
    if not source_url:
        any_url = _ANY_URL.findall(cite_as)
        source_url = any_url[0] if any_url else ""
    docid_match = _DOCID.search(source_url)
    source_id = (docid_match.group(1) or docid_match.group(2)).lower() if docid_match else ""
    accessed = _ACCESSED.search(cite_as)
    countries_written = _country_values(labels)
    codes, unknown = parse_countries(countries_written)
    if unknown:
        shown = ", ".join(unknown[:10]) + (
            f" and {len(unknown) - 10:,} more" if len(unknown) > 10 else ""
        )
        log.warning("%s: %d countries not recognised: %s", source.path, len(unknown), shown)
    tags: dict[str, list[str]] = {}
    if countries_written:
        tags["countries"] = countries_written
    if labels.get("topics"):
        tags["topics"] = _values(labels, "topics")
    if labels.get("document_symbol"):
        tags["document_symbol"] = [_single(labels, "document_symbol")]
    authors = [a for chunk in labels.get("authors", []) for a in split_names(chunk)]
    if source_id:
        key = f"refworld:{source_id}"
    elif source_url:
        key = f"url:{source_url}"
    else:
        key = f"file:{source.path.resolve()}"
    return Document(
        source_id=source_id,
        title=title,
        publisher=_single(labels, "publisher"),
        authors=authors,
        publication_date=parse_date(_single(labels, "publication_date")),
        last_updated=parse_datetime(fields_.last_updated),
        source_url=source_url,
        original_url=fields_.original_url,
        accessed_date=parse_date(accessed.group(1)) if accessed else None,
        cite_as=cite_as,
        disclaimer=_single(labels, "disclaimer"),
        copyright=fields_.copyright,
        body=join_paragraphs(fields_.body),
        document_type=_single(labels, "document_type"),
        countries=codes,
        source_tags=tags,
        source_key=key,
        origin=str(source.path),
    )


def parse_refworld_text(text: str, source: Source) -> Document:
    """A Document from the text of a Refworld record (the saved-text layout)."""
    paragraphs = text.replace("\r\n", "\n").replace("\r", "\n").split("\n\n")
    return _document(_split_fields(paragraphs), source)


def _original_link(root: lxml.etree._Element) -> str:
    for anchor in root.iter("a"):
        text = clean_inline(anchor.text_content())
        if _LINK_LINE.match(text):
            return clean_inline(anchor.get("href") or "")
    return ""


def _html_text_root(root: lxml.etree._Element) -> lxml.etree._Element:
    """The record's own part of the page when marked up as such, else the body."""
    for path in ("//main", "//*[@id='content']", "//*[@role='main']", "//body"):
        found = root.xpath(path)
        if found:
            return found[0]
    return root


def parse_refworld_html(data: bytes, source: Source) -> Document:
    """A Document from a Refworld HTML page: its text, with the label rows as lines."""
    root = parse_html_root(data)
    paragraphs = html_to_paragraphs(_html_text_root(root), cell_separator=" ")
    fields_ = _split_fields(paragraphs)
    headline = root.xpath("//h1")
    if headline:
        fields_.title = [clean_inline(headline[0].text_content())]
    fields_.original_url = _original_link(root)
    return _document(fields_, source)


def _looks_html(head: str) -> bool:
    start = head.lstrip().lower()
    return start.startswith(("<!doctype html", "<html", "<?xml", "<!--"))


class RefworldParser:
    """Refworld records: the saved plain-text layout and the HTML page."""

    name = "refworld"
    media_types: tuple[str, ...] = ("text/plain", "text/html")
    extensions: tuple[str, ...] = ("txt", "html", "htm")

    def match(self, source: Source) -> int:
        head = source.head_text()
        if _looks_html(head):
            if "refworld" not in head.lower():
                return NO_MATCH
            # the label rows may sit past the first few kilobytes of a page's <head>
            page = source.read_text() if source.size <= 2_000_000 else head
            if "Last Updated:" in page and all(label in page for label in _TEXT_LABELS):
                return BY_CONTENT + 5
            return NO_MATCH
        stripped = head.lstrip()
        if stripped.startswith(_TEXT_MARKERS) and any(label in head for label in _TEXT_LABELS):
            return BY_CONTENT + 5
        return NO_MATCH

    def parse(self, source: Source) -> Iterator[Document | BadRecord]:
        head = source.head_text()
        if _looks_html(head):
            yield parse_refworld_html(source.read_bytes(), source)
        else:
            yield parse_refworld_text(source.read_text(), source)
