"""What the source registry holds: a source with its per-source state, and kept originals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

SourceKind = Literal["feed", "oai", "page", "sitemap"]
SOURCE_KINDS: tuple[str, ...] = get_args(SourceKind)


@dataclass
class Source:
    """A registered source and what the last runs left (ETag, OAI-PMH position, counts).

    ``follow`` is the rule for links (pages and sitemaps): only URLs starting with this prefix
    are fetched; empty means the start URL's own site (scheme, host and port).
    """

    name: str
    url: str
    kind: SourceKind
    every_seconds: int = 6 * 3600
    collection: str = ""
    oai_set: str = ""
    follow: str = ""
    max_pages: int = 100
    created_at: datetime | None = None
    # --- state ------------------------------------------------------------------------------
    etag: str = ""
    last_modified: str = ""
    #: OAI-PMH: the ``from`` of the next run (the responseDate of the last complete harvest).
    oai_from: str = ""
    #: OAI-PMH: where a list cut short stopped (tried first by the next run), as
    #: ``RESPONSEDATE<tab>TOKEN`` with the responseDate of the list's first page.
    oai_token: str = ""
    last_run_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str = ""
    runs: int = 0
    fetched: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0

    def due(self, now: datetime) -> bool:
        """Never run, or its interval has passed since its last run (successful or not)."""
        if self.last_run_at is None:
            return True
        return (now - self.last_run_at).total_seconds() >= self.every_seconds


@dataclass
class Original:
    """A fetched page or file kept as received: bytes (stored apart), SHA-256, when and where.

    ``docid`` and ``revision`` name the document version it was read into; ``headers`` are the
    HTTP response headers as received (``Set-Cookie`` left out).
    """

    docid: str
    revision: int
    source: str
    url: str
    final_url: str
    fetched_at: datetime
    status: int
    content_type: str
    sha256: str
    size: int
    headers: dict[str, str] = field(default_factory=dict)
    id: int = 0
