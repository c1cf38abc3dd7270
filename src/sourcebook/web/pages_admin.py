"""Admin pages: users (add, role, disable, enable, reset), groups and their members, and the
audit log with filters and its export (CSV, JSON Lines). Admins only (the operator of an
archive without users too, so that the first account can be made from the browser); every form
carries the session's CSRF token, and every change is in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from sourcebook.accounts.audit import ACTIONS, ExportFormat
from sourcebook.errors import AccessDenied, SourcebookError
from sourcebook.services.accounts import Accounts
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


async def _admin_page(request: Request, template: str, **extra: Any) -> Response:
    """An admin page with the users and groups, a message or an error (400 with an error)."""
    runtime = request.app.state.runtime
    accounts = accounts_of(request)
    users = await runtime.read(accounts.users)
    context: dict[str, Any] = {
        "users": users,
        "user_names": [u.name for u in users],
        "groups": await runtime.read(accounts.groups),
        "roles": ACCOUNT_ROLES,
        "message": "",
        "error": "",
        "new_password": "",
    }
    context.update(extra)
    status = 400 if context["error"] else 200
    return no_store(render(request, template, context, status=status))


#: What a form's change returns: the page's message, and values to show once.
Change = Callable[[Accounts, FormData, dict[str, Any]], tuple[str, dict[str, Any]]]


async def _change(request: Request, template: str, change: Change) -> Response:
    """Run an admin form's change (admins only, CSRF-checked) on a reader thread, then show the
    page with what it says, or with the refusal."""
    if (refused := _refusal(request)) is not None:
        return refused
    await check_csrf(request)
    form = await request.form()
    who = {"by": viewer_of(request), "client": client_address(request)}
    try:
        message, shown = await request.app.state.runtime.read(
            change, accounts_of(request), form, who
        )
    except SourcebookError as exc:
        return await _admin_page(request, template, error=str(exc))
    return await _admin_page(request, template, message=message, **shown)


@router.get("/users")
async def users_page(request: Request) -> Response:
    return _refusal(request) or await _admin_page(request, "admin_users.html")


@router.post("/users")
async def add_user(request: Request) -> Response:
    def change(
        accounts: Accounts, form: FormData, who: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        name, role, password = field(form, "name"), field(form, "role"), field(form, "password")
        accounts.add_user(name, role, password or None, email=field(form, "email"), **who)
        return f"Added {name}.", {}

    return await _change(request, "admin_users.html", change)


@router.post("/users/{name}/{action}")
async def change_user(name: str, action: str, request: Request) -> Response:
    def change(
        accounts: Accounts, form: FormData, who: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        if action == "role":
            accounts.set_role(name, field(form, "role"), **who)
            return f"{name} is now {field(form, 'role')}.", {}
        if action in ("disable", "enable"):
            accounts.set_disabled(name, action == "disable", **who)
            return f"{name} is {action}d.", {}
        if action == "reset":
            password = accounts.reset_password(name, None, **who)
            return f"New password for {name}:", {"new_password": password}
        raise SourcebookError(f"Unknown action {action[:40]!r}.")

    return await _change(request, "admin_users.html", change)


@router.get("/groups")
async def groups_page(request: Request) -> Response:
    return _refusal(request) or await _admin_page(request, "admin_groups.html")


@router.post("/groups")
async def add_group(request: Request) -> Response:
    def change(
        accounts: Accounts, form: FormData, who: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        accounts.add_group(field(form, "name"), **who)
        return f"Added the group {field(form, 'name')}.", {}

    return await _change(request, "admin_groups.html", change)


@router.post("/groups/{group}/members")
async def change_members(group: str, request: Request) -> Response:
    def change(
        accounts: Accounts, form: FormData, who: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        user, member = field(form, "user"), field(form, "action") != "remove"
        accounts.set_membership(user, group, member, **who)
        return f"{user} {'added to' if member else 'removed from'} {group}.", {}

    return await _change(request, "admin_groups.html", change)


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


async def _audit_export(request: Request, fmt: ExportFormat) -> Response:
    if (refused := _refusal(request)) is not None:
        return refused
    selection = audit_filter(request)
    runtime = request.app.state.runtime
    audit = accounts_of(request).audit
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
    return StreamingResponse(
        runtime.stream(lambda out: audit.export(selection, out, fmt)),
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="sourcebook-audit.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/audit.csv")
async def audit_csv(request: Request) -> Response:
    return await _audit_export(request, "csv")


@router.get("/audit.jsonl")
async def audit_jsonl(request: Request) -> Response:
    return await _audit_export(request, "jsonl")


@router.get("")
async def admin_index(request: Request) -> Response:
    return RedirectResponse("/admin/users", status_code=303)
