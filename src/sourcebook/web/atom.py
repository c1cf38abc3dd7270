"""Atom feeds of searches: a saved search is an alert.

``GET /search.atom`` takes the search page's parameters (``q``, ``mode``, ``country``,
``publisher``, ``type``, ``language``, ``collection`` (repeatable), ``from``, ``to``, ``sort``,
``page``, ``size``) and answers an Atom 1.0 feed of the results, newest first unless ``sort``
says otherwise. A feed reader that polls it sees each newly archived record that matches as a new
entry (entry ids are the record URLs). The feed is built with lxml, so record text is escaped; a
bad query is a 400 with a plain-text message.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from lxml import etree

from sourcebook.countries import country_name
from sourcebook.errors import QuerySyntaxError
from sourcebook.model import Hit
from sourcebook.search.request import SearchRequest
from sourcebook.services.reading import ArchiveView
from sourcebook.store.base import HarvestedRecord
from sourcebook.web.links import public_request_url, site_url
from sourcebook.web.oai import clean_text, read_archive
from sourcebook.web.search_params import SearchParams

ATOM_NS = "http://www.w3.org/2005/Atom"
OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"
#: The categorization scheme of country categories: ISO 3166-1 (RFC 5141 URN).
COUNTRY_SCHEME = "urn:iso:std:iso:3166:-1"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
#: Entries per feed page when the URL does not say ``size``.
FEED_SIZE = 20
#: Deepest page a feed serves (a reader wants the newest; deep pages cost the index).
MAX_FEED_PAGE = 1_000
SUMMARY_MAX_CHARS = 1_000
FEED_PATH = "/search.atom"

router = APIRouter()


@dataclass(frozen=True)
class FeedLinks:
    """The URLs a feed names: itself, its search page, its pages, and the site's base."""

    self_url: str
    site: str
    params: SearchParams

    def page_url(self, path: str, page: int) -> str:
        pairs = [(k, v) for k, v in self.params.pairs() if k not in ("size", "page")]
        if self.params.size != FEED_SIZE:
            pairs.append(("size", str(self.params.size)))
        if page != 1:
            pairs.append(("page", str(page)))
        query = urlencode(pairs)
        return f"{self.site}{path}?{query}" if query else f"{self.site}{path}"

    def record_url(self, docid: str) -> str:
        return f"{self.site}/record/{docid}"


def feed_params(request: Request) -> SearchParams:
    """The search page's parameters, with the feed's defaults: newest first, FEED_SIZE entries."""
    params = SearchParams.from_query(request.query_params)
    if "size" not in request.query_params:
        params = replace(params, size=FEED_SIZE)
    if params.page > MAX_FEED_PAGE:
        raise QuerySyntaxError(f"a feed has at most {MAX_FEED_PAGE} pages")
    return params


def feed_request(params: SearchParams) -> SearchRequest:
    search = replace(params, sort=params.sort or "newest").to_request(passages=1)
    search.facets = False
    # a feed delivers every match it announces: reprints are entries of their own, never folded
    # under another (an alert must not miss the copy that appeared later)
    search.collapse = False
    return search


def describe(params: SearchParams) -> str:
    """A feed title that says what the search is."""
    parts = [f"“{params.q.strip()}”"] if params.q.strip() else []
    for name, values in params.filters.items():
        parts.append(f"{name}: {', '.join(values)}")
    if params.date_from or params.date_to:
        parts.append(f"dates: {params.date_from or '…'} to {params.date_to or '…'}")
    return "Sourcebook: " + ("; ".join(parts) if parts else "all records")


def _rfc3339(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return (text[:limit].rsplit(" ", 1)[0] or text[:limit]) + " …"


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM_NS}}}{tag}")
    if text is not None:
        element.text = clean_text(text)
    for key, value in attrs.items():
        element.set(key, clean_text(value))
    return element


