"""A record's text as the record page shows it: passages, paragraphs, headings, marked words.

The body is plain text; every piece shown here is a slice of it (offsets kept), escaped by the
template like any text. Two things are added for reading:

- **Headings.** A long report's section titles become ``<h2>``/``<h3>`` with anchors, and a table
  of contents lists them. Parsers reduce Markdown to plain text (heading markers go, each heading
  stays a paragraph of its own), so headings are recognised from the text's structure: a
  one-line paragraph, short, without the punctuation that ends a sentence, followed by more text
  (``Executive Summary``, ``Section 1. Life``, ``a. Extrajudicial Killings``). A line still
  written ``## Like this`` is one too. Only long texts are read this way (a news story's
  dateline or a one-line lead are not sections), and only when several headings are found.
- **Query words.** A passage opened from a search hit (``/record/DOCID?q=...#p-N``) marks the
  query's words in every passage, as the hit did, with the same matcher (stemmed, exact offsets).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sourcebook.model import Document
from sourcebook.search.highlight import TermPatterns, best_passages
from sourcebook.web.templating import Segment, highlight_segments

#: Texts shorter than this are not searched for headings.
LONG_TEXT_CHARS = 4_000
#: ...and fewer headings than this are not believed (nor listed in a table of contents).
MIN_HEADINGS = 3
#: Headings in a row (a section's title, then its first subsection's) at most.
MAX_HEADING_RUN = 3
#: A heading is one line of at most this many characters.
MAX_HEADING_CHARS = 120

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+\S")
#: Section titles one level down: "a. Arbitrary Arrest", "2.1 Returnees", "(b) Detention".
_SUBSECTION = re.compile(r"^(?:[a-z]\.\s|\([a-z0-9]{1,3}\)\s|\d+\.\d+(?:\.\d+)*\.?\s)")
_SENTENCE_END = re.compile(r"[.!?:;,…\"'”’)\]]$")
#: "Editions included: 2024", "Pages: 12-14": a label and its numbers, not a section.
_LABELLED_NUMBER = re.compile(r"^[^:]{1,40}:[\s\d,.–-]+$")
_DATELINE = re.compile(
    r"^(?:\w+\s+\d{1,2},?\s+\d{4}|\d{1,2}\s+\w+\s+\d{4}|\d{4}-\d{2}-\d{2})$", re.UNICODE
)


@dataclass
class Paragraph:
    """One paragraph of a passage: ``kind`` is ``p``, ``h2`` or ``h3``."""

    kind: str
    segments: list[Segment]
    anchor: str = ""
    text: str = ""


@dataclass
class Block:
    """A stretch of the body: one passage (``seq``) or text outside any passage (``None``)."""

    seq: int | None
    paragraphs: list[Paragraph] = field(default_factory=list)
    #: the passage's language when it differs from the record's ("" otherwise)
    lang: str = ""


@dataclass
class Heading:
    level: int
    text: str
    anchor: str


@dataclass
class RecordText:
    blocks: list[Block]
    #: the table of contents: the headings, when the text has enough of them
    contents: list[Heading]


def paragraph_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """``(start, end)`` of each paragraph of ``text`` (blank-line separated, whitespace
    trimmed), as offsets into the body (``offset`` is where ``text`` starts in it)."""
    spans = []
    pos = 0
    for match in [*_PARAGRAPH_BREAK.finditer(text), None]:
        end = match.start() if match is not None else len(text)
        piece = text[pos:end]
        stripped = piece.strip()
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            spans.append((offset + pos + lead, offset + pos + lead + len(stripped)))
        if match is not None:
            pos = match.end()
    return spans


def heading_level(paragraph: str) -> int:
    """2 or 3 when ``paragraph`` reads as a section title, else 0."""
    if "\n" in paragraph or len(paragraph) > MAX_HEADING_CHARS:
        return 0
    marker = _MARKDOWN_HEADING.match(paragraph)
    if marker:
        return 2 if len(marker.group(1)) <= 2 else 3
    if "://" in paragraph or _SENTENCE_END.search(paragraph):
        return 0
    if _DATELINE.match(paragraph) or _LABELLED_NUMBER.match(paragraph):
        return 0
    if _SUBSECTION.match(paragraph):
        return 3
    first = paragraph[0]
    if not (first.isupper() or first.isdigit()) or len(paragraph.split()) > 14:
        return 0
    return 2


def _heading_text(paragraph: str) -> str:
    marker = _MARKDOWN_HEADING.match(paragraph)
    return paragraph[len(marker.group(1)) :].strip().rstrip("#").strip() if marker else paragraph


def find_headings(body: str, paragraphs: list[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """The paragraphs (spans into ``body``) that are headings, with their level.

    A heading is followed by text: a run of more than :data:`MAX_HEADING_RUN` heading-like
    lines is a list, not headings, and so is one at the very end.
    """
    if len(body) < LONG_TEXT_CHARS:
        return {}
    levels: dict[tuple[int, int], int] = {}
    run: list[tuple[tuple[int, int], int]] = []
    for span in [*paragraphs, None]:
        level = heading_level(body[span[0] : span[1]]) if span is not None else 0
        if level and span is not None:
            run.append((span, level))
            continue
        if span is not None and len(run) <= MAX_HEADING_RUN:
            levels.update(run)
        run = []
    return levels if len(levels) >= MIN_HEADINGS else {}


def record_text(
    doc: Document, terms: TermPatterns | None = None, default_language: str = ""
) -> RecordText:
    """The body cut at its passages and paragraphs, with headings and the query's words marked
    (``terms``); text between passages (normally none) is kept too."""
    marks: dict[int, list[tuple[int, int]]] = {}
    if terms:
        for hit in best_passages(doc, terms, len(doc.passages), default_language):
            marks[hit.seq] = [(hit.start + h.start, hit.start + h.end) for h in hit.highlights]
    stretches: list[tuple[int | None, int, int, str]] = []
    pos = 0
    for passage in sorted(doc.passages, key=lambda p: p.start):
        if doc.body[pos : passage.start].strip():
            stretches.append((None, pos, passage.start, ""))
        lang = passage.language if passage.language != doc.language else ""
        stretches.append((passage.seq, passage.start, passage.end, lang))
        pos = max(pos, passage.end)
    if doc.body[pos:].strip():
        stretches.append((None, pos, len(doc.body), ""))

    spans = [(seq, paragraph_spans(doc.body[start:end], start)) for seq, start, end, _ in stretches]
    levels = find_headings(doc.body, [span for _, ss in spans for span in ss])

    blocks: list[Block] = []
    contents: list[Heading] = []
    for (seq, ss), (_, _, _, lang) in zip(spans, stretches, strict=True):
        block = Block(seq, lang=lang)
        found = marks.get(seq, []) if seq is not None else []
        for start, end in ss:
            text = doc.body[start:end]
            level = levels.get((start, end), 0)
            if level:
                title = _heading_text(text)
                start += text.find(title)
                end = start + len(title)
                text = title
            local = [
                (max(s, start) - start, min(e, end) - start)
                for s, e in found
                if e > start and s < end
            ]
            paragraph = Paragraph(f"h{level}" if level else "p", highlight_segments(text, local))
            if level:
                paragraph.anchor = f"s-{len(contents) + 1}"
                paragraph.text = text
                contents.append(Heading(level, text, paragraph.anchor))
            block.paragraphs.append(paragraph)
        blocks.append(block)
    return RecordText(blocks, contents)
