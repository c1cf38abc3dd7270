"""Reuters-21578 SGML: one ``.sgm`` file holds about a thousand wire stories.

Regular expressions, not an SGML or XML parser: the files are not well-formed XML (bare ``&#3;``
controls, no root element), the structure is flat and fixed by ``lewis.dtd``, and the whole
collection must parse in well under a second per file.

What goes where, and why:

* the body is the DATELINE followed by the BODY, as the story ran on the wire ("SALVADOR, Feb
  26 - Showers continued..."); paragraphs are the wire's indented lines, re-flowed;
* ``TYPE="UNPROC"`` stories (tables, odd layouts) keep one line per line, since re-flowing a
  table of figures would make it unreadable; their first line is the headline;
* ``TYPE="BRIEF"`` stories are a headline only: the distribution replaced their text with the
  placeholder "Blah blah blah.", which is dropped rather than indexed 1,069 times;
* PLACES, TOPICS, PEOPLE, ORGS and EXCHANGES are the indexers' subject tags. They go to
  ``source_tags`` only: PLACES says what a story is *about* for categorisation, in Reuters' own
  codes (``west-germany``, ``ussr``), which is not the ISO country statement ``countries`` holds;
* AUTHOR lines ("By Janie Gabbett, Reuters") give the author's name.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator

from sourcebook.dates import parse_date
from sourcebook.errors import ParseError
from sourcebook.ingest.registry import BY_CONTENT, NO_MATCH, RECORD_ERRORS, Source, record_failure
from sourcebook.model import BadRecord, Document, EmptyRecord

log = logging.getLogger(__name__)

__all__ = ["ReutersParser"]

COLLECTION = "reuters-21578"

_NEWID = re.compile(r'\bNEWID="(\d+)"')
_TYPE = re.compile(r'TYPE="(\w+)"')
#: Some DATE elements carry routing codes after the time ("27-MAR-1987 00:02:59.13&#5;&#5;&#5;RM").
_DATE_VALUE = re.compile(r"\d{1,2}-[A-Za-z]{3}-\d{4}")
_TAG = re.compile(r"</?[A-Z]+[^>]*>")
_TITLE = re.compile(r"<TITLE>.*?</TITLE>", re.DOTALL)
_AUTHOR = re.compile(r"<AUTHOR>.*?</AUTHOR>", re.DOTALL)
_D = re.compile(r"<D>(.*?)</D>", re.DOTALL)
_CATEGORIES = ("places", "topics", "people", "orgs", "exchanges")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PLACEHOLDER = re.compile(r"^\s*Blah blah blah\.?\s*$")
_BYLINE = re.compile(r"^\s*by\s+|,\s*reuters?\s*$", re.IGNORECASE)


def _element(text: str, tag: str) -> str | None:
    """The content of the first ``<TAG>...</TAG>`` (str.find is several times faster than re)."""
    start = text.find(f"<{tag}>")
    if start < 0:
        return None
    start += len(tag) + 2
    end = text.find(f"</{tag}>", start)
    return text[start:] if end < 0 else text[start:end]


def _unescape(text: str) -> str:
    """SGML entities decoded and the wire's control characters (``&#2;``, ``&#3;``) dropped."""
    if "&" in text:
        text = html.unescape(text)
    return _CONTROL.sub("", text)


def _line(text: str) -> str:
    return " ".join(text.split())


def _reflow(text: str) -> list[str]:
    """Wire paragraphs: a new one at each indented or blank line, wrapped lines re-joined."""
    paragraphs: list[str] = []
    current: list[str] = []
    for raw in text.split("\n"):
        stripped = " ".join(raw.split())
        if current and (not stripped or raw[0] in " \t"):
            paragraphs.append(" ".join(current))
            current = []
        if stripped:
            current.append(stripped)
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def _blocks(text: str) -> list[str]:
    """Paragraphs separated by blank lines, each keeping its lines (tables stay tables)."""
    paragraphs: list[str] = []
    current: list[str] = []
    for raw in text.split("\n"):
        stripped = " ".join(raw.split())
        if stripped:
            current.append(stripped)
        elif current:
            paragraphs.append("\n".join(current))
            current = []
    if current:
        paragraphs.append("\n".join(current))
    return paragraphs


def _tags(story: str) -> dict[str, list[str]]:
    tags: dict[str, list[str]] = {}
    for key in _CATEGORIES:
        found = _element(story, key.upper())
        if found:
            values = [_line(_unescape(v)) for v in _D.findall(found)]
            values = [v for v in values if v]
            if values:
                tags[key] = values
    return tags


