"""The workspace in a real browser (Debian's Chromium through Playwright, the app served by
uvicorn on 127.0.0.1): sign in, search, save the search, quote two passages into a folder with
notes, open the folder and download its research bundle as DOCX and Markdown, partly with the
keyboard alone. Every page on the way is checked with axe-core (axe-playwright-python): a
violation of impact "serious" or "critical" fails the test."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.test_browser import CHROMIUM_ARGS, shot  # skips the module without Chromium

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
axe_playwright = pytest.importorskip(
    "axe_playwright_python.sync_playwright", reason="the accessibility checks need axe"
)
docx = pytest.importorskip("docx")

from sourcebook.services import Archive  # noqa: E402
from sourcebook.services.accounts import Accounts  # noqa: E402
from sourcebook.viewer import Viewer  # noqa: E402
from sourcebook.web.app import create_app  # noqa: E402
from tests.web.client import SEED_BODY, build_archive, serve_in_thread  # noqa: E402
from tests.web.test_accounts_web import CHEAP, PASSWORD  # noqa: E402

SEED = "vsrdalhiem"
#: axe impacts that fail the test ("minor" and "moderate" are reported, not failed).
FAILING_IMPACTS = ("serious", "critical")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config = build_archive(tmp_path_factory.mktemp("browser-workspace") / "archive", **CHEAP)
    with Archive(config) as archive:
        accounts = Accounts(archive.store, config)
        accounts.add_user("mona", "editor", PASSWORD, by=Viewer.system(), email="mona@example.org")
        accounts.add_user("ada", "admin", PASSWORD, by=Viewer.system())
    with serve_in_thread(create_app(config)) as base_url:
        yield base_url


class AxeCheck:
    """Runs axe-core on pages and keeps the violations that fail the test."""

    def __init__(self) -> None:
        self.axe = axe_playwright.Axe()
        self.failures: list[str] = []
        #: Every violation found, of any impact (printed, for the record).
        self.found: list[str] = []
        self.checked: list[str] = []

    def __call__(self, page: Any, name: str, open_all: bool = False) -> None:
        """``open_all``: open every disclosure first (axe skips what is hidden)."""
        if open_all:
            page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        results = self.axe.run(page)
        self.checked.append(name)
        for violation in results.response["violations"]:
            self.found.append(f"{name}: {violation['id']} ({violation['impact']})")
            if violation["impact"] in FAILING_IMPACTS:
                targets = [str(node["target"]) for node in violation["nodes"][:3]]
                self.failures.append(
                    f"{name}: {violation['id']} ({violation['impact']}): "
                    f"{violation['help']} at {', '.join(targets)}"
                )


def passage_text(seq: int) -> str:
    return SEED_BODY.split("\n\n")[seq].strip()


def test_a_caseworker_builds_a_folder_and_downloads_the_bundle(server: str, tmp_path: Path) -> None:
    axe = AxeCheck()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            base_url=server, viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            # signing in, from the folders page it sends us away from
            page.goto("/folders")
            page.wait_for_url(re.compile(r"/signin\?next=/folders"))
            axe(page, "sign-in")
            page.get_by_label("User name").fill("mona")
            page.get_by_label("Password").fill(PASSWORD)
            page.keyboard.press("Enter")
            page.wait_for_url(f"{server}/folders")
            assert page.get_by_role("heading", name="Your folders").is_visible()
            axe(page, "folders (empty)")

            # search, and save the search with the keyboard alone
            page.get_by_role("link", name="Search", exact=True).click()
            page.get_by_label("Query").fill("border")
            page.keyboard.press("Enter")
            page.wait_for_url(re.compile(r"/search\?q=border"))
            axe(page, "search", open_all=True)
            page.reload()
            page.locator("summary", has_text="Save this search").focus()
            page.keyboard.press("Enter")  # opens the disclosure
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.id") == "saved-name"
            page.keyboard.press("Control+A")
            page.keyboard.type("Tajik border")
            page.keyboard.press("Tab")
            page.keyboard.press("w")  # the select's type-ahead: Weekly
            page.keyboard.press("Tab")
            page.keyboard.press("Enter")
            page.wait_for_url(re.compile(r"notice=saved"))
            assert "Your search is saved." in page.get_by_role("status").first.inner_text()
            page.get_by_role("link", name="Saved searches").click()
            row = page.get_by_role("row", name=re.compile("Tajik border"))
            assert "weekly" in row.inner_text()
            feed = row.get_by_role("link", name=re.compile("Atom feed"))
            assert feed.get_attribute("href") == "/search.atom?q=border"
            axe(page, "saved searches")

            # quote the second passage into a new folder, by pointer
            page.goto(f"/record/{SEED}")
            page.locator("#p-1 summary").click()
            passage = page.locator("#p-1")
            passage.get_by_label("Folder", exact=True).select_option("new")
            passage.get_by_label("New folder's title").fill("Case 14: Tajik border")
            passage.get_by_label("Note").fill("Putin calls Tajikistan a key country")
            page.locator("#p-0 summary").click()  # open a second form, for the screenshot
            shot(page, "record-quote-forms")
            page.screenshot(path="/tmp/record-quote-forms.png", full_page=False)
            axe(page, "record (quote forms open)", open_all=True)
            passage.get_by_role("button", name="Quote passage 2").click()
            page.wait_for_url(re.compile(r"notice=quoted.*#p-1$"))

            # and the first passage into the same folder, with the keyboard alone
            page.locator("#p-0 summary").focus()
            page.keyboard.press("Enter")
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.name") == "folder"
            assert "Case 14" in page.evaluate(
                "document.activeElement.selectedOptions[0].textContent"
            )
            page.keyboard.press("Tab")  # the new folder's title, left empty
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.name") == "note"
            page.keyboard.type("The 201st division stays")
            page.keyboard.press("Tab")
            page.keyboard.press("Enter")
            page.wait_for_url(re.compile(r"notice=quoted.*#p-0$"))
            page.get_by_role("link", name="Open the folder").click()
            page.wait_for_url(re.compile(r"/folders/\d+$"))

            items = page.locator(".folder-item")
            assert items.count() == 2
            assert passage_text(1)[:60] in items.nth(0).inner_text()
            assert "para. 2" in items.nth(0).inner_text()
            assert "para. 1" in items.nth(1).inner_text()
            assert page.get_by_label("Note on item 2").input_value() == "The 201st division stays"
            shot(page, "folder")
            page.screenshot(path="/tmp/folder-page.png", full_page=True)
            axe(page, "folder")

            # the research bundle, downloaded through the page's links
            with page.expect_download() as info:
                page.get_by_role("link", name="Word (DOCX) (Refworld citations)").click()
            target = tmp_path / "bundle.docx"
            info.value.save_as(target)
            document = docx.Document(str(target))
            text = "\n".join(p.text for p in document.paragraphs)
            assert passage_text(1)[:60] in text and passage_text(0)[:60] in text
            assert "para. 2" in text and "para. 1" in text
            assert "Putin calls Tajikistan a key country" in text
            assert "The 201st division stays" in text
            headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
            assert "Bibliography" in headings
            after = text[text.index("Bibliography") :]
            assert "Radio Free Europe/Radio Liberty" in after
            assert document.core_properties.title == "Case 14: Tajik border"

            with page.expect_download() as info:
                page.get_by_role("link", name="Markdown (Refworld citations)").click()
            md_path = tmp_path / "bundle.md"
            info.value.save_as(md_path)
            markdown = md_path.read_text(encoding="utf-8")
            assert "para. 2" in markdown and "Bibliography" in markdown
            assert "The 201st division stays" in markdown

            page.goto("/account")
            axe(page, "account")
        finally:
            context.close()
            browser.close()
    assert not errors, errors
    print("axe-core violations:", axe.found or "none")
    assert len(axe.checked) == 7, axe.checked
    assert not axe.failures, "\n".join(axe.failures)


def test_the_admin_pages_pass_axe(server: str) -> None:
    """The administrator's pages (users, groups, audit log, jobs) through axe-core too."""
    axe = AxeCheck()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_context(base_url=server).new_page()
        try:
            page.goto("/signin?next=/admin/users")
            page.get_by_label("User name").fill("ada")
            page.get_by_label("Password").fill(PASSWORD)
            page.keyboard.press("Enter")
            page.wait_for_url(f"{server}/admin/users")
            for path in ("/admin/users", "/admin/groups", "/admin/audit", "/jobs"):
                assert page.goto(path).status == 200, path
                axe(page, path, open_all=True)
        finally:
            browser.close()
    print("axe-core violations:", axe.found or "none")
    assert len(axe.checked) == 4, axe.checked
    assert not axe.failures, "\n".join(axe.failures)
