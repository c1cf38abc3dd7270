"""PDF reports: text by page with pypdf, plus what the PDF itself says about itself.

Which PDF metadata we trust, and why:

* ``/Title`` and ``/Author`` are used when present and not placeholders ("Microsoft Word -
  report.docx", "untitled", a one-word file name as scanners write it); otherwise the title is the first substantial line of page one
  (not a URL, not a date, not a one-word label).
* ``/CreationDate`` and ``/ModDate`` are **not** publication dates: they record when a file was
  produced or re-saved (CRS PDFs are re-stamped on every download), which can be years after the
  report was published. ``publication_date`` is filled only from a line near the top of page one
  that is nothing but a date ("April 16, 2026", "Updated April 10, 2026"), the publisher's own
  dating; otherwise it stays empty.
* ``/Lang`` in the document catalogue gives the language when the producer set it.

PDF text comes out one visual line at a time. Paragraphs are rebuilt from line lengths: a line
that stops although the next word would have fitted was ended on purpose, so when it also ends a
sentence, or the next line starts with a capital, it ends a paragraph (or is a heading). Lines repeated on most pages (running
heads, "Congressional Research Service 3" footers) are dropped. Pages are separated by a blank
line, so a paragraph running across a page break is split there.

A page whose text layer is empty (fewer than ``MIN_PAGE_LETTERS`` letters) is a scan: it is
rendered and read by OCR (:mod:`sourcebook.ingest.ocr`, docs/ocr.md); text pages of a mixed PDF
keep their text. The document's ``ocr_confidence`` then says OCR was used and how sure it was.

An encrypted PDF that opens with the empty password (common for "no copying" restrictions) is
read; any other encrypted, truncated or corrupt file is a ParseError naming the problem.
"""

from __future__ import annotations

import io
import logging
import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

from sourcebook.countries import resolve_language
from sourcebook.dates import parse_date
from sourcebook.errors import ParseError
from sourcebook.ingest.ocr import OcrDocument, OcrUnavailable, ocr_images, render_pdf_pages
from sourcebook.ingest.registry import BY_CONTENT, BY_EXTENSION, NO_MATCH, Source
from sourcebook.ingest.text import clean_inline, join_paragraphs, split_names
from sourcebook.model import BadRecord, Document

log = logging.getLogger(__name__)

__all__ = ["PdfParser"]

_SENTENCE_END = tuple('.!?:"”’)]')
_OPEN_END = tuple(",;-–—(/")
_OPENERS = "•–-“\"('‘["
_URL = re.compile(r"^(?:https?://|www\.)\S+$", re.I)
_DATE_LINE = re.compile(r"^(?:(?:updated|published|revised|dated|as of)\s*:?\s+)?(.+)$", re.I)
_PLACEHOLDER_TITLE = re.compile(
    r"^(?:untitled|document\d*|microsoft (?:word|powerpoint) - .*|.*\.(?:docx?|pdf|rtf|odt|indd))$",
    re.I,
)
_DIGITS = re.compile(r"\d+")
#: A page with fewer letters and digits than this in its text layer is read by OCR.
MIN_PAGE_LETTERS = 10


def _page_lines(text: str) -> list[str]:
    return [clean_inline(line) for line in text.replace("\r", "\n").split("\n")]


def _running_lines(pages: list[list[str]]) -> set[str]:
    """Short lines (digits ignored) that recur on more than half the pages."""
    if len(pages) < 3:
        return set()
    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({_DIGITS.sub("#", line) for line in lines if line and len(line) <= 100})
    return {line for line, n in counts.items() if n > len(pages) / 2}


def _join_lines(lines: list[str]) -> str:
    out = ""
    for line in lines:
        if out and out[-1] in "-–—" and len(out) > 1 and not out[-2].isspace():
            out += line  # a word or compound broken at the line end
        else:
            out = f"{out} {line}" if out else line
    return out


