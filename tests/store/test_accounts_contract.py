"""The accounts half of the Store contract (users, groups, sessions, tokens, login failures,
audit log), on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sourcebook.errors import Conflict, NotFound
from sourcebook.store.accounts_base import (
    AuditEntry,
    AuditFilter,
    SessionRecord,
    TokenRecord,
    UserRecord,
)
from sourcebook.store.base import Store

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def add(store: Store, name: str, role: str = "reader") -> None:
    store.add_user(UserRecord(name=name, role=role, created_at=T0, password_hash="h-" + name))  # type: ignore[arg-type]


def test_users_are_added_read_listed_and_changed(store: Store) -> None:
    assert not store.has_users()
    add(store, "mona", "editor")
    add(store, "ali")
    assert store.has_users()
    with pytest.raises(Conflict):
        add(store, "mona")
    mona = store.get_user("mona")
    assert mona is not None
    assert (mona.role, mona.password_hash, mona.disabled, mona.created_at) == (
        "editor",
        "h-mona",
        False,
        T0,
    )
    assert store.get_user("nobody") is None
    assert [u.name for u in store.list_users()] == ["ali", "mona"]
    store.update_user("ali", role="admin", disabled=True, email="ali@example.org")
    ali = store.get_user("ali")
    assert ali is not None
    assert (ali.role, ali.disabled, ali.email, ali.password_hash) == (
        "admin",
        True,
        "ali@example.org",
        "h-ali",
    )
    store.update_user("ali", disabled=False, password_hash="new", oidc_subject="https://id|42")
    ali = store.get_user("ali")
    assert ali is not None and not ali.disabled and ali.password_hash == "new"
    assert ali.oidc_subject == "https://id|42" and mona.oidc_subject == ""
    with pytest.raises(NotFound):
        store.update_user("nobody", role="reader")


def test_groups_and_memberships(store: Store) -> None:
    add(store, "mona")
    add(store, "ali")
    store.add_group("legal", T0)
    store.add_group("research", T0)
    with pytest.raises(Conflict):
        store.add_group("legal", T0)
    store.set_membership("mona", "legal", True)
    store.set_membership("mona", "legal", True)  # twice is once
    store.set_membership("ali", "legal", True)
    store.set_membership("mona", "research", True)
    assert store.list_groups() == {"legal": ["ali", "mona"], "research": ["mona"]}
    mona = store.get_user("mona")
    assert mona is not None and mona.groups == frozenset({"legal", "research"})
    assert {u.name: u.groups for u in store.list_users()}["ali"] == frozenset({"legal"})
    store.set_membership("mona", "legal", False)
    assert store.list_groups()["legal"] == ["ali"]
    with pytest.raises(NotFound):
        store.set_membership("nobody", "legal", True)
    with pytest.raises(NotFound):
        store.set_membership("mona", "nogroup", True)


def test_sessions_are_found_by_hash_and_ended(store: Store) -> None:
    add(store, "mona")
    add(store, "ali")
    live = SessionRecord("hash-1", "mona", "csrf-1", T0, T0 + timedelta(hours=12))
    store.add_session(live)
    store.add_session(SessionRecord("hash-2", "mona", "csrf-2", T0, T0 + timedelta(hours=1)))
    store.add_session(SessionRecord("hash-3", "ali", "csrf-3", T0, T0 + timedelta(hours=1)))
    assert store.get_session("hash-1") == live
    assert store.get_session("unknown") is None
    assert store.delete_expired_sessions(T0 + timedelta(hours=2)) == 2
    assert store.get_session("hash-2") is None and store.get_session("hash-1") == live
    store.add_session(SessionRecord("hash-4", "mona", "csrf-4", T0, T0 + timedelta(hours=1)))
    assert store.delete_sessions("mona") == 2
    assert store.get_session("hash-1") is None
    store.add_session(SessionRecord("hash-5", "mona", "csrf-5", T0, T0 + timedelta(hours=1)))
    store.delete_session("hash-5")
    assert store.get_session("hash-5") is None


def test_tokens_are_found_by_prefix_listed_and_revoked(store: Store) -> None:
    add(store, "mona")
    add(store, "ali")
    first = store.add_token(TokenRecord("sbk_aaaa1111", "th-1", "mona", "read", T0, "laptop"))
    second = store.add_token(TokenRecord("sbk_bbbb2222", "th-2", "mona", "write", T0))
    assert second > first
    found = store.token_by_prefix("sbk_aaaa1111")
    assert found is not None
    assert (found.id, found.user, found.scope, found.label, found.token_hash) == (
        first,
        "mona",
        "read",
        "laptop",
        "th-1",
    )
    assert found.revoked_at is None
    assert store.token_by_prefix("sbk_zzzz0000") is None
    assert [t.id for t in store.list_tokens("mona")] == [second, first]
    assert store.list_tokens("ali") == []
    assert not store.revoke_token("ali", first, T0)  # not hers
    assert store.revoke_token("mona", first, T0 + timedelta(minutes=5))
    assert not store.revoke_token("mona", first, T0)  # already revoked
    revoked = store.token_by_prefix("sbk_aaaa1111")
    assert revoked is not None and revoked.revoked_at == T0 + timedelta(minutes=5)


def test_login_failures_are_counted_in_a_window(store: Store) -> None:
    for minute in (0, 5, 10):
        store.record_login_failure(
            ["user:mona", "client:192.0.2.1"], T0 + timedelta(minutes=minute)
        )
    count, oldest = store.count_login_failures("user:mona", T0 + timedelta(minutes=1))
    assert (count, oldest) == (2, T0 + timedelta(minutes=5))
    assert store.count_login_failures("client:192.0.2.1", T0 - timedelta(minutes=1))[0] == 3
    assert store.count_login_failures("user:ali", T0) == (0, None)
    store.clear_login_failures("user:mona", before=T0 + timedelta(minutes=1))
    assert store.count_login_failures("user:mona", T0 - timedelta(days=1))[0] == 0
    # the address keeps its recent failures; the one older than ``before`` is gone
    assert store.count_login_failures("client:192.0.2.1", T0 - timedelta(days=1))[0] == 2


def test_the_audit_log_lists_newest_first_with_filters(store: Store) -> None:
    for n, (actor, action) in enumerate(
        [("mona", "sign-in"), ("ali", "sign-in"), ("mona", "ingest"), ("mona", "delete")]
    ):
        store.append_audit(
            AuditEntry(T0 + timedelta(hours=n), actor, action, f"t{n}", client="192.0.2.1")
        )
    everything = store.list_audit(AuditFilter())
    assert [e.target for e in everything] == ["t3", "t2", "t1", "t0"]
    assert everything[0].at == T0 + timedelta(hours=3) and everything[0].client == "192.0.2.1"
    assert [e.target for e in store.list_audit(AuditFilter(actor="mona"))] == ["t3", "t2", "t0"]
    assert [e.target for e in store.list_audit(AuditFilter(action="sign-in"))] == ["t1", "t0"]
    window = AuditFilter(since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=2))
    assert [e.target for e in store.list_audit(window)] == ["t2", "t1"]
    page = store.list_audit(AuditFilter(), limit=2)
    older = store.list_audit(AuditFilter(before_id=page[-1].id), limit=2)
    assert [e.target for e in page + older] == ["t3", "t2", "t1", "t0"]
