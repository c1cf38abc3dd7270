"""Web pages: the start page, and the pages it links to that the source's rule allows.

Each page is fetched under robots.txt and the polite rate, and read by the same extraction as
saved HTML files (trafilatura, ``ingest/html.py``). A linked report (PDF, DOCX, ODT, RTF, EPUB,
plain text) is read by the file parsers in the ingest sandbox, when the caller gives a reader.
A page's identity is the URL asked for (not the canonical URL the page claims, which any page
could set to another's).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urldefrag

import lxml.html

from sourcebook.errors import SourcebookError
from sourcebook.fetch.client import Fetched, Fetcher
from sourcebook.ingest.html import parse_html_file
from sourcebook.model import Document
from sourcebook.sources.items import Item, in_scope, parser_input
from sourcebook.sources.model import Source

HTML_TYPES = ("text/html", "application/xhtml+xml")
#: Linked files read by the file parsers (``FileReader``), besides HTML.
FILE_TYPES = (
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
    "application/rtf",
    "text/rtf",
    "application/epub+zip",
    "text/plain",
)
#: Reads a fetched file that is not HTML into a document (the archive's sandboxed parsers).
FileReader = Callable[[Fetched], Document]


@dataclass
class PagesResult:
    items: list[Item] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def page_document(fetched: Fetched, max_bytes: int) -> Document:
    """The document of one fetched HTML page."""
    doc = parse_html_file(parser_input(fetched, max_bytes))
    doc.source_key = f"url:{fetched.url}"
    doc.source_url = fetched.final_url
    doc.origin = fetched.url
    return doc


def links(fetched: Fetched) -> list[str]:
    """The absolute URLs (without fragments) a page links to, in page order."""
    try:
        root = lxml.html.document_fromstring(fetched.body, base_url=fetched.final_url)
    except (ValueError, lxml.etree.ParserError):
        return []
    root.make_links_absolute(fetched.final_url, resolve_base_href=True, handle_failures="discard")
    out: list[str] = []
    for element, attribute, link, _pos in root.iterlinks():
        if element.tag == "a" and attribute == "href":
            url = urldefrag(link)[0]
            if url.startswith(("http://", "https://")) and url not in out:
                out.append(url)
    return out


def fetch_pages(
    source: Source, fetcher: Fetcher, urls: list[str], read_file: FileReader | None = None
) -> PagesResult:
    """Fetch and read each URL (up to ``source.max_pages``); failures are listed, not raised."""
    result = PagesResult()
    accept = HTML_TYPES + FILE_TYPES if read_file is not None else HTML_TYPES
    for url in urls[: source.max_pages]:
        try:
            fetched = fetcher.get(url, accept)
            result.items.append(Item(read_fetched(fetched, fetcher, read_file), fetched))
        except SourcebookError as exc:
            result.errors.append(f"{url}: {exc}")
    return result


def read_fetched(fetched: Fetched, fetcher: Fetcher, read_file: FileReader | None) -> Document:
    if fetched.media_type in HTML_TYPES or read_file is None:
        return page_document(fetched, fetcher.limits.max_bytes)
    doc = read_file(fetched)
    doc.source_key = f"url:{fetched.url}"
    doc.source_url = fetched.final_url
    doc.origin = fetched.url
    return doc


def harvest_pages(
    source: Source, fetcher: Fetcher, read_file: FileReader | None = None
) -> PagesResult:
    """The start page and the in-scope pages and files it links to (one level deep)."""
    start = fetcher.get(source.url, HTML_TYPES)  # a start page that fails fails the run
    result = PagesResult(items=[Item(page_document(start, fetcher.limits.max_bytes), start)])
    if source.max_pages > 1:
        wanted = [
            u for u in links(start) if u != start.url and in_scope(u, source.follow, start.url)
        ]
        more = fetch_pages(
            Source(source.name, source.url, source.kind, max_pages=source.max_pages - 1),
            fetcher,
            wanted,
            read_file,
        )
        result.items += more.items
        result.errors += more.errors
    return result
