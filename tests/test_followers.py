"""Search nodes that follow the store: real `sourcebook serve` and `sourcebook ingest` processes.

Every server applies the store's change log to its own index (follower.py). With SQLite a server
sees a CLI ingest into its archive without a restart; with PostgreSQL two servers with two archive
folders on one database both see what either's CLI ingests or deletes, within 5 s.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sourcebook.config import Settings
from sourcebook.follower import Follower, measure_lag
from sourcebook.search.request import SearchRequest
from sourcebook.services import Archive, IngestOptions
from sourcebook.writer import WriterLock
from tests.store.conftest import pg_url  # noqa: F401  (the fixture)

#: What the organisation server promises: a document ingested through any node is searchable
#: on every node within this many seconds.
WITHIN_SECONDS = 5.0
#: Time a server gets to start (imports, opening the archive) on a busy machine.
START_SECONDS = 60.0


def write_records(path: Path, prefix: str, count: int, word: str) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            record = {
                "source_key": f"{prefix}:{i}",
                "title": f"{word} bulletin {prefix} {i}",
                "body": f"The {word} crossing {prefix}{i} reopened on day {i % 30}.",
                "language": "en",
            }
            out.write(json.dumps(record) + "\n")
    return path


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), **extra)
    env.pop("SOURCEBOOK_HOME", None)
    return env


def _command(home: Path, database: str | None) -> list[str]:
    command = [sys.executable, "-c", "from sourcebook.cli import main; main()"]
    command += ["--archive", str(home)]
    if database:
        command += ["--database", database]
    return command


def cli(home: Path, *args: str, database: str | None = None, **env: str) -> str:
    done = subprocess.run(
        [*_command(home, database), *args],
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def ingest(home: Path, path: Path, database: str | None = None, **env: str) -> None:
    cli(home, "ingest", "--no-enrich", "--no-language", "-q", str(path), database=database, **env)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Node:
    """A `sourcebook serve` subprocess on a free loopback port."""

    def __init__(self, home: Path, database: str | None = None, *args: str, **env: str) -> None:
        self.home = home
        self.port = free_port()
        self.log = home.parent / f"{home.name}-serve.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [*_command(home, database), "serve", "--port", str(self.port), *args],
                env=_env(**env),  # SOURCEBOOK_FOLLOW_SECONDS: the default, 1 s, unless given
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if self.http.get("/api/stats").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the server did not start: {self.log.read_text()}")

    def docids(self, query: str) -> set[str]:
        response = self.http.get("/api/search", params={"q": query, "page_size": 100})
        assert response.status_code == 200, response.text
        return {hit["docid"] for hit in response.json()["hits"]}

    def stats(self) -> dict[str, Any]:
        data: dict[str, Any] = self.http.get("/api/stats").json()
        return data

    def stop(self) -> None:
        self.http.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def nodes() -> Iterator[Callable[..., Node]]:
    started: list[Node] = []

    def start(home: Path, database: str | None = None, *args: str, **env: str) -> Node:
        node = Node(home, database, *args, **env)
        started.append(node)
        return node

    yield start
    for node in started:
        node.stop()


def within(seconds: float, check: Callable[[], bool]) -> float:
    """Seconds until ``check()`` holds; fails when it does not within ``seconds``."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < seconds, f"not within {seconds} s"
        time.sleep(0.05)
    return time.monotonic() - start


def test_a_server_shows_a_cli_ingest_into_its_sqlite_archive_without_restart(
    tmp_path: Path, nodes: Callable[..., Node]
) -> None:
    home = tmp_path / "archive"
    ingest(home, write_records(tmp_path / "first.jsonl", "first", 3, "Khorog"))
    node = nodes(home)
    node.wait_ready()
    assert len(node.docids("Khorog")) == 3 and not node.docids("Murghab")

    ingest(home, write_records(tmp_path / "second.jsonl", "second", 2, "Murghab"))
    seconds = within(WITHIN_SECONDS, lambda: len(node.docids("Murghab")) == 2)
    print(f"the SQLite server shows a CLI ingest after {seconds:.2f} s")

    gone = sorted(node.docids("Murghab"))[0]
    cli(home, "delete", gone, "--yes")
    within(WITHIN_SECONDS, lambda: len(node.docids("Murghab")) == 1)
    assert gone not in node.docids("Murghab")
    assert node.stats()["index_lag_changes"] == 0


def test_two_postgres_nodes_follow_what_either_ingests_or_deletes(
    tmp_path: Path,
    nodes: Callable[..., Node],
    pg_url: str,  # noqa: F811
) -> None:
    a, b = nodes(tmp_path / "a", pg_url), nodes(tmp_path / "b", pg_url)
    a.wait_ready()
    b.wait_ready()

    ingest(tmp_path / "a", write_records(tmp_path / "one.jsonl", "one", 3, "Khorog"), pg_url)
    seconds = within(
        WITHIN_SECONDS, lambda: len(a.docids("Khorog")) == len(b.docids("Khorog")) == 3
    )
    print(f"both nodes show an ingest through node A after {seconds:.2f} s")

    gone = sorted(b.docids("Khorog"))[0]
    cli(tmp_path / "b", "delete", gone, "--yes", database=pg_url)
    seconds = within(WITHIN_SECONDS, lambda: gone not in a.docids("Khorog") | b.docids("Khorog"))
    # hits are read from the store, so also ask each index: it no longer holds the document
    seconds = within(
        WITHIN_SECONDS,
        lambda: all(n.stats()["indexed_documents"] == 2 for n in (a, b)),
    )
    print(f"both indexes drop a deletion through node B after {seconds:.2f} s")

    late = nodes(tmp_path / "late", pg_url)  # a node started afterwards catches up on open
    late.wait_ready()
    assert late.docids("Khorog") == a.docids("Khorog") and len(late.docids("Khorog")) == 2
    for node in (a, b, late):
        stats = node.stats()
        assert stats["index_lag_changes"] == 0
        assert stats["index_position"] == stats["store_position"]
    # no node writes another's index: each archive folder holds its own
    for name in ("a", "b", "late"):
        assert (tmp_path / name / "index").is_dir()


