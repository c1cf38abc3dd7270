"""Accounts on PostgreSQL (:class:`~sourcebook.store.accounts_base.AccountStore`), mixed into
:class:`~sourcebook.store.postgres.PostgresStore`: each write is one transaction, so several
server processes share users, sessions, the sign-in rate limit and the audit log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from psycopg import errors

from sourcebook.errors import Conflict, NotFound
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
from sourcebook.store.postgres_codec import Conn, utc

T = TypeVar("T")


class PostgresAccounts:
    """The accounts methods of the PostgreSQL store (needs ``_read`` and ``_transaction``)."""

    def _read(self, work: Callable[[Conn], T]) -> T:  # pragma: no cover - PostgresStore's
        raise NotImplementedError

    def _transaction(self, work: Callable[[Conn], T], what: str) -> T:  # pragma: no cover
        raise NotImplementedError

    # --- users and groups -----------------------------------------------------------------
    def add_user(self, user: UserRecord) -> None:
        def work(conn: Conn) -> None:
            try:
                conn.execute(
                    "INSERT INTO users (name, email, role, password_hash, disabled, created_at,"
                    " oidc_subject) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (
                        user.name,
                        user.email,
                        user.role,
                        user.password_hash,
                        user.disabled,
                        utc(user.created_at),
                        user.oidc_subject,
                    ),
                )
            except errors.UniqueViolation as exc:
                raise Conflict(f"there is already a user named {user.name!r}") from exc

        self._transaction(work, f"adding the user {user.name!r}")

    def get_user(self, name: str) -> UserRecord | None:
        def work(conn: Conn) -> UserRecord | None:
            row = conn.execute("SELECT * FROM users WHERE name = %s", (name,)).fetchone()
            if row is None:
                return None
            groups = conn.execute(
                "SELECT group_name FROM memberships WHERE user_name = %s", (name,)
            ).fetchall()
            return user_from_row(row, frozenset(r["group_name"] for r in groups), utc)

        return self._read(work)

    def list_users(self) -> list[UserRecord]:
        def work(conn: Conn) -> list[UserRecord]:
            found: dict[str, set[str]] = {}
            for r in conn.execute("SELECT user_name, group_name FROM memberships"):
                found.setdefault(r["user_name"], set()).add(r["group_name"])
            rows = conn.execute("SELECT * FROM users ORDER BY name").fetchall()
            return [user_from_row(r, frozenset(found.get(r["name"], ())), utc) for r in rows]

        return self._read(work)

    def has_users(self) -> bool:
        return self._read(
            lambda conn: conn.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None
        )

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
            "disabled": disabled,
            "password_hash": password_hash,
            "email": email,
            "oidc_subject": oidc_subject,
        }
        changes = {k: v for k, v in values.items() if v is not None}

        def work(conn: Conn) -> None:
            if not conn.execute("SELECT 1 FROM users WHERE name = %s", (name,)).fetchone():
                raise NotFound(f"there is no user named {name!r}")
            if changes:
                assignments = ", ".join(f"{column} = %s" for column in changes)
                conn.execute(
                    f"UPDATE users SET {assignments} WHERE name = %s",
                    (*changes.values(), name),
                )

        self._transaction(work, f"changing the user {name!r}")

    def add_group(self, name: str, created_at: datetime) -> None:
        def work(conn: Conn) -> None:
            try:
                conn.execute("INSERT INTO groups VALUES (%s, %s)", (name, utc(created_at)))
            except errors.UniqueViolation as exc:
                raise Conflict(f"there is already a group named {name!r}") from exc

        self._transaction(work, f"adding the group {name!r}")

    def list_groups(self) -> dict[str, list[str]]:
        def work(conn: Conn) -> dict[str, list[str]]:
            groups: dict[str, list[str]] = {
                r["name"]: [] for r in conn.execute("SELECT name FROM groups ORDER BY name")
            }
            for r in conn.execute(
                "SELECT group_name, user_name FROM memberships ORDER BY group_name, user_name"
            ):
                groups[r["group_name"]].append(r["user_name"])
            return groups

        return self._read(work)

    def set_membership(self, user: str, group: str, member: bool) -> None:
        def work(conn: Conn) -> None:
            if not conn.execute("SELECT 1 FROM users WHERE name = %s", (user,)).fetchone():
                raise NotFound(f"there is no user named {user!r}")
            if not conn.execute("SELECT 1 FROM groups WHERE name = %s", (group,)).fetchone():
                raise NotFound(f"there is no group named {group!r}")
            if member:
                conn.execute(
                    "INSERT INTO memberships VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    (user, group),
                )
            else:
                conn.execute(
                    "DELETE FROM memberships WHERE user_name = %s AND group_name = %s",
                    (user, group),
                )

        self._transaction(work, f"changing the members of {group!r}")

    # --- sessions ---------------------------------------------------------------------------
    def add_session(self, session: SessionRecord) -> None:
        self._transaction(
            lambda conn: conn.execute(
                "INSERT INTO sessions VALUES (%s, %s, %s, %s, %s)",
                (
                    session.id_hash,
                    session.user,
                    session.csrf,
                    utc(session.created_at),
                    utc(session.expires_at),
                ),
            ),
            "starting a session",
        )

    def get_session(self, id_hash: str) -> SessionRecord | None:
        row = self._read(
            lambda conn: conn.execute(
                "SELECT * FROM sessions WHERE id_hash = %s", (id_hash,)
            ).fetchone()
        )
        if row is None:
            return None
        return session_from_row(row, utc)

    def delete_session(self, id_hash: str) -> None:
        self._transaction(
            lambda conn: conn.execute("DELETE FROM sessions WHERE id_hash = %s", (id_hash,)),
            "ending a session",
        )

    def delete_sessions(self, user: str) -> int:
        return self._transaction(
            lambda conn: (
                conn.execute("DELETE FROM sessions WHERE user_name = %s", (user,)).rowcount
            ),
            f"ending the sessions of {user!r}",
        )

    def delete_expired_sessions(self, now: datetime) -> int:
        return self._transaction(
            lambda conn: (
                conn.execute("DELETE FROM sessions WHERE expires_at <= %s", (utc(now),)).rowcount
            ),
            "removing expired sessions",
        )

    # --- API tokens -------------------------------------------------------------------------
    def add_token(self, token: TokenRecord) -> int:
        def work(conn: Conn) -> int:
            row = conn.execute(
                "INSERT INTO api_tokens (prefix, token_hash, user_name, label, scope, created_at)"
                " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                (
                    token.prefix,
                    token.token_hash,
                    token.user,
                    token.label,
                    token.scope,
                    utc(token.created_at),
                ),
            ).fetchone()
            assert row is not None
            return int(row["id"])

        return self._transaction(work, "storing a token")

    def token_by_prefix(self, prefix: str) -> TokenRecord | None:
        row = self._read(
            lambda conn: conn.execute(
                "SELECT * FROM api_tokens WHERE prefix = %s", (prefix,)
            ).fetchone()
        )
        return token_from_row(row, utc) if row else None

    def list_tokens(self, user: str) -> list[TokenRecord]:
        rows = self._read(
            lambda conn: conn.execute(
                "SELECT * FROM api_tokens WHERE user_name = %s ORDER BY id DESC", (user,)
            ).fetchall()
        )
        return [token_from_row(row, utc) for row in rows]

    def revoke_token(self, user: str, token_id: int, at: datetime) -> bool:
        return self._transaction(
            lambda conn: (
                conn.execute(
                    "UPDATE api_tokens SET revoked_at = %s"
                    " WHERE id = %s AND user_name = %s AND revoked_at IS NULL",
                    (utc(at), token_id, user),
                ).rowcount
                == 1
            ),
            "revoking a token",
        )

    # --- login failures ---------------------------------------------------------------------
    def record_login_failure(self, keys: list[str], at: datetime) -> None:
        def work(conn: Conn) -> None:
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO login_failures (key, failed_at) VALUES (%s, %s)",
                    [(key, utc(at)) for key in keys],
                )

        self._transaction(work, "recording a failed sign-in")

    def count_login_failures(self, key: str, since: datetime) -> tuple[int, datetime | None]:
        row = self._read(
            lambda conn: conn.execute(
                "SELECT count(*) AS n, min(failed_at) AS oldest FROM login_failures"
                " WHERE key = %s AND failed_at > %s",
                (key, utc(since)),
            ).fetchone()
        )
        assert row is not None
        return int(row["n"]), row["oldest"]

    def clear_login_failures(self, key: str, before: datetime) -> None:
        def work(conn: Conn) -> None:
            conn.execute("DELETE FROM login_failures WHERE key = %s", (key,))
            conn.execute("DELETE FROM login_failures WHERE failed_at <= %s", (utc(before),))

        self._transaction(work, "clearing failed sign-ins")

    # --- the audit log ----------------------------------------------------------------------
    def append_audit(self, entry: AuditEntry) -> None:
        self._transaction(
            lambda conn: conn.execute(
                "INSERT INTO audit_log (at, actor, action, target, outcome, client, detail)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    utc(entry.at),
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
        where, params = audit_where(selection, "%s", utc)
        rows = self._read(
            lambda conn: conn.execute(
                f"SELECT * FROM audit_log {where} ORDER BY id DESC LIMIT %s",
                (*params, limit),
            ).fetchall()
        )
        return [audit_from_row(row, utc) for row in rows]
