"""Atom feeds of searches, read back with feedparser through the ASGI app."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import feedparser
import httpx
import pytest
from fastapi import FastAPI

from sourcebook.config import Settings
from sourcebook.model import Document
from sourcebook.services import Archive, IngestOptions
from sourcebook.web import atom

BASE = "http://sourcebook.test"
TRICKY_TITLE = "Tajikistan: <b>bold</b> & <script>alert('x')</script>\x07 claims"


def make_doc(i: int) -> Document:
    country = "TJ" if i % 3 else "SY"
    return Document(
        source_key=f"atom-test:{i}",
        title=TRICKY_TITLE if i == 4 else f"Report {i} on {country} border security",
        publisher=f"Publisher {i % 2}",
        authors=[f"Author {i}"] if i % 2 else [],
        publication_date=date(2020, 1, 1) + timedelta(days=i),
        body=(
            f"Summary of report {i}.\n\nThe border crossings of {country} & <neighbours> were"
            " closed during the period under review."
        ),
        document_type="report",
        language="en",
        countries=[country],
        collection="alerts",
        copyright="© Example" if i == 4 else "",
    )


def make_archive(home: Path, n: int) -> Archive:
    archive = Archive(Settings(home=home))
    report = archive.add_documents(  # templated reports: no near-duplicate collapsing
        [make_doc(i) for i in range(n)], IngestOptions(detect_language=False, enrich=False)
    )
    assert report.failed_files == 0
    return archive


def make_app(archive: Archive) -> FastAPI:
    app = FastAPI()
    app.state.archive = archive
    app.include_router(atom.router)
    return app


def get(app: FastAPI, *requests: tuple[str, dict[str, str]]) -> list[httpx.Response]:
    """GET each (url, headers) through the ASGI app, in order, on one event loop."""

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            return [await client.get(url, headers=headers) for url, headers in requests]

    return asyncio.run(run())


def parse(response: httpx.Response) -> feedparser.FeedParserDict:
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    archive = make_archive(tmp_path_factory.mktemp("atom"), 36)  # 24 on TJ, 12 on SY
    yield archive
    archive.close()


@pytest.fixture(scope="module")
def app(archive: Archive) -> FastAPI:
    return make_app(archive)


def _struct(value: datetime) -> tuple[int, ...]:
    return value.astimezone(UTC).timetuple()[:6]


def test_feed_of_a_saved_search(app: FastAPI, archive: Archive) -> None:
    (response,) = get(app, ("/search.atom?country=TJ", {}))
    feed = parse(response)
    assert feed.feed.title == "Sourcebook: country: TJ"
    assert feed.feed.id == f"{BASE}/search.atom?country=TJ"
    links = {link.rel: link.href for link in feed.feed.links}
    assert links["self"] == f"{BASE}/search.atom?country=TJ"
    assert links["next"] == f"{BASE}/search.atom?country=TJ&page=2"
    assert links["alternate"].startswith(f"{BASE}/search?country=TJ&sort=newest")
    assert feed.feed.opensearch_totalresults == "24"
    assert len(feed.entries) == atom.FEED_SIZE

    tj = sorted(
        (d for d in archive.store.iter_documents() if d.countries == ["TJ"]),
        key=lambda d: d.publication_date or date.min,
        reverse=True,
    )
    records = archive.harvest_records(d.docid for d in tj)
    for entry, doc in zip(feed.entries, tj, strict=False):  # newest first
        url = f"{BASE}/record/{doc.docid}"
        assert entry.id == url
        assert entry.link == url
        assert entry.title == doc.title.replace("\x07", "")
        assert entry.published_parsed[:3] == doc.publication_date.timetuple()[:3]  # type: ignore[union-attr]
        assert entry.updated_parsed[:6] == _struct(records[doc.docid].updated_at)
        assert entry.author == (doc.authors[0] if doc.authors else doc.publisher)
        assert [(t.term, t.label) for t in entry.tags] == [("TJ", "Tajikistan")]
        assert entry.summary == " ".join(doc.passages[0].text.split())
    newest = max(e.updated_parsed for e in feed.entries)
    assert feed.feed.updated_parsed == newest


def test_markup_in_records_is_text(app: FastAPI) -> None:
    (response,) = get(app, ("/search.atom?q=claims&mode=plain", {}))
    feed = parse(response)
    (entry,) = feed.entries
    assert entry.title_detail.type == "text/plain"
    assert entry.title == "Tajikistan: <b>bold</b> & <script>alert('x')</script> claims"
    assert entry.summary_detail.type == "text/plain"
    assert "& <neighbours>" in entry.summary
    assert entry.rights == "© Example"
    assert b"<script>" not in response.content  # escaped, never markup


def test_pages_sizes_and_order(app: FastAPI) -> None:
    first, second, oldest = get(
        app,
        ("/search.atom?country=TJ&size=10", {}),
        ("/search.atom?country=TJ&size=10&page=2", {}),
        ("/search.atom?country=TJ&size=10&sort=oldest", {}),
    )
    one, two, old = parse(first), parse(second), parse(oldest)
    assert len(one.entries) == len(two.entries) == 10
    assert not {e.id for e in one.entries} & {e.id for e in two.entries}
    dates = [e.published_parsed for e in one.entries + two.entries]
    assert dates == sorted(dates, reverse=True)
    links = {link.rel: link.href for link in two.feed.links}
    assert links["previous"] == f"{BASE}/search.atom?country=TJ&size=10"
    assert links["next"] == f"{BASE}/search.atom?country=TJ&size=10&page=3"
    assert links["first"] == f"{BASE}/search.atom?country=TJ&size=10"
    assert old.entries[0].published_parsed < one.entries[-1].published_parsed
    assert old.feed.opensearch_startindex == "1"


def test_a_new_record_appears_in_the_polled_feed(tmp_path: Path) -> None:
    archive = make_archive(tmp_path, 6)
    try:
        app = make_app(archive)
        url = "/search.atom?q=border&country=TJ"
        before, again = get(app, (url, {}), (url, {}))
        etag = before.headers["etag"]
        assert again.headers["etag"] == etag
        (unchanged,) = get(app, (url, {"If-None-Match": etag}))
        assert unchanged.status_code == 304
        old = parse(before)

        new = make_doc(1)
        new.source_key = "atom-test:new"
        new.title = "New report on TJ border security"
        new.publication_date = date(2024, 6, 1)
        archive.add_documents([new], IngestOptions(detect_language=False))

        (after,) = get(app, (url, {"If-None-Match": etag}))
        assert after.headers["etag"] != etag
        feed = parse(after)
        assert feed.entries[0].title == "New report on TJ border security"
        assert {e.id for e in feed.entries} - {e.id for e in old.entries} == {feed.entries[0].id}
        assert feed.feed.updated_parsed >= old.feed.updated_parsed
    finally:
        archive.close()


def test_an_empty_result_is_a_valid_feed(app: FastAPI) -> None:
    (response,) = get(app, ("/search.atom?q=nothingmatchesthis&mode=plain", {}))
    feed = parse(response)
    assert feed.entries == []
    assert feed.feed.opensearch_totalresults == "0"
    assert feed.feed.updated_parsed


@pytest.mark.parametrize(
    "query",
    [
        "q=title:(&mode=syntax",
        'q="unclosed&mode=syntax',
        "page=abc",
        "page=0",
        "size=0",
        "size=1000",
        "from=2020-13",
        "sort=bogus",
        "mode=bogus",
        "country=Atlantis",
    ],
)
def test_a_bad_search_is_a_plain_400(app: FastAPI, query: str) -> None:
    (response,) = get(app, (f"/search.atom?{query}", {}))
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("Bad search: ")
    assert "Traceback" not in response.text
