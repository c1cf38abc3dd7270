"""A real `sourcebook ingest` subprocess killed mid-run: the archive heals without a repair command.

The index is told to commit only at the end (``SOURCEBOOK_INDEX_COMMIT_SECONDS``), the worst
case: every stored document is missing from the index when the process dies.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sourcebook.config import Settings
from sourcebook.search.request import SearchRequest
from sourcebook.services import Archive, IngestOptions

RECORDS = 5_000


@pytest.fixture(scope="module")
def stories(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("faults") / "stories.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i in range(RECORDS):
            record = {
                "source_key": f"faults:{i}",
                "title": f"Bulletin {i}",
                "body": f"Crossing point number{i} reopened.\n\nTraffic resumed on day {i % 30}.",
                "language": "en",
            }
            out.write(json.dumps(record) + "\n")
    return path


def start_ingest(home: Path, path: Path) -> subprocess.Popen[str]:
    env = dict(
        os.environ,
        SOURCEBOOK_INGEST_BATCH_SIZE="100",
        SOURCEBOOK_INDEX_COMMIT_SECONDS="3600",
        PYTHONPATH=os.pathsep.join(sys.path),
    )
    command = [sys.executable, "-c", "from sourcebook.cli import main; main()"]
    command += ["--archive", str(home), "ingest", "--no-enrich", "--no-language", str(path), "-q"]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def stored(home: Path) -> int:
    try:
        with sqlite3.connect(home / "sourcebook.db", timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM documents").fetchone()[0])
    except sqlite3.Error:  # not created yet
        return 0


def stop_when_stored(proc: subprocess.Popen[str], home: Path, at_least: int, sig: int) -> None:
    deadline = time.monotonic() + 60
    while stored(home) < at_least:
        assert proc.poll() is None, "the ingest ended before it could be stopped"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(sig)
    proc.communicate(timeout=60)


def assert_all_searchable(archive: Archive) -> int:
    report = archive.check()
    assert report.ok, (len(report.missing), len(report.stale), len(report.extra))
    searcher = archive.index.searcher()
    n = 0
    for entry in archive.store.iter_index_entries():
        request = SearchRequest(query=f"docid:{entry.docid}", facets=False)
        query = archive.engine.build_query(request, searcher)[0]
        assert searcher.search(query, limit=1, count=True).count == 1, entry.docid
        n += 1
    return n


def test_sigkill_mid_ingest_heals_on_the_next_start(tmp_path: Path, stories: Path) -> None:
    home = tmp_path / "archive"
    proc = start_ingest(home, stories)
    stop_when_stored(proc, home, 300, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    with Archive(Settings(home=home)) as archive:  # the next start; no repair command
        kept = assert_all_searchable(archive)
        assert 300 <= kept < RECORDS
        assert set(archive.store.run_statuses().values()) == {"interrupted"}
        report = archive.ingest([stories], IngestOptions(detect_language=False, enrich=False))
        assert (report.total("unchanged"), report.total("added")) == (kept, RECORDS - kept)
        assert assert_all_searchable(archive) == RECORDS


def test_sigterm_is_a_clean_stop(tmp_path: Path, stories: Path) -> None:
    home = tmp_path / "archive"
    proc = start_ingest(home, stories)
    deadline = time.monotonic() + 60
    while stored(home) < 300:
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    kept = stored(home)
    assert f"interrupted; {kept:,} documents kept" in " ".join(err.split())
    # the stop committed the index up to the store's last change: nothing left to replay
    position = int((home / "index" / "sourcebook-position").read_text())
    with sqlite3.connect(home / "sourcebook.db") as conn:
        assert position == conn.execute("SELECT max(position) FROM changes").fetchone()[0]
        assert conn.execute("SELECT status FROM ingest_runs").fetchall() == [("interrupted",)]
    with Archive(Settings(home=home)) as archive:
        assert assert_all_searchable(archive) == kept
