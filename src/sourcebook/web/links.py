"""The archive's own address in what it publishes: citations, Atom, OAI-PMH, record links.

With ``SOURCEBOOK_PUBLIC_URL`` set, every absolute link starts with it, whatever ``Host`` a
request was sent with (a proxy's internal name, an IP address, a second domain): a citation or a
harvested identifier must not change with the way a reader reached the server. Without it, the
request's own address is used (which the Host allow-list keeps to the names we answer).
"""

from __future__ import annotations

from starlette.requests import Request

from sourcebook.config import Settings


def site_url(request: Request) -> str:
    """The archive's base URL, without a trailing slash."""
    settings: Settings | None = getattr(request.app.state, "settings", None)
    if settings is not None and settings.public_url:
        return settings.public_url
    return str(request.base_url).rstrip("/")


def public_request_url(request: Request) -> str:
    """The URL of this request with the archive's base URL in front of its path and query."""
    query = request.url.query
    return site_url(request) + request.url.path + (f"?{query}" if query else "")
