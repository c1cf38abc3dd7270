"""Citations a reader can paste straight into their own work.

COI researchers and asylum lawyers quote Refworld's "Cite as" line in submissions and decisions,
so :func:`cite_refworld` reproduces that line to the character. Reference managers need machine
formats instead (BibTeX for LaTeX, RIS for EndNote and Zotero, CSL-JSON for citeproc and
Pandoc), and each has its own traps: LaTeX specials and brace counting in BibTeX, one-line
values and a ``;`` URL delimiter in RIS, person-versus-organisation names in CSL. Every style is
built from the same :class:`~sourcebook.model.Document` with the same rules, so the formats
never disagree about a record: the URL and access date are chosen once (:func:`citation_url`,
:func:`access_date`), and a field the record lacks is left out rather than guessed (the record
model's promise that nothing is invented holds for citations too). docs/citations.md has the
rules and an example of each style.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any, Literal

from sourcebook.errors import NotFound
from sourcebook.ids import make_docid
from sourcebook.model import Document

__all__ = [
    "NO_DATE",
    "NO_PUBLISHER",
    "STYLES",
    "access_date",
    "citation_url",
    "cite_bibtex",
    "cite_csl_json",
    "cite_refworld",
    "cite_ris",
    "csl_item",
    "format_citation",
    "format_day_month_year",
    "latex_escape",
]

STYLES: tuple[str, ...] = ("refworld", "bibtex", "ris", "csl-json")

#: What the Refworld line, hit lists and record pages say where the record has no publisher or
#: no publication date (machine formats, BibTeX, RIS and CSL-JSON, leave the field out instead).
NO_PUBLISHER = "publisher not stated"
NO_DATE = "no date"

# English names whatever the process locale, as in Refworld's own lines (strftime("%B") is not).
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# BibTeX's predefined month macros: styles localise and abbreviate them, a number they cannot.
_BIBTEX_MONTHS = tuple(name[:3].lower() for name in _MONTHS)

Kind = Literal["news", "blog", "report", "legal_case", "legislation", "document"]

_BIBTEX_TYPES: dict[Kind, str] = {
    "news": "article",
    "blog": "misc",
    "report": "techreport",
    "legal_case": "misc",
    "legislation": "misc",
    "document": "misc",
}
# Where each BibTeX entry type expects the name of the body that put the item out.
_BIBTEX_PUBLISHER_FIELD: dict[str, str] = {
    "article": "journal",
    "techreport": "institution",
    "misc": "publisher",
}
_RIS_TYPES: dict[Kind, str] = {
    "news": "NEWS",
    "blog": "BLOG",
    "report": "RPRT",
    "legal_case": "CASE",
    "legislation": "STAT",
    "document": "GEN",
}
_CSL_TYPES: dict[Kind, str] = {
    "news": "article-newspaper",
    "blog": "post-weblog",
    "report": "report",
    "legal_case": "legal_case",
    "legislation": "legislation",
    "document": "document",
}

# Words that mark a "Family, Given"-shaped name as an organisation ("Amnesty International, UK").
_ORGANISATION_WORDS = frozenset(
    {
        "agency", "association", "board", "bureau", "center", "centre", "coalition",
        "commission", "committee", "commissioner", "council", "court", "department",
        "directorate", "division", "federation", "forum", "foundation", "government", "group",
        "inc", "institute", "international", "league", "limited", "ltd", "ministry", "movement",
        "nations", "network", "news", "office", "organisation", "organization", "press",
        "project", "radio", "secretariat", "service", "society", "tribunal", "union",
        "university", "watch",
    }
)  # fmt: skip

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    # Not \{ and \}: BibTeX counts every brace, escaped or not, so those would unbalance a value.
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}

_WHITESPACE = re.compile(r"\s+")
_UNSAFE_KEY_CHARS = re.compile(r"[^A-Za-z0-9]")

RIS_NEWLINE = "\r\n"


# -- shared rules --------------------------------------------------------------------------------


def format_citation(
    doc: Document, style: str, accessed: date | None = None, base_url: str = ""
) -> str:
    """``doc`` cited in ``style`` (one of :data:`STYLES`, case-insensitive).

    Raises :class:`~sourcebook.errors.NotFound` for an unknown style: a style is a resource the
    caller names, like a document.
    """
    key = style.strip().lower()
    formatter = _FORMATTERS.get(key)
    if formatter is None:
        raise NotFound(f"unknown citation style {style!r}; choose one of: {', '.join(STYLES)}")
    return formatter(doc, accessed, base_url)


def citation_url(doc: Document, base_url: str = "") -> str:
    """The address a citation points to; ``""`` when there is none.

    The record's ``source_url`` (where the archive got it, for Refworld records the Refworld page),
    else its ``original_url``, else Sourcebook's own record page when ``base_url`` is given.
    """
    if doc.source_url.strip():
        return doc.source_url.strip()
    if doc.original_url.strip():
        return doc.original_url.strip()
    if base_url and doc.docid:
        return f"{base_url.rstrip('/')}/record/{doc.docid}"
    return ""


def access_date(doc: Document, accessed: date | None = None) -> date:
    """The access date to cite: the argument, else the record's ``accessed_date``, else today."""
    if accessed is not None:
        return accessed
    if doc.accessed_date is not None:
        return doc.accessed_date
    return date.today()


