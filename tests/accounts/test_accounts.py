"""Accounts as a service: passwords, sign-in and its rate limit, sessions, tokens, the audit log
(on a real SQLite store; the store methods run on PostgreSQL too in tests/store)."""

from __future__ import annotations

import csv
import io
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from sourcebook.accounts.audit import AuditLog
from sourcebook.accounts.credentials import (
    SECRET_KEY_FILE,
    new_api_token,
    secret_key,
    sign,
    token_prefix,
    unsign,
)
from sourcebook.accounts.passwords import Passwords, WeakPassword
from sourcebook.config import Settings
from sourcebook.errors import AccessDenied, Conflict, NotAuthenticated, RateLimited
from sourcebook.services.accounts import Accounts
from sourcebook.store.accounts_base import AuditFilter
from sourcebook.store.sqlite import SQLiteStore
from sourcebook.viewer import Viewer

PASSWORD = "a long enough password"
OPERATOR = Viewer.system()


def cheap_settings(home: Path, **extra: object) -> Settings:
    """Settings whose argon2 parameters are the cheapest allowed (tests hash many passwords)."""
    return Settings(home=home, password_hash_memory_kib=1024, password_hash_time_cost=1, **extra)


@pytest.fixture
def accounts(tmp_path: Path) -> Iterator[Accounts]:
    store = SQLiteStore(tmp_path / "sourcebook.db")
    store.migrate()
    yield Accounts(store, cheap_settings(tmp_path))
    store.close()


def actions(accounts: Accounts) -> list[tuple[str, str, str, str]]:
    entries = accounts.audit.entries(AuditFilter(), 100)
    return [(e.actor, e.action, e.target, e.outcome) for e in reversed(entries)]


def test_passwords_are_hashed_with_argon2id_and_checked(tmp_path: Path) -> None:
    passwords = Passwords(cheap_settings(tmp_path))
    stored = passwords.hash(PASSWORD)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert passwords.verify(stored, PASSWORD)
    assert not passwords.verify(stored, PASSWORD + "!")
    assert not passwords.verify("", "")  # no password set: nothing matches
    assert not passwords.verify("not a hash", PASSWORD)
    for weak in ("short", "x" * 1025):
        with pytest.raises(WeakPassword):
            passwords.hash(weak)
    # a hash made with cheaper parameters than the archive's is upgraded at the next sign-in
    assert Passwords(Settings(home=tmp_path)).needs_rehash(stored)
    assert not passwords.needs_rehash(stored)


def test_cookies_are_signed_and_tokens_have_a_public_prefix(tmp_path: Path) -> None:
    key = b"k" * 32
    signed = sign("session-id", key)
    assert unsign(signed, key) == "session-id"
    assert unsign(signed, b"other key 123456") is None
    assert unsign(signed[:-1] + ("0" if signed[-1] != "0" else "1"), key) is None
    assert unsign("no-signature", key) is None
    token, prefix = new_api_token()
    assert token.startswith(prefix + "_") and len(token) > 40
    assert token_prefix(token) == prefix
    for bad in ("", "sbk_", "sbk_abc_def", "Bearer x", prefix + "_"):
        assert token_prefix(bad) is None, bad


def test_the_secret_key_is_made_once_private_to_the_owner(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "a")
    key = secret_key(settings)
    path = tmp_path / "a" / SECRET_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_key(settings) == key and len(key) >= 32
    assert secret_key(Settings(home=tmp_path / "a", secret_key="set-by-the-admin-1234")) == (
        b"set-by-the-admin-1234"
    )


def test_sign_in_starts_a_session_that_names_the_user(accounts: Accounts) -> None:
    accounts.add_user("mona", "editor", PASSWORD, by=OPERATOR)
    session = accounts.sign_in("mona", PASSWORD, client="192.0.2.1")
    identity = accounts.identify_session(session.cookie)
    assert identity is not None
    assert identity.viewer == Viewer(user="mona", role="editor")
    assert identity.method == "session" and identity.csrf == session.csrf
    assert accounts.identify_session(session.cookie + "x") is None
    accounts.sign_out(session.cookie, client="192.0.2.1")
    assert accounts.identify_session(session.cookie) is None
    assert actions(accounts) == [
        ("(operator)", "user-add", "mona", "ok"),
        ("mona", "sign-in", "mona", "ok"),
        ("mona", "sign-out", "mona", "ok"),
    ]


def test_a_refused_sign_in_does_not_say_which_part_was_wrong(accounts: Accounts) -> None:
    accounts.add_user("mona", "reader", PASSWORD, by=OPERATOR)
    with pytest.raises(NotAuthenticated) as wrong:
        accounts.sign_in("mona", "not the password", client="192.0.2.1")
    with pytest.raises(NotAuthenticated) as unknown:
        accounts.sign_in("nobody", PASSWORD, client="192.0.2.1")
    assert str(wrong.value) == str(unknown.value)
    accounts.set_disabled("mona", True, by=OPERATOR)
    with pytest.raises(NotAuthenticated):
        accounts.sign_in("mona", PASSWORD, client="192.0.2.1")
    failed = [e for e in accounts.audit.entries(AuditFilter(action="sign-in"), 10)]
    assert [(e.outcome, e.detail) for e in reversed(failed)] == [
        ("failed", "wrong password"),
        ("failed", "no such user"),
        ("failed", "disabled"),
    ]


