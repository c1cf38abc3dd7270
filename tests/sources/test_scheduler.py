"""``serve --harvest``: the server's background thread runs due sources on their schedule."""

from __future__ import annotations

import time
from pathlib import Path

from sourcebook.config import Settings
from sourcebook.services import Archive
from sourcebook.services.sources import add_source
from sourcebook.sources.model import Source
from tests.sources.server import etag_reply, serve
from tests.sources.test_harvest import FEED
from tests.web.client import open_client


def test_serve_harvest_runs_due_sources(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path / "archive",
        fetch_allow_hosts=["127.0.0.1"],
        fetch_host_interval_seconds=0,
        serve_harvest=True,
        harvest_poll_seconds=0.2,
    )
    with serve({"/feed.xml": etag_reply(FEED, '"v1"', "application/rss+xml")}) as site:
        with Archive(settings) as archive:
            add_source(
                archive, Source("monitor", f"{site.base}/feed.xml", "feed", every_seconds=60)
            )
        with open_client(settings) as client:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                found = client.get("/api/search", params={"q": "Kulob"}).json()
                if found["total"]:
                    break
                time.sleep(0.1)
            assert found["total"] == 1
            time.sleep(0.5)  # two more polls: the source is not due again for a minute
        assert site.paths() == ["/feed.xml"]
    with Archive(settings) as archive:
        assert archive.store.get_source("monitor").runs == 1


def test_serve_does_not_harvest_unless_asked(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "archive", harvest_poll_seconds=0.1)
    with serve({}) as site:
        with Archive(settings) as archive:
            add_source(archive, Source("monitor", f"{site.base}/feed.xml", "feed"))
        with open_client(settings) as client:
            assert client.get("/").status_code == 200
            time.sleep(0.3)
        assert site.requests == []


def test_one_process_of_an_archive_folder_harvests_at_a_time(tmp_path: Path) -> None:
    """`serve --harvest --workers N`: a poll while another process holds the folder's harvest
    lock skips its turn (the lock is taken here by a real second process)."""
    import subprocess
    import sys

    from sourcebook.sources.scheduler import Harvester, harvest_turn

    settings = Settings(
        home=tmp_path / "archive", fetch_allow_hosts=["127.0.0.1"], fetch_host_interval_seconds=0
    )
    with serve({"/feed.xml": etag_reply(FEED, '"v1"', "application/rss+xml")}) as site:
        with Archive(settings) as archive:
            add_source(archive, Source("monitor", f"{site.base}/feed.xml", "feed"))
            holder = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "import fcntl, os, sys, time\n"
                    "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
                    "fcntl.flock(fd, fcntl.LOCK_EX)\n"
                    "print('held', flush=True)\n"
                    "time.sleep(60)\n",
                    str(settings.home / "harvest.lock"),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            try:
                assert holder.stdout is not None and holder.stdout.readline() == "held\n"
                harvester = Harvester(archive, 60)
                assert harvester.poll() == [] and harvester.runs == 0
                with harvest_turn(settings.home) as mine:
                    assert not mine
                assert site.requests == []
            finally:
                holder.kill()
                holder.wait()
                if holder.stdout is not None:
                    holder.stdout.close()
            (report,) = harvester.poll()  # the lock is free again
            assert report.added == 2 and harvester.runs == 1  # the feed's two items
        assert site.paths() == ["/feed.xml"]
