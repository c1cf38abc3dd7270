"""Admin pages: users (add, role, disable, enable, reset), groups and their members, and the
audit log with filters and its export (CSV, JSON Lines). Admins only (the operator of an
archive without users too, so that the first account can be made from the browser); every form
carries the session's CSRF token, and every change is in the audit log.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from sourcebook.accounts.audit import ACTIONS, ExportFormat
from sourcebook.errors import AccessDenied, SourcebookError
from sourcebook.store.accounts_base import ACCOUNT_ROLES, AuditFilter
from sourcebook.web.auth import accounts_of, check_csrf, client_address
from sourcebook.web.pages import render
from sourcebook.web.pages_account import field, no_store, sign_in_redirect
from sourcebook.web.viewing import viewer_of

router = APIRouter(include_in_schema=False, prefix="/admin")

#: Audit entries per page.
AUDIT_PAGE = 100


def _refusal(request: Request) -> Response | None:
    """A redirect to sign in, or None for an admin; AccessDenied for anyone else."""
    viewer = viewer_of(request)
    if not (viewer.signed_in or viewer.operator):
        return sign_in_redirect(request)
    if not viewer.has_role("admin"):
        raise AccessDenied("This page is for the archive's administrators.")
    return None


async def _users_page(request: Request, **extra: Any) -> Response:
    runtime = request.app.state.runtime
    accounts = accounts_of(request)
    context: dict[str, Any] = {
        "users": await runtime.read(accounts.users),
        "roles": ACCOUNT_ROLES,
        "message": "",
        "error": "",
        "new_password": "",
    }
    context.update(extra)
    status = 400 if context["error"] else 200
    return no_store(render(request, "admin_users.html", context, status=status))


@router.get("/users")
async def users_page(request: Request) -> Response:
    return _refusal(request) or await _users_page(request)


@router.post("/users")
async def add_user(request: Request) -> Response:
    if (refused := _refusal(request)) is not None:
        return refused
    await check_csrf(request)
    form = await request.form()
    runtime = request.app.state.runtime
    name = field(form, "name")
    try:
        await runtime.read(
            accounts_of(request).add_user,
            name,
            field(form, "role"),
            field(form, "password") or None,
            by=viewer_of(request),
            email=field(form, "email"),
            client=client_address(request),
        )
    except SourcebookError as exc:
        return await _users_page(request, error=str(exc))
    return await _users_page(request, message=f"Added {name}.")


@router.post("/users/{name}/{action}")
async def change_user(name: str, action: str, request: Request) -> Response:
    if (refused := _refusal(request)) is not None:
        return refused
    await check_csrf(request)
    form = await request.form()
    runtime = request.app.state.runtime
    accounts = accounts_of(request)
    who = {"by": viewer_of(request), "client": client_address(request)}
    try:
        if action == "role":
            await runtime.read(accounts.set_role, name, field(form, "role"), **who)
            return await _users_page(request, message=f"{name} is now {field(form, 'role')}.")
        if action in ("disable", "enable"):
            await runtime.read(accounts.set_disabled, name, action == "disable", **who)
            return await _users_page(request, message=f"{name} is {action}d.")
        if action == "reset":
            password = await runtime.read(accounts.reset_password, name, None, **who)
            return await _users_page(
                request, message=f"New password for {name}:", new_password=password
            )
    except SourcebookError as exc:
        return await _users_page(request, error=str(exc))
    return await _users_page(request, error=f"Unknown action {action[:40]!r}.")


async def _groups_page(request: Request, **extra: Any) -> Response:
    runtime = request.app.state.runtime
    accounts = accounts_of(request)
    context: dict[str, Any] = {
        "groups": await runtime.read(accounts.groups),
        "users": [u.name for u in await runtime.read(accounts.users)],
        "message": "",
        "error": "",
    }
    context.update(extra)
    status = 400 if context["error"] else 200
    return no_store(render(request, "admin_groups.html", context, status=status))


@router.get("/groups")
async def groups_page(request: Request) -> Response:
    return _refusal(request) or await _groups_page(request)


@router.post("/groups")
async def add_group(request: Request) -> Response:
    if (refused := _refusal(request)) is not None:
        return refused
    await check_csrf(request)
    form = await request.form()
    runtime = request.app.state.runtime
    name = field(form, "name")
    try:
        await runtime.read(
            accounts_of(request).add_group,
            name,
            by=viewer_of(request),
            client=client_address(request),
        )
    except SourcebookError as exc:
        return await _groups_page(request, error=str(exc))
    return await _groups_page(request, message=f"Added the group {name}.")


@router.post("/groups/{group}/members")
async def change_members(group: str, request: Request) -> Response:
    if (refused := _refusal(request)) is not None:
        return refused
    await check_csrf(request)
    form = await request.form()
    runtime = request.app.state.runtime
    user = field(form, "user")
    member = field(form, "action") != "remove"
    try:
        await runtime.read(
            accounts_of(request).set_membership,
            user,
            group,
            member,
            by=viewer_of(request),
            client=client_address(request),
        )
    except SourcebookError as exc:
        return await _groups_page(request, error=str(exc))
    done = "added to" if member else "removed from"
    return await _groups_page(request, message=f"{user} {done} {group}.")


def _day(value: str, end: bool) -> datetime | None:
    """A YYYY-MM-DD filter as the start (or end) of that day in UTC; None when empty."""
    if not value.strip():
        return None
    try:
        day = datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError as exc:
        raise SourcebookError(f"write the date as YYYY-MM-DD, not {value[:20]!r}") from exc
    return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)


def audit_filter(request: Request) -> AuditFilter:
    params = request.query_params
    before = params.get("before", "")
    return AuditFilter(
        since=_day(params.get("since", ""), end=False),
        until=_day(params.get("until", ""), end=True),
        actor=params.get("actor", "").strip()[:200],
        action=params.get("action", "").strip()[:40],
        before_id=int(before) if before.isdigit() and len(before) < 19 else None,
    )


@router.get("/audit")
async def audit_page(request: Request) -> Response:
    if (refused := _refusal(request)) is not None:
        return refused
    selection = audit_filter(request)
    runtime = request.app.state.runtime
    entries = await runtime.read(accounts_of(request).audit.entries, selection, AUDIT_PAGE + 1)
    more = len(entries) > AUDIT_PAGE
    entries = entries[:AUDIT_PAGE]
    params = {k: v for k, v in request.query_params.items() if k != "before" and v}
    context = {
        "entries": entries,
        "actions": ACTIONS,
        "filters": params,
        "next_before": entries[-1].id if more and entries else None,
    }
    return no_store(render(request, "admin_audit.html", context))


@router.get("/audit.{fmt}")
async def audit_export(fmt: str, request: Request) -> Response:
    if (refused := _refusal(request)) is not None:
        return refused
    if fmt not in ("csv", "jsonl"):
        raise SourcebookError("the audit log exports as audit.csv or audit.jsonl")
    export_format: ExportFormat = "csv" if fmt == "csv" else "jsonl"
    selection = audit_filter(request)
    runtime = request.app.state.runtime
    audit = accounts_of(request).audit
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
    return StreamingResponse(
        runtime.stream(lambda out: audit.export(selection, out, export_format)),
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="sourcebook-audit.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("")
async def admin_index(request: Request) -> Response:
    return RedirectResponse("/admin/users", status_code=303)