def _page_paragraphs(lines: list[str], running: set[str]) -> list[str]:
    """Re-join a page's visual lines into paragraphs.

    A line ends its paragraph when the next line's first word would still have fitted on it
    (so the line was ended on purpose, not by the margin) and either it ends a sentence or the
    next line starts like a new paragraph or heading does. Blank lines always end one.
    """
    kept = [line for line in lines if not line or _DIGITS.sub("#", line) not in running]
    lengths = sorted(len(line) for line in kept if line)
    if not lengths:
        return []
    width = 0.9 * lengths[(len(lengths) * 3) // 4]
    paragraphs: list[str] = []
    current: list[str] = []
    for index, line in enumerate(kept):
        if not line:
            if current:
                paragraphs.append(_join_lines(current))
                current = []
            continue
        current.append(line)
        following = kept[index + 1] if index + 1 < len(kept) else ""
        if not following:
            continue  # a blank line or the page end closes the paragraph anyway
        fits = len(line) + 1 + len(following.split()[0]) <= width
        starts_new = following[0].isupper() or following[0].isdigit() or following[0] in _OPENERS
        if fits and not line.endswith(_OPEN_END) and (line.endswith(_SENTENCE_END) or starts_new):
            paragraphs.append(_join_lines(current))
            current = []
    if current:
        paragraphs.append(_join_lines(current))
    return paragraphs


def _is_substantial(line: str) -> bool:
    return (
        len(line) >= 10
        and len(line.split()) >= 2
        and sum(c.isalpha() for c in line) >= len(line) / 2
        and not _URL.match(line)
        and _date_line(line) is None
    )


def _date_line(line: str) -> date | None:
    match = _DATE_LINE.match(line)
    return parse_date(match.group(1)) if match else None


def _metadata(reader: PdfReader) -> dict[str, str]:
    try:
        info = reader.metadata
    except PyPdfError as exc:
        log.info("unreadable PDF metadata: %s", exc)
        return {}
    if not info:
        return {}
    out: dict[str, str] = {}
    for key in ("/Title", "/Author"):
        value = info.get(key)
        if isinstance(value, str):
            out[key] = clean_inline(value)
    return out


def _language(reader: PdfReader) -> str:
    try:
        value: Any = reader.root_object.get("/Lang")
    except (PyPdfError, KeyError, AttributeError, TypeError):
        return ""
    if not isinstance(value, str):
        return ""
    return resolve_language(value) or ""


def _open(data: bytes, name: str) -> PdfReader:
    if not data.strip():
        raise ParseError(f"{name} is empty")
    if b"%PDF-" not in data[:1024]:
        raise ParseError(f"{name} is not a PDF (no %PDF- header)")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except DependencyError as exc:
                raise ParseError(f"{name} is encrypted with a cipher we cannot read") from exc
            _ = reader.pages[0]  # raises FileNotDecryptedError when the password was wrong
    except FileNotDecryptedError as exc:
        raise ParseError(f"{name} is encrypted and needs a password") from exc
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise ParseError(f"{name} is a damaged or truncated PDF: {exc}") from exc
    return reader


class PdfParser:
    """PDF files (pypdf)."""

    name = "pdf"
    media_types: tuple[str, ...] = ("application/pdf",)
    extensions: tuple[str, ...] = ("pdf",)

    def match(self, source: Source) -> int:
        if b"%PDF-" in source.head[:1024]:
            return BY_CONTENT
        if source.extension in self.extensions or source.media_type in self.media_types:
            return BY_EXTENSION
        return NO_MATCH

    def parse(self, source: Source) -> Iterator[Document | BadRecord]:
        yield parse_pdf_file(source)


def parse_pdf_file(source: Source) -> Document:
    """One document from a PDF (see the module docstring)."""
    name = source.path.name
    reader = _open(source.read_bytes(), name)
    pages: list[list[str]] = []
    try:
        for page in reader.pages:
            pages.append(_page_lines(page.extract_text() or ""))
    except FileNotDecryptedError as exc:
        raise ParseError(f"{name} is encrypted and needs a password") from exc
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise ParseError(f"{name}: text could not be extracted: {exc}") from exc
    language = _language(reader)
    ocr = _ocr_scanned_pages(source, pages, language)
    running = _running_lines(pages)
    body = join_paragraphs(
        "\n\n".join(paragraphs)
        for paragraphs in (_page_paragraphs(lines, running) for lines in pages)
        if paragraphs
    )
    meta = _metadata(reader)
    title = meta.get("/Title", "")
    # scanners and image converters (Pillow) write the file's name as the title
    if _PLACEHOLDER_TITLE.match(title) or (title == source.path.stem and " " not in title):
        title = ""
    first_page = [line for line in pages[0] if line] if pages else []
    if not title:
        title = next((line for line in first_page if _is_substantial(line)), "")
    publication_date = next(
        (found for found in (_date_line(line) for line in first_page[:25]) if found), None
    )
    if not title and not body:
        raise ParseError(f"{name} has no extractable text, not even by OCR")
    if ocr is not None and not language and ocr.language:
        language, derived = ocr.language, ["language"]
    else:
        derived = []
    return Document(
        title=title,
        authors=split_names(meta.get("/Author", "")),
        publication_date=publication_date,
        body=body,
        language=language,
        source_key=f"file:{source.path.resolve()}",
        origin=str(source.path),
        derived=derived,
        ocr_confidence=None if ocr is None else ocr.confidence,
    )


def _ocr_scanned_pages(source: Source, pages: list[list[str]], language: str) -> OcrDocument | None:
    """Replace the lines of pages without a text layer by their OCR; None when none was read.

    Without OCR (turned off, Tesseract missing) a PDF with some text keeps it, with a warning
    in the log; one with none fails with the reason and what to install.
    """
    name = source.path.name
    scanned = [
        number
        for number, lines in enumerate(pages, start=1)
        if sum(c.isalnum() for line in lines for c in line) < MIN_PAGE_LETTERS
    ]
    if not scanned:
        return None
    has_text = len(scanned) < len(pages)
    settings = source.ocr
    if len(scanned) > settings.max_pages:
        raise ParseError(
            f"{name} has {len(scanned)} pages without text to read by OCR; the limit is "
            f"{settings.max_pages} (setting SOURCEBOOK_OCR_MAX_PAGES)"
        )
    try:
        settings.binary()  # off or missing: say so before rendering anything
        with tempfile.TemporaryDirectory(prefix="sourcebook-ocr-") as folder:
            # the bytes pypdf read (an attachment has no file of its own)
            copy = Path(folder) / "scan.pdf"
            copy.write_bytes(source.read_bytes())
            images = render_pdf_pages(copy, scanned, Path(folder), settings)
            result = ocr_images(images, settings, language, [f"page {n}" for n in scanned])
    except OcrUnavailable as exc:
        if has_text:
            log.warning("%s: %d page(s) without text left unread: %s", name, len(scanned), exc)
            return None
        raise OcrUnavailable(f"{name} has no text layer (a scan) and needs OCR: {exc}") from exc
    except ParseError as exc:
        raise ParseError(f"{name}: {exc}") from exc
    for number, page in zip(scanned, result.pages, strict=True):
        pages[number - 1] = _page_lines(page.text)
    return result
