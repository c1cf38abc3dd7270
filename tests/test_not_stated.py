"""An unknown publisher or date is said ("publisher not stated", "no date"), never a silent gap:
in the CLI hit list and ``show``, the web hit list and record page, and the Refworld line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sourcebook.cli import app
from sourcebook.config import Settings
from sourcebook.ids import make_docid
from sourcebook.model import Document
from sourcebook.services import Archive, IngestOptions
from tests.web.client import Client, open_client
from tests.web.markup import by_class, by_id

BARE = make_docid("test:bare")
FULL = make_docid("test:full")


def documents() -> list[Document]:
    return [
        Document(
            source_key="test:bare",
            title="Khorog protest statement",
            body="Residents of Khorog gathered to protest the detention of a local leader.",
            source_url="https://example.org/khorog",
            language="en",
        ),
        Document(
            source_key="test:full",
            title="Khorog protest report",
            publisher="Asia-Plus",
            publication_date=date(2022, 5, 18),
            body="Residents of Khorog protested in May; Asia-Plus reported the detentions.",
            language="en",
        ),
    ]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("not-stated") / "archive"
    with Archive(Settings(home=home)) as archive:
        report = archive.add_documents(documents(), IngestOptions(enrich=False))
        assert report.documents == 2
    return home


@pytest.fixture(scope="module")
def site(home: Path) -> Iterator[Client]:
    with open_client(Settings(home=home)) as client:
        yield client


def cli(home: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["--archive", str(home), *args])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_cli_hit_list_says_publisher_not_stated_and_no_date(home: Path) -> None:
    out = cli(home, "search", "Khorog")
    assert "Khorog protest statement" in out
    assert "publisher not stated · no date · en" in out
    assert "Asia-Plus · 2022-05-18" in out


def test_cli_show_says_not_stated(home: Path) -> None:
    out = cli(home, "show", BARE)
    assert "Publisher not stated" in out and "Publication Date not stated" in out
    full = cli(home, "show", FULL)
    assert "not stated" not in full and "Publisher Asia-Plus" in full


def test_web_hit_says_publisher_not_stated_and_no_date(site: Client) -> None:
    html = site.get("/search?q=Khorog").text
    metas = [" ".join(e.text.split()) for e in by_class(html, "hit__meta")]
    assert sorted(metas) == ["Asia-Plus18 May 2022English", "publisher not statedno dateEnglish"]
    unknown = [e.text for e in by_class(html, "hit__unknown")]
    assert unknown == ["publisher not stated", "no date"]


def test_web_record_page_says_not_stated(site: Client) -> None:
    html = site.get(f"/record/{BARE}").text
    fields = {" ".join(e.text.split()) for e in by_class(html, "record__field")}
    assert "Publisher not stated" in fields and "Publication Date not stated" in fields
    citation = by_id(html, "cite-text").text
    assert citation.startswith("Publisher not stated, Khorog protest statement, no date, ")
    full = site.get(f"/record/{FULL}").text
    assert "not stated" not in full
