"""Who is asking: the authentication middleware, and the CSRF check of cookie-borne requests.

Every request (but static files) gets an :class:`~sourcebook.services.accounts.Identity`, its
viewer on ``request.state.viewer`` (what :func:`~sourcebook.web.viewing.viewer_of` reads):

1. ``Authorization: Bearer <token>``: the archive's legacy write token (``SOURCEBOOK_WRITE_TOKEN``),
   or the token ``sourcebook serve`` wrote in the archive's ``serve.json`` for the local CLI
   (``sourcebook.local_server``; readable only by whoever can read the archive's folder),
   makes the request the operator's; a user's API token makes it that user's (a ``read`` token
   at most a reader). Any other bearer value is refused at once: 401.
2. The session cookie: the signed-in user. A forged, expired or ended session is nobody.
3. Neither, on an archive with no users and no write token, from this machine (server on
   loopback, loopback client, no proxy header): the operator, as before accounts existed.
4. Otherwise an anonymous visitor.

A request that rides on the session cookie and changes something must carry the session's CSRF
token (form field ``csrf_token`` or header ``X-CSRF-Token``) and come from our own origin;
requests with a bearer token carry no ambient credentials and need neither.
"""

from __future__ import annotations

import hmac
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from sourcebook.accounts.audit import actor_name
from sourcebook.config import Settings
from sourcebook.errors import AccessDenied, NotAuthenticated
from sourcebook.services.accounts import Accounts, Identity
from sourcebook.viewer import Viewer
from sourcebook.web.access import FORWARDING_HEADERS, is_loopback, same_origin
from sourcebook.web.problems import on_sourcebook_error
from sourcebook.web.runtime import Runtime

SESSION_COOKIE = "sourcebook_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
ANONYMOUS = Identity(Viewer.anonymous())
#: How ``sourcebook serve --workers N`` passes the local CLI's token to its worker processes.
LOCAL_TOKEN_VARIABLE = "SOURCEBOOK_SERVE_LOCAL_TOKEN"


