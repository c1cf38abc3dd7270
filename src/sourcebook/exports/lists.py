"""A list of documents (a page of results, a folder) as RIS, BibTeX, CSL-JSON or CSV.

Every format is built from :mod:`sourcebook.cite`, one document at a time, so a list says about
each record exactly what that record's own citation says. The CSV is for spreadsheets: one row
per document, UTF-8 with a byte-order mark (so Excel reads non-Latin titles), and an unknown
field is an empty cell, not "not stated", so that a column can be sorted and filtered (the
Refworld citation column says "no date" and "publisher not stated" as the line always does).
A cell that would start a spreadsheet formula (``=``, ``+``, ``-``, ``@``) is prefixed with an
apostrophe: a title must never run as a formula on the reader's machine.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import date
from typing import NamedTuple

from sourcebook import cite
from sourcebook.errors import NotFound
from sourcebook.model import Document

__all__ = ["CSV_COLUMNS", "LIST_FORMATS", "Export", "export_documents"]

LIST_FORMATS: tuple[str, ...] = ("ris", "bibtex", "csl-json", "csv")

CSV_COLUMNS: tuple[str, ...] = (
    "docid",
    "title",
    "publisher",
    "authors",
    "publication_date",
    "countries",
    "document_type",
    "source_url",
    "record_url",
    "refworld_citation",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Export(NamedTuple):
    """A rendered export: the bytes, their media type and the file name extension (no dot)."""

    data: bytes
    media_type: str
    extension: str


def export_documents(
    docs: Iterable[Document],
    fmt: str,
    accessed: date | None = None,
    base_url: str = "",
) -> Export:
    """``docs`` in ``fmt`` (one of :data:`LIST_FORMATS`), in the order given.

    ``accessed`` and ``base_url`` mean what they mean for :func:`sourcebook.cite.format_citation`.
    Raises :class:`~sourcebook.errors.NotFound` for an unknown format.
    """
    key = fmt.strip().lower()
    if key == "ris":
        text = "".join(cite.cite_ris(d, accessed, base_url) for d in docs)
        return Export(text.encode(), "application/x-research-info-systems", "ris")
    if key == "bibtex":
        text = "\n".join(cite.cite_bibtex(d, accessed, base_url) for d in docs)
        return Export(text.encode(), "application/x-bibtex; charset=utf-8", "bib")
    if key == "csl-json":
        items = [cite.csl_item(d, accessed, base_url) for d in docs]
        text = json.dumps(items, indent=2, ensure_ascii=False) + "\n"
        return Export(text.encode(), "application/vnd.citationstyles.csl+json", "json")
    if key == "csv":
        return Export(_csv(docs, accessed, base_url), "text/csv; charset=utf-8", "csv")
    raise NotFound(f"unknown export format {fmt!r}; choose one of: {', '.join(LIST_FORMATS)}")


def record_url(doc: Document, base_url: str) -> str:
    """Sourcebook's own page for ``doc`` when the archive's public address is known."""
    if not base_url or not doc.docid:
        return ""
    return f"{base_url.rstrip('/')}/record/{doc.docid}"


def _cell(value: str) -> str:
    value = " ".join(value.split())
    return "'" + value if value.startswith(_FORMULA_START) else value


def _csv(docs: Iterable[Document], accessed: date | None, base_url: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for doc in docs:
        row = (
            doc.docid,
            doc.title,
            doc.publisher,
            "; ".join(doc.authors),
            doc.publication_date.isoformat() if doc.publication_date else "",
            "; ".join(doc.countries),
            doc.document_type,
            doc.source_url,
            record_url(doc, base_url),
            cite.cite_refworld(doc, accessed, base_url),
        )
        writer.writerow([_cell(value) for value in row])
    return out.getvalue().encode("utf-8-sig")
