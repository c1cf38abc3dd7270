"""The pages in a real browser: headless Chromium (Debian's, never a downloaded one) through
Playwright, against the real app served by uvicorn on 127.0.0.1.

Screenshots go to ``test-artifacts/screenshots/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"browser tests need Chromium at {CHROMIUM}", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="browser tests need the playwright package"
)

from sourcebook.web.app import create_app  # noqa: E402
from tests.web.client import build_archive, serve_in_thread  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SEED = "vsrdalhiem"
TARGET_BACKGROUND = "rgb(255, 244, 194)"  # --target in sourcebook.css


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served by uvicorn in a thread, on a free port of 127.0.0.1."""
    config = build_archive(tmp_path_factory.mktemp("browser") / "archive")
    with serve_in_thread(create_app(config)) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    """A fresh page that records console errors (a CSP violation is one)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    yield page
    context.close()
    assert not errors, errors


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def result_count(page: Any) -> int:
    text = page.locator("#summary strong").inner_text()
    return int(text.replace(",", ""))


def test_search_narrow_by_facet_and_open_a_record(page: Any) -> None:
    page.goto("/search?q=border")
    assert page.title() == "border – search · Sourcebook"
    before = result_count(page)
    assert page.locator("mark").first.is_visible()
    shot(page, "search")

    page.locator("#filters").get_by_role("link", name="Afghanistan").click()
    page.wait_for_url(re.compile(r"country=AF"))
    after = result_count(page)
    assert 0 < after < before
    assert "Country: Afghanistan" in page.locator(".chip").first.inner_text()
    shot(page, "search-narrowed")

    page.locator(".hit__title a", has_text="Putin and Rahmon").click()
    page.wait_for_url(f"**/record/{SEED}")
    assert page.locator("h1").inner_text() == (
        "Putin and Rahmon agree to bolster Tajik-Afghan border security"
    )
    shot(page, "record")


def test_a_passage_link_targets_and_highlights_the_passage(page: Any) -> None:
    page.goto("/search?q=troops")
    link = page.locator(".snippet__link").first
    href = link.get_attribute("href")
    assert href is not None and href.startswith(f"/record/{SEED}?q=troops#p-")
    link.click()
    page.wait_for_url(f"**{href}")
    ident = href.split("#", 1)[1]
    assert page.evaluate("document.querySelector(':target').id") == ident
    target = page.locator(f"#{ident}")
    assert "7,000 troops" in target.inner_text()
    assert target.evaluate("e => getComputedStyle(e).backgroundColor") == TARGET_BACKGROUND
    box = target.bounding_box()
    assert box is not None and 0 <= box["y"] < 900  # scrolled into view
    shot(page, "record-passage")


def test_copy_citation(page: Any) -> None:
    page.goto(f"/record/{SEED}")
    button = page.get_by_role("button", name="Copy citation")
    assert button.is_visible()  # shown only with JavaScript
    button.click()
    status = page.locator("#cite-status")
    status.wait_for(state="visible")
    page.wait_for_function("document.querySelector('#cite-status').textContent.length > 0")
    citation = page.locator("#cite-text").input_value()
    assert citation.startswith("Radio Free Europe/Radio Liberty, Putin and Rahmon")
    how = button.get_attribute("data-copied")
    if how == "clipboard":
        assert page.evaluate("navigator.clipboard.readText()") == citation
        assert status.inner_text() == "Copied."
    else:  # the fallback: the text is selected for Ctrl+C
        selected = page.evaluate(
            "(() => { const t = document.getElementById('cite-text');"
            " return t.value.substring(t.selectionStart, t.selectionEnd); })()"
        )
        assert selected == citation


def test_sort_applies_on_change_and_pages_link(page: Any) -> None:
    page.goto("/search?q=border")
    page.select_option("#sort", "oldest")
    page.wait_for_url(re.compile(r"sort=oldest"))
    assert page.locator(".hit__title").first.inner_text().startswith("Putin and Rahmon")
    page.goto("/search")
    page.get_by_role("link", name="Next page").click()
    page.wait_for_url(re.compile(r"page=2"))
    assert page.locator(".hits").get_attribute("start") == "11"


def test_arrow_keys_on_the_sort_control_do_not_load_a_page(page: Any) -> None:
    page.goto("/search?q=border")
    url = page.url
    page.focus("#sort")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(400)
    assert page.url == url  # reading the options loads nothing
    assert page.locator("#sort").input_value() == "oldest"
    assert page.get_by_role("button", name="Apply").is_visible()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"sort=oldest"))
    assert page.locator("#sort").input_value() == "oldest"


def test_a_query_typed_on_the_home_page_is_ranked_by_relevance(page: Any) -> None:
    page.goto("/")
    page.fill("#q", "border security")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=border"))
    assert "sort=newest" not in page.url
    assert page.locator("#sort option:checked").inner_text().lower().startswith("relevance")
    feed = page.locator("link[rel=alternate][type='application/atom+xml']")
    assert feed.count() == 1
    assert page.get_by_role("link", name=re.compile("Subscribe")).is_visible()


def test_why_this_result_opens_from_the_keyboard(page: Any) -> None:
    page.goto("/search?q=Tajikistan%20border")
    page.get_by_role("link", name="Why these results?").click()
    page.wait_for_url(re.compile(r"explain=1"))
    why = page.locator("details.why").first
    table = why.locator("table")
    assert why.get_attribute("open") is None and not table.first.is_visible()
    why.locator("summary").focus()
    page.keyboard.press("Enter")
    assert why.get_attribute("open") is not None
    assert table.first.is_visible() and "tajikistan" in table.first.inner_text()
    shot(page, "search-why")
    page.keyboard.press("Space")
    assert why.get_attribute("open") is None


def test_query_error_and_keyboard(page: Any) -> None:
    response = page.goto("/search?q=country:TJ%20(border")
    assert response is not None and response.status == 400
    # the browser logs the 400 of the page itself; that one is expected
    page.errors[:] = [e for e in page.errors if "status of 400" not in e]
    alert = page.get_by_role("alert")
    assert "This ( is never closed" in alert.inner_text()
    shot(page, "query-error")
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert skip.bounding_box() is not None and skip.bounding_box()["y"] >= 0
    page.keyboard.press("Escape")
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"


def test_pages_fit_a_phone(browser: Any, server: str) -> None:
    context = browser.new_context(
        viewport={"width": 375, "height": 740}, base_url=server, is_mobile=True
    )
    page = context.new_page()
    try:
        for url, name in (
            ("/search?q=border", "mobile-search"),
            (f"/record/{SEED}", "mobile-record"),
            ("/advanced", "mobile-advanced"),
            ("/help", "mobile-help"),
        ):
            page.goto(url)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"{url} scrolls sideways ({width}px)"
            shot(page, name)
        # the Cite-as box shows the whole line, without scrolling inside it
        page.goto(f"/record/{SEED}")
        box = page.locator("#cite-text")
        hidden = box.evaluate("e => e.scrollHeight - e.clientHeight")
        assert hidden <= 1, f"the citation box hides {hidden}px of the citation"
        box.screenshot(path=str(SCREENSHOTS / "mobile-cite.png"))
    finally:
        context.close()