def format_day_month_year(value: date) -> str:
    """``27 February 2017``: no leading zero, English month name whatever the locale."""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def _clean(text: str) -> str:
    """One line, single spaces: parsers may leave line breaks inside titles and names."""
    return _WHITESPACE.sub(" ", text).strip()


def _authors(doc: Document) -> list[str]:
    return [name for name in (_clean(a) for a in doc.authors) if name]


def _kind(doc: Document) -> Kind:
    """The family of ``document_type``, which is free text ("News", "Country Reports")."""
    label = doc.document_type.lower()
    if "blog" in label:
        return "blog"
    if "news" in label:
        return "news"
    if "case law" in label or "court" in label or "judgment" in label or "judgement" in label:
        return "legal_case"
    if "legislation" in label:
        return "legislation"
    if "report" in label or "paper" in label or "study" in label:
        return "report"
    return "document"


def _person_name(name: str) -> tuple[str, str] | None:
    """``(family, given)`` when ``name`` is clearly a person written "Family, Given", else None.

    Anything less certain (no comma, several commas, digits, acronyms, organisation words) is
    treated as a name to print as written, which is never wrong, only less sortable.
    """
    parts = name.split(",")
    if len(parts) != 2:
        return None
    family, given = _clean(parts[0]), _clean(parts[1])
    if not family or not given or len(family.split()) > 3 or len(given.split()) > 3:
        return None
    if any(ch.isdigit() or ch in "&@/()" for ch in name):
        return None
    for word in (family + " " + given).split():
        bare = word.strip(".'-")
        if bare.lower() in _ORGANISATION_WORDS:
            return None
        if len(bare) > 1 and bare.isalpha() and bare.isupper():
            return None
    return family, given


def _fallback_key(doc: Document) -> str:
    """A stable identifier for a record without a docid (one not yet stored)."""
    published = doc.publication_date.isoformat() if doc.publication_date else ""
    return make_docid(f"citation:{doc.title}|{doc.publisher}|{published}")


# -- Refworld ------------------------------------------------------------------------------------


def cite_refworld(doc: Document, accessed: date | None = None, base_url: str = "") -> str:
    """Refworld's "Cite as" line: ``Publisher, Title, D Month YYYY, available at: URL [accessed
    D Month YYYY]``.

    With authors the line starts with them ("; "-joined, as written) and the publisher follows
    the title. An unknown publisher or date is said ("Publisher not stated", "no date") rather
    than left as a silent gap; a missing title is left out; without a URL there is no
    "available at" and no access date.
    """
    authors = _authors(doc)
    title = _clean(doc.title)
    publisher = _clean(doc.publisher)
    parts: list[str] = []
    if authors:
        parts.append("; ".join(authors))
    else:
        parts.append(publisher or NO_PUBLISHER.capitalize())
    if title:
        parts.append(title)
    if authors:
        parts.append(publisher or NO_PUBLISHER)
    if doc.publication_date is not None:
        parts.append(format_day_month_year(doc.publication_date))
    else:
        parts.append(NO_DATE)
    url = citation_url(doc, base_url)
    if url:
        when = format_day_month_year(access_date(doc, accessed))
        parts.append(f"available at: {url} [accessed {when}]")
    if not (authors or publisher or title or url or doc.publication_date):
        return ""  # nothing to cite: no line made only of "not stated"
    return ", ".join(parts)