def test_a_commit_applies_what_another_writer_stored_meanwhile(
    tmp_path: Path,
    pg_url: str,  # noqa: F811
) -> None:
    """The gap of docs/organisation.md: node A's ingest commits its index while node C's
    ingest has stored documents A never indexed; A must not record a position past them."""
    options = IngestOptions(enrich=False, detect_language=False)
    other = write_records(tmp_path / "other.jsonl", "other", 4, "Murghab")
    mine = [write_records(tmp_path / f"mine{i}.jsonl", f"mine{i}", 2, "Khorog") for i in (1, 2)]
    with (
        Archive(Settings(home=tmp_path / "a", database_url=pg_url)) as a,
        Archive(Settings(home=tmp_path / "c", database_url=pg_url)) as c,
    ):
        done: list[int] = []

        def progress(*_: object) -> None:
            if not done:  # while A holds its lock, mid-run, C writes (its own folder's lock)
                done.append(c.ingest([other], options).total("added"))

        a.ingest(mine, options, progress=progress)
        assert done == [4]
        assert a.check().ok  # A's index holds C's documents too
        assert measure_lag(a.store, a.index).changes == 0
    with Archive(Settings(home=tmp_path / "a", database_url=pg_url), read_only=True) as a:
        assert a.check().ok


def test_two_postgres_writers_at_once_and_a_follower_end_with_every_document(
    tmp_path: Path,
    pg_url: str,  # noqa: F811
) -> None:
    paths = [write_records(tmp_path / f"w{i}.jsonl", f"w{i}", 300, "Khorog") for i in (1, 2)]
    settings = Settings(home=tmp_path / "follower", database_url=pg_url)
    with Archive(settings) as node:
        follower = Follower(node, 0.1)
        stop = threading.Event()

        def follow() -> None:
            while not stop.wait(0.1):
                follower.poll()

        thread = threading.Thread(target=follow)
        thread.start()
        env = {"SOURCEBOOK_INGEST_BATCH_SIZE": "20", "SOURCEBOOK_INDEX_COMMIT_SECONDS": "0"}
        try:
            writers = [
                subprocess.Popen(
                    [
                        *_command(tmp_path / f"writer{i}", pg_url),
                        *("ingest", "--no-enrich", "--no-language", "-q", str(path)),
                    ],
                    env=_env(**env),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for i, path in enumerate(paths)
            ]
            for writer in writers:
                _, error = writer.communicate(timeout=120)
                assert writer.returncode == 0, error
            within(WITHIN_SECONDS, lambda: node.index.num_docs() == 600)
        finally:
            stop.set()
            thread.join()
        assert node.check().ok and follower.last_applied is not None
    for i in range(2):  # each writer's own index holds the other's documents
        with Archive(Settings(home=tmp_path / f"writer{i}", database_url=pg_url), True) as w:
            assert w.check().ok, w.check()


def test_a_postgres_ingest_takes_its_own_archive_folders_lock_only(
    tmp_path: Path,
    pg_url: str,  # noqa: F811
) -> None:
    records = write_records(tmp_path / "r.jsonl", "r", 2, "Khorog")
    with WriterLock(tmp_path / "b").hold("another node's ingest"):
        ingest(tmp_path / "a", records, pg_url, SOURCEBOOK_WRITER_WAIT_SECONDS="0")
    refused = pytest.raises(AssertionError, match="is writing to this archive")
    with WriterLock(tmp_path / "a").hold("this node's ingest"), refused:
        ingest(tmp_path / "a", records, pg_url, SOURCEBOOK_WRITER_WAIT_SECONDS="0")


def notes(archive: Archive) -> str:
    return " ".join(archive.search(SearchRequest(query="Khorog")).notices)


def test_the_lag_is_reported_and_noted_on_searches_once_it_is_old(tmp_path: Path) -> None:
    home = tmp_path / "archive"
    ingest(home, write_records(tmp_path / "r.jsonl", "r", 3, "Khorog"))
    with Archive(Settings(home=home)) as node:
        gone = sorted(h.docid for h in node.search(SearchRequest(query="Khorog")).hits)[0]
        node.store.delete(gone)  # the store alone, as another process would: the index lags
        stats = node.stats()
        assert stats["index_lag_changes"] == 1
        assert stats["index_position"] == stats["store_position"] - 1
        assert "1 change behind" in notes(node)
        node.lag_notice_seconds = 5.0  # a follower runs: a fresh change is not worth a note
        assert notes(node) == ""
        node.lag_notice_seconds = 0.01
        time.sleep(0.05)
        assert re.search(r"1 change \(\d+ s\) behind", notes(node))
        follower = Follower(node, 1.0)
        assert follower.poll() and follower.last_applied is not None
        assert node.stats()["index_lag_changes"] == 0 and node.index.num_docs() == 2
        assert notes(node) == ""
