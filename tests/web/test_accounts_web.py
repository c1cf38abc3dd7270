"""Accounts over HTTP: who may write (401 without credentials, 403 below editor), sessions in
cookies with CSRF, API tokens, the sign-in rate limit, the admin pages and the audit log."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sourcebook.config import Settings
from sourcebook.services import Archive
from sourcebook.services.accounts import Accounts
from sourcebook.viewer import Viewer
from sourcebook.web.app import create_app
from tests.web.client import Client, build_archive

PASSWORD = "a long enough password"
CHEAP = {"password_hash_memory_kib": 1024, "password_hash_time_cost": 1}
STORY = b"Talks on the Panj river crossing were held in Dushanbe on Monday.\n"
SEED = "vsrdalhiem"


def add_users(config: Settings, **roles: str) -> None:
    with Archive(config) as archive:
        accounts = Accounts(archive.store, config)
        for name, role in roles.items():
            accounts.add_user(name, role, PASSWORD, by=Viewer.system())


def make_token(config: Settings, user: str, scope: str) -> str:
    with Archive(config) as archive:
        token, _ = Accounts(archive.store, config).create_token(user, "test", scope)
    return token


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    config = build_archive(tmp_path_factory.mktemp("accounts") / "archive", **CHEAP)
    add_users(config, mona="editor", ali="reader", root="admin")
    return config


@pytest.fixture
def client(config: Settings) -> Iterator[Client]:
    with Client(create_app(config)) as client:
        yield client


def upload(client: Client, **kwargs: Any) -> httpx.Response:
    files = {"files": ("talks.txt", STORY, "text/plain")}
    return client.post("/api/ingest", files=files, **kwargs)


def sign_in(client: Client, name: str, password: str = PASSWORD) -> httpx.Response:
    return client.post("/signin", data={"name": name, "password": password, "next": "/account"})


def csrf_of(client: Client) -> str:
    page = client.get("/account").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_writes_need_an_editor(config: Settings, client: Client) -> None:
    # users exist: a request from this machine is no longer the operator
    refused = upload(client)
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert client.request("DELETE", f"/api/records/{SEED}").status_code == 401
    reader_write = make_token(config, "ali", "write")
    assert upload(client, headers=bearer(reader_write)).status_code == 403
    editor_read = make_token(config, "mona", "read")
    assert upload(client, headers=bearer(editor_read)).status_code == 403
    assert client.get("/api/stats", headers=bearer(editor_read)).status_code == 200
    editor_write = make_token(config, "mona", "write")
    assert upload(client, headers=bearer(editor_write)).json()["added"] == 1


def test_a_bad_bearer_token_is_refused_even_for_reading(client: Client) -> None:
    for value in ("sbk_00000000_nothing", "wrong"):
        response = client.get("/api/stats", headers=bearer(value))
        assert response.status_code == 401
        assert response.json()["type"].endswith("/not-authenticated")


def test_delete_through_the_api_is_an_editors_and_is_audited(
    tmp_path: Path,
) -> None:
    config = build_archive(tmp_path / "archive", **CHEAP)
    add_users(config, mona="editor", root="admin")
    token = make_token(config, "mona", "write")
    with Client(create_app(config)) as client:
        gone = client.request("DELETE", f"/api/records/{SEED}", headers=bearer(token))
        assert gone.json() == {"docid": SEED, "deleted": True}
        assert client.get(f"/api/records/{SEED}").status_code == 404
        again = client.request("DELETE", f"/api/records/{SEED}", headers=bearer(token))
        assert again.status_code == 404
        sign_in(client, "root")
        log = client.get("/admin/audit.jsonl", params={"action": "delete"}).text
        assert f'"target": "{SEED}"' in log and '"actor": "mona"' in log


def test_sign_in_sets_a_private_cookie_and_writes_need_the_csrf_token(client: Client) -> None:
    response = sign_in(client, "mona")
    assert response.status_code == 303 and response.headers["location"] == "/account"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http on loopback
    page = client.get("/account")
    assert "mona" in page.text and "editor" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert upload(client).status_code == 403  # the cookie alone is not enough
    csrf = csrf_of(client)
    assert upload(client, headers={"X-CSRF-Token": "forged"}).status_code == 403
    foreign = {"X-CSRF-Token": csrf, "Origin": "http://evil.example"}
    assert upload(client, headers=foreign).status_code == 403
    assert upload(client, headers={"X-CSRF-Token": csrf}).status_code == 200
    # a form field works as well as the header
    assert client.post("/signout", data={"csrf_token": "forged"}).status_code == 403
    out = client.post("/signout", data={"csrf_token": csrf})
    assert out.status_code == 303
    assert client.get("/account").status_code == 303  # back to sign in


def test_a_reader_session_reads_but_does_not_write(client: Client) -> None:
    sign_in(client, "mona")
    earlier = client.get("/account")
    sign_in(client, "ali")  # the same browser, someone else: mona's session ends
    assert "mona" in earlier.text and "ali" in client.get("/account").text
    mona_cookie = sign_in(client, "mona").headers["set-cookie"].split(";")[0]
    sign_in(client, "ali")
    stale = client.get("/account", headers={"Cookie": mona_cookie})
    assert stale.status_code == 303  # ended, not just replaced in the jar
    csrf = csrf_of(client)
    refused = upload(client, headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403 and "editor" in refused.json()["detail"]
    assert client.get("/admin/users").status_code == 403


def test_the_cookie_is_secure_when_the_archive_is_served_over_https(config: Settings) -> None:
    secure = config.model_copy(update={"public_url": "https://coi.example.org"})
    with Client(create_app(secure)) as client:
        assert "Secure" in sign_in(client, "mona").headers["set-cookie"]


def test_failed_sign_ins_are_rate_limited(tmp_path: Path) -> None:
    config = build_archive(tmp_path / "archive", login_max_failures=2, **CHEAP)
    add_users(config, mona="editor")
    with Client(create_app(config)) as client:
        for _ in range(2):
            refused = sign_in(client, "mona", "not the password")
            assert refused.status_code == 200 and "set-cookie" not in refused.headers
            assert "Wrong user name or password" in refused.text
        limited = sign_in(client, "mona")
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
        assert "set-cookie" not in limited.headers


def test_a_sign_in_form_from_another_site_is_refused(client: Client) -> None:
    response = client.post(
        "/signin",
        data={"name": "mona", "password": PASSWORD},
        headers={"Origin": "http://evil.example"},
    )
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


def test_tokens_are_made_on_the_account_page_shown_once_and_revoked(client: Client) -> None:
    sign_in(client, "mona")
    csrf = csrf_of(client)
    label = "<script>alert(1)</script>"
    made = client.post(
        "/account/tokens", data={"csrf_token": csrf, "label": label, "scope": "write"}
    )
    token = re.search(r'id="new-token">([^<]+)<', made.text)
    assert token, made.text[:1000]
    assert "<script>alert(1)</script>" not in made.text and "&lt;script&gt;" in made.text
    assert token.group(1) not in client.get("/account").text  # shown once
    assert upload(client, headers=bearer(token.group(1))).status_code == 200
    token_id = re.search(r'action="/account/tokens/(\d+)/revoke"', made.text)
    assert token_id
    revoked = client.post(f"/account/tokens/{token_id.group(1)}/revoke", data={"csrf_token": csrf})
    assert revoked.status_code == 303
    assert upload(client, headers=bearer(token.group(1))).status_code == 401


def test_admins_manage_users_and_read_the_audit_log(client: Client) -> None:
    sign_in(client, "root")
    csrf = csrf_of(client)
    assert client.post("/admin/users", data={"name": "sam", "role": "editor"}).status_code == 403
    added = client.post(
        "/admin/users",
        data={"csrf_token": csrf, "name": "sam", "role": "editor", "password": PASSWORD},
    )
    assert added.status_code == 200 and "Added sam." in added.text
    reset = client.post("/admin/users/sam/reset", data={"csrf_token": csrf})
    new_password = re.search(r'id="new-password">([^<]+)<', reset.text)
    assert new_password
    client.post("/admin/users/sam/role", data={"csrf_token": csrf, "role": "reader"})
    client.post("/admin/groups", data={"csrf_token": csrf, "name": "legal"})
    members = client.post(
        "/admin/groups/legal/members", data={"csrf_token": csrf, "user": "sam", "action": "add"}
    )
    assert "sam added to legal." in members.text
    audit = client.get("/admin/audit", params={"actor": "root"})
    for action in ("user-add", "user-reset", "user-role", "group-add", "group-member"):
        assert action in audit.text, action
    export = client.get("/admin/audit.csv", params={"action": "user-role"})
    assert export.headers["content-type"].startswith("text/csv")
    assert "editor -> reader" in export.text
    assert "attachment" in export.headers["content-disposition"]


def test_an_archive_without_users_works_as_before_on_this_machine(tmp_path: Path) -> None:
    config = build_archive(tmp_path / "archive", **CHEAP)
    app = create_app(config)
    with Client(app) as local:
        assert upload(local).status_code == 200
        # the local operator may make the first account from the browser
        assert local.get("/admin/users").status_code == 200
        assert local.post("/admin/users", data={"name": "mona", "role": "admin"}).status_code == 200
        # from now on accounts apply, here too
        assert upload(local).status_code == 401
        assert local.get("/admin/users").status_code == 303
    with Client(app, peer=("192.0.2.10", 5000)) as remote:
        assert remote.get("/admin/users").status_code == 303
