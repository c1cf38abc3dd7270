"""Rows of the accounts tables as records, and the audit listing's WHERE clause: shared by the
SQLite and PostgreSQL backends, which differ only in how a time is stored (ISO text or
``timestamptz``): each passes its ``when`` converter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sourcebook.store.accounts_base import (
    AuditEntry,
    AuditFilter,
    SessionRecord,
    TokenRecord,
    UserRecord,
)

#: Turns a stored time (or NULL) into an aware datetime (or None).
When = Callable[[Any], datetime | None]


def _required(when: When, value: Any) -> datetime:
    found = when(value)
    assert found is not None
    return found


def user_from_row(row: Any, groups: frozenset[str], when: When) -> UserRecord:
    return UserRecord(
        name=row["name"],
        role=row["role"],
        created_at=_required(when, row["created_at"]),
        email=row["email"],
        password_hash=row["password_hash"],
        disabled=bool(row["disabled"]),
        groups=groups,
        oidc_subject=row["oidc_subject"],
    )


def session_from_row(row: Any, when: When) -> SessionRecord:
    return SessionRecord(
        id_hash=row["id_hash"],
        user=row["user_name"],
        csrf=row["csrf"],
        created_at=_required(when, row["created_at"]),
        expires_at=_required(when, row["expires_at"]),
    )


def token_from_row(row: Any, when: When) -> TokenRecord:
    return TokenRecord(
        id=int(row["id"]),
        prefix=row["prefix"],
        token_hash=row["token_hash"],
        user=row["user_name"],
        scope=row["scope"],
        label=row["label"],
        created_at=_required(when, row["created_at"]),
        revoked_at=when(row["revoked_at"]),
    )


def audit_from_row(row: Any, when: When) -> AuditEntry:
    return AuditEntry(
        id=int(row["id"]),
        at=_required(when, row["at"]),
        actor=row["actor"],
        action=row["action"],
        target=row["target"],
        outcome=row["outcome"],
        client=row["client"],
        detail=row["detail"],
    )


def audit_where(
    selection: AuditFilter, mark: str, stamp: Callable[[datetime], Any]
) -> tuple[str, list[Any]]:
    """The WHERE clause of an audit listing (shared by both backends: ``mark`` is ``?`` or
    ``%s``, ``stamp`` turns a datetime into the backend's parameter)."""
    clauses: list[str] = []
    params: list[Any] = []
    if selection.since is not None:
        clauses.append(f"at >= {mark}")
        params.append(stamp(selection.since))
    if selection.until is not None:
        clauses.append(f"at <= {mark}")
        params.append(stamp(selection.until))
    if selection.actor:
        clauses.append(f"actor = {mark}")
        params.append(selection.actor)
    if selection.action:
        clauses.append(f"action = {mark}")
        params.append(selection.action)
    if selection.before_id is not None:
        clauses.append(f"id < {mark}")
        params.append(selection.before_id)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params
