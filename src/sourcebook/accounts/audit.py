"""The audit log: sign-ins (succeeded and failed), writes, deletions, permission changes and
reads of restricted records, each with who, what, when, from where and how it went.

Entries are appended to the store (the ``audit_log`` table) and never changed; admins read
them on ``/admin/audit`` and export them (CSV or JSON Lines) there or with ``sourcebook audit``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Literal

from sourcebook.store.accounts_base import AccountStore, AuditEntry, AuditFilter
from sourcebook.store.codec import now_utc
from sourcebook.viewer import Viewer

#: What the log records (``action``); docs/security.md says when each is written.
ACTIONS = (
    "sign-in",
    "sign-out",
    "password-change",
    "user-add",
    "user-role",
    "user-disable",
    "user-enable",
    "user-reset",
    "group-add",
    "group-member",
    "token-create",
    "token-revoke",
    "ingest",
    "delete",
    "read-restricted",
)
ExportFormat = Literal["csv", "jsonl"]
EXPORT_COLUMNS = ("id", "at", "actor", "action", "target", "outcome", "client", "detail")
#: Entries read from the store per page of an export.
EXPORT_PAGE = 1000
#: Longest text kept in ``target`` and ``detail``.
MAX_FIELD_CHARS = 2000


def actor_name(viewer: Viewer) -> str:
    """How the log names who acted: the user, ``(operator)`` or ``(anonymous)``."""
    if viewer.user:
        return viewer.user
    return "(operator)" if viewer.operator else "(anonymous)"


class AuditLog:
    """Appends to and reads the store's audit log."""

    def __init__(self, store: AccountStore) -> None:
        self.store = store

    def record(
        self,
        actor: str,
        action: str,
        target: str = "",
        *,
        outcome: str = "ok",
        client: str = "",
        detail: str = "",
    ) -> None:
        self.store.append_audit(
            AuditEntry(
                at=now_utc(),
                actor=actor[:200],
                action=action,
                target=target[:MAX_FIELD_CHARS],
                outcome=outcome,
                client=client[:100],
                detail=detail[:MAX_FIELD_CHARS],
            )
        )

    def record_read(self, viewer: Viewer, docid: str, client: str = "") -> None:
        """Record that ``viewer`` read a restricted record (called by the access filter's read
        paths for records outside the public collections)."""
        self.record(actor_name(viewer), "read-restricted", docid, client=client)

    def entries(self, selection: AuditFilter, limit: int = 100) -> list[AuditEntry]:
        return self.store.list_audit(selection, limit)

    def iter_entries(self, selection: AuditFilter) -> Iterator[AuditEntry]:
        """Every selected entry, newest first, read page by page."""
        before = selection.before_id
        while True:
            page = self.store.list_audit(
                AuditFilter(
                    since=selection.since,
                    until=selection.until,
                    actor=selection.actor,
                    action=selection.action,
                    before_id=before,
                ),
                EXPORT_PAGE,
            )
            yield from page
            if len(page) < EXPORT_PAGE:
                return
            before = page[-1].id

    def export(self, selection: AuditFilter, out: IO[str], fmt: ExportFormat) -> int:
        """Write the selected entries to ``out``; how many."""
        count = 0
        writer = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
        if writer is not None:
            writer.writerow(EXPORT_COLUMNS)
        for entry in self.iter_entries(selection):
            row = entry_row(entry)
            if writer is not None:
                writer.writerow([_csv_safe(str(row[c])) for c in EXPORT_COLUMNS])
            else:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
        return count


def entry_row(entry: AuditEntry) -> dict[str, object]:
    return {
        "id": entry.id,
        "at": _iso(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "outcome": entry.outcome,
        "client": entry.client,
        "detail": entry.detail,
    }


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _csv_safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection): a user name or a target
    that starts with = + - @ gets a leading apostrophe."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
