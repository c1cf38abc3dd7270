"""Accounts: users and roles, groups, sign-in with a rate limit, sessions, API tokens, and the
audit log of all of it. The CLI (``sourcebook user``, ``sourcebook audit``) and the web layer
(sign-in, account, tokens and admin pages; the authentication middleware) call this module;
``docs/security.md`` describes what it promises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from sourcebook.accounts.audit import AuditLog, actor_name
from sourcebook.accounts.credentials import (
    hash_secret,
    new_api_token,
    new_secret,
    same_secret,
    secret_key,
    sign,
    token_prefix,
    unsign,
)
from sourcebook.accounts.passwords import Passwords, generate_password
from sourcebook.config import Settings
from sourcebook.errors import (
    AccessDenied,
    NotAuthenticated,
    NotFound,
    RateLimited,
    SourcebookError,
)
from sourcebook.store.accounts_base import (
    ACCOUNT_ROLES,
    AccountRole,
    AccountStore,
    SessionRecord,
    TokenRecord,
    TokenScope,
    UserRecord,
)
from sourcebook.store.codec import now_utc
from sourcebook.viewer import Viewer

#: User and group names: letters, digits and . _ @ - (an e-mail address fits), 1 to 64.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MAX_LABEL_CHARS = 100
#: Tokens one user may hold alive at once.
MAX_LIVE_TOKENS = 50
#: The message of every refused sign-in: it does not say whether the name exists.
SIGN_IN_REFUSED = "Wrong user name or password (or the account is disabled)."

#: How a request proved who it is: a session cookie, a user's API token, the archive's legacy
#: write token (the operator), a request from this machine to an archive with no users (the
#: operator, as before accounts), or nothing.
AuthMethod = Literal["session", "token", "operator-token", "local", ""]


@dataclass(frozen=True)
class Identity:
    """Who a request is, and how it proved it."""

    viewer: Viewer
    method: AuthMethod = ""
    #: The session's CSRF token (sessions only): every unsafe request must carry it.
    csrf: str = ""
    #: An API token of ``read`` scope: it changes nothing, not even its user's own folders.
    read_only: bool = False


@dataclass(frozen=True)
class SignedIn:
    """A new session: the signed cookie value and its CSRF token."""

    user: str
    cookie: str
    csrf: str
    expires_at: datetime


def check_name(name: str, what: str = "user") -> str:
    name = name.strip()
    if not NAME_PATTERN.match(name):
        raise SourcebookError(
            f"a {what} name has 1 to 64 letters, digits or . _ @ - and starts with a letter or "
            f"digit, not {name[:80]!r}"
        )
    return name


def check_role(role: str) -> AccountRole:
    for known in ACCOUNT_ROLES:
        if role == known:
            return known
    raise SourcebookError(f"the role is one of {', '.join(ACCOUNT_ROLES)}, not {role[:40]!r}")


class Accounts:
    """The accounts of one archive (its store)."""

    def __init__(
        self, store: AccountStore, settings: Settings, audit: AuditLog | None = None
    ) -> None:
        self.store = store
        self.settings = settings
        self.passwords = Passwords(settings)
        self.audit = audit or AuditLog(store)
        self._key: bytes | None = None

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = secret_key(self.settings)
        return self._key

    # --- users --------------------------------------------------------------------------------
    def has_users(self) -> bool:
        return self.store.has_users()

    def users(self) -> list[UserRecord]:
        return self.store.list_users()

    def user(self, name: str) -> UserRecord:
        found = self.store.get_user(name)
        if found is None:
            raise NotFound(f"there is no user named {name[:80]!r}")
        return found

    def add_user(
        self,
        name: str,
        role: str,
        password: str | None,
        *,
        by: Viewer,
        email: str = "",
        client: str = "",
    ) -> UserRecord:
        """A new account; without a password it cannot sign in until ``reset_password``."""
        user = UserRecord(
            name=check_name(name),
            role=check_role(role),
            created_at=now_utc(),
            email=email.strip()[:200],
            password_hash=self.passwords.hash(password) if password else "",
        )
        self.store.add_user(user)
        self.audit.record(actor_name(by), "user-add", user.name, client=client, detail=user.role)
        return user

    def set_role(self, name: str, role: str, *, by: Viewer, client: str = "") -> None:
        """A new role, effective on the user's next request (sessions read it each time)."""
        new_role = check_role(role)
        old = self.user(name).role
        self.store.update_user(name, role=new_role)
        self.audit.record(
            actor_name(by), "user-role", name, client=client, detail=f"{old} -> {new_role}"
        )

    def set_disabled(self, name: str, disabled: bool, *, by: Viewer, client: str = "") -> None:
        """Disable (ending every session; tokens stop working) or enable an account."""
        self.store.update_user(name, disabled=disabled)
        ended = self.store.delete_sessions(name) if disabled else 0
        action = "user-disable" if disabled else "user-enable"
        detail = f"{ended} sessions ended" if disabled else ""
        self.audit.record(actor_name(by), action, name, client=client, detail=detail)

    def reset_password(
        self, name: str, password: str | None = None, *, by: Viewer, client: str = ""
    ) -> str:
        """Give the account a new password (a random one unless given) and end its sessions;
        the password, to be handed to the user once."""
        password = password or generate_password()
        self.store.update_user(name, password_hash=self.passwords.hash(password))
        ended = self.store.delete_sessions(name)
        self.audit.record(
            actor_name(by), "user-reset", name, client=client, detail=f"{ended} sessions ended"
        )
        return password

    def change_password(self, name: str, old: str, new: str, *, client: str = "") -> SignedIn:
        """The user's own change: the old password first; every session ends and a new one
        starts for the browser that asked."""
        user = self.user(name)
        if not self.passwords.verify(user.password_hash, old):
            self.audit.record(name, "password-change", name, outcome="failed", client=client)
            raise AccessDenied("the current password is wrong")
        self.store.update_user(name, password_hash=self.passwords.hash(new))
        self.store.delete_sessions(name)
        self.audit.record(name, "password-change", name, client=client)
        return self._start_session(name)

    # --- groups -------------------------------------------------------------------------------
    def groups(self) -> dict[str, list[str]]:
        return self.store.list_groups()

    def add_group(self, name: str, *, by: Viewer, client: str = "") -> None:
        self.store.add_group(check_name(name, "group"), now_utc())
        self.audit.record(actor_name(by), "group-add", name, client=client)

    def set_membership(
        self, user: str, group: str, member: bool, *, by: Viewer, client: str = ""
    ) -> None:
        self.store.set_membership(user, group, member)
        detail = f"{'added to' if member else 'removed from'} {group}"
        self.audit.record(actor_name(by), "group-member", user, client=client, detail=detail)

    # --- signing in -------------------------------------------------------------------------
    def _limit_keys(self, name: str, client: str) -> list[str]:
        keys = [f"user:{name.strip().casefold()[:64]}"]
        if client:
            keys.append(f"client:{client[:100]}")
        return keys

    def _check_rate(self, keys: list[str], now: datetime) -> None:
        window = timedelta(seconds=self.settings.login_window_seconds)
        for key in keys:
            failures, oldest = self.store.count_login_failures(key, now - window)
            if failures >= self.settings.login_max_failures and oldest is not None:
                wait = int((oldest + window - now).total_seconds()) + 1
                what = "this account" if key.startswith("user:") else "this address"
                raise RateLimited(
                    f"Too many failed sign-ins for {what}; try again in {wait} seconds.", wait
                )

    def sign_in(self, name: str, password: str, *, client: str = "") -> SignedIn:
        """Check the password (rate-limited per account and per client address) and start a
        session. Raises NotAuthenticated (wrong or disabled) or RateLimited."""
        now = now_utc()
        name = name.strip()[:64]
        keys = self._limit_keys(name, client)
        try:
            self._check_rate(keys, now)
        except RateLimited:
            self.audit.record(name, "sign-in", name, outcome="denied", client=client,
                              detail="rate limited")  # fmt: skip
            raise
        user = self.store.get_user(name) if NAME_PATTERN.match(name) else None
        matches = self.passwords.verify(user.password_hash if user else "", password)
        if user is None or not matches or user.disabled:
            self.store.record_login_failure(keys, now)
            reason = "no such user" if user is None else "disabled" if matches else "wrong password"
            self.audit.record(name, "sign-in", name, outcome="failed", client=client,
                              detail=reason)  # fmt: skip
            raise NotAuthenticated(SIGN_IN_REFUSED)
        if self.passwords.needs_rehash(user.password_hash):
            self.store.update_user(user.name, password_hash=self.passwords.hash(password))
        window = timedelta(seconds=self.settings.login_window_seconds)
        self.store.clear_login_failures(keys[0], now - window)
        self.store.delete_expired_sessions(now)
        self.audit.record(user.name, "sign-in", user.name, client=client)
        return self._start_session(user.name)

    def sign_in_oidc(self, issuer: str, claims: dict[str, object], *, client: str = "") -> SignedIn:
        """Start a session for the provider's user (claims of a verified ID token): the account
        bound to their subject, else the one unbound account with their verified e-mail address
        (which is then bound), else, with ``oidc_create_users``, a new reader."""
        subject = f"{issuer}|{claims.get('sub', '')}"
        email = str(claims.get("email", "")).strip()
        verified = claims.get("email_verified") is True
        users = self.store.list_users()
        user = next((u for u in users if u.oidc_subject == subject), None)
        if user is None and email and verified:
            same = [u for u in users if u.email.casefold() == email.casefold()]
            unbound = [u for u in same if not u.oidc_subject]
            if len(same) == 1 and unbound:
                user = unbound[0]
                self.store.update_user(user.name, oidc_subject=subject)
        if user is None and email and verified and self.settings.oidc_create_users:
            name = re.sub(r"[^A-Za-z0-9._@-]", "-", email)[:64]
            user = self.add_user(name, "reader", None, by=Viewer.system(), email=email,
                                 client=client)  # fmt: skip
            self.store.update_user(user.name, oidc_subject=subject)
        who = email or subject
        if user is None or user.disabled:
            reason = "disabled" if user else "no matching account"
            self.audit.record(who[:200], "sign-in", who[:200], outcome="failed", client=client,
                              detail=f"single sign-on: {reason}")  # fmt: skip
            raise NotAuthenticated(
                f"{who[:200]} has no account here (or it is disabled); ask an administrator."
            )
        self.audit.record(user.name, "sign-in", user.name, client=client, detail="single sign-on")
        return self._start_session(user.name)

    def _start_session(self, name: str) -> SignedIn:
        session_id = new_secret()
        now = now_utc()
        record = SessionRecord(
            id_hash=hash_secret(session_id),
            user=name,
            csrf=new_secret(),
            created_at=now,
            expires_at=now + timedelta(hours=self.settings.session_hours),
        )
        self.store.add_session(record)
        return SignedIn(name, sign(session_id, self.key), record.csrf, record.expires_at)

    def sign_out(self, cookie: str, *, client: str = "") -> None:
        session_id = unsign(cookie, self.key)
        if session_id is None:
            return
        session = self.store.get_session(hash_secret(session_id))
        if session is not None:
            self.store.delete_session(session.id_hash)
            self.audit.record(session.user, "sign-out", session.user, client=client)

    # --- who is asking ----------------------------------------------------------------------
    def _viewer(self, name: str, scope: TokenScope = "write") -> Viewer | None:
        user = self.store.get_user(name)
        if user is None or user.disabled:
            return None
        role: AccountRole = user.role if scope == "write" else "reader"
        return Viewer(user=user.name, role=role, groups=user.groups)

    def identify_session(self, cookie: str) -> Identity | None:
        """The signed-in user of a session cookie; None when it is forged, unknown, expired, or
        its user is disabled."""
        session_id = unsign(cookie, self.key)
        if session_id is None:
            return None
        session = self.store.get_session(hash_secret(session_id))
        if session is None:
            return None
        if session.expires_at <= now_utc():
            self.store.delete_session(session.id_hash)
            return None
        viewer = self._viewer(session.user)
        return None if viewer is None else Identity(viewer, "session", session.csrf)

    def identify_token(self, token: str) -> Identity | None:
        """The user of an API token, with their role (``read`` scope: at most reader); None when
        the token is unknown, revoked, or its user is disabled."""
        prefix = token_prefix(token)
        record = self.store.token_by_prefix(prefix) if prefix else None
        if record is None or record.revoked_at is not None:
            return None
        if not same_secret(token.strip(), record.token_hash):
            return None
        viewer = self._viewer(record.user, record.scope)
        if viewer is None:
            return None
        return Identity(viewer, "token", read_only=record.scope == "read")

    # --- API tokens ---------------------------------------------------------------------------
    def tokens(self, user: str) -> list[TokenRecord]:
        return self.store.list_tokens(user)

    def create_token(
        self, user: str, label: str, scope: str, *, client: str = ""
    ) -> tuple[str, TokenRecord]:
        """A new token for ``user``: (the token, shown once; its stored record)."""
        if scope not in ("read", "write"):
            raise SourcebookError(f"a token's scope is read or write, not {scope[:20]!r}")
        self.user(user)
        live = [t for t in self.store.list_tokens(user) if t.revoked_at is None]
        if len(live) >= MAX_LIVE_TOKENS:
            raise SourcebookError(f"revoke a token first: one user holds {MAX_LIVE_TOKENS} at most")
        token, prefix = new_api_token()
        record = TokenRecord(
            prefix=prefix,
            token_hash=hash_secret(token),
            user=user,
            scope="write" if scope == "write" else "read",
            created_at=now_utc(),
            label=label.strip()[:MAX_LABEL_CHARS],
        )
        token_id = self.store.add_token(record)
        self.audit.record(user, "token-create", prefix, client=client, detail=scope)
        return token, replace(record, id=token_id)

    def revoke_token(self, user: str, token_id: int, *, client: str = "") -> None:
        if not self.store.revoke_token(user, token_id, now_utc()):
            raise NotFound("you hold no live token with this number")
        self.audit.record(user, "token-revoke", str(token_id), client=client)
