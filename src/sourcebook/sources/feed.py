"""RSS and Atom feeds: a conditional GET (ETag, Last-Modified), then one document per item.

Items are read by the same parser as feed files (``ingest/feed.py``). The feed URL is the one
the user registered, so it is fetched without asking robots.txt (as feed readers do); each
item's original is the feed document it came in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sourcebook.fetch.client import Fetcher
from sourcebook.ingest.feed import FeedParser
from sourcebook.model import BadRecord, Document, EmptyRecord
from sourcebook.sources.items import Item, parser_input
from sourcebook.sources.model import Source

FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/x-rss+xml",
    "application/xml",
    "text/xml",
)


@dataclass
class FeedResult:
    items: list[Item] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    not_modified: bool = False
    etag: str = ""
    last_modified: str = ""


def harvest_feed(source: Source, fetcher: Fetcher) -> FeedResult:
    """The feed's items, or ``not_modified`` when the server says nothing changed (304)."""
    fetched = fetcher.get(
        source.url, FEED_TYPES, etag=source.etag, last_modified=source.last_modified, robots=False
    )
    if fetched.not_modified:
        return FeedResult(not_modified=True, etag=source.etag, last_modified=source.last_modified)
    result = FeedResult(
        etag=fetched.headers.get("etag", ""),
        last_modified=fetched.headers.get("last-modified", ""),
    )
    entries = FeedParser().parse(parser_input(fetched, fetcher.limits.max_bytes))
    for number, entry in enumerate(entries, start=1):
        if isinstance(entry, BadRecord):
            result.errors.append(f"{source.url} item {number}: {entry.message}")
            continue
        if isinstance(entry, EmptyRecord):
            continue
        result.items.append(Item(_as_harvested(entry, source, fetched.url, number), fetched))
    return result


def _as_harvested(doc: Document, source: Source, url: str, number: int) -> Document:
    if not doc.source_id:  # no guid and no link: the item's place in this feed
        doc.source_key = f"feed:{url}#{number}"
    doc.source_url = doc.original_url
    doc.origin = f"{url}#{number}"
    return doc
