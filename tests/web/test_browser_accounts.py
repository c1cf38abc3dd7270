"""Signing in, making an API token and signing out in a real browser (headless Chromium through
Playwright), against the app served by uvicorn on 127.0.0.1, with the keyboard only."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.web.test_browser import CHROMIUM_ARGS, shot  # skips the module without Chromium

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")

from sourcebook.web.app import create_app  # noqa: E402
from tests.web.client import build_archive, serve_in_thread  # noqa: E402
from tests.web.test_accounts_web import CHEAP, PASSWORD, add_users  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config = build_archive(tmp_path_factory.mktemp("browser-accounts") / "archive", **CHEAP)
    add_users(config, mona="editor")
    with serve_in_thread(create_app(config)) as base_url:
        yield base_url


def test_signing_in_and_out_in_a_browser(server: str) -> None:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        context = browser.new_context(base_url=server)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        try:
            page.goto("/account")  # not signed in: sent to the sign-in form, and back after
            page.wait_for_url(re.compile(r"/signin\?next=/account"))
            page.get_by_label("User name").fill("mona")
            page.get_by_label("Password").fill("not the password")
            page.keyboard.press("Enter")
            assert "Wrong user name or password" in page.get_by_role("alert").inner_text()
            page.get_by_label("Password").fill(PASSWORD)
            page.keyboard.press("Enter")
            page.wait_for_url(re.compile(r"/account$"))
            assert page.get_by_role("heading", name="Your account").is_visible()
            assert page.locator(".nav-account").inner_text() == "mona"
            cookie = next(c for c in context.cookies() if c["name"] == "sourcebook_session")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
            shot(page, "account")

            page.get_by_label("What it is for").fill("nightly harvest")
            page.get_by_label("Scope").select_option("write")
            page.get_by_role("button", name="Create a token").click()
            token = page.locator("#new-token").inner_text()
            stats = httpx.get(f"{server}/api/stats", headers={"Authorization": f"Bearer {token}"})
            assert stats.status_code == 200
            page.get_by_role("button", name=re.compile("^Revoke")).click()
            page.wait_for_url(re.compile(r"/account"))
            assert "revoked" in page.locator("table").inner_text()

            page.get_by_role("button", name="Sign out").click()
            page.wait_for_url(f"{server}/")
            assert page.get_by_role("link", name="Sign in").is_visible()
            assert page.goto("/account") is not None
            page.wait_for_url(re.compile(r"/signin"))
        finally:
            context.close()
            browser.close()
    assert not errors, errors
