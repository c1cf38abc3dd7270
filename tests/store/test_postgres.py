"""PostgreSQL beyond the contract: several writers at once, the archive on PostgreSQL end to end,
and copy-store between SQLite and PostgreSQL (real servers, real processes; skipped without a
server, except in CI)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sourcebook.access import CollectionPolicy
from sourcebook.cli import app
from sourcebook.config import Settings
from sourcebook.copy_store import copy_store
from sourcebook.errors import Conflict
from sourcebook.folders import Share
from sourcebook.ids import make_docid
from sourcebook.saved import SavedSearch
from sourcebook.search.request import SearchRequest
from sourcebook.services import Archive, alerts, workspace
from sourcebook.services.accounts import Accounts
from sourcebook.store.accounts_base import AuditFilter
from sourcebook.store.base import Change, HarvestFilter, Store
from sourcebook.viewer import Viewer

SRC = Path(__file__).resolve().parents[2] / "src"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"

STORY = """Border security talks in Dushanbe

Russian and Tajik officials agreed to bolster security along the Tajik-Afghan border.

Troops from the 201st Motor Rifle Division are stationed at three facilities in Tajikistan.
"""

#: One writer process: rounds of batches over shared and own sources, in its own order, the way
#: ingest writes (look up, then add or update).
WRITER = textwrap.dedent(
    """
    import random, sys, time
    from pathlib import Path
    from sourcebook.ids import make_docid
    from sourcebook.model import Document
    from sourcebook.passages import split_passages
    from sourcebook.store.base import Change
    from sourcebook.store.codec import content_hash
    from sourcebook.store.postgres import PostgresStore

    url, me, rounds, shared, own, go = sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:6]), Path(sys.argv[6])
    store = PostgresStore(url)
    while not go.exists():
        time.sleep(0.01)
    rng = random.Random(me)
    for r in range(rounds):
        keys = [f"shared:{i}" for i in range(shared)] + [f"own{me}:{i}" for i in range(own)]
        rng.shuffle(keys)
        known = store.lookup_sources(keys)
        changes = []
        for key in keys:
            doc = Document(source_key=key, title=key, body=f"{key} written by {me} in round {r}.")
            doc.passages = split_passages(doc.body, 800)
            chash = content_hash(doc)
            if key in known:
                doc.docid = known[key].docid
                changes.append(Change("updated", doc, chash))
            else:
                doc.docid = make_docid(key)
                changes.append(Change("added", doc, chash))
        store.write(changes)
    store.close()
    """
)


def _run(script: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(procs: list[subprocess.Popen[str]]) -> list[str]:
    outs = []
    for proc in procs:
        out, errs = proc.communicate(timeout=120)
        assert proc.returncode == 0, errs
        outs.append(out)
    return outs


def test_concurrent_writers_issue_each_docid_once_and_log_every_change(
    pg_url: str, tmp_path: Path
) -> None:
    from sourcebook.store.postgres import PostgresStore

    writers, rounds, shared, own = 3, 4, 40, 10
    go = tmp_path / "go"
    store = PostgresStore(pg_url)
    store.migrate()
    procs = [
        _run(WRITER, pg_url, str(me), str(rounds), str(shared), str(own), str(go))
        for me in range(writers)
    ]
    time.sleep(1.0)  # let them connect
    go.touch()
    # a follower reads the log while they write: it must see every change, none skipped
    followed, position = [], 0
    while any(p.poll() is None for p in procs):
        batch = store.changes_since(position, 50)
        followed += batch
        position = batch[-1].position if batch else position
    _finish(procs)
    followed += store.changes_since(position, 100_000)

    expected_sources = shared + writers * own
    assert store.count() == expected_sources
    docs = list(store.iter_documents(with_revisions=True))
    assert len({d.docid for d in docs}) == expected_sources
    assert all(d.docid == make_docid(d.source_key) for d in docs)
    assert store.stats()["docids_issued"] == expected_sources
    for doc in docs:  # no update lost: revisions numbered 1..n, the last is the stored content
        assert [r.number for r in doc.revisions] == list(range(1, len(doc.revisions) + 1))
    # own sources: one revision per round; shared ones: at most one per write of each writer
    own_docs = [d for d in docs if d.source_key.startswith("own")]
    assert all(len(d.revisions) == rounds for d in own_docs)
    log = store.changes_since(0, 100_000)
    assert [c.position for c in log] == sorted({c.position for c in log})
    assert followed == log
    assert len(log) == sum(len(d.revisions) for d in docs)
    added = Counter(c.docid for c in log if c.kind == "added")
    assert set(added.values()) == {1} and len(added) == expected_sources
    store.close()


MIGRATOR = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from sourcebook.store.postgres import PostgresStore
    store = PostgresStore(sys.argv[1])
    while not Path(sys.argv[2]).exists():
        time.sleep(0.005)
    print(",".join(store.migrate()))
    store.close()
    """
)


