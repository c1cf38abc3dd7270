"""What the store keeps of accounts: users, groups, sessions, API tokens, login failures and the
audit log (migration 0006). Part of the :class:`~sourcebook.store.base.Store` protocol; the
SQLite and PostgreSQL backends implement it in ``sqlite_accounts.py`` and
``postgres_accounts.py``, and the contract suite runs on both.

The store holds secrets only hashed (the hashing is :mod:`sourcebook.accounts`'s business): it
compares nothing itself, it only finds rows by the hashed value or a public prefix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

#: The roles a user account may have (``anonymous`` is nobody's account).
AccountRole = Literal["reader", "editor", "admin"]
ACCOUNT_ROLES: tuple[AccountRole, ...] = ("reader", "editor", "admin")
TokenScope = Literal["read", "write"]


@dataclass
class UserRecord:
    name: str
    role: AccountRole
    created_at: datetime
    email: str = ""
    #: The argon2 hash of the password; empty for an account that signs in only through single
    #: sign-on, or whose password was reset and not yet chosen.
    password_hash: str = ""
    disabled: bool = False
    groups: frozenset[str] = field(default_factory=frozenset)
    #: ``<issuer>|<subject>`` of the single sign-on identity bound to the account, or empty.
    oidc_subject: str = ""


@dataclass(frozen=True)
class SessionRecord:
    #: SHA-256 of the session id the cookie carries (a stolen database opens no session).
    id_hash: str
    user: str
    #: The session's CSRF token, put in every form and checked on every unsafe request.
    csrf: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class TokenRecord:
    #: The public start of the token (``sbk_xxxxxxxx``), shown in lists to tell tokens apart.
    prefix: str
    #: SHA-256 of the whole token.
    token_hash: str
    user: str
    scope: TokenScope
    created_at: datetime
    label: str = ""
    revoked_at: datetime | None = None
    #: The store's id (0 until stored).
    id: int = 0


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log: who did what to what, when, from where, and how it went."""

    at: datetime
    actor: str
    action: str
    target: str = ""
    #: ``ok``, ``failed`` or ``denied``.
    outcome: str = "ok"
    client: str = ""
    detail: str = ""
    id: int = 0


@dataclass(frozen=True)
class AuditFilter:
    """Which audit entries to list, newest first: all bounds optional; ``before_id`` pages."""

    since: datetime | None = None
    until: datetime | None = None
    actor: str = ""
    action: str = ""
    before_id: int | None = None


class AccountStore(Protocol):
    """The accounts half of the Store protocol."""

    # --- users and groups -------------------------------------------------------------------
    def add_user(self, user: UserRecord) -> None:
        """Store a new user (raises Conflict when the name is taken)."""
        ...

    def get_user(self, name: str) -> UserRecord | None:
        """The user with their groups, or None."""
        ...

    def list_users(self) -> list[UserRecord]:
        """Every user with their groups, by name."""
        ...

    def has_users(self) -> bool: ...

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
        """Change the given fields (raises NotFound)."""
        ...

    def add_group(self, name: str, created_at: datetime) -> None:
        """Create a group (raises Conflict when it exists)."""
        ...

    def list_groups(self) -> dict[str, list[str]]:
        """Every group with its members' names, both sorted."""
        ...

    def set_membership(self, user: str, group: str, member: bool) -> None:
        """Put the user in the group or take them out (raises NotFound for either name)."""
        ...

    # --- sessions ---------------------------------------------------------------------------
    def add_session(self, session: SessionRecord) -> None: ...

    def get_session(self, id_hash: str) -> SessionRecord | None: ...

    def delete_session(self, id_hash: str) -> None: ...

    def delete_sessions(self, user: str) -> int:
        """End every session of a user (disable, reset, password change); how many."""
        ...

    def delete_expired_sessions(self, now: datetime) -> int: ...

    # --- API tokens -------------------------------------------------------------------------
    def add_token(self, token: TokenRecord) -> int:
        """Store a token; its id."""
        ...

    def token_by_prefix(self, prefix: str) -> TokenRecord | None: ...

    def list_tokens(self, user: str) -> list[TokenRecord]:
        """The user's tokens, revoked ones too, newest first."""
        ...

    def revoke_token(self, user: str, token_id: int, at: datetime) -> bool:
        """Revoke one of the user's tokens; False when they hold no live token with this id."""
        ...

    # --- login failures (the sign-in rate limit) ---------------------------------------------
    def record_login_failure(self, keys: list[str], at: datetime) -> None: ...

    def count_login_failures(self, key: str, since: datetime) -> tuple[int, datetime | None]:
        """Failures of ``key`` since ``since``, and the oldest of them (for Retry-After)."""
        ...

    def clear_login_failures(self, key: str, before: datetime) -> None:
        """Forget ``key``'s failures (after a sign-in), and everyone's older than ``before``."""
        ...

    # --- the audit log ----------------------------------------------------------------------
    def append_audit(self, entry: AuditEntry) -> None: ...

    def list_audit(self, selection: AuditFilter, limit: int = 100) -> list[AuditEntry]:
        """Entries newest first (highest id first)."""
        ...
