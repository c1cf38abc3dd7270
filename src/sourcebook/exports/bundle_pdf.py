"""A research bundle as PDF (fpdf2), set in DejaVu Sans so that Latin, Cyrillic, Greek, Arabic
and Persian text all render; uharfbuzz shapes the text (joined Arabic letters, right to left).
Scripts DejaVu Sans lacks (Chinese, Japanese, Korean, most Indic scripts) show as empty boxes:
use the DOCX bundle for those. A missing font is a :class:`~sourcebook.errors.ConfigError` that
names the package to install."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

from sourcebook.errors import ConfigError
from sourcebook.exports.bundle import (
    CHANGED_NOTICE,
    NOW_UNKNOWN,
    WHOLE_DOCUMENT,
    Bundle,
    is_rtl,
)

__all__ = ["DEFAULT_FONT_DIR", "FONT_FILES", "render_pdf"]

DEFAULT_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
#: fpdf2 style -> DejaVu file (Debian and Ubuntu: fonts-dejavu-core).
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
FAMILY = "DejaVu"
LINE = 5.5  # mm per line of 10.5 pt text
QUOTE_INDENT = 8.0  # mm
_SHAPED_BIDI = frozenset({"R", "AL", "AN", "NSM"})


def _fonts(font_dir: Path) -> dict[str, Path]:
    paths = {style: font_dir / name for style, name in FONT_FILES.items()}
    missing = [str(path) for path in paths.values() if not path.is_file()]
    if missing:
        raise ConfigError(
            "the PDF bundle needs the DejaVu Sans fonts, missing here: "
            + ", ".join(missing)
            + " (Debian/Ubuntu: apt-get install fonts-dejavu-core); the Markdown and DOCX "
            "bundles need no font"
        )
    return paths


def _new_pdf(bundle: Bundle, font_dir: Path) -> Any:
    try:
        from fpdf import FPDF
    except ImportError as exc:  # pragma: no cover - a main dependency
        raise ConfigError("the PDF bundle needs fpdf2 (pip install fpdf2 uharfbuzz)") from exc

    pdf = FPDF(format="A4")
    for style, path in _fonts(font_dir).items():
        pdf.add_font(FAMILY, style=style, fname=str(path))
    try:
        pdf.set_text_shaping(True)
    except Exception as exc:  # fpdf2 raises FPDFException without uharfbuzz
        raise ConfigError(
            f"the PDF bundle shapes Arabic and Persian text with uharfbuzz: {exc}"
        ) from exc
    pdf.set_title(bundle.title)
    pdf.set_subject(bundle.summary)
    pdf.set_creator("Sourcebook")
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_margins(20, 18, 20)
    pdf.alias_nb_pages()
    return pdf


def needs_shaping(text: str) -> bool:
    """Whether ``text`` holds letters that join or combine (Arabic, Persian, Hebrew points,
    Indic scripts): only those paragraphs go through HarfBuzz, which makes fpdf2's line
    breaking several times slower."""
    return any(
        ord(ch) >= 0x0590
        and (unicodedata.bidirectional(ch) in _SHAPED_BIDI or unicodedata.combining(ch))
        for ch in text
    )


def _text(pdf: Any, text: str, style: str = "", size: float = 10.5, indent: float = 0) -> None:
    """A paragraph; right-aligned when it starts in a right-to-left script (not headings and
    bold lines, which keep the page's left edge and their number first)."""
    pdf.set_text_shaping(needs_shaping(text))
    pdf.set_font(FAMILY, style=style, size=size)
    pdf.set_x(pdf.l_margin + indent)
    align = "R" if not style and is_rtl(text) else "L"
    fill = indent > 0
    pdf.multi_cell(
        pdf.epw - indent,
        LINE * size / 10.5,
        text,
        align=align,
        fill=fill,
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(1.5)


def render_pdf(bundle: Bundle, font_dir: Path | None = None) -> bytes:
    pdf = _new_pdf(bundle, font_dir or DEFAULT_FONT_DIR)
    pdf.set_fill_color(242, 242, 242)
    pdf.add_page()
    _text(pdf, bundle.title, "B", 17)
    _text(pdf, bundle.summary, size=9.5)
    pdf.ln(3)
    for section in bundle.sections:
        _text(pdf, f"{section.number}. {section.heading}", "B", 12)
        if section.whole_document:
            _text(pdf, WHOLE_DOCUMENT, "I")
        else:
            _text(pdf, section.text, indent=QUOTE_INDENT)
        if section.changed:
            _text(pdf, CHANGED_NOTICE, "B")
            if section.current_text:
                _text(pdf, "What the same place says now:")
                _text(pdf, section.current_text, indent=QUOTE_INDENT)
            elif not section.whole_document:
                _text(pdf, NOW_UNKNOWN)
        _text(pdf, section.citation, size=9.5)
        if section.note:
            _text(pdf, "Note: " + section.note)
        pdf.ln(3)
    _text(pdf, "Bibliography", "B", 13)
    for line in bundle.bibliography:
        _text(pdf, line, size=9.5)
    # fpdf2 logs (logger "fpdf", WARNING) the characters the font lacks, once, when writing.
    return bytes(pdf.output())
