"""The harvest acceptance test: a second Sourcebook as an OAI-PMH source and a feed server,
harvested twice (the second run fetches nothing new: a 304 and an empty OAI range), and every
forbidden address refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sourcebook.config import Settings
from sourcebook.errors import FetchRefused
from sourcebook.services import Archive
from sourcebook.services.sources import add_source, due_sources, harvest_source
from sourcebook.sources import oai_harvest
from sourcebook.sources.model import Source
from sourcebook.web import oai
from sourcebook.web.app import create_app
from tests.sources.server import Site, etag_reply, serve
from tests.web.client import build_archive, serve_in_thread

FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Border Monitor</title><link>https://example.org/</link>
<item><title>Checkpoint closed near Kulob</title><link>https://example.org/a/1</link>
<guid>https://example.org/a/1</guid><pubDate>Tue, 03 Mar 2026 10:00:00 +0000</pubDate>
<description>The checkpoint on the road to Kulob was closed on Monday.</description></item>
<item><title>Returnees questioned at Dushanbe airport</title><link>https://example.org/a/2</link>
<guid>https://example.org/a/2</guid><pubDate>Wed, 04 Mar 2026 09:30:00 +0000</pubDate>
<description>Lawyers said returnees were questioned for hours.</description></item>
</channel></rss>"""


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second Sourcebook, served over HTTP on loopback: its OAI-PMH endpoint."""
    config = build_archive(tmp_path_factory.mktemp("peer"))
    time.sleep(1.1)  # responseDate (to the second) later than every record's datestamp
    app = create_app(config)
    app.include_router(oai.make_router(page_size=4), prefix="/small")  # pages of 4 records
    with serve_in_thread(app) as base:
        yield f"{base}/oai"


@pytest.fixture
def feed_site() -> Iterator[Site]:
    with serve({"/feed.xml": etag_reply(FEED, '"feed-v1"', "application/rss+xml")}) as site:
        yield site


def _archive(tmp_path: Path, allow: list[str]) -> Archive:
    settings = Settings(
        home=tmp_path / "archive", fetch_allow_hosts=allow, fetch_host_interval_seconds=0
    )
    return Archive(settings)


def test_harvest_twice_then_nothing_new(tmp_path: Path, peer: str, feed_site: Site) -> None:
    with _archive(tmp_path, ["127.0.0.1"]) as archive:
        add_source(archive, Source("peer", peer, "oai", collection="peer"))
        add_source(archive, Source("monitor", f"{feed_site.base}/feed.xml", "feed"))
        assert [s.name for s in due_sources(archive)] == ["monitor", "peer"]

        first_oai = harvest_source(archive, "peer")
        first_feed = harvest_source(archive, "monitor")
        assert first_oai.status == "ok", first_oai.errors
        assert first_oai.added == 15 and first_oai.failed == 0  # every record of the peer
        assert first_feed.status == "ok" and first_feed.added == 2
        assert archive.count() == 17
        assert due_sources(archive) == []  # both ran just now

        state = archive.store.get_source("peer")
        assert state.oai_from.endswith("Z") and state.last_error == "" and state.runs == 1
        assert archive.store.get_source("monitor").etag == '"feed-v1"'

        # the originals: each record's XML as received, the feed for its items
        docid = archive.store.lookup_sources(["feed:https://example.org/a/1"])[
            "feed:https://example.org/a/1"
        ].docid
        (original,) = archive.store.list_originals(docid)
        info, body = archive.store.get_original(docid, original.id)
        assert body == FEED and info.final_url == f"{feed_site.base}/feed.xml"
        assert info.headers["etag"] == '"feed-v1"' and info.status == 200

        second_oai = harvest_source(archive, "peer")
        second_feed = harvest_source(archive, "monitor")
        assert second_feed.status == "not modified" and second_feed.items == 0
        assert feed_site.requests[-1][1]["if-none-match"] == '"feed-v1"'
        assert second_oai.status == "ok" and second_oai.items == 0  # noRecordsMatch
        assert (second_oai.added, second_oai.updated, second_oai.originals) == (0, 0, 0)
        assert second_oai.requests == 2  # Identify, then one empty ListRecords
        assert archive.count() == 17
        assert archive.store.get_source("peer").runs == 2


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/feed",
        "http://localhost:9/feed",
        "http://10.1.2.3/feed",
        "http://192.168.0.1/feed",
        "http://169.254.169.254/latest/meta-data/",
        "http://224.0.0.1/feed",
        "http://[::1]:9/feed",
        "http://[::ffff:127.0.0.1]:9/feed",
        "http://0.0.0.0:9/feed",
    ],
)
def test_every_forbidden_address_is_refused(tmp_path: Path, url: str) -> None:
    with _archive(tmp_path, []) as archive:
        add_source(archive, Source("bad", url, "feed"))
        report = harvest_source(archive, "bad")
        assert report.status == "failed" and "refused to fetch" in report.errors[0]
        assert "refused to fetch" in archive.store.get_source("bad").last_error


def test_the_loopback_servers_are_refused_without_the_allow_list(
    tmp_path: Path, peer: str, feed_site: Site
) -> None:
    with _archive(tmp_path, []) as archive:
        add_source(archive, Source("peer", peer, "oai"))
        add_source(archive, Source("monitor", f"{feed_site.base}/feed.xml", "feed"))
        for name in ("peer", "monitor"):
            report = harvest_source(archive, name)
            assert report.status == "failed" and "loopback" in report.errors[0]
        assert feed_site.requests == [] and archive.count() == 0


def test_credentials_and_other_schemes_are_refused_when_added(tmp_path: Path) -> None:
    with _archive(tmp_path, []) as archive:
        for url in ("https://user:secret@example.org/feed", "file:///etc/passwd", "ftp://x/y"):
            with pytest.raises(FetchRefused):
                add_source(archive, Source("bad", url, "feed"))


def test_resumption_tokens_page_by_page_and_across_runs(
    tmp_path: Path, peer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = peer.replace("/oai", "/small/oai")
    with _archive(tmp_path, ["127.0.0.1"]) as archive:
        add_source(archive, Source("peer", small, "oai"))
        monkeypatch.setattr(oai_harvest, "MAX_PAGES", 2)  # a run reads 2 pages of 4, then stops
        first = harvest_source(archive, "peer")
        assert first.status == "ok" and first.added == 8 and first.requests == 3
        state = archive.store.get_source("peer")
        assert state.oai_token and state.oai_from == ""  # not complete: resumes next time
        started = state.oai_token.split("\t")[0]  # the responseDate of the list's first page
        second = harvest_source(archive, "peer")  # from the token: the last 2 pages (4 + 3)
        assert second.added == 7 and second.requests == 3 and archive.count() == 15
        state = archive.store.get_source("peer")
        assert state.oai_token == "" and state.oai_from == started
        third = harvest_source(archive, "peer")  # from then on: an empty range
        assert third.items == 0 and third.requests == 2

        state.oai_token = "not-a-token-it-knows"
        archive.store.save_source_state(state)
        fourth = harvest_source(archive, "peer")  # badResumptionToken: the list again from `from`
        assert fourth.status == "ok" and fourth.added == 0 and fourth.requests == 3
