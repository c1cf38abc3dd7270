"""Pages of one's own account: sign in, sign out, change password, API tokens.

Every form posts with the session's CSRF token (``check_csrf``); the sign-in form, which has no
session yet, is checked for its origin instead. A new API token is shown once, on the page that
answers its creation (never in a URL, ``Cache-Control: no-store``); the store keeps its hash.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sourcebook.accounts.oidc import enabled as oidc_enabled
from sourcebook.errors import NotAuthenticated, RateLimited, SourcebookError
from sourcebook.services.accounts import SignedIn
from sourcebook.viewer import Viewer
from sourcebook.web.access import same_origin
from sourcebook.web.auth import (
    SESSION_COOKIE,
    accounts_of,
    check_csrf,
    client_address,
)
from sourcebook.web.pages import render
from sourcebook.web.viewing import viewer_of

router = APIRouter(include_in_schema=False)

#: Longest value read from any field of these forms.
MAX_FIELD_CHARS = 1024


def field(form: FormData, name: str, limit: int = MAX_FIELD_CHARS) -> str:
    value = form.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def safe_next(target: str) -> str:
    """Where to go after signing in: a path of this site only (never ``//host`` or a URL)."""
    target = target.strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target[:500]


def set_session_cookie(request: Request, response: Response, session: SignedIn) -> None:
    settings = request.app.state.settings
    response.set_cookie(
        SESSION_COOKIE,
        session.cookie,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=settings.public_url.startswith("https://") or request.url.scheme == "https",
        path="/",
    )


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def sign_in_redirect(request: Request) -> Response:
    """To the sign-in form, and back to this page (with its query) after."""
    query = request.url.query
    target = request.url.path + (f"?{query}" if query else "")
    return RedirectResponse(f"/signin?next={quote(target, safe='/')}", status_code=303)


def signin_context(request: Request, **values: object) -> dict[str, object]:
    context: dict[str, object] = {
        "next": safe_next(request.query_params.get("next", "/")),
        "error": "",
        "name": "",
        "sso": oidc_enabled(request.app.state.settings),
    }
    context.update(values)
    return context


@router.get("/signin")
async def sign_in_page(request: Request) -> Response:
    return no_store(render(request, "signin.html", signin_context(request)))


@router.post("/signin")
async def sign_in(request: Request) -> Response:
    same_origin(request)  # no session yet, so no CSRF token: a form from elsewhere is refused
    form = await request.form()
    name, target = field(form, "name"), safe_next(field(form, "next"))
    runtime = request.app.state.runtime
    try:
        session = await runtime.read(
            accounts_of(request).sign_in,
            name,
            field(form, "password"),
            client=client_address(request),
        )
    except (NotAuthenticated, RateLimited) as exc:
        # a refused sign-in shows the form again (200: 401 would need a WWW-Authenticate
        # challenge no browser form answers); past the rate limit, 429 with Retry-After
        status = 429 if isinstance(exc, RateLimited) else 200
        context = signin_context(request, next=target, error=str(exc), name=name[:64])
        response = no_store(render(request, "signin.html", context, status=status))
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    previous = request.cookies.get(SESSION_COOKIE, "")
    if previous:  # signing in again (as someone else, say) ends the browser's earlier session
        await runtime.read(accounts_of(request).sign_out, previous, client=client_address(request))
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, session)
    return response


@router.post("/signout")
async def sign_out(request: Request) -> Response:
    await check_csrf(request)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if cookie:
        runtime = request.app.state.runtime
        await runtime.read(accounts_of(request).sign_out, cookie, client=client_address(request))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def _account_context(request: Request) -> dict[str, object]:
    viewer = viewer_of(request)
    runtime = request.app.state.runtime
    accounts = accounts_of(request)
    user = await runtime.read(accounts.user, viewer.user)
    tokens = await runtime.read(accounts.tokens, viewer.user)
    return {"user": user, "tokens": tokens, "message": "", "error": "", "new_token": ""}


@router.get("/account")
async def account_page(request: Request) -> Response:
    if not viewer_of(request).signed_in:
        return sign_in_redirect(request)
    context = await _account_context(request)
    if request.query_params.get("changed"):
        context["message"] = "Your password is changed; your other sessions have ended."
    return no_store(render(request, "account.html", context))


async def own_form(request: Request) -> tuple[Viewer, FormData] | Response:
    """The signed-in user and their CSRF-checked form, or a redirect to sign in."""
    viewer = viewer_of(request)
    if not viewer.signed_in:
        return sign_in_redirect(request)
    await check_csrf(request)
    return viewer, await request.form()


@router.post("/account/password")
async def change_password(request: Request) -> Response:
    found = await own_form(request)
    if isinstance(found, Response):
        return found
    viewer, form = found
    new = field(form, "new_password")
    context = await _account_context(request)
    status = 200
    if new != field(form, "confirm_password"):
        context["error"], status = "The new password and its confirmation differ.", 400
    else:
        runtime = request.app.state.runtime
        try:
            session = await runtime.read(
                accounts_of(request).change_password,
                viewer.user,
                field(form, "current_password"),
                new,
                client=client_address(request),
            )
        except SourcebookError as exc:
            context["error"], status = str(exc), 400
        else:
            # the page the browser had carries the old session's CSRF token: send it back
            redirect = RedirectResponse("/account?changed=1", status_code=303)
            set_session_cookie(request, redirect, session)
            return redirect
    return no_store(render(request, "account.html", context, status=status))


@router.post("/account/tokens")
async def create_token(request: Request) -> Response:
    found = await own_form(request)
    if isinstance(found, Response):
        return found
    viewer, form = found
    runtime = request.app.state.runtime
    accounts = accounts_of(request)
    status = 200
    token = ""
    error = ""
    try:
        token, _record = await runtime.read(
            accounts.create_token,
            viewer.user,
            field(form, "label"),
            field(form, "scope"),
            client=client_address(request),
        )
    except SourcebookError as exc:
        error, status = str(exc), 400
    context = await _account_context(request)
    context["new_token"], context["error"] = token, error
    return no_store(render(request, "account.html", context, status=status))


@router.post("/account/tokens/{token_id}/revoke")
async def revoke_token(token_id: int, request: Request) -> Response:
    found = await own_form(request)
    if isinstance(found, Response):
        return found
    viewer, _form = found
    runtime = request.app.state.runtime
    await runtime.read(
        accounts_of(request).revoke_token, viewer.user, token_id, client=client_address(request)
    )
    return RedirectResponse("/account#tokens", status_code=303)