def parse_story(
    attributes: str, story: str, path: str, number: int
) -> Document | BadRecord | EmptyRecord:
    """One story: a Document, or a BadRecord naming the story when it has no NEWID or text."""
    where = f"{path}#{number}"
    newid = _NEWID.search(attributes)
    if not newid:
        return BadRecord(where, "story has no NEWID attribute")
    date_text = _element(story, "DATE")
    date_value = _DATE_VALUE.search(date_text) if date_text else None
    publication_date = parse_date(date_value.group(0)) if date_value else None
    if date_text and publication_date is None:
        log.warning("%s: unreadable DATE %r", where, date_text)
    text_start = story.find("<TEXT")
    text_open_end = story.find(">", text_start)
    if text_start < 0 or text_open_end < 0:
        return BadRecord(where, f"story NEWID={newid.group(1)} has no <TEXT> element")
    kind_match = _TYPE.search(story, text_start, text_open_end)
    kind = kind_match.group(1).upper() if kind_match else "NORM"
    text_end = story.find("</TEXT>", text_open_end)
    text = story[text_open_end + 1 : text_end if text_end >= 0 else len(story)]
    title_text = _element(text, "TITLE")
    title = _line(_unescape(title_text)) if title_text else ""
    authors = []
    author_text = _element(text, "AUTHOR")
    if author_text:
        author = _line(_BYLINE.sub("", _unescape(author_text)))
        if author:
            authors.append(author)
    body_text = _element(text, "BODY")
    if kind == "NORM" and body_text is not None:
        paragraphs = _reflow(_unescape(body_text))
        dateline_text = _element(text, "DATELINE")
        dateline = _line(_unescape(dateline_text)) if dateline_text else ""
        if dateline:
            if paragraphs:
                paragraphs[0] = f"{dateline} {paragraphs[0]}"
            else:
                paragraphs = [dateline]
    else:
        # BRIEF, UNPROC, or a story without BODY: the text without its tags
        rest = _TAG.sub("", _TITLE.sub("", _AUTHOR.sub("", text)))
        rest = _unescape(rest).replace("******", "")
        paragraphs = _blocks(rest) if kind == "UNPROC" else _reflow(rest)
        paragraphs = [p for p in paragraphs if not _PLACEHOLDER.match(p)]
        if not title and paragraphs:
            first, _, remainder = paragraphs[0].partition("\n")
            title = first
            paragraphs = ([remainder] if remainder else []) + paragraphs[1:]
    if not title and not paragraphs:
        return EmptyRecord(where, f"story NEWID={newid.group(1)} is empty: no title and no text")
    return Document(
        source_id=newid.group(1),
        title=title,
        publisher="Reuters",
        authors=authors,
        publication_date=publication_date,
        body="\n\n".join(paragraphs),
        document_type="news",
        collection=COLLECTION,
        source_tags=_tags(story),
        source_key=f"reuters21578:{newid.group(1)}",
        origin=where,
    )


class ReutersParser:
    """Reuters-21578 ``.sgm`` files: about 1,000 stories each."""

    name = "reuters"
    media_types: tuple[str, ...] = ("application/sgml", "text/sgml")
    extensions: tuple[str, ...] = ("sgm", "sgml")

    def match(self, source: Source) -> int:
        head = source.head
        if b"<REUTERS" in head and (b"NEWID=" in head or b"lewis.dtd" in head):
            return BY_CONTENT + 5
        return NO_MATCH

    def parse(self, source: Source) -> Iterator[Document | BadRecord | EmptyRecord]:
        text = source.read_text()
        path = str(source.path)
        count = 0
        for count, (attributes, story) in enumerate(_stories(text), start=1):
            if story is None:
                yield BadRecord(f"{path}#{count}", "story is not closed by </REUTERS> (truncated?)")
            else:
                try:
                    yield parse_story(attributes, story, path, count)
                except RECORD_ERRORS as exc:  # one damaged story; the next is read
                    yield record_failure(f"{path}#{count}", "story", exc)
        if count == 0:
            raise ParseError(f"{source.path.name} holds no <REUTERS> stories")


def _stories(text: str) -> Iterator[tuple[str, str | None]]:
    """(attributes, content) of each story; content None for a story that is never closed."""
    position = text.find("<REUTERS")
    while position >= 0:
        open_end = text.find(">", position)
        close = text.find("</REUTERS>", open_end)
        if open_end < 0 or close < 0:
            yield text[position + 8 : open_end if open_end >= 0 else len(text)], None
            return
        following = text.find("<REUTERS", open_end, close)
        if following >= 0:  # this story's end tag is missing; the next story starts here
            yield text[position + 8 : open_end], None
            position = following
            continue
        yield text[position + 8 : open_end], text[open_end + 1 : close]
        position = text.find("<REUTERS", close + 10)