# -- BibTeX --------------------------------------------------------------------------------------


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped; non-ASCII stays as UTF-8."""
    return "".join(_LATEX_SPECIALS.get(ch, ch) for ch in text)


def _bibtex_url(url: str) -> str:
    # url fields are read verbatim (url package, biblatex), so LaTeX escapes would end up in the
    # address; only what would break the BibTeX value itself is percent-encoded.
    return url.replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D").replace(" ", "%20")


def _bibtex_name(name: str) -> str:
    person = _person_name(name)
    if person is not None:
        family, given = person
        return f"{latex_escape(family)}, {latex_escape(given)}"
    # Braced: BibTeX would otherwise split "Ministry of Justice and Security" at " and " and
    # take "Human Rights Watch" for a person called Watch.
    return "{" + latex_escape(name) + "}"


def cite_bibtex(doc: Document, accessed: date | None = None, base_url: str = "") -> str:
    """A BibTeX entry keyed ``sb_<docid>``: ``@article`` for news, ``@techreport`` for reports,
    ``@misc`` otherwise; the publisher goes in ``journal``, ``institution`` or ``publisher``.
    """
    entry_type = _BIBTEX_TYPES[_kind(doc)]
    key = "sb_" + _UNSAFE_KEY_CHARS.sub("_", doc.docid or _fallback_key(doc))
    fields: list[tuple[str, str]] = []
    title = _clean(doc.title)
    if title:
        # The inner braces keep the title's capitals: styles that sentence-case titles would
        # otherwise print "Putin and rahmon agree to bolster tajik-afghan border security".
        fields.append(("title", "{" + latex_escape(title) + "}"))
    authors = _authors(doc)
    if authors:
        fields.append(("author", " and ".join(_bibtex_name(a) for a in authors)))
    publisher = _clean(doc.publisher)
    if publisher:
        fields.append((_BIBTEX_PUBLISHER_FIELD[entry_type], latex_escape(publisher)))
    published = doc.publication_date
    if published is not None:
        fields.append(("year", str(published.year)))
        fields.append(("month", _BIBTEX_MONTHS[published.month - 1]))
        fields.append(("date", published.isoformat()))
    url = citation_url(doc, base_url)
    if url:
        fields.append(("url", _bibtex_url(url)))
        fields.append(("urldate", access_date(doc, accessed).isoformat()))
    if doc.docid:
        fields.append(("note", latex_escape(f"Sourcebook docid {doc.docid}")))
    lines = [f"@{entry_type}{{{key},"]
    for name, value in fields:
        # month holds a macro name, which must stay unbraced to be expanded.
        rendered = value if name == "month" else "{" + value + "}"
        lines.append(f"  {name} = {rendered},")
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- RIS -----------------------------------------------------------------------------------------


def _ris_date(value: date) -> str:
    return f"{value.year:04d}/{value.month:02d}/{value.day:02d}"


def cite_ris(doc: Document, accessed: date | None = None, base_url: str = "") -> str:
    """A RIS record (``TY`` … ``ER``) with CRLF line endings, as EndNote writes them.

    rispy and Zotero read CRLF and LF alike. A ``;`` in the URL is percent-encoded because RIS
    readers (rispy included) split ``UR`` values on it.
    """
    lines: list[tuple[str, str]] = [("TY", _RIS_TYPES[_kind(doc)])]
    title = _clean(doc.title)
    if title:
        lines.append(("TI", title))
    lines.extend(("AU", name) for name in _authors(doc))
    publisher = _clean(doc.publisher)
    if publisher:
        lines.append(("PB", publisher))
    if doc.publication_date is not None:
        lines.append(("PY", f"{doc.publication_date.year:04d}"))
        lines.append(("DA", _ris_date(doc.publication_date)))
    url = citation_url(doc, base_url)
    if url:
        lines.append(("UR", url.replace(";", "%3B")))
        lines.append(("Y2", _ris_date(access_date(doc, accessed))))
    language = _clean(doc.language)
    if language:
        lines.append(("LA", language))
    if doc.docid:
        lines.append(("ID", doc.docid))
    lines.append(("ER", ""))
    return "".join(f"{tag}  - {value}{RIS_NEWLINE}" for tag, value in lines)


# -- CSL-JSON ------------------------------------------------------------------------------------


def _csl_date(value: date) -> dict[str, list[list[int]]]:
    return {"date-parts": [[value.year, value.month, value.day]]}


def _csl_name(name: str) -> dict[str, str]:
    person = _person_name(name)
    if person is None:
        return {"literal": name}
    family, given = person
    return {"family": family, "given": given}


def csl_item(doc: Document, accessed: date | None = None, base_url: str = "") -> dict[str, Any]:
    """One CSL-JSON item for ``doc``; keys the record cannot fill are absent, not empty."""
    kind = _kind(doc)
    item: dict[str, Any] = {"id": doc.docid or _fallback_key(doc), "type": _CSL_TYPES[kind]}
    title = _clean(doc.title)
    if title:
        item["title"] = title
    authors = _authors(doc)
    publisher = _clean(doc.publisher)
    if authors:
        item["author"] = [_csl_name(name) for name in authors]
    elif publisher:
        # The body that put it out is its author (a corporate author): without one, styles
        # put the title in the author's place and then print it a second time.
        item["author"] = [{"literal": publisher}]
    if publisher:
        item["publisher"] = publisher
        if kind in ("news", "blog"):
            # Styles print a newspaper article's outlet from container-title, not publisher.
            item["container-title"] = publisher
    if doc.publication_date is not None:
        item["issued"] = _csl_date(doc.publication_date)
    url = citation_url(doc, base_url)
    if url:
        item["URL"] = url
        item["accessed"] = _csl_date(access_date(doc, accessed))
    language = _clean(doc.language)
    if language:
        item["language"] = language
    return item


def cite_csl_json(doc: Document, accessed: date | None = None, base_url: str = "") -> str:
    """A CSL-JSON array holding :func:`csl_item`, indented, with non-ASCII kept as is."""
    return json.dumps([csl_item(doc, accessed, base_url)], indent=2, ensure_ascii=False)


_FORMATTERS: dict[str, Callable[[Document, date | None, str], str]] = {
    "refworld": cite_refworld,
    "bibtex": cite_bibtex,
    "ris": cite_ris,
    "csl-json": cite_csl_json,
}
