"""RSS 0.9x/1.0/2.0 and Atom feeds: one document per item, through feedparser.

feedparser already copes with the feeds found in the wild (wrong encodings, unescaped
ampersands, mixed RSS dialects) and reports such damage as "bozo"; a damaged feed that still
yields items is accepted, and only a feed with no items *and* a parse error fails. The file is
recognised by content (``<rss``, an Atom ``<feed>``, an RSS 1.0 ``<rdf:RDF>``), never by a
``.xml`` extension alone, which says nothing about what the XML is.

Dates are read from the item's own string (``published``, else ``updated``) so the date is the
one the publisher wrote, in the publisher's time zone; feedparser's parsed form is UTC and would
move an evening item to the next day. The body is the item's content, else its summary, reduced
from HTML to plain paragraphs. The publisher is the item's own (``dc:publisher``) if given, else
the feed's title: the feed is who published the item to us.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import feedparser

from sourcebook.countries import resolve_language
from sourcebook.dates import parse_date
from sourcebook.errors import ParseError
from sourcebook.ingest.html import html_to_paragraphs
from sourcebook.ingest.registry import (
    BY_CONTENT,
    BY_EXTENSION,
    NO_MATCH,
    RECORD_ERRORS,
    Source,
    record_failure,
)
from sourcebook.ingest.text import clean_inline, join_paragraphs, plain_paragraphs
from sourcebook.model import BadRecord, Document, EmptyRecord

log = logging.getLogger(__name__)

__all__ = ["FeedParser"]

_RSS = re.compile(r"<rss[\s>]", re.I)
_ATOM = re.compile(r"<(?:\w+:)?feed[\s>][^>]*http://www\.w3\.org/2005/Atom", re.I | re.S)
_RDF = re.compile(r"<rdf:RDF[\s>]", re.I)
#: Where an item (RSS) or entry (Atom) starts, and where the list of them ends.
_ITEM_START = re.compile(rb"<(?:\w+:)?(?:item|entry)[\s>]", re.I)
_CLOSE = re.compile(rb"</(?:\w+:)?(?:channel|feed)>|</rdf:RDF>", re.I)
_HTML_TYPES = ("text/html", "application/xhtml+xml", "html", "xhtml")


def _text(value: str, content_type: str) -> list[str]:
    """Paragraphs of an item field, whether it holds HTML or plain text."""
    if not value or not value.strip():
        return []
    sniffed = not content_type and "<" in value and ">" in value
    if content_type in _HTML_TYPES or sniffed:
        try:
            return html_to_paragraphs(value)
        except ParseError:
            log.debug("item text is not readable HTML; kept as plain text")
    return plain_paragraphs(value)


def _date(entry: Any) -> date | None:
    for key in ("published", "updated", "created"):
        found = parse_date(entry.get(key))
        if found is not None:
            return found
    for key in ("published_parsed", "updated_parsed"):
        parsed = entry.get(key)
        if parsed:
            return date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday)
    return None


def _authors(entry: Any) -> list[str]:
    names: list[str] = []
    for author in entry.get("authors") or []:
        name = clean_inline(author.get("name") or author.get("email") or "")
        if name and name not in names:
            names.append(name)
    if not names and entry.get("author"):
        names.append(clean_inline(entry["author"]))
    return names


def _body(entry: Any) -> str:
    for content in entry.get("content") or []:
        paragraphs = _text(content.get("value", ""), content.get("type", ""))
        if paragraphs:
            return join_paragraphs(paragraphs)
    detail = entry.get("summary_detail") or {}
    return join_paragraphs(_text(entry.get("summary", ""), detail.get("type", "")))


def _title(entry: Any) -> str:
    title = entry.get("title", "")
    detail = entry.get("title_detail") or {}
    return " ".join(_text(title, detail.get("type", "text/plain")))


def _tags(entry: Any) -> dict[str, list[str]]:
    terms: list[str] = []
    for tag in entry.get("tags") or []:
        term = clean_inline(tag.get("term") or tag.get("label") or "")
        if term and term not in terms:
            terms.append(term)
    return {"categories": terms} if terms else {}


def _entries_one_by_one(data: bytes, starts: list[int]) -> Iterator[Any]:
    """Each item of a damaged feed parsed on its own, between its start tag and the next one,
    after the feed's own head: an unclosed CDATA section or comment in one item no longer
    swallows the items after it. An item that yields nothing is the reason, as a string."""
    head = data[: starts[0]]
    close = _CLOSE.search(data, starts[-1])
    end = close.start() if close else len(data)
    if _RSS.search(head.decode("utf-8", "replace")):
        foot = b"</channel></rss>"
    elif b"rdf:RDF" in head:
        foot = b"</rdf:RDF>"
    else:
        foot = b"</feed>"
    for begin, stop in zip(starts, [*starts[1:], end], strict=True):
        parsed = feedparser.parse(io.BytesIO(head + data[begin:stop] + foot))
        entries = parsed.get("entries") or []
        if entries:
            yield entries[0]
        else:
            yield str(parsed.get("bozo_exception") or "no item found")


class FeedParser:
    """RSS and Atom feeds (feedparser); one document per item."""

    name = "feed"
    media_types: tuple[str, ...] = ("application/rss+xml", "application/atom+xml")
    extensions: tuple[str, ...] = ("rss", "atom")

    def match(self, source: Source) -> int:
        head = source.head_text()
        if _RSS.search(head) or _ATOM.search(head):
            return BY_CONTENT + 5
        if _RDF.search(head) and "purl.org/rss/1.0" in head:
            return BY_CONTENT + 5
        if source.extension in self.extensions or source.media_type in self.media_types:
            return BY_EXTENSION
        return NO_MATCH

    def parse(self, source: Source) -> Iterator[Document | BadRecord | EmptyRecord]:
        data = source.read_bytes()
        try:
            # a stream, so feedparser never takes the content for a file name or URL
            parsed = feedparser.parse(io.BytesIO(data))
        except Exception as exc:  # feedparser wraps most damage in bozo, but not all of it
            raise ParseError(f"{source.path.name}: the feed could not be read: {exc}") from exc
        entries = parsed.get("entries") or []
        if parsed.get("bozo") and not entries:
            problem = parsed.get("bozo_exception") or "unknown error"
            raise ParseError(f"{source.path.name} is not a readable feed: {problem}")
        if parsed.get("bozo"):
            log.info(
                "%s: feed is damaged but readable: %s", source.path, parsed.get("bozo_exception")
            )
        if not entries:
            yield EmptyRecord(str(source.path), "the feed has no items")
            return
        feed = parsed.get("feed") or {}
        feed_title = clean_inline(feed.get("title", ""))
        language = resolve_language(feed.get("language") or "") or ""
        path = str(source.path)
        resolved = str(source.path.resolve())
        starts = [m.start() for m in _ITEM_START.finditer(data)]
        if parsed.get("bozo") and len(starts) != len(entries):
            # the damage merged or swallowed items: read each item on its own
            entries = list(_entries_one_by_one(data, starts))
        for number, entry in enumerate(entries, start=1):
            if isinstance(entry, str):
                yield BadRecord(f"{path}#{number}", f"feed item could not be read: {entry}")
                continue
            try:
                yield self._document(entry, number, path, resolved, feed_title, language)
            except RECORD_ERRORS as exc:  # one damaged item; the next is read
                yield record_failure(f"{path}#{number}", "feed item", exc)

    def _document(
        self, entry: Any, number: int, path: str, resolved: str, feed_title: str, language: str
    ) -> Document | BadRecord:
        where = f"{path}#{number}"
        link = clean_inline(entry.get("link", ""))
        guid = clean_inline(entry.get("id", "")) or link
        title = _title(entry)
        body = _body(entry)
        if not title and not body:
            return BadRecord(where, "feed item has neither title nor text")
        return Document(
            source_id=guid,
            title=title,
            publisher=clean_inline(entry.get("publisher", "")) or feed_title,
            authors=_authors(entry),
            publication_date=_date(entry),
            original_url=link,
            body=body,
            language=language,
            source_tags=_tags(entry),
            source_key=f"feed:{guid}" if guid else f"feed:{resolved}#{number}",
            origin=where,
        )
