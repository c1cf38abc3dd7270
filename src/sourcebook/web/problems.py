"""Errors as responses: RFC 9457 problem details under ``/api``, an HTML page elsewhere.

Every :class:`~sourcebook.errors.SourcebookError` maps to a status and a stable problem type URI
(``https://sourcebook.dev/problems/<name>``). Nothing a user sees carries a stack trace: server
errors are logged with their cause and answered with a generic message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sourcebook.api.schemas import PROBLEM_BASE
from sourcebook.errors import (
    AccessDenied,
    ConfigError,
    Conflict,
    InputTooLarge,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    ParseError,
    QuerySyntaxError,
    RateLimited,
    SearchTimeout,
    SourcebookError,
    StorageError,
    UnsupportedFormat,
)

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
API_PREFIX = "/api"
SERVER_ERROR_DETAIL = "The archive could not complete this request. The error has been logged."


@dataclass(frozen=True)
class Kind:
    status: int
    name: str
    title: str
    #: Whether a server-side (5xx) problem's message is shown: it says what the user can do.
    public: bool = False

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.name


#: The most specific class wins (the lookup walks the exception's MRO).
KINDS: dict[type[SourcebookError], Kind] = {
    QuerySyntaxError: Kind(400, "query-syntax", "The search query is malformed"),
    NotFound: Kind(404, "not-found", "Not found"),
    InputTooLarge: Kind(413, "input-too-large", "Input too large"),
    Conflict: Kind(409, "conflict", "Conflict"),
    UnsupportedFormat: Kind(415, "unsupported-format", "Unsupported format"),
    ParseError: Kind(422, "parse-error", "The input could not be read"),
    NotAuthenticated: Kind(401, "not-authenticated", "Sign in first"),
    AccessDenied: Kind(403, "access-denied", "Access denied"),
    RateLimited: Kind(429, "rate-limited", "Too many attempts"),
    InvalidInput: Kind(422, "invalid-input", "Invalid input"),
    ConfigError: Kind(500, "config-error", "The archive is misconfigured"),
    StorageError: Kind(503, "storage-error", "The archive's storage failed"),
    SearchTimeout: Kind(503, "search-timeout", "The search took too long", public=True),
    SourcebookError: Kind(400, "invalid-request", "Invalid request"),
}
VALIDATION = Kind(422, "validation", "Invalid request parameters")
INTERNAL = Kind(500, "internal-error", "Internal error")
_HTTP_KINDS = {
    400: Kind(400, "bad-request", "Bad request"),
    404: Kind(404, "not-found", "Not found"),
    405: Kind(405, "method-not-allowed", "Method not allowed"),
    411: Kind(411, "length-required", "Length required"),
    413: Kind(413, "input-too-large", "Input too large"),
}


def kind_of(exc: SourcebookError) -> Kind:
    for cls in type(exc).__mro__:
        if cls in KINDS:
            return KINDS[cls]
    return KINDS[SourcebookError]


def http_kind(status: int) -> Kind:
    known = _HTTP_KINDS.get(status)
    if known is not None:
        return known
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return Kind(status, f"http-{status}", phrase)


def is_api(request: Request) -> bool:
    path = request.url.path
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def problem_response(
    request: Request,
    kind: Kind,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": kind.type,
        "title": kind.title,
        "status": kind.status,
        "detail": detail,
        "instance": request.url.path,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, kind.status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def error_page(request: Request, kind: Kind, detail: str) -> Response:
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request,
        "error.html",
        {"status": kind.status, "title": kind.title, "detail": detail, "query": ""},
        status_code=kind.status,
    )
    return response


def respond(request: Request, kind: Kind, detail: str, **extra: Any) -> Response:
    if kind.status >= 500 and not kind.public:
        detail = SERVER_ERROR_DETAIL
    if is_api(request):
        return problem_response(request, kind, detail, **extra)
    return error_page(request, kind, detail)


async def on_sourcebook_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SourcebookError)
    kind = kind_of(exc)
    if kind.public:
        log.warning("%s %s refused: %s", request.method, request.url.path, exc)
    elif kind.status >= 500:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    if isinstance(exc, QuerySyntaxError):
        return respond(request, kind, exc.message, position=exc.position, query=exc.query or None)
    response = respond(request, kind, str(exc))
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, NotAuthenticated) and is_api(request):
        response.headers["WWW-Authenticate"] = 'Bearer realm="sourcebook"'
    return response


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    issues = [
        {
            "loc": [p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors()
    ]
    detail = "; ".join(
        f"{'.'.join(str(p) for p in i['loc'][1:]) or 'request'}: {i['msg']}" for i in issues
    )
    return respond(request, VALIDATION, detail or "The request is invalid.", errors=issues)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    kind = http_kind(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) else kind.title
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"There is nothing at {request.url.path}."
    response = respond(request, kind, detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def on_unexpected_error(request: Request, exc: Exception) -> Response:
    log.error("%s %s failed unexpectedly", request.method, request.url.path, exc_info=exc)
    return respond(request, INTERNAL, SERVER_ERROR_DETAIL)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SourcebookError, on_sourcebook_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected_error)