def test_failed_sign_ins_are_limited_per_account_and_per_address(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "sourcebook.db")
    store.migrate()
    accounts = Accounts(store, cheap_settings(tmp_path, login_max_failures=3))
    accounts.add_user("mona", "reader", PASSWORD, by=OPERATOR)
    for n in range(3):
        with pytest.raises(NotAuthenticated):
            accounts.sign_in("mona", f"guess number {n}", client=f"192.0.2.{n}")
    # the account is locked for everyone, even with the right password, for the window
    with pytest.raises(RateLimited) as limited:
        accounts.sign_in("mona", PASSWORD, client="198.51.100.7")
    assert 0 < limited.value.retry_after <= 901
    # one address trying many names is limited too
    for name in ("a1", "a2", "a3"):
        with pytest.raises(NotAuthenticated):
            accounts.sign_in(name, "guess", client="203.0.113.5")
    with pytest.raises(RateLimited):
        accounts.sign_in("someone", "guess", client="203.0.113.5")
    assert accounts.audit.entries(AuditFilter(action="sign-in"), 1)[0].outcome == "denied"
    # another process sees the same counts: they live in the store
    other = Accounts(SQLiteStore(tmp_path / "sourcebook.db"), accounts.settings)
    with pytest.raises(RateLimited):
        other.sign_in("mona", PASSWORD, client="198.51.100.8")
    store.close()


def test_disable_reset_and_password_change_end_sessions(accounts: Accounts) -> None:
    accounts.add_user("mona", "editor", PASSWORD, by=OPERATOR)
    first = accounts.sign_in("mona", PASSWORD)
    accounts.set_disabled("mona", True, by=OPERATOR)
    assert accounts.identify_session(first.cookie) is None
    accounts.set_disabled("mona", False, by=OPERATOR)
    second = accounts.sign_in("mona", PASSWORD)
    new_password = accounts.reset_password("mona", by=OPERATOR)
    assert accounts.identify_session(second.cookie) is None
    third = accounts.sign_in("mona", new_password)
    with pytest.raises(AccessDenied):
        accounts.change_password("mona", "wrong current one", "another good password")
    fourth = accounts.change_password("mona", new_password, "another good password")
    assert accounts.identify_session(third.cookie) is None
    assert accounts.identify_session(fourth.cookie) is not None
    accounts.sign_in("mona", "another good password")


def test_roles_change_at_once_and_groups_reach_the_viewer(accounts: Accounts) -> None:
    accounts.add_user("mona", "reader", PASSWORD, by=OPERATOR)
    session = accounts.sign_in("mona", PASSWORD)
    accounts.set_role("mona", "admin", by=OPERATOR)
    accounts.add_group("legal", by=OPERATOR)
    accounts.set_membership("mona", "legal", True, by=OPERATOR)
    identity = accounts.identify_session(session.cookie)
    assert identity is not None
    assert identity.viewer == Viewer(user="mona", role="admin", groups=frozenset({"legal"}))
    with pytest.raises(Conflict):
        accounts.add_user("mona", "reader", None, by=OPERATOR)
    assert ("(operator)", "user-role", "mona", "ok") in actions(accounts)


def test_tokens_are_scoped_shown_once_and_revocable(accounts: Accounts) -> None:
    accounts.add_user("mona", "editor", PASSWORD, by=OPERATOR)
    read_token, read_record = accounts.create_token("mona", "laptop", "read")
    write_token, _ = accounts.create_token("mona", "", "write")
    assert read_token not in json.dumps([t.token_hash for t in accounts.tokens("mona")])
    read = accounts.identify_token(read_token)
    write = accounts.identify_token(write_token)
    assert read is not None and read.viewer.role == "reader"  # read scope caps the role
    assert write is not None and write.viewer.role == "editor" and write.method == "token"
    assert accounts.identify_token(read_token[:-2] + "xx") is None
    accounts.revoke_token("mona", read_record.id)
    assert accounts.identify_token(read_token) is None
    accounts.set_disabled("mona", True, by=OPERATOR)
    assert accounts.identify_token(write_token) is None


def test_the_audit_log_exports_csv_and_jsonl(accounts: Accounts) -> None:
    log = AuditLog(accounts.store)
    log.record("=cmd|' /C calc'!A0", "ingest", "report.pdf", detail="1 added")
    log.record_read(Viewer(user="ali", role="reader"), "vsrdalhiem", client="192.0.2.1")
    out = io.StringIO()
    assert log.export(AuditFilter(), out, "csv") == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows[0]["action"] == "read-restricted" and rows[0]["target"] == "vsrdalhiem"
    assert rows[1]["actor"].startswith("'=")  # no formula in a spreadsheet
    out = io.StringIO()
    log.export(AuditFilter(actor="ali"), out, "jsonl")
    (line,) = out.getvalue().splitlines()
    assert json.loads(line)["client"] == "192.0.2.1"
