"""Serving many readers: `serve --workers N` on one archive folder, LISTEN/NOTIFY followers.

Real `sourcebook serve` and `sourcebook ingest` processes (the helpers of test_followers.py). The
workers of one server share its archive folder: whichever follower takes the writer lock applies
the store's changes, the others reload their searchers; every worker must answer with what was
ingested, within the follower's promise (5 s).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from sourcebook.config import Settings
from sourcebook.services import Archive
from tests.store.conftest import pg_url  # noqa: F401  (the fixture)
from tests.test_followers import (
    START_SECONDS,
    WITHIN_SECONDS,
    Node,
    ingest,
    nodes,  # noqa: F401  (the fixture)
    within,
    write_records,
)

#: Fresh connections sent to a server with workers: the kernel hands each to one of them, so
#: this many reach every worker with near certainty.
FRESH_CONNECTIONS = 16


def workers_of(node: Node) -> set[int]:
    """The pids of the uvicorn worker processes of ``serve --workers`` (the parent's children
    started by multiprocessing's spawn)."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid"))
        if ppid == node.process.pid and b"spawn_main" in cmdline:
            found.add(int(entry.name))
    return found


def every_worker_finds(node: Node, query: str, count: int) -> bool:
    """Each of several fresh connections (so several workers) finds ``count`` documents."""
    for _ in range(FRESH_CONNECTIONS):
        response = httpx.get(
            f"http://127.0.0.1:{node.port}/api/search",
            params={"q": query, "page_size": 100},
            headers={"Connection": "close"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        if len(response.json()["hits"]) != count:
            return False
    return True


def test_sqlite_workers_share_one_folder_and_all_see_a_cli_ingest(
    tmp_path: Path,
    nodes: Callable[..., Node],  # noqa: F811
) -> None:
    home = tmp_path / "archive"
    ingest(home, write_records(tmp_path / "first.jsonl", "first", 3, "Khorog"))
    node = nodes(home, None, "--workers", "2")
    node.wait_ready()
    within(WITHIN_SECONDS, lambda: len(workers_of(node)) == 2)
    assert every_worker_finds(node, "Khorog", 3)

    ingest(home, write_records(tmp_path / "second.jsonl", "second", 2, "Murghab"))
    seconds = within(WITHIN_SECONDS, lambda: every_worker_finds(node, "Murghab", 2))
    print(f"every worker shows a CLI ingest after {seconds:.2f} s")

    # a killed worker is replaced by uvicorn, and the new one serves the same archive
    killed = min(workers_of(node))
    os.kill(killed, signal.SIGKILL)
    within(START_SECONDS, lambda: killed not in workers_of(node) and len(workers_of(node)) == 2)
    within(WITHIN_SECONDS, lambda: every_worker_finds(node, "Murghab", 2))
    with Archive(Settings(home=home), read_only=True) as archive:
        assert archive.check().ok


def test_postgres_workers_wake_on_the_commit_of_an_ingest_through_another_node(
    tmp_path: Path,
    nodes: Callable[..., Node],  # noqa: F811
    pg_url: str,  # noqa: F811
) -> None:
    """Polling every 60 s: only the store's notification (LISTEN/NOTIFY) can make both workers
    level within seconds; one applies the changes, the other reloads its searcher."""
    node = nodes(tmp_path / "node", pg_url, "--workers", "2", SOURCEBOOK_FOLLOW_SECONDS="60")
    node.wait_ready()
    within(WITHIN_SECONDS, lambda: len(workers_of(node)) == 2)
    ingest(tmp_path / "editor", write_records(tmp_path / "r.jsonl", "r", 4, "Khorog"), pg_url)
    seconds = within(WITHIN_SECONDS, lambda: every_worker_finds(node, "Khorog", 4))
    print(f"every worker of a node polling every 60 s shows an ingest after {seconds:.2f} s")
    stats = node.stats()
    assert stats["index_lag_changes"] == 0 and stats["indexed_documents"] == 4
    settings = Settings(home=tmp_path / "node", database_url=pg_url)
    with Archive(settings, read_only=True) as archive:
        assert archive.check().ok


@pytest.mark.slow
def test_a_node_killed_twice_during_catch_up_ends_level_with_the_store(
    tmp_path: Path,
    nodes: Callable[..., Node],  # noqa: F811
    pg_url: str,  # noqa: F811
) -> None:
    """The issue's fault: a search node killed (SIGKILL) twice while it catches up on start;
    started a third time, its index holds exactly what the store holds."""
    count = 6_000  # three replay batches (index_sync.REPLAY_BATCH)
    home = tmp_path / "node"
    with Archive(Settings(home=home, database_url=pg_url)):
        pass  # the node's folder exists first, level with an empty store...
    records = write_records(tmp_path / "r.jsonl", "r", count, "Khorog")
    ingest(tmp_path / "editor", records, pg_url)  # ...so on start it replays the whole log
    lock, position_file = home / "writer.lock", home / "index" / "sourcebook-position"
    start = int(position_file.read_text())

    def position() -> int:
        return int(position_file.read_text()) if position_file.exists() else -1

    positions: list[int] = []
    # the first kill as soon as it holds the lock (before its first commit), the second once
    # it has committed part of the log
    for moved in (False, True):
        node = nodes(home, pg_url)

        def replaying(node: Node = node, moved: bool = moved) -> bool:
            assert node.process.poll() is None, node.log.read_text()
            try:
                holding = f'"pid": {node.process.pid}' in lock.read_text()
            except OSError:
                return False
            return holding and (not moved or position() > start)

        within(START_SECONDS, replaying)
        node.process.kill()
        node.process.wait()
        positions.append(position())
    assert positions[0] == start and start < positions[1] < count + start, positions
    node = nodes(home, pg_url)
    node.wait_ready()
    stats = node.stats()
    assert stats["indexed_documents"] == count and stats["index_lag_changes"] == 0
    node.stop()
    with Archive(Settings(home=home, database_url=pg_url), read_only=True) as archive:
        assert archive.check().ok
    print(f"index positions after each kill: {positions} (the store's: {count + start})")