def _entry(feed: etree._Element, hit: Hit, record: HarvestedRecord, links: FeedLinks) -> None:
    doc = record.document
    url = links.record_url(doc.docid)
    entry = _sub(feed, "entry")
    _sub(entry, "id", url)
    _sub(entry, "title", doc.title or doc.docid, type="text")
    _sub(entry, "link", rel="alternate", type="text/html", href=url)
    _sub(entry, "updated", _rfc3339(record.updated_at))
    if doc.publication_date is not None:
        _sub(entry, "published", doc.publication_date.isoformat() + "T00:00:00Z")
    for name in doc.authors or ([doc.publisher] if doc.publisher else []):
        _sub(_sub(entry, "author"), "name", name)
    for code in doc.countries:
        _sub(entry, "category", term=code, label=country_name(code), scheme=COUNTRY_SCHEME)
    best = hit.passages[0].text if hit.passages else ""
    if not best:
        best = doc.passages[0].text if doc.passages else doc.body
    if best.strip():
        _sub(entry, "summary", _shorten(best, SUMMARY_MAX_CHARS), type="text")
    if doc.copyright:
        _sub(entry, "rights", doc.copyright, type="text")


def build_feed(archive: ArchiveView, search: SearchRequest, links: FeedLinks) -> tuple[bytes, str]:
    """(the feed, a weak ETag of what it says) for one search."""
    result = archive.search(search)
    records = archive.harvest_records(hit.docid for hit in result.hits)
    shown = [(hit, records[hit.docid]) for hit in result.hits if hit.docid in records]
    newest = max((r.updated_at for _, r in shown), default=None)

    feed = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS, "opensearch": OPENSEARCH_NS})
    _sub(feed, "id", links.self_url)
    _sub(feed, "title", describe(links.params), type="text")
    _sub(feed, "updated", _rfc3339(newest or datetime.now(UTC)))
    _sub(_sub(feed, "author"), "name", "Sourcebook")
    _sub(feed, "generator", "Sourcebook")
    _sub(feed, "link", rel="self", type="application/atom+xml", href=links.self_url)
    # the same list on the search page: same size, same order
    search_page = replace(links.params, sort=search.sort).url("/search")
    _sub(feed, "link", rel="alternate", type="text/html", href=links.site + search_page)
    _sub(feed, "link", rel="first", href=links.page_url(FEED_PATH, 1))
    if search.page > 1:
        _sub(feed, "link", rel="previous", href=links.page_url(FEED_PATH, search.page - 1))
    last_page = min(MAX_FEED_PAGE, max(1, -(-result.total // search.page_size)))
    if search.page < last_page:
        _sub(feed, "link", rel="next", href=links.page_url(FEED_PATH, search.page + 1))
    for name, value in (
        ("totalResults", result.total),
        ("startIndex", (search.page - 1) * search.page_size + 1),
        ("itemsPerPage", search.page_size),
    ):
        etree.SubElement(feed, f"{{{OPENSEARCH_NS}}}{name}").text = str(value)
    for hit, record in shown:
        _entry(feed, hit, record, links)

    state = [links.self_url, str(result.total)]
    state += [f"{r.document.docid}@{r.updated_at.isoformat()}" for _, r in shown]
    etag = 'W/"' + hashlib.sha256("\n".join(state).encode("utf-8")).hexdigest()[:32] + '"'
    return bytes(etree.tostring(feed, encoding="UTF-8", xml_declaration=True)), etag


def _matches(if_none_match: str, etag: str) -> bool:
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag.removeprefix("W/") in tags


@router.get("/search.atom", summary="Atom feed of a search (a saved search alert)")
async def search_feed(request: Request) -> Response:
    try:
        params = feed_params(request)
        search = feed_request(params)
        links = FeedLinks(public_request_url(request), site_url(request), params)
        body, etag = await read_archive(request, build_feed, search, links)
    except QuerySyntaxError as exc:
        return PlainTextResponse(f"Bad search: {exc}\n", status_code=400)
    headers = {"ETag": etag}
    if _matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type=MEDIA_TYPE, headers=headers)
