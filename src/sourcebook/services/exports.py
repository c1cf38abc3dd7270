"""Exporting a search's results as a reference list (RIS, BibTeX, CSL-JSON, CSV).

The search runs as the viewer (:class:`~sourcebook.services.reading.ArchiveView`), so an export
lists exactly the documents the viewer's result list would show, in the same order, near-
duplicates collapsed as on the page. An export is bounded: at most :data:`MAX_EXPORT_DOCUMENTS`
documents (the caller may ask for fewer); when the search matches more, the export holds the
first ones and :attr:`SearchExport.notices` says so (the API sends it as a header, the CLI
prints it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from sourcebook.errors import NotFound, QuerySyntaxError
from sourcebook.exports.lists import LIST_FORMATS, Export, export_documents
from sourcebook.search.request import SearchRequest
from sourcebook.services.reading import ArchiveView

__all__ = ["MAX_EXPORT_DOCUMENTS", "SearchExport", "export_search"]

#: Most documents one result-list export holds.
MAX_EXPORT_DOCUMENTS = 1000


@dataclass
class SearchExport:
    export: Export
    #: Documents the search matched (after collapsing near-duplicates) and documents exported.
    total: int
    exported: int
    notices: list[str] = field(default_factory=list)


def export_search(
    view: ArchiveView,
    request: SearchRequest,
    fmt: str,
    limit: int = MAX_EXPORT_DOCUMENTS,
    accessed: date | None = None,
    base_url: str = "",
) -> SearchExport:
    """The first ``limit`` results of ``request`` (its page and page size are ignored) in
    ``fmt``, one of :data:`~sourcebook.exports.lists.LIST_FORMATS`."""
    if fmt.strip().lower() not in LIST_FORMATS:
        raise NotFound(f"unknown export format {fmt!r}; choose one of: {', '.join(LIST_FORMATS)}")
    if not 1 <= limit <= MAX_EXPORT_DOCUMENTS:
        raise QuerySyntaxError(
            f"an export holds from 1 to {MAX_EXPORT_DOCUMENTS:,} documents, not {limit}"
        )
    size = min(view.archive.settings.page_size_max, limit)
    docids: list[str] = []
    notices: list[str] = []
    total = 0
    page = 1
    while len(docids) < limit:
        result = view.search(replace(request, page=page, page_size=size, passages=0, facets=False))
        if page == 1:
            total = result.total
            notices.extend(result.notices)
        docids.extend(hit.docid for hit in result.hits)
        if len(result.hits) < size or page * size >= result.total:
            break
        page += 1
    docids = docids[:limit]
    found = view.get_many(docids)
    docs = [found[d] for d in docids if d in found]
    if total > len(docs):
        notices.append(
            f"The search matched {total:,} documents; the export holds the first {len(docs):,}."
        )
    export = export_documents(docs, fmt, accessed=accessed, base_url=base_url)
    return SearchExport(export=export, total=total, exported=len(docs), notices=notices)
