"""What a source's fetch yields: documents, each with the response it was read from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from sourcebook.fetch.client import Fetched
from sourcebook.ingest.registry import HEAD_BYTES
from sourcebook.ingest.registry import Source as ParserInput
from sourcebook.model import Document


@dataclass
class Item:
    """A document and the original it was read from (kept as received)."""

    document: Document
    original: Fetched


def parser_input(fetched: Fetched, max_bytes: int) -> ParserInput:
    """A fetched body offered to Sourcebook's file parsers (they read bytes, not URLs)."""
    name = PurePosixPath(urlsplit(fetched.final_url).path).name or "index"
    return ParserInput(
        path=Path(name),  # never opened: the bytes are given
        media_type=fetched.media_type,
        head=fetched.body[:HEAD_BYTES],
        size=len(fetched.body),
        max_bytes=max_bytes,
        _data=fetched.body,
    )


def in_scope(url: str, rule: str, start: str) -> bool:
    """Whether a link may be followed: it starts with the source's ``follow`` prefix, or (no
    rule) it is on the start URL's own site."""
    if rule:
        return url.startswith(rule)
    a, b = urlsplit(url), urlsplit(start)
    return (a.scheme, a.netloc.lower()) == (b.scheme, b.netloc.lower())
