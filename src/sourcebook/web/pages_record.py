"""The record page (``/record/{docid}``), laid out like a Refworld record, and its citation files.

The body is plain text, shown as its passages: each passage is an element with ``id="p-SEQ"`` so
a search hit (or a citation) can link to ``/record/DOCID#p-SEQ``; the CSS ``:target`` rule
highlights the passage linked to.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from sourcebook.cite import format_citation
from sourcebook.errors import SourcebookError
from sourcebook.ids import group_name
from sourcebook.model import Document, Hit
from sourcebook.search.highlight import TermPatterns, positive_terms
from sourcebook.search.request import SearchRequest
from sourcebook.services.reading import ArchiveView
from sourcebook.web.folder_choices import folder_choices
from sourcebook.web.links import site_url
from sourcebook.web.pages_original import original_views
from sourcebook.web.record_body import RecordText, record_text
from sourcebook.web.runtime import Runtime, get_runtime, view_of
from sourcebook.web.templating import country_label, language_label, last_updated, long_date

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

#: Citation files: extension -> (style, media type).
CITATION_FILES: dict[str, tuple[str, str]] = {
    "bib": ("bibtex", "application/x-bibtex; charset=utf-8"),
    "ris": ("ris", "application/x-research-info-systems; charset=utf-8"),
    "json": ("csl-json", "application/vnd.citationstyles.csl+json; charset=utf-8"),
}
CITATION_LABELS = {"bib": "BibTeX", "ris": "RIS", "json": "CSL-JSON"}
SIMILAR_LIMIT = 5


@dataclass
class Item:
    text: str
    url: str = ""


@dataclass
class MetaField:
    label: str
    items: list[Item]
    #: "detected" or "derived" when Sourcebook computed the value rather than the source.
    note: str = ""


@dataclass
class RevisionView:
    number: int
    recorded: str
    changed: str


@dataclass
class SimilarView:
    title: str
    url: str
    publisher: str
    date_text: str


def search_url(**params: str) -> str:
    return "/search?" + urlencode({**params, "sort": "newest"})


#: Shown for a publisher or publication date the source does not state (never a silent gap).
NOT_STATED = "not stated"


def meta_fields(doc: Document) -> list[MetaField]:
    def note(name: str) -> str:
        if name not in doc.derived:
            return ""
        return "detected" if name == "language" else "derived"

    fields = [
        MetaField(
            "Publisher",
            [Item(doc.publisher, search_url(publisher=doc.publisher))]
            if doc.publisher
            else [Item(NOT_STATED)],
        ),
        MetaField("Author(s)", [Item(a) for a in doc.authors]),
        MetaField(
            "Publication Date",
            [Item(long_date(doc.publication_date))] if doc.publication_date else [Item(NOT_STATED)],
            note("publication_date"),
        ),
        MetaField(
            "Document type",
            [Item(doc.document_type, search_url(type=doc.document_type.lower()))]
            if doc.document_type
            else [],
            note("document_type"),
        ),
        MetaField(
            "Countries",
            [Item(country_label(c), search_url(country=c)) for c in doc.countries],
            note("countries"),
        ),
        MetaField(
            "Language",
            [Item(language_label(doc.language), search_url(language=doc.language))]
            if doc.language
            else [],
            note("language"),
        ),
        MetaField(
            "Collection",
            [Item(doc.collection, search_url(collection=doc.collection))] if doc.collection else [],
        ),
        MetaField("Source id", [Item(doc.source_id)] if doc.source_id else []),
        MetaField("Note", [Item(doc.ocr_note())] if doc.ocr_confidence is not None else []),
        MetaField("Docid", [Item(doc.docid)]),
    ]
    return [f for f in fields if f.items]


def revision_views(doc: Document) -> list[RevisionView]:
    return [
        RevisionView(
            r.number,
            last_updated(r.recorded_at),
            ", ".join(r.changed_fields) if r.changed_fields else "first version",
        )
        for r in doc.revisions
    ]


def similar_documents(archive: ArchiveView, docid: str) -> list[Hit]:
    """Similar documents, or none when they cannot be found: they are an extra, and a record
    page must not fail because of them."""
    try:
        return archive.similar(docid, SIMILAR_LIMIT)
    except Exception:
        log.warning("similar documents for %s failed", docid, exc_info=True)
        return []


def reprints(archive: ArchiveView, doc: Document) -> tuple[int, str]:
    """(how many other documents are reprints of this one's text, the search listing them all)."""
    from sourcebook.search.request import SearchRequest

    query = f"group:{group_name(doc.dup_group or doc.docid)}"
    found = archive.search(SearchRequest(query=query, page_size=1, facets=False, passages=0))
    others = max(found.total - 1, 0)
    return others, ("/search?" + urlencode({"q": query}) if others else "")


def base_url(request: Request) -> str:
    return site_url(request)


def query_terms(archive: ArchiveView, query: str, mode: str) -> TermPatterns:
    """The words of the search a reader came from, to mark in the record (none when the query
    is empty or cannot be read: the record shows without marks)."""
    if not query.strip() or mode not in ("auto", "syntax", "plain"):
        return TermPatterns()
    try:
        node, _ = archive.archive.engine.parse(SearchRequest(query=query, mode=mode))  # type: ignore[arg-type]
    except SourcebookError:
        return TermPatterns()
    return positive_terms(node)


def read_record(
    archive: ArchiveView, docid: str, query: str, mode: str
) -> tuple[Document, RecordText]:
    doc = archive.get(docid)
    terms = query_terms(archive, query[:2000], mode)
    return doc, record_text(doc, terms, archive.archive.settings.default_language)


@router.get("/record/{docid}")
async def record_page(
    docid: str,
    request: Request,
    q: str = "",
    mode: str = "auto",
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    view = view_of(request)
    doc, text = await runtime.read(read_record, view, docid, q, mode)
    similar = await runtime.read(similar_documents, view, doc.docid)
    reprint_count, reprints_url = await runtime.read(reprints, view, doc)
    citation = format_citation(doc, "refworld", base_url=base_url(request))
    parent = await runtime.read(view.parent, doc)  # attachment or archive member
    context = {
        "doc": doc,
        "parent": parent,
        "title": doc.title or "(untitled)",
        "updated": last_updated(doc.last_updated),
        "updated_derived": "last_updated" in doc.derived,
        "fields": meta_fields(doc),
        "citation": citation,
        "source_cite": doc.cite_as if doc.cite_as and doc.cite_as != citation else "",
        "downloads": [
            (CITATION_LABELS[ext], f"/record/{doc.docid}/cite.{ext}") for ext in CITATION_FILES
        ],
        "blocks": text.blocks,
        "contents": text.contents,
        "query": q.strip(),
        "revisions": revision_views(doc),
        "originals": await runtime.read(original_views, view, doc.docid),
        "similar": [
            SimilarView(
                h.title or "(untitled)",
                f"/record/{h.docid}",
                h.publisher,
                long_date(h.publication_date),
            )
            for h in similar
        ],
        "source_tags": sorted(doc.source_tags.items()),
        "reprints": reprint_count,
        "reprints_url": reprints_url,
        "folders": await folder_choices(request),  # "Add to folder", "Quote this passage"
    }
    response: Response = request.app.state.templates.TemplateResponse(
        request, "record.html", context
    )
    return response


async def _citation_file(
    docid: str, ext: str, request: Request, runtime: Runtime, accessed: str
) -> Response:
    style, media_type = CITATION_FILES[ext]
    when: date | None = None
    if accessed:
        try:
            when = date.fromisoformat(accessed)
        except ValueError as exc:
            raise SourcebookError(
                f"accessed must be a date like 2023-05-19, not {accessed[:40]!r}"
            ) from exc
    text = await runtime.read(
        view_of(request).cite, docid, style, accessed=when, base_url=base_url(request)
    )
    filename = f"sourcebook-{docid.strip()}.{ext}"
    return Response(
        text if text.endswith("\n") else text + "\n",
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/record/{docid}/cite.bib")
async def citation_bibtex(
    docid: str, request: Request, accessed: str = "", runtime: Runtime = Depends(get_runtime)
) -> Response:
    return await _citation_file(docid, "bib", request, runtime, accessed)


@router.get("/record/{docid}/cite.ris")
async def citation_ris(
    docid: str, request: Request, accessed: str = "", runtime: Runtime = Depends(get_runtime)
) -> Response:
    return await _citation_file(docid, "ris", request, runtime, accessed)


@router.get("/record/{docid}/cite.json")
async def citation_csl_json(
    docid: str, request: Request, accessed: str = "", runtime: Runtime = Depends(get_runtime)
) -> Response:
    return await _citation_file(docid, "json", request, runtime, accessed)
