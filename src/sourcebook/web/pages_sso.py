"""Single sign-on pages (OpenID Connect; the app includes them only when ``SOURCEBOOK_OIDC_ISSUER``
is set):
``/signin/oidc`` sends the browser to the provider; ``/signin/oidc/callback`` checks what comes
back (state against a signed, short-lived, HttpOnly cookie; the ID token in
:mod:`sourcebook.accounts.oidc`), finds the account and starts a session."""

from __future__ import annotations

import base64
import binascii
import hmac

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sourcebook.accounts.credentials import sign, unsign
from sourcebook.accounts.oidc import OidcClient, PendingSignIn
from sourcebook.config import Settings
from sourcebook.errors import NotAuthenticated
from sourcebook.web.auth import accounts_of, client_address
from sourcebook.web.pages import render
from sourcebook.web.pages_account import (
    no_store,
    safe_next,
    set_session_cookie,
    signin_context,
)

router = APIRouter(include_in_schema=False)

PENDING_COOKIE = "sourcebook_oidc"
#: Seconds a browser has to come back from the provider.
PENDING_SECONDS = 600
CALLBACK = "/signin/oidc/callback"


def oidc_client(request: Request) -> OidcClient:
    settings: Settings = request.app.state.settings
    client = getattr(request.app.state, "oidc_client", None)
    if not isinstance(client, OidcClient):  # one per app: it keeps the discovery document
        client = request.app.state.oidc_client = OidcClient(settings)
    return client


def redirect_uri(request: Request) -> str:
    settings: Settings = request.app.state.settings
    base = settings.public_url or f"{request.url.scheme}://{request.url.netloc}"
    return base + CALLBACK


def _refused(request: Request, message: str) -> Response:
    return no_store(render(request, "signin.html", signin_context(request, error=message), 400))


@router.get("/signin/oidc")
async def start(request: Request) -> Response:
    client = oidc_client(request)
    runtime = request.app.state.runtime
    target = safe_next(request.query_params.get("next", "/"))
    try:
        url, pending = await runtime.read(client.start, redirect_uri(request), target)
    except NotAuthenticated as exc:
        return _refused(request, str(exc))
    response = RedirectResponse(url, status_code=303)
    key = accounts_of(request).key
    response.set_cookie(
        PENDING_COOKIE,
        sign(base64.urlsafe_b64encode(pending.dumps().encode("utf-8")).decode("ascii"), key),
        max_age=PENDING_SECONDS,
        httponly=True,
        samesite="lax",  # the provider's redirect back is a top-level GET: Lax sends it
        secure=redirect_uri(request).startswith("https://"),
        path=CALLBACK,
    )
    return response


@router.get(CALLBACK)
async def callback(request: Request) -> Response:
    client = oidc_client(request)
    accounts = accounts_of(request)
    runtime = request.app.state.runtime
    params = request.query_params
    signed = request.cookies.get(PENDING_COOKIE, "")
    value = unsign(signed, accounts.key) if signed else None
    pending = None
    if value is not None:
        try:
            pending = PendingSignIn.loads(base64.urlsafe_b64decode(value).decode("utf-8"))
        except (ValueError, binascii.Error):
            pending = None
    if pending is None or not hmac.compare_digest(
        params.get("state", "").encode("utf-8"), pending.state.encode("utf-8")
    ):
        return _refused(request, "This sign-in expired or was not started here; try again.")
    if params.get("error") or not params.get("code"):
        reason = params.get("error_description") or params.get("error") or "no code"
        return _refused(request, f"The sign-on provider did not sign you in ({reason[:200]}).")
    try:
        claims = await runtime.read(
            client.finish, redirect_uri(request), params.get("code", ""), pending
        )
        session = await runtime.read(
            accounts.sign_in_oidc, client.issuer, claims, client=client_address(request)
        )
    except NotAuthenticated as exc:
        return _refused(request, str(exc))
    response = RedirectResponse(pending.next, status_code=303)
    set_session_cookie(request, response, session)
    response.delete_cookie(PENDING_COOKIE, path=CALLBACK)
    return response
