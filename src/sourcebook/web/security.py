"""Security headers on every response, and a bound on upload bodies.

Both are plain ASGI middleware (not ``BaseHTTPMiddleware``), so streamed responses such as the
JSONL export pass through unbuffered.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: No inline script or style anywhere: the pages' JS and CSS are static files of our own.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Searches are in our URLs; a caseworker's query must not leak to the sites records link to.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every HTTP response (a route may set its own first)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuses a request body over a limit with 413, before it is read or spooled to disk.

    ``limit_for(path, method)`` gives the limit in bytes, or None for no limit. A declared
    ``Content-Length`` over it is refused at once; a body without one (chunked) is counted as
    it arrives and refused as soon as it passes the limit.
    """

    def __init__(self, app: ASGIApp, limit_for: Callable[[str, str], int | None]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"], scope["method"])
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            scope["sourcebook.body_too_large"] = (declared, limit)
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            if "sourcebook.body_too_large" in scope:
                raise too_large(*scope["sourcebook.body_too_large"])
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large(received, limit)
            return message

        await self.app(scope, counting_receive, send)


def too_large(size: int, limit: int) -> HTTPException:
    return HTTPException(
        413,
        f"The upload is over {size:,} bytes; the limit is {limit:,} "
        "(setting SOURCEBOOK_MAX_FILE_BYTES).",
    )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class HeadAsGet:
    """Answers ``HEAD`` for every ``GET`` route: the GET response, headers only.

    FastAPI's routes list GET alone (405 for HEAD), yet link checkers, caches and feed readers
    send HEAD. The body the route produces is dropped; ``Content-Length`` stays that of the GET.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        finished = False

        async def send_headers_only(message: Message) -> None:
            nonlocal finished
            if message["type"] == "http.response.start":
                await send(message)
            elif message["type"] == "http.response.body" and not finished:
                finished = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            # later chunks of a streamed body are dropped

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)
