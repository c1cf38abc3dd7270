"""Accounts on SQLite (:class:`~sourcebook.store.accounts_base.AccountStore`), mixed into
:class:`~sourcebook.store.sqlite.SQLiteStore`. Each write is one short ``BEGIN IMMEDIATE``
transaction under the store's write lock; SQLite's own locking serialises other processes."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sourcebook.errors import Conflict, NotFound, StorageError
from sourcebook.store.accounts_base import (
    AccountRole,
    AuditEntry,
    AuditFilter,
    SessionRecord,
    TokenRecord,
    UserRecord,
)
from sourcebook.store.accounts_rows import (
    audit_from_row,
    audit_where,
    session_from_row,
    token_from_row,
    user_from_row,
)
from sourcebook.store.codec import iso_datetime, parse_iso_datetime

T = TypeVar("T")


class SQLiteAccounts:
    """The accounts methods of the SQLite store (needs ``_conn`` and ``_write_lock``)."""

    _write_lock: threading.Lock

    def _conn(self) -> sqlite3.Connection:  # pragma: no cover - SQLiteStore's
        raise NotImplementedError

    def _account_write(self, work: Callable[[sqlite3.Connection], T], what: str) -> T:
        conn = self._conn()
        with self._write_lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
                result = work(conn)
                conn.execute("COMMIT")
                return result
            except sqlite3.IntegrityError as exc:
                conn.execute("ROLLBACK")
                raise Conflict(f"{what}: {exc}") from exc
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise StorageError(f"{what} failed: {exc}") from exc
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    # --- users and groups -----------------------------------------------------------------
    def add_user(self, user: UserRecord) -> None:
        def work(conn: sqlite3.Connection) -> None:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (user.name,)).fetchone():
                raise Conflict(f"there is already a user named {user.name!r}")
            conn.execute(
                "INSERT INTO users (name, email, role, password_hash, disabled, created_at,"
                " oidc_subject) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    user.name,
                    user.email,
                    user.role,
                    user.password_hash,
                    int(user.disabled),
                    iso_datetime(user.created_at),
                    user.oidc_subject,
                ),
            )

        self._account_write(work, f"adding the user {user.name!r}")

    def _groups_of(self, conn: sqlite3.Connection) -> dict[str, frozenset[str]]:
        found: dict[str, set[str]] = {}
        for row in conn.execute("SELECT user_name, group_name FROM memberships"):
            found.setdefault(row[0], set()).add(row[1])
        return {name: frozenset(groups) for name, groups in found.items()}

    def get_user(self, name: str) -> UserRecord | None:
        conn = self._conn()
        row = conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            return None
        groups = frozenset(
            r[0]
            for r in conn.execute("SELECT group_name FROM memberships WHERE user_name = ?", (name,))
        )
        return user_from_row(row, groups, parse_iso_datetime)

    def list_users(self) -> list[UserRecord]:
        conn = self._conn()
        groups = self._groups_of(conn)
        rows = conn.execute("SELECT * FROM users ORDER BY name").fetchall()
        return [
            user_from_row(row, groups.get(row["name"], frozenset()), parse_iso_datetime)
            for row in rows
        ]

    def has_users(self) -> bool:
        return self._conn().execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    def update_user(
        self,
        name: str,
        *,
        role: AccountRole | None = None,
        disabled: bool | None = None,
        password_hash: str | None = None,
        email: str | None = None,
        oidc_subject: str | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "role": role,
            "disabled": None if disabled is None else int(disabled),
            "password_hash": password_hash,
            "email": email,
            "oidc_subject": oidc_subject,
        }
        changes = {k: v for k, v in values.items() if v is not None}

        def work(conn: sqlite3.Connection) -> None:
            if not conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise NotFound(f"there is no user named {name!r}")
            if changes:
                assignments = ", ".join(f"{column} = ?" for column in changes)
                conn.execute(
                    f"UPDATE users SET {assignments} WHERE name = ?", (*changes.values(), name)
                )

        self._account_write(work, f"changing the user {name!r}")

    def add_group(self, name: str, created_at: datetime) -> None:
        def work(conn: sqlite3.Connection) -> None:
            if conn.execute("SELECT 1 FROM groups WHERE name = ?", (name,)).fetchone():
                raise Conflict(f"there is already a group named {name!r}")
            conn.execute("INSERT INTO groups VALUES (?, ?)", (name, iso_datetime(created_at)))

        self._account_write(work, f"adding the group {name!r}")

    def list_groups(self) -> dict[str, list[str]]:
        conn = self._conn()
        groups: dict[str, list[str]] = {
            row[0]: [] for row in conn.execute("SELECT name FROM groups ORDER BY name")
        }
        for row in conn.execute(
            "SELECT group_name, user_name FROM memberships ORDER BY group_name, user_name"
        ):
            groups[row[0]].append(row[1])
        return groups

    def set_membership(self, user: str, group: str, member: bool) -> None:
        def work(conn: sqlite3.Connection) -> None:
            if not conn.execute("SELECT 1 FROM users WHERE name = ?", (user,)).fetchone():
                raise NotFound(f"there is no user named {user!r}")
            if not conn.execute("SELECT 1 FROM groups WHERE name = ?", (group,)).fetchone():
                raise NotFound(f"there is no group named {group!r}")
            if member:
                conn.execute("INSERT OR IGNORE INTO memberships VALUES (?, ?)", (user, group))
            else:
                conn.execute(
                    "DELETE FROM memberships WHERE user_name = ? AND group_name = ?",
                    (user, group),
                )

        self._account_write(work, f"changing the members of {group!r}")

    # --- sessions ---------------------------------------------------------------------------
    def add_session(self, session: SessionRecord) -> None:
        self._account_write(
            lambda conn: conn.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                (
                    session.id_hash,
                    session.user,
                    session.csrf,
                    iso_datetime(session.created_at),
                    iso_datetime(session.expires_at),
                ),
            ),
            "starting a session",
        )

    def get_session(self, id_hash: str) -> SessionRecord | None:
        row = (
            self._conn().execute("SELECT * FROM sessions WHERE id_hash = ?", (id_hash,)).fetchone()
        )
        if row is None:
            return None
        return session_from_row(row, parse_iso_datetime)

    def delete_session(self, id_hash: str) -> None:
        self._account_write(
            lambda conn: conn.execute("DELETE FROM sessions WHERE id_hash = ?", (id_hash,)),
            "ending a session",
        )

    def delete_sessions(self, user: str) -> int:
        return self._account_write(
            lambda conn: conn.execute("DELETE FROM sessions WHERE user_name = ?", (user,)).rowcount,
            f"ending the sessions of {user!r}",
        )

    def delete_expired_sessions(self, now: datetime) -> int:
        return self._account_write(
            lambda conn: (
                conn.execute(
                    "DELETE FROM sessions WHERE expires_at <= ?", (iso_datetime(now),)
                ).rowcount
            ),
            "removing expired sessions",
        )

    # --- API tokens -------------------------------------------------------------------------
    def add_token(self, token: TokenRecord) -> int:
        def work(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO api_tokens (prefix, token_hash, user_name, label, scope, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    token.prefix,
                    token.token_hash,
                    token.user,
                    token.label,
                    token.scope,
                    iso_datetime(token.created_at),
                ),
            )
            return int(cur.lastrowid or 0)

        return self._account_write(work, "storing a token")

    def token_by_prefix(self, prefix: str) -> TokenRecord | None:
        row = (
            self._conn().execute("SELECT * FROM api_tokens WHERE prefix = ?", (prefix,)).fetchone()
        )
        return token_from_row(row, parse_iso_datetime) if row else None

    def list_tokens(self, user: str) -> list[TokenRecord]:
        rows = self._conn().execute(
            "SELECT * FROM api_tokens WHERE user_name = ? ORDER BY id DESC", (user,)
        )
        return [token_from_row(row, parse_iso_datetime) for row in rows]

    def revoke_token(self, user: str, token_id: int, at: datetime) -> bool:
        return self._account_write(
            lambda conn: (
                conn.execute(
                    "UPDATE api_tokens SET revoked_at = ?"
                    " WHERE id = ? AND user_name = ? AND revoked_at IS NULL",
                    (iso_datetime(at), token_id, user),
                ).rowcount
                == 1
            ),
            "revoking a token",
        )

    # --- login failures ---------------------------------------------------------------------
    def record_login_failure(self, keys: list[str], at: datetime) -> None:
        stamp = iso_datetime(at)
        self._account_write(
            lambda conn: conn.executemany(
                "INSERT INTO login_failures (key, failed_at) VALUES (?, ?)",
                [(key, stamp) for key in keys],
            ),
            "recording a failed sign-in",
        )

    def count_login_failures(self, key: str, since: datetime) -> tuple[int, datetime | None]:
        row = (
            self._conn()
            .execute(
                "SELECT count(*), min(failed_at) FROM login_failures"
                " WHERE key = ? AND failed_at > ?",
                (key, iso_datetime(since)),
            )
            .fetchone()
        )
        return int(row[0]), parse_iso_datetime(row[1])

    def clear_login_failures(self, key: str, before: datetime) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM login_failures WHERE key = ?", (key,))
            conn.execute("DELETE FROM login_failures WHERE failed_at <= ?", (iso_datetime(before),))

        self._account_write(work, "clearing failed sign-ins")

    # --- the audit log ----------------------------------------------------------------------
    def append_audit(self, entry: AuditEntry) -> None:
        self._account_write(
            lambda conn: conn.execute(
                "INSERT INTO audit_log (at, actor, action, target, outcome, client, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    iso_datetime(entry.at),
                    entry.actor,
                    entry.action,
                    entry.target,
                    entry.outcome,
                    entry.client,
                    entry.detail,
                ),
            ),
            "writing the audit log",
        )

    def list_audit(self, selection: AuditFilter, limit: int = 100) -> list[AuditEntry]:
        where, params = audit_where(selection, "?", iso_datetime)
        rows = self._conn().execute(
            f"SELECT * FROM audit_log {where} ORDER BY id DESC LIMIT ?", (*params, limit)
        )
        return [audit_from_row(row, parse_iso_datetime) for row in rows]