def test_two_processes_starting_at_once_migrate_once(pg_url: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    procs = [_run(MIGRATOR, pg_url, str(go)) for _ in range(2)]
    time.sleep(1.0)
    go.touch()
    applied = [out.strip() for out in _finish(procs)]
    assert sorted(applied)[0] == ""  # the second found nothing left to do
    assert sorted(applied)[1].split(",")[0] == "0001_initial"


# --- the archive on PostgreSQL ------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_ingest_search_delete_export_through_the_archive(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("pg_url") if backend == "postgres" else ""
    settings = Settings(home=tmp_path / "archive", database_url=url)
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(STORY, encoding="utf-8")
    with Archive(settings) as archive:
        report = archive.ingest([src, FIXTURES / "refworld", FIXTURES / "html" / "article.html"])
        assert report.total("failed") == 0 and report.total("added") >= 3
        hits = archive.search(SearchRequest(query='"201st Motor Rifle Division"')).hits
        assert [h.title for h in hits] == ["Border security talks in Dushanbe"]
        docid = hits[0].docid
        (src / "a.txt").write_text(STORY.replace("three", "four"), encoding="utf-8")
        assert archive.ingest([src]).total("updated") == 1
        assert [r.number for r in archive.get(docid).revisions] == [1, 2]
        stored = archive.store.count()
        archive.delete([docid])
        out = io.StringIO()
        n = archive.export_jsonl(out)
    assert n == stored - 1 and docid not in out.getvalue()
    # a second open finds the same documents, the deleted one gone from the index too
    with Archive(settings) as archive:
        assert archive.search(SearchRequest(query='"201st Motor Rifle Division"')).hits == []
        kept = json.loads(out.getvalue().splitlines()[0])
        found = archive.search(SearchRequest(query=f'"{kept["title"]}"')).hits
        assert kept["docid"] in [h.docid for h in found]
        assert archive.store.count() == n


# --- copy-store ---------------------------------------------------------------------------------
def _fingerprint(archive: Archive) -> dict[str, object]:
    store: Store = archive.store
    out = io.StringIO()
    archive.export_jsonl(out)
    deleted = [r for r in store.list_updated(HarvestFilter(), None, 10_000) if r.deleted]
    return {
        "export": out.getvalue(),
        "log": store.changes_since(0, 100_000),
        "runs": store.run_statuses(),
        "errors": store.recent_errors(),
        "harvest": [
            (r.key, r.updated_at, r.document.docid, r.deleted)
            for r in store.list_updated(HarvestFilter(), None, 10_000)
        ],
        "owners": {r.document.docid: store.docid_owner(r.document.docid) for r in deleted},
        "snapshots": [
            store.get_revision_snapshot(d.docid, 1)
            for d in store.iter_documents(with_revisions=True)
            if len(d.revisions) > 1
        ],
        "minhashes": list(store.iter_minhashes()),
        "pending": store.count_pending_entities(),
        "stats": store.stats(),
        # collections, accounts, folders, saved searches (the rows of every copied table)
        "collections": store.list_collections(),
        "users": store.list_users(),
        "groups": store.list_groups(),
        "tokens": store.list_tokens("ana"),
        "audit": store.list_audit(AuditFilter(), 100),
        "folders": [
            (f, store.folders.folder_items(f.id), store.folders.folder_shares(f.id))
            for f in store.folders.folders_of("ana", ["lawyers"])
        ],
        "saved": store.saved_searches(),
    }


def _workspace_rows(archive: Archive, docid: str) -> None:
    """A policy, two users in a group with a token, a shared folder with a quote, a saved
    search, audit lines: one row or more in each table copy-store copies."""
    operator = Viewer.system()
    archive.set_collection(CollectionPolicy("legal", "restricted", ("lawyers",)))
    accounts = Accounts(archive.store, archive.settings)
    accounts.add_user("ana", "editor", None, by=operator, email="ana@example.org")
    accounts.add_user("bo", "reader", None, by=operator)
    accounts.add_group("lawyers", by=operator)
    accounts.set_membership("bo", "lawyers", True, by=operator)
    accounts.create_token("ana", "laptop", "read")
    ana = Viewer(user="ana", role="editor")
    folder = workspace.create_folder(archive, ana, "Case 14")
    workspace.quote(archive, ana, folder.id, docid, 0, 20, "first words")
    workspace.share_folder(archive, ana, folder.id, Share("group", "lawyers", "edit"))
    alerts.save_search(archive, ana, SavedSearch("border", "Tajik-Afghan border"))


def test_copy_store_sqlite_to_postgres_and_back_keeps_everything(
    pg_url: str, tmp_path: Path
) -> None:
    first = tmp_path / "first"
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(STORY, encoding="utf-8")
    (src / "broken.pdf").write_bytes(b"not a pdf")
    with Archive(Settings(home=first)) as archive:
        archive.ingest([src, FIXTURES / "jsonl" / "records.jsonl", FIXTURES / "refworld"])
        (src / "a.txt").write_text(STORY.replace("three", "four"), encoding="utf-8")
        archive.ingest([src])
        docs = list(archive.store.iter_documents())
        archive.store.set_entities([(docs[1].docid, ["Jane Doe"], ["UNHCR"])])
        archive.delete([docs[2].docid])
        _workspace_rows(archive, docs[0].docid)
        before = _fingerprint(archive)
    assert before["snapshots"] and before["owners"] and before["errors"]
    assert before["folders"] and before["tokens"] and before["saved"] and before["audit"]

    report = copy_store(str(first), pg_url)
    assert report.rows["documents"] == len(docs) - 1 and report.rows["tombstones"] == 1
    with Archive(Settings(home=tmp_path / "pg-archive", database_url=pg_url)) as archive:
        assert _fingerprint(archive) == before
        assert archive.search(SearchRequest(query="Tajik-Afghan border")).hits

    back = tmp_path / "back"
    result = CliRunner().invoke(app, ["copy-store", pg_url, str(back)])
    assert result.exit_code == 0, result.output
    assert "documents" in result.output
    with Archive(Settings(home=back)) as archive:  # the index is rebuilt on first open
        assert _fingerprint(archive) == before
        assert archive.search(SearchRequest(query="Tajik-Afghan border")).hits

    with pytest.raises(Conflict):  # only into an empty store
        copy_store(str(first), str(back))
    refused = CliRunner().invoke(app, ["copy-store", str(first), pg_url])
    assert refused.exit_code == 2 and "not empty" in refused.output


def test_a_change_committed_later_never_gets_a_smaller_position(pg_url: str) -> None:
    """Writer A has appended to the log but not committed; writer B must wait, or a follower
    that already read B's (larger) position would never see A's row."""
    import threading

    import psycopg
    from psycopg.rows import dict_row

    from sourcebook.store.codec import now_utc
    from sourcebook.store.postgres import PostgresStore

    from .test_contract import make_doc

    store = PostgresStore(pg_url)
    store.migrate()
    with psycopg.connect(pg_url, row_factory=dict_row) as slow:
        (first,) = store._append_log(slow, [("aaaaaaaaaa", "added", now_utc())])  # in flight
        doc = make_doc("late:1")
        writer = threading.Thread(target=store.write, args=([Change("added", doc, "h")],))
        writer.start()
        writer.join(timeout=1.0)
        assert writer.is_alive()  # B waits for A's commit
        assert store.changes_since(0) == []  # a follower sees neither yet
        slow.commit()
    writer.join(timeout=10)
    log = store.changes_since(0)
    assert log[0].position == first
    assert [c.docid for c in log] == ["aaaaaaaaaa", doc.docid]
    store.close()


def test_a_live_writers_run_elsewhere_is_not_closed_as_interrupted(pg_url: str) -> None:
    """The writer lock is per archive folder: with PostgreSQL another machine's ingest may be
    running. Its run stays "running" until its store goes away."""
    from sourcebook.store.postgres import PostgresStore

    mine, theirs = PostgresStore(pg_url), PostgresStore(pg_url)
    mine.migrate()
    run = theirs.start_run(["elsewhere"])
    assert mine.close_unfinished_runs() == 0
    assert mine.run_statuses()[run] == "running"
    theirs.close()  # the process died: its server session ends
    deadline = time.monotonic() + 5
    while mine.close_unfinished_runs() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mine.run_statuses()[run] == "interrupted"
    mine.close()


def test_the_database_setting_is_checked_and_an_unreachable_server_named(tmp_path: Path) -> None:
    from sourcebook.errors import ConfigError
    from sourcebook.store import open_store

    with pytest.raises(ConfigError, match="must start with postgresql://"):
        open_store(Settings(home=tmp_path, database_url="mysql://db/archive"))
    result = CliRunner().invoke(
        app,
        ["--archive", str(tmp_path), "--database", "postgresql://nobody@127.0.0.1:1/x", "stats"],
    )
    assert result.exit_code == 2
    assert (
        "cannot connect to PostgreSQL database x at 127.0.0.1:1" in " ".join(result.output.split())
        or "postgres extra" in result.output
    )


def test_a_deleted_documents_docid_is_never_stored_for_another_source(pg_url: str) -> None:
    """The check ingest makes (docid_owner) can race with another writer: the store refuses."""
    from sourcebook.errors import StorageError
    from sourcebook.store.postgres import PostgresStore

    from .test_contract import make_doc

    store = PostgresStore(pg_url)
    store.migrate()
    first = make_doc("owner:1")
    store.write([Change("added", first, "h1")])
    store.delete(first.docid)
    intruder = make_doc("owner:2")
    intruder.docid = first.docid
    with pytest.raises(StorageError, match="issued to another source"):
        store.write([Change("added", intruder, "h2")])
    assert store.count() == 0 and store.docid_owner(first.docid) == "owner:1"
    store.write([Change("added", first, "h1")])  # its own source may come back
    assert store.get(first.docid).source_key == "owner:1"
    store.close()


def test_the_web_app_serves_an_archive_on_postgres(pg_url: str, tmp_path: Path) -> None:
    """The API and OAI-PMH read the PostgreSQL store (records, harvest datestamps, deletions)."""
    from sourcebook.web.app import create_app
    from tests.web.client import Client

    settings = Settings(home=tmp_path / "archive", database_url=pg_url)
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(STORY, encoding="utf-8")
    (src / "b.txt").write_text(STORY.replace("Dushanbe", "Khujand"), encoding="utf-8")
    with Archive(settings) as archive:
        archive.ingest([src])
        gone = archive.search(SearchRequest(query="Khujand")).hits[0].docid
        archive.delete([gone])
    with Client(create_app(settings)) as site:
        data = site.get("/api/search", params={"q": "Dushanbe"}).json()
        assert data["total"] == 1
        docid = data["hits"][0]["docid"]
        assert site.get(f"/api/records/{docid}").json()["title"].startswith("Border security")
        oai = site.get("/oai", params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
        assert oai.status_code == 200
        assert docid in oai.text and gone in oai.text and 'status="deleted"' in oai.text


def test_a_nul_character_never_fails_a_batch(pg_url: str, tmp_path: Path) -> None:
    """SQLite keeps NUL in text, PostgreSQL refuses it: it is stored as U+FFFD (one character for
    one, so passages keep their offsets), through ingest and through copy-store alike."""
    import json as jsonlib

    record = {
        "source_key": "nul:1",
        "title": "A title\u0000with NUL",
        "authors": ["Doe,\u0000Jane"],
        "body": "First paragraph with \u0000 in it.\n\nSecond paragraph.",
        "source_tags": {"topics": ["a\u0000b"]},
    }
    feed = tmp_path / "nul.jsonl"
    feed.write_text(jsonlib.dumps(record) + "\n", encoding="utf-8")
    with Archive(Settings(home=tmp_path / "lite")) as archive:  # SQLite keeps it as it is
        archive.ingest([feed])
    copy_store(str(tmp_path / "lite"), pg_url)
    second = tmp_path / "second.jsonl"
    second.write_text(jsonlib.dumps({**record, "source_key": "nul:2"}) + "\n", encoding="utf-8")
    with Archive(Settings(home=tmp_path / "pg", database_url=pg_url)) as archive:
        report = archive.ingest([second, feed])
        assert (report.total("added"), report.total("unchanged"), report.total("failed")) == (
            1,
            1,
            0,
        )
        docs = list(archive.store.iter_documents())
        assert len(docs) == 2
        for doc in docs:
            assert doc.title == "A title\ufffdwith NUL" and doc.authors == ["Doe,\ufffdJane"]
            assert len(doc.body) == len(record["body"])
            assert all(doc.body[p.start : p.end] == p.text for p in doc.passages)


def test_two_editors_ingest_the_same_files_at_once(pg_url: str, tmp_path: Path) -> None:
    """Two machines (two archive folders, one database) ingest overlapping folders at once
    through the CLI: nothing fails, every source is stored once with one docid."""
    shared, own = tmp_path / "shared", [tmp_path / "own0", tmp_path / "own1"]
    for i in range(60):
        (shared / f"s{i}.txt").parent.mkdir(exist_ok=True)
        (shared / f"s{i}.txt").write_text(f"Shared report {i}\n\nAbout Kulob, number {i}.\n")
    for n, folder in enumerate(own):
        folder.mkdir()
        for i in range(10):
            (folder / f"o{i}.txt").write_text(f"Own report {n}-{i}\n\nFrom editor {n}.\n")
    env = {**os.environ, "PYTHONPATH": str(SRC), "SOURCEBOOK_INGEST_BATCH_SIZE": "7"}
    procs = [
        subprocess.Popen(
            [str(Path(sys.executable).parent / "sourcebook"), "--archive", str(tmp_path / f"m{n}"),
             "--database", pg_url, "ingest", "--quiet", str(shared), str(own[n])],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for n in range(2)
    ]  # fmt: skip
    outputs = [proc.communicate(timeout=180) for proc in procs]  # both, before any assert
    for proc, (out, errs) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, out + errs
    from sourcebook.store.postgres import PostgresStore

    store = PostgresStore(pg_url)
    docs = list(store.iter_documents(with_revisions=True))
    assert len(docs) == 80 and len({d.docid for d in docs}) == 80
    assert len({d.source_key for d in docs}) == 80
    assert all(len(d.revisions) == 1 for d in docs)  # the same content is never a new revision
    assert set(store.run_statuses().values()) == {"finished"}
    log = store.changes_since(0, 10_000)
    assert Counter(c.kind for c in log) == {"added": 80}
    store.close()
    # each machine's index, caught up on its next open, finds every document
    for n in range(2):
        settings = Settings(home=tmp_path / f"m{n}", database_url=pg_url)
        with Archive(settings) as archive:
            archive.reindex()
            assert archive.search(SearchRequest(query="Kulob")).total == 60


def test_a_read_only_role_opens_an_up_to_date_database(pg_url: str, tmp_path: Path) -> None:
    """Search nodes may connect with a role that can only read: opening never needs DDL."""
    import uuid

    import psycopg

    from sourcebook.store.postgres import PostgresStore

    from .conftest import base_url
    from .test_contract import make_doc

    store = PostgresStore(pg_url)
    store.migrate()
    doc = make_doc("read:1")
    store.write([Change("added", doc, "h1")])
    store.start_run(["unfinished"])
    store.close()
    role = f"sbreader_{uuid.uuid4().hex[:8]}"
    name = pg_url.split("options=-csearch_path%3D")[1]
    with psycopg.connect(base_url(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT USAGE ON SCHEMA {name} TO {role}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {name} TO {role}")
    try:
        reader_url = pg_url.replace("postgres@", f"{role}@", 1)
        reader = PostgresStore(reader_url)
        assert reader.migrate() == [] and reader.count() == 1
        reader.close()
        # a search node's archive opens and replays the change log into its own index
        with Archive(Settings(home=tmp_path / "node", database_url=reader_url)) as archive:
            hits = archive.search(SearchRequest(query="Tajikistan")).hits
            assert [h.docid for h in hits] == [doc.docid]
            assert not archive.search(SearchRequest(query="Tajikistan")).notices
    finally:
        with psycopg.connect(base_url(), autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")


def test_copy_store_names_every_table_of_the_schema(tmp_path: Path) -> None:
    """A table added by a migration must be copied, or said not to be (copy_store.NOT_COPIED)."""
    import sqlite3

    from sourcebook.copy_store import NOT_COPIED, TABLES
    from sourcebook.store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "sourcebook.db")
    store.migrate()
    store.close()
    with sqlite3.connect(tmp_path / "sourcebook.db") as conn:
        tables = {
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not r[0].startswith("sqlite_")
        }
    assert tables - NOT_COPIED == set(TABLES)
