"""A folder's quotes as a research bundle: Markdown, DOCX or PDF.

Each quote comes with its pinpoint citation (``…, para. 21``, the passage number the record page
shows) and the caseworker's note; a quote from a document that changed since it was taken says
so and shows what the same place says now; the bundle ends with a bibliography listing every
cited document once, sorted. :func:`render_bundle` is the one entry point; the formats share the
:class:`Bundle` built here and differ only in layout (:mod:`~sourcebook.exports.bundle_md`,
:mod:`~sourcebook.exports.bundle_docx`, :mod:`~sourcebook.exports.bundle_pdf`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sourcebook.cite import format_day_month_year
from sourcebook.errors import InputTooLarge, NotFound
from sourcebook.exports.lists import Export
from sourcebook.exports.references import BUNDLE_STYLES, STYLE_LABELS, References
from sourcebook.model import Document

__all__ = [
    "BUNDLE_FORMATS",
    "BUNDLE_STYLES",
    "CHANGED_NOTICE",
    "MAX_BUNDLE_CHARS",
    "MAX_BUNDLE_QUOTES",
    "Bundle",
    "BundleQuote",
    "Section",
    "is_rtl",
    "render_bundle",
]

BUNDLE_FORMATS: tuple[str, ...] = ("md", "docx", "pdf")
#: Most quotes one bundle holds, and most characters of quotes, notes and current texts.
MAX_BUNDLE_QUOTES = 2000
MAX_BUNDLE_CHARS = 2_000_000
CHANGED_NOTICE = "The document changed after this quote was taken."
WHOLE_DOCUMENT = "Whole document (no quote)."
NOW_UNKNOWN = "What the same place says now: not stated."

# Control characters other than tab and line breaks: XML (DOCX) refuses them, PDF shows boxes.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


@dataclass
class BundleQuote:
    """One quoted passage, or a whole document when ``text`` is empty."""

    #: The document as stored now (the citation is made from it).
    document: Document
    #: The quote as it was read.
    text: str
    #: The passage number the quote starts in, as the record page shows it (``seq + 1``);
    #: cited as "para. N". 0 for a whole document.
    passage: int
    #: The caseworker's note ("" for none).
    note: str = ""
    #: The document changed since the quote was taken.
    changed: bool = False
    #: What the same place says now (when ``changed``; "" when not known).
    current_text: str = ""


@dataclass
class Section:
    """One quote as every format lays it out."""

    number: int
    heading: str
    text: str
    citation: str
    note: str
    changed: bool
    current_text: str

    @property
    def whole_document(self) -> bool:
        return not self.text


@dataclass
class Bundle:
    title: str
    style_label: str
    prepared: date
    sections: list[Section]
    bibliography: list[str]

    @property
    def summary(self) -> str:
        quotes = len(self.sections)
        docs = len(self.bibliography)
        return (
            f"{quotes} {'quote' if quotes == 1 else 'quotes'} from {docs} "
            f"{'document' if docs == 1 else 'documents'}. Citations: {self.style_label}. "
            f"Prepared {format_day_month_year(self.prepared)}."
        )


def clean_text(text: str) -> str:
    """``text`` without control characters, line breaks normalised to ``\\n``."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def is_rtl(text: str) -> bool:
    """Whether ``text``'s first letter with a direction is right-to-left (Arabic, Persian,
    Hebrew): such paragraphs are laid out right to left."""
    for ch in text:
        direction = unicodedata.bidirectional(ch)
        if direction in ("R", "AL"):
            return True
        if direction == "L":
            return False
    return False


def build_bundle(
    title: str,
    quotes: Sequence[BundleQuote],
    style: str,
    base_url: str = "",
    accessed: date | None = None,
) -> Bundle:
    """The laid-out content of a bundle; raises :class:`InputTooLarge` past the bounds."""
    if len(quotes) > MAX_BUNDLE_QUOTES:
        raise InputTooLarge(
            f"a bundle holds at most {MAX_BUNDLE_QUOTES:,} quotes; this folder has {len(quotes):,}"
        )
    chars = sum(len(q.text) + len(q.note) + len(q.current_text) for q in quotes)
    if chars > MAX_BUNDLE_CHARS:
        raise InputTooLarge(
            f"the quotes and notes hold {chars:,} characters; a bundle takes at most "
            f"{MAX_BUNDLE_CHARS:,}"
        )
    texts = [clean_text(q.text) for q in quotes]
    cites = [(q.document, q.passage if text else 0) for q, text in zip(quotes, texts, strict=True)]
    refs = References(style, cites, accessed, base_url)
    pinpoints = refs.pinpoints()
    sections = []
    for number, (quote, text, pinpoint) in enumerate(zip(quotes, texts, pinpoints, strict=True), 1):
        doc = quote.document
        sections.append(
            Section(
                number=number,
                heading=clean_text(" ".join(doc.title.split())) or f"Untitled ({doc.docid})",
                text=text,
                citation=clean_text(pinpoint),
                note=clean_text(quote.note),
                changed=quote.changed,
                current_text=clean_text(quote.current_text),
            )
        )
    return Bundle(
        title=clean_text(" ".join(title.split())) or "Research bundle",
        style_label=STYLE_LABELS[refs.style],
        prepared=date.today(),
        sections=sections,
        bibliography=[clean_text(line) for line in refs.bibliography()],
    )


def render_bundle(
    title: str,
    quotes: Sequence[BundleQuote],
    style: str,
    fmt: str,
    base_url: str = "",
    accessed: date | None = None,
    font_dir: Path | None = None,
) -> Export:
    """The bundle of ``quotes`` in ``fmt`` (``md``, ``docx`` or ``pdf``), cited in ``style``
    (``refworld``, ``harvard``, ``apa`` or ``chicago``). ``font_dir`` holds the DejaVu Sans files for PDF (default:
    Debian's ``/usr/share/fonts/truetype/dejavu``)."""
    key = fmt.strip().lower()
    if key not in BUNDLE_FORMATS:
        raise NotFound(f"unknown bundle format {fmt!r}; choose one of: {', '.join(BUNDLE_FORMATS)}")
    bundle = build_bundle(title, quotes, style, base_url, accessed)
    if key == "md":
        from sourcebook.exports.bundle_md import render_markdown

        return Export(render_markdown(bundle).encode(), "text/markdown; charset=utf-8", "md")
    if key == "docx":
        from sourcebook.exports.bundle_docx import DOCX_MEDIA_TYPE, render_docx

        return Export(render_docx(bundle), DOCX_MEDIA_TYPE, "docx")
    from sourcebook.exports.bundle_pdf import render_pdf

    return Export(render_pdf(bundle, font_dir), "application/pdf", "pdf")
