"""Sitemaps (sitemaps.org): the pages a site lists, fetched as web pages.

A sitemap index is followed one level down. Only URLs the source's rule allows are fetched;
after the first run, only those whose ``<lastmod>`` is later than the last successful run (or
that have none, or that the archive does not hold yet), and at most ``max_pages`` per run. The sitemap itself is fetched with a
conditional GET: a 304 means nothing to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree

from sourcebook.dates import parse_datetime
from sourcebook.errors import FetchError
from sourcebook.fetch.client import Fetched, Fetcher
from sourcebook.sources.items import in_scope
from sourcebook.sources.model import Source
from sourcebook.sources.pages import FileReader, PagesResult, fetch_pages

SM = "http://www.sitemaps.org/schemas/sitemap/0.9"
XML_TYPES = ("text/xml", "application/xml")
#: Most sitemaps of an index read in one run.
MAX_SITEMAPS = 50
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@dataclass
class SitemapResult:
    pages: PagesResult = field(default_factory=PagesResult)
    not_modified: bool = False
    etag: str = ""
    last_modified: str = ""
    listed: int = 0


def _entries(fetched: Fetched) -> tuple[str, list[tuple[str, datetime | None]]]:
    """("urlset" or "sitemapindex", [(loc, lastmod)])."""
    try:
        root: Any = etree.fromstring(fetched.body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise FetchError(f"{fetched.url} is not a readable sitemap: {exc}") from exc
    kind = etree.QName(root).localname
    if kind not in ("urlset", "sitemapindex"):
        raise FetchError(f"{fetched.url} is not a sitemap (root <{kind}>)")
    out = []
    for entry in root:
        loc = (entry.findtext(f"{{{SM}}}loc") or "").strip()
        if loc:
            out.append((loc, parse_datetime(entry.findtext(f"{{{SM}}}lastmod") or "")))
    return kind, out


def harvest_sitemap(
    source: Source,
    fetcher: Fetcher,
    read_file: FileReader | None = None,
    held: Callable[[list[str]], set[str]] | None = None,
) -> SitemapResult:
    """The sitemap's allowed pages that are new or changed since the last successful run.

    ``held(urls)``: which of these URLs the archive already holds; a URL it does not hold (one
    that failed before) is fetched whatever its ``<lastmod>``."""
    top = fetcher.get(source.url, XML_TYPES, etag=source.etag, last_modified=source.last_modified)
    if top.not_modified:
        return SitemapResult(
            not_modified=True, etag=source.etag, last_modified=source.last_modified
        )
    result = SitemapResult(
        etag=top.headers.get("etag", ""), last_modified=top.headers.get("last-modified", "")
    )
    kind, entries = _entries(top)
    if kind == "sitemapindex":
        nested = entries[:MAX_SITEMAPS]
        entries = []
        for loc, _lastmod in nested:
            try:
                entries += _entries(fetcher.get(loc, XML_TYPES))[1]
            except FetchError as exc:
                result.pages.errors.append(f"{loc}: {exc}")
    result.listed = len(entries)
    since = source.last_success_at
    in_rule = [
        (loc, lastmod) for loc, lastmod in entries if in_scope(loc, source.follow, source.url)
    ]
    known = held([loc for loc, _ in in_rule]) if held is not None and since is not None else set()
    wanted = [
        loc
        for loc, lastmod in in_rule
        if since is None or lastmod is None or lastmod > since or loc not in known
    ]
    pages = fetch_pages(source, fetcher, list(dict.fromkeys(wanted)), read_file)
    result.pages.items, result.pages.errors = pages.items, result.pages.errors + pages.errors
    return result