def is_local(request: Request) -> bool:
    """From this machine: the server listens on loopback, the peer is loopback, and no proxy
    forwarded the request."""
    listen: str = request.app.state.listen_host
    client = request.client.host if request.client else ""
    return (
        is_loopback(listen)
        and is_loopback(client)
        and not any(name in request.headers for name in FORWARDING_HEADERS)
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def accounts_of(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.runtime.accounts
    return accounts


def identity_of(request: Request) -> Identity:
    identity = getattr(request.state, "identity", None)
    return identity if isinstance(identity, Identity) else ANONYMOUS


async def identify(request: Request) -> Identity:
    """Who the request is (raises NotAuthenticated for a bearer token we do not know)."""
    runtime: Runtime = request.app.state.runtime
    settings: Settings = runtime.settings
    accounts: Accounts = runtime.accounts
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        legacy = settings.token()
        if legacy is not None and hmac.compare_digest(
            value.strip().encode("utf-8"), legacy.encode("utf-8")
        ):
            return Identity(Viewer.system(), "operator-token")
        local: str | None = getattr(request.app.state, "local_token", None)
        if local and hmac.compare_digest(value.strip().encode("utf-8"), local.encode("utf-8")):
            return Identity(Viewer.system(), "operator-token")
        found = await runtime.read(accounts.identify_token, value.strip()[:300])
        if found is None:
            raise NotAuthenticated(
                "The API token is unknown or revoked, or its account is disabled."
            )
        return found
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        found = await runtime.read(accounts.identify_session, cookie)
        if found is not None:
            return found
    if (
        settings.token() is None
        and is_local(request)
        and not await runtime.read(accounts.has_users)
    ):
        return Identity(Viewer.system(), "local")
    return ANONYMOUS


class Authentication:
    """Puts the request's identity and viewer on ``request.state`` (plain ASGI middleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            identity = await identify(request)
        except NotAuthenticated as exc:
            response = await on_sourcebook_error(request, exc)
            await response(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        state["identity"] = identity
        state["viewer"] = identity.viewer
        await self.app(scope, receive, send)


async def check_csrf(request: Request) -> None:
    """Refuses an unsafe request that rides on the session cookie without the session's CSRF
    token, or from another origin; for the local operator, one from another origin (a FastAPI
    dependency; a no-op for bearer tokens and safe methods)."""
    identity = identity_of(request)
    if request.method in ("GET", "HEAD", "OPTIONS") or identity.method not in ("session", "local"):
        return
    same_origin(request)  # the local operator's browser has no token: its origin is checked
    if identity.method == "local":
        return
    given = request.headers.get(CSRF_HEADER, "")
    if not given and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD, "")
        given = value if isinstance(value, str) else ""
    if not given or not hmac.compare_digest(given.encode("utf-8"), identity.csrf.encode("utf-8")):
        raise AccessDenied(
            "This form has expired or did not come from this archive (its CSRF token is missing "
            "or wrong). Reload the page and try again."
        )


async def check_write(request: Request) -> None:
    """Refuses a write the caller may not make (a FastAPI dependency of every write route):
    401 without credentials, 403 below editor, and the CSRF check for sessions."""
    identity = identity_of(request)
    if identity.method == "local":
        same_origin(request)
        return
    viewer = identity.viewer
    if not (viewer.signed_in or viewer.operator):
        raise NotAuthenticated(
            "Writes need an editor: sign in, or send Authorization: Bearer <API token with write "
            "scope> (or the archive's SOURCEBOOK_WRITE_TOKEN). An archive without users takes "
            "writes only from this machine."
        )
    if not viewer.has_role("editor"):
        raise AccessDenied(
            f"{viewer.user} may read but not write: writes need the editor role, and a token "
            "with write scope."
        )
    await check_csrf(request)


async def check_editor(request: Request) -> None:
    """Refuses a read of the server's working detail (the job queue, with its server paths) to
    anyone below editor: 401 without credentials, 403 below editor. A read needs no CSRF token."""
    identity = identity_of(request)
    if identity.method == "local":
        return
    viewer = identity.viewer
    if not (viewer.signed_in or viewer.operator):
        raise NotAuthenticated(
            "The job queue is for editors: sign in, or send Authorization: Bearer <API token>."
        )
    if not viewer.has_role("editor"):
        raise AccessDenied(f"{viewer.user} may not see the job queue: it needs the editor role.")


async def check_signed_in(request: Request) -> None:
    """Refuses a read of a user's own things (folders, saved searches) to an anonymous visitor:
    401. Any session or API token (read or write scope) will do."""
    viewer = identity_of(request).viewer
    if not (viewer.signed_in or viewer.operator):
        raise NotAuthenticated(
            "Folders and saved searches are a user's own: sign in, or send Authorization: "
            "Bearer <API token>."
        )


async def check_own_write(request: Request) -> None:
    """Refuses a change to a user's own things (folders, saved searches; any role may keep
    them): 401 without credentials, 403 for a token of read scope, and for a session the same
    CSRF and origin check as every other write."""
    await check_signed_in(request)
    identity = identity_of(request)
    if identity.read_only:
        raise AccessDenied("This API token has read scope: changes need a token with write scope.")
    await check_csrf(request)


def has_credentials(request: Request) -> bool:
    """Whether the request proved who it is (past :func:`check_write`: an editor's session or
    token, or the legacy write token), rather than being the implicit local operator."""
    return identity_of(request).method in ("session", "token", "operator-token")


async def audit_write(request: Request, action: str, target: str, detail: str = "") -> None:
    """Record a write the request made in the audit log."""
    accounts = accounts_of(request)
    await request.app.state.runtime.read(
        accounts.audit.record,
        actor_name(identity_of(request).viewer),
        action,
        target,
        client=client_address(request),
        detail=detail,
    )
