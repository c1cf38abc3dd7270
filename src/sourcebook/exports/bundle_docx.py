"""A research bundle as a Word document (python-docx): a title, one heading per quote, the quote
in Word's "Quote" paragraph style, its pinpoint citation and note, and the bibliography with
hanging indents. Right-to-left paragraphs (Arabic, Persian) are marked as such."""

from __future__ import annotations

import io
from typing import Any

from sourcebook.exports.bundle import (
    CHANGED_NOTICE,
    NOW_UNKNOWN,
    WHOLE_DOCUMENT,
    Bundle,
    is_rtl,
)

__all__ = ["DOCX_MEDIA_TYPE", "render_docx"]

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _paragraph(doc: Any, text: str, style: str | None = None, bold_lead: str = "") -> Any:
    from docx.oxml import OxmlElement

    paragraph = doc.add_paragraph(style=style)
    if bold_lead:
        paragraph.add_run(bold_lead).bold = True
    run = paragraph.add_run(text)
    if is_rtl(text):
        ppr = paragraph._p.get_or_add_pPr()
        ppr.append(OxmlElement("w:bidi"))
        rpr = run._r.get_or_add_rPr()
        rpr.append(OxmlElement("w:rtl"))  # a bidi paragraph starts at the right margin
    return paragraph


def render_docx(bundle: Bundle) -> bytes:
    import docx
    from docx.shared import Cm

    doc = docx.Document()
    doc.core_properties.title = bundle.title[:255]
    doc.core_properties.comments = bundle.summary
    doc.add_heading(bundle.title, level=0)
    _paragraph(doc, bundle.summary)
    for section in bundle.sections:
        doc.add_heading(f"{section.number}. {section.heading}", level=2)
        if section.whole_document:
            _paragraph(doc, WHOLE_DOCUMENT).runs[0].italic = True
        else:
            _paragraph(doc, section.text, style="Quote")
        if section.changed:
            _paragraph(doc, CHANGED_NOTICE).runs[0].bold = True
            if section.current_text:
                _paragraph(doc, "What the same place says now:")
                _paragraph(doc, section.current_text, style="Quote")
            elif not section.whole_document:
                _paragraph(doc, NOW_UNKNOWN)
        _paragraph(doc, section.citation)
        if section.note:
            _paragraph(doc, section.note, bold_lead="Note: ")
    doc.add_heading("Bibliography", level=1)
    for line in bundle.bibliography:
        paragraph = _paragraph(doc, line)
        paragraph.paragraph_format.left_indent = Cm(1)
        paragraph.paragraph_format.first_line_indent = Cm(-1)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
