"""Crash consistency, one writer, deletion: store and index heal without a repair command."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sourcebook.cli import app
from sourcebook.config import Settings
from sourcebook.errors import Conflict, NotFound
from sourcebook.model import Document
from sourcebook.search.request import SearchRequest
from sourcebook.services import Archive, IngestOptions
from sourcebook.store.base import Change
from sourcebook.store.codec import content_hash
from sourcebook.writer import WriterLock
from tests.web.client import build_archive, open_client

OPTIONS = IngestOptions(detect_language=False, enrich=False)


def doc(i: int, word: str = "") -> Document:
    return Document(
        source_key=f"consistency:{i}",
        title=f"Report {i} on river crossings",
        body=f"Paragraph about checkpoint{i} {word}.\n\nSecond paragraph.",
        language="en",
        countries=["TJ"],
        collection="c",
    )


def found(archive: Archive, query: str) -> int:
    return archive.search(SearchRequest(query=query, facets=False)).total


def stored_behind_the_index(archive: Archive, docs: list[Document]) -> None:
    """What a crash between the store's commit and the index's commit leaves: the documents in
    the store (and its change log), not in the index."""
    changes = []
    for d in docs:
        d.passages = []
        d.docid = f"x{d.source_key.rsplit(':', 1)[1]:0>9}"[:10]
        changes.append(Change("added", d, content_hash(d)))
    archive.store.write(changes)


def test_documents_stored_but_not_indexed_are_indexed_on_the_next_open(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    with Archive(settings) as archive:
        archive.add_documents([doc(1)], OPTIONS)
        stored_behind_the_index(archive, [doc(2), doc(3)])
        assert archive.check().missing  # the drift a killed ingest used to leave
    with Archive(settings) as archive:  # no repair command
        assert archive.check().ok
        assert found(archive, "checkpoint2") == 1
        assert archive.index.position == archive.store.last_position()


def test_reingest_after_a_crash_makes_the_unchanged_documents_searchable(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    archive = Archive(settings)
    stored_behind_the_index(archive, [doc(7)])
    archive.close()
    with Archive(settings) as archive:
        report = archive.add_documents([doc(7)], OPTIONS)
        assert report.total("unchanged") == 1
        assert found(archive, "checkpoint7") == 1


def test_a_missing_index_is_rebuilt_not_shown_as_empty(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    with Archive(settings) as archive:
        archive.add_documents([doc(i) for i in range(5)], OPTIONS)
    shutil.rmtree(settings.index_path)
    with Archive(settings) as archive:
        assert archive.index.num_docs() == 5
        assert found(archive, "checkpoint3") == 1


def test_an_index_older_than_the_change_log_is_compared_and_repaired(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    with Archive(settings) as archive:
        archive.add_documents([doc(i) for i in range(3)], OPTIONS)
        stored_behind_the_index(archive, [doc(9)])
    (settings.index_path / "sourcebook-position").unlink()  # an index made before positions
    with Archive(settings) as archive:
        assert archive.check().ok
        assert archive.index.position == archive.store.last_position()


def test_deleting_in_the_store_alone_is_replayed_into_the_index(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    with Archive(settings) as archive:
        archive.add_documents([doc(1), doc(2)], OPTIONS)
        victim = archive.search(SearchRequest(query="checkpoint1")).hits[0].docid
        archive.store.delete(victim)  # a crash before the index heard of it
    with Archive(settings) as archive:
        assert archive.check().ok and found(archive, "checkpoint1") == 0


def test_a_behind_index_that_cannot_catch_up_says_so(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    with Archive(settings) as archive:
        archive.add_documents([doc(1)], OPTIONS)
        stored_behind_the_index(archive, [doc(2), doc(3)])
    with WriterLock(tmp_path).hold("ingest"), Archive(settings) as archive:
        result = archive.search(SearchRequest(query="report"))
        assert any("2 changes behind" in note for note in result.notices)
    with Archive(settings) as archive:  # the lock is free again: caught up, no notice
        assert archive.search(SearchRequest(query="report")).notices == []
        # a long-lived reader (a server) sees it when a writer elsewhere dies half-way
        stored_behind_the_index(archive, [doc(4)])
        notices = archive.search(SearchRequest(query="report")).notices
        assert any("1 change behind" in note for note in notices)


def test_a_second_writer_is_refused_before_it_writes_anything(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, writer_wait_seconds=0.2)
    with Archive(settings) as archive:
        runs = archive.stats()["ingest_runs"]
        with WriterLock(tmp_path).hold("ingest"):
            with pytest.raises(Conflict, match=r"another ingest \(pid \d+, started .*\) is writ"):
                archive.add_documents([doc(1)], OPTIONS)
            with pytest.raises(Conflict):
                archive.delete(["abcdefgh23"])
        assert archive.store.count() == 0
        assert archive.stats()["ingest_runs"] == runs  # not even a run was started


def test_a_second_writer_waits_for_the_first(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, writer_wait_seconds=10)
    held = threading.Event()

    def first() -> None:
        with WriterLock(tmp_path).hold("ingest"):
            held.set()
            time.sleep(0.5)

    thread = threading.Thread(target=first)
    with Archive(settings) as archive:
        thread.start()
        held.wait(5)
        started = time.monotonic()
        report = archive.add_documents([doc(1)], OPTIONS)
        assert time.monotonic() - started >= 0.3
        assert report.total("added") == 1
    thread.join()


def test_an_upload_refused_with_409_has_stored_nothing(tmp_path: Path) -> None:
    config = build_archive(tmp_path / "archive", writer_wait_seconds=0.2)
    files = {"files": ("talks.txt", b"Talks in Khorog\n\nOn the Panj crossing.", "text/plain")}
    with open_client(config) as client:
        with WriterLock(config.home).hold("ingest"):
            refused = client.post("/api/ingest", files=files)
        assert refused.status_code == 409
        assert "another ingest" in refused.text
        assert client.get("/api/search", params={"q": "Khorog"}).json()["total"] == 0
        again = client.post("/api/ingest", files=files).json()
        assert (again["added"], again["unchanged"]) == (1, 0)
        assert client.get("/api/search", params={"q": "Khorog"}).json()["total"] == 1


def test_unfinished_runs_are_closed_as_interrupted_on_the_next_start(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    with Archive(settings) as archive:
        run = archive.store.start_run(["killed.jsonl"])  # a run whose process was killed
    with Archive(settings) as archive:
        assert archive.store.run_statuses()[run] == "interrupted"
        report = archive.add_documents([doc(1)], OPTIONS)
        assert archive.store.run_statuses()[report.run_id] == "finished"


def test_a_stopped_ingest_keeps_what_it_stored_and_closes_as_interrupted(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(6):
        (folder / f"{i}.txt").write_text(f"Story {i}\n\nAbout checkpoint{i}.", encoding="utf-8")
    seen: list[int] = []

    def stop() -> bool:
        seen.append(1)
        return len(seen) > 7  # after a few files

    settings = Settings(home=tmp_path / "archive", ingest_batch_size=2)
    with Archive(settings) as archive:
        report = archive.ingest([folder], OPTIONS, stop=stop)
        assert report.status == "interrupted"
        assert 0 < report.total("added") < 6
        assert archive.store.run_statuses()[report.run_id] == "interrupted"
        assert archive.check().ok
        assert archive.store.count() == report.total("added")


# --- deletion ------------------------------------------------------------------------------------
def test_delete_removes_from_store_and_index_and_keeps_the_docid(tmp_path: Path) -> None:
    with Archive(Settings(home=tmp_path)) as archive:
        archive.add_documents([doc(1), doc(2)], OPTIONS)
        docid = archive.search(SearchRequest(query="checkpoint1")).hits[0].docid
        report = archive.delete([docid, "abcdefgh23"])
        assert (report.deleted, report.missing) == ([docid], ["abcdefgh23"])
        assert found(archive, "checkpoint1") == 0 and found(archive, "checkpoint2") == 1
        with pytest.raises(NotFound):
            archive.get(docid)
        assert archive.store.docid_owner(docid) == "consistency:1"
        assert archive.check().ok
        assert archive.store.changes_since(0)[-1].kind == "deleted"
        # the same source ingested again gets its docid back
        archive.add_documents([doc(1)], OPTIONS)
        assert archive.search(SearchRequest(query="checkpoint1")).hits[0].docid == docid


def test_cli_delete_by_docid_and_by_query(tmp_path: Path) -> None:
    runner = CliRunner()
    with Archive(Settings(home=tmp_path)) as archive:
        archive.add_documents([doc(i, "flood" if i < 3 else "") for i in range(6)], OPTIONS)
        first = archive.search(SearchRequest(query="checkpoint5")).hits[0].docid
    base = ["--archive", str(tmp_path), "delete"]
    result = runner.invoke(app, [*base, first])
    assert result.exit_code == 0, result.output
    assert "deleted 1 documents" in result.output
    result = runner.invoke(app, [*base, "--query", "flood"], input="n\n")
    assert "3 documents match" in result.output and result.exit_code == 1
    result = runner.invoke(app, [*base, "--query", "flood", "--yes"])
    assert result.exit_code == 0 and "deleted 3 documents" in result.output
    result = runner.invoke(app, [*base, "--query", ""])
    assert result.exit_code == 2 and "--everything" in result.output
    result = runner.invoke(app, [*base, first])
    assert result.exit_code == 3
    with Archive(Settings(home=tmp_path)) as archive:
        assert archive.store.count() == 2 and archive.check().ok


def test_an_archive_from_before_the_change_log_is_upgraded_in_place(tmp_path: Path) -> None:
    import sqlite3

    settings = Settings(home=tmp_path)
    with Archive(settings) as archive:
        archive.add_documents([doc(i) for i in range(4)], OPTIONS)
        archive.store.start_run(["old-and-unfinished"])
    with sqlite3.connect(settings.db_path) as conn:  # back to what migration 0002 left
        conn.executescript(
            "DROP TABLE changes; DROP TABLE tombstones;"
            " ALTER TABLE ingest_runs DROP COLUMN status;"
            " DELETE FROM _migrations WHERE name LIKE '0003%';"
        )
    (settings.index_path / "sourcebook-position").unlink()
    with Archive(settings) as archive:
        assert [c.kind for c in archive.store.changes_since(0)] == ["added"] * 4
        assert archive.index.position == archive.store.last_position() == 4
        assert archive.check().ok and found(archive, "checkpoint2") == 1
        assert sorted(archive.store.run_statuses().values()) == ["finished", "interrupted"]


def test_cli_check_notes_an_index_behind_and_a_writer_heals_it(tmp_path: Path) -> None:
    runner = CliRunner()
    with Archive(Settings(home=tmp_path)) as archive:
        archive.add_documents([doc(1)], OPTIONS)
        stored_behind_the_index(archive, [doc(2), doc(3)])
    result = runner.invoke(app, ["--archive", str(tmp_path), "check"])
    assert result.exit_code == 1
    assert "the index is 2 store changes behind" in " ".join(result.output.split())
    result = runner.invoke(app, ["--archive", str(tmp_path), "check", "--repair"])
    assert result.exit_code == 0 and "store and index agree" in result.output
    assert "behind" not in result.output


def test_a_reindex_cut_short_is_repaired_on_the_next_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(home=tmp_path)
    with Archive(settings) as archive:
        archive.add_documents([doc(i) for i in range(5)], OPTIONS)
        every = archive.store.iter_documents

        def cut_short(*args: object, **kwargs: object) -> Iterator[Document]:
            yield next(every())
            raise KeyboardInterrupt  # Ctrl+C half-way through the rebuild

        monkeypatch.setattr(archive.store, "iter_documents", cut_short)
        with pytest.raises(KeyboardInterrupt):
            archive.reindex()
        assert archive.index.num_docs() == 0  # the index was emptied and not yet refilled
    with Archive(settings) as archive:
        assert archive.check().ok and found(archive, "checkpoint4") == 1
