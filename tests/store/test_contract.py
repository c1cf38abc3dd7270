"""The Store contract: every backend must pass these tests (parametrised over backends)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest

from sourcebook.errors import NotFound
from sourcebook.ids import make_docid
from sourcebook.model import Document
from sourcebook.passages import split_passages
from sourcebook.store.base import Change, Store
from sourcebook.store.codec import content_hash
from sourcebook.store.sqlite import SQLiteStore


def make_doc(key: str = "test:1", body: str = "First paragraph.\n\nSecond paragraph.") -> Document:
    doc = Document(
        source_key=key,
        source_id=key.split(":")[-1],
        title="Border security in Tajikistan",
        publisher="Illustrative Publisher",
        authors=["Doe, Jane"],
        publication_date=date(2017, 2, 27),
        last_updated=datetime(2023, 5, 17, 15, 20, tzinfo=UTC),
        source_url="https://example.org/a",
        accessed_date=date(2023, 5, 19),
        body=body,
        document_type="news",
        language="en",
        countries=["TJ", "AF"],
        collection="tests",
        source_tags={"topics": ["security"]},
        derived=["language"],
    )
    doc.docid = make_docid(key)
    doc.passages = split_passages(doc.body, 10)
    return doc


def test_migrations_are_recorded_and_idempotent(store: Store) -> None:
    assert "0001_initial" in store.applied_migrations()
    assert store.migrate() == []


def test_write_then_get_round_trips_every_field(store: Store) -> None:
    doc = make_doc()
    store.write([Change("added", doc, content_hash(doc))])
    got = store.get(doc.docid)
    assert got.content() == doc.content()
    assert (got.docid, got.source_key, got.last_updated, got.accessed_date) == (
        doc.docid,
        doc.source_key,
        doc.last_updated,
        doc.accessed_date,
    )
    assert got.derived == ["language"]
    assert [(p.start, p.end) for p in got.passages] == [(p.start, p.end) for p in doc.passages]
    assert all(got.body[p.start : p.end] == p.text for p in got.passages)
    assert [r.number for r in got.revisions] == [1]


def test_lookup_sources_and_docid_owner(store: Store) -> None:
    doc = make_doc()
    chash = content_hash(doc)
    store.write([Change("added", doc, chash)])
    found = store.lookup_sources(["test:1", "test:unknown"])
    assert list(found) == ["test:1"]
    assert found["test:1"].content_hash == chash
    assert found["test:1"].docid == doc.docid
    assert store.docid_owner(doc.docid) == "test:1"
    assert store.docid_owner("zzzzzzzzzz") is None
    other = make_doc("test:2")
    store.write([Change("added", other, content_hash(other))])
    store.delete(other.docid)  # a deleted document's docid stays issued
    asked = [doc.docid, "zzzzzzzzzz", other.docid, doc.docid]
    assert store.docid_owners(asked) == {doc.docid: "test:1", other.docid: "test:2"}
    assert store.docid_owners([]) == {}


def test_update_adds_revision_with_snapshot(store: Store) -> None:
    doc = make_doc()
    store.write([Change("added", doc, content_hash(doc))])
    changed = make_doc(body="First paragraph.\n\nA corrected second paragraph.")
    store.write([Change("updated", changed, content_hash(changed))])
    got = store.get(doc.docid)
    assert [r.number for r in got.revisions] == [1, 2]
    assert got.revisions[1].changed_fields == ["body"]
    assert store.get_revision_snapshot(doc.docid, 1)["body"] == doc.body
    assert store.get_revision_snapshot(doc.docid, 2)["body"] == changed.body
    with pytest.raises(NotFound):
        store.get_revision_snapshot(doc.docid, 3)


def test_delete_keeps_docid_issued(store: Store) -> None:
    doc = make_doc()
    store.write([Change("added", doc, content_hash(doc))])
    store.delete(doc.docid)
    with pytest.raises(NotFound):
        store.get(doc.docid)
    assert store.docid_owner(doc.docid) == "test:1"
    with pytest.raises(NotFound):
        store.delete(doc.docid)


def test_get_many_iter_and_counts(store: Store) -> None:
    docs = [make_doc(f"test:{i}") for i in range(7)]
    store.write([Change("added", d, content_hash(d)) for d in docs])
    assert store.count() == 7
    many = store.get_many([docs[3].docid, docs[1].docid, "missing"])
    assert set(many) == {docs[3].docid, docs[1].docid}
    assert many[docs[3].docid].passages
    listed = list(store.iter_documents(batch_size=3, with_revisions=True))
    assert [d.docid for d in listed] == [d.docid for d in docs]
    assert all(d.revisions for d in listed)
    entries = list(store.iter_index_entries())
    assert len(entries) == 7
    stats = store.stats()
    assert stats["documents"] == 7
    assert stats["by_language"] == {"en": 7}


def test_a_failed_batch_writes_nothing(store: Store) -> None:
    first = make_doc("test:a")
    dup = make_doc("test:b")
    dup.docid = first.docid  # same docid for two sources violates uniqueness
    from sourcebook.errors import StorageError

    with pytest.raises(StorageError):
        store.write(
            [Change("added", first, content_hash(first)), Change("added", dup, content_hash(dup))]
        )
    assert store.count() == 0


def test_ingest_runs_and_errors(store: Store) -> None:
    run = store.start_run(["a.txt"])
    store.record_error(run, "a.txt", "no parser recognises a.txt")
    store.finish_run(run, 0, 0, 0, 1)
    assert store.recent_errors()[0][1:] == ("a.txt", "no parser recognises a.txt")


# --- harvesting ---------------------------------------------------------------------------------
def _harvest_docs() -> list[Document]:
    docs = []
    for i in range(9):
        doc = make_doc(f"harvest:{i}")
        doc.collection = ("alpha", "beta", "")[i % 3]
        doc.countries = [["TJ"], ["AF", "TJ"], []][i % 3]
        docs.append(doc)
    return docs


def test_list_updated_pages_in_update_order(store: Store) -> None:
    from sourcebook.store.base import HarvestFilter

    docs = _harvest_docs()
    store.write([Change("added", d, content_hash(d)) for d in docs[:4]])  # two batches
    store.write([Change("added", d, content_hash(d)) for d in docs[4:]])
    everything = store.list_updated(HarvestFilter(), None, 100)
    assert [r.document.docid for r in everything] == [d.docid for d in docs]
    positions = [r.position for r in everything]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert all(r.updated_at.tzinfo is not None for r in everything)
    assert all(r.document.passages for r in everything)
    assert store.count_updated(HarvestFilter()) == 9
    paged, after = [], None
    while page := store.list_updated(HarvestFilter(), after, 2):
        assert len(page) <= 2
        paged += page
        after = page[-1].position
    assert [r.document.docid for r in paged] == [d.docid for d in docs]
    assert store.list_updated(HarvestFilter(), None, 0) == []


def test_list_updated_filters_by_set_and_time(store: Store) -> None:
    from datetime import timedelta

    from sourcebook.store.base import HarvestFilter

    docs = _harvest_docs()
    store.write([Change("added", d, content_hash(d)) for d in docs])

    def docids(selection: HarvestFilter) -> list[str]:
        found = [r.document.docid for r in store.list_updated(selection, None, 100)]
        assert store.count_updated(selection) == len(found)
        return found

    assert docids(HarvestFilter(collection="alpha")) == [d.docid for d in docs[0::3]]
    assert docids(HarvestFilter(collection="gamma")) == []
    assert docids(HarvestFilter(country="AF")) == [d.docid for d in docs[1::3]]
    assert docids(HarvestFilter(country="TJ", collection="alpha")) == [d.docid for d in docs[0::3]]
    assert len(docids(HarvestFilter(any_collection=True))) == 6
    assert len(docids(HarvestFilter(any_country=True))) == 6
    stamps = [r.updated_at for r in store.list_updated(HarvestFilter(), None, 100)]
    first, last = min(stamps), max(stamps)
    assert len(docids(HarvestFilter(since=first, until=last))) == 9  # both bounds inclusive
    assert docids(HarvestFilter(since=last + timedelta(seconds=1))) == []
    assert docids(HarvestFilter(until=first - timedelta(seconds=1))) == []


def test_an_updated_record_moves_to_the_end_of_harvest_order(store: Store) -> None:
    from sourcebook.store.base import HarvestFilter

    docs = _harvest_docs()[:3]
    store.write([Change("added", d, content_hash(d)) for d in docs])
    before = {r.document.docid: r for r in store.list_updated(HarvestFilter(), None, 100)}
    changed = make_doc("harvest:0", body="A corrected body.\n\nWith two paragraphs.")
    store.write([Change("updated", changed, content_hash(changed))])
    after = store.list_updated(HarvestFilter(), None, 100)
    assert sorted(r.position for r in after) == [r.position for r in after]
    moved = next(r for r in after if r.document.docid == changed.docid)
    assert moved.key == before[changed.docid].key
    assert moved.updated_at >= before[changed.docid].updated_at
    assert moved.document.body == changed.body
    assert len(after) == 3


def test_set_counts_and_get_harvested(store: Store) -> None:
    from sourcebook.store.base import HarvestFilter

    docs = _harvest_docs()
    store.write([Change("added", d, content_hash(d)) for d in docs])
    counts = store.set_counts()
    assert counts.collections == {"alpha": 3, "beta": 3}
    assert counts.countries == {"AF": 3, "TJ": 6}
    listed = {r.document.docid: r for r in store.list_updated(HarvestFilter(), None, 100)}
    got = store.get_harvested([docs[4].docid, "missing", docs[2].docid])
    assert set(got) == {docs[4].docid, docs[2].docid}
    for docid, record in got.items():
        assert record.position == listed[docid].position
        assert record.document.content() == listed[docid].document.content()
        assert record.document.passages
    assert store.get_harvested([]) == {}


# --- the change log, deletions, runs ------------------------------------------------------------
def test_every_write_is_logged_in_order(store: Store) -> None:
    first, second = make_doc("log:1"), make_doc("log:2")
    assert store.last_position() == 0 and store.changes_since(0) == []
    store.write([Change("added", first, content_hash(first)), Change("added", second, "h2")])
    changed = make_doc("log:1", body="A new body.")
    store.write([Change("updated", changed, content_hash(changed))])
    store.set_entities([(second.docid, ["Jane Doe"], [])])
    store.set_dup_groups([(second.docid, first.docid, b"")])
    store.delete(first.docid)
    log = store.changes_since(0)
    assert [(c.docid, c.kind) for c in log] == [
        (first.docid, "added"),
        (second.docid, "added"),
        (first.docid, "updated"),
        (second.docid, "updated"),
        (second.docid, "updated"),
        (first.docid, "deleted"),
    ]
    positions = [c.position for c in log]
    assert positions == sorted(set(positions)) and store.last_position() == positions[-1]
    assert all(c.changed_at.tzinfo is not None for c in log)
    assert store.changes_since(positions[1], limit=2) == log[2:4]


def test_a_change_feed_wakes_on_each_commit_to_the_log(store: Store) -> None:
    feed = store.listen()
    if feed is None:  # SQLite: followers poll
        assert isinstance(store, SQLiteStore)
        return
    try:
        assert not feed.wait(0.05)  # nothing committed yet
        doc = make_doc("feed:1")
        store.write([Change("added", doc, content_hash(doc))])
        started = time.monotonic()
        assert feed.wait(5)
        assert time.monotonic() - started < 1  # delivered at the commit, not at a poll
        assert not feed.wait(0.05)  # one write, one wake-up
        dup = make_doc("feed:2")
        dup.docid = doc.docid  # a failed batch commits nothing and notifies nothing
        with pytest.raises(Exception):  # noqa: B017  # the backend's StorageError
            store.write([Change("added", dup, "h")])
        assert not feed.wait(0.1)
        store.delete(doc.docid)
        assert feed.wait(5)
    finally:
        feed.close()


def test_a_failed_batch_logs_nothing(store: Store) -> None:
    first = make_doc("fail:1")
    dup = make_doc("fail:2")
    dup.docid = first.docid  # the docid is unique: the batch fails
    with pytest.raises(Exception):  # noqa: B017  # the backend's StorageError
        store.write([Change("added", first, "h1"), Change("added", dup, "h2")])
    assert store.last_position() == 0


def test_a_deleted_record_keeps_a_tombstone_for_harvesters(store: Store) -> None:
    from sourcebook.store.base import HarvestFilter

    docs = _harvest_docs()[:3]  # alpha/TJ, beta/AF+TJ, none
    store.write([Change("added", d, content_hash(d)) for d in docs])
    store.delete(docs[1].docid)
    listed = store.list_updated(HarvestFilter(), None, 100)
    # in harvest order, by deletion time (the store's clock counts seconds: within one second
    # the internal key orders them)
    assert [r.position for r in listed] == sorted(r.position for r in listed)
    assert {(r.document.docid, r.deleted) for r in listed} == {
        (docs[0].docid, False),
        (docs[2].docid, False),
        (docs[1].docid, True),
    }
    at = next(i for i, r in enumerate(listed) if r.deleted)
    gone = listed[at]
    assert gone.updated_at >= max(r.updated_at for r in listed)
    assert (gone.document.collection, gone.document.countries) == ("beta", ["AF", "TJ"])
    assert store.count_updated(HarvestFilter()) == 3
    assert [r.document.docid for r in store.list_updated(HarvestFilter(country="AF"))] == [
        docs[1].docid
    ]
    assert store.count_updated(HarvestFilter(collection="alpha")) == 1
    after = listed[at - 1].position if at else None
    assert store.list_updated(HarvestFilter(), after, 100) == listed[at:]
    assert store.get_harvested([docs[1].docid])[docs[1].docid].deleted
    assert store.count() == 2 and store.set_counts().collections == {"alpha": 1}
    # the source comes back: same docid, live again, no tombstone
    store.write([Change("added", docs[1], content_hash(docs[1]))])
    assert not any(r.deleted for r in store.list_updated(HarvestFilter(), None, 100))
    assert store.count_updated(HarvestFilter()) == 3


def test_runs_have_a_status_and_unfinished_ones_are_closed(store: Store) -> None:
    done = store.start_run(["a"])
    store.finish_run(done, 1, 0, 0, 0)
    stopped = store.start_run(["b"])
    store.finish_run(stopped, 1, 0, 0, 0, "interrupted")
    killed = store.start_run(["c"])
    assert store.run_statuses() == {done: "finished", stopped: "interrupted", killed: "running"}
    assert store.close_unfinished_runs() == 1
    assert store.run_statuses()[killed] == "interrupted"
    assert store.close_unfinished_runs() == 0


def test_ocr_confidence_round_trips(store: Store) -> None:
    scanned, typed = make_doc("test:scan"), make_doc("test:typed")
    scanned.ocr_confidence = 87.25
    store.write([Change("added", d, content_hash(d)) for d in (scanned, typed)])
    assert store.get(scanned.docid).ocr_confidence == 87.25
    assert store.get(typed.docid).ocr_confidence is None


def test_collection_policies_are_recorded_and_replaced(store: Store) -> None:
    from sourcebook.access import CollectionPolicy

    assert store.list_collections() == []
    store.set_collection(CollectionPolicy("legal", "restricted", ("lawyers", "ngo")))
    store.set_collection(CollectionPolicy("staff", "internal", title="Staff notes"))
    store.set_collection(CollectionPolicy("legal", "restricted", ("lawyers",)))
    assert store.list_collections() == [
        CollectionPolicy("legal", "restricted", ("lawyers",)),
        CollectionPolicy("staff", "internal", (), "Staff notes"),
    ]


def test_hidden_collections_count_nowhere(store: Store) -> None:
    from sourcebook.store.base import HarvestFilter

    docs = []
    for i, collection in enumerate(["open", "legal", "legal", ""]):
        doc = make_doc(f"test:{i}")
        doc.collection, doc.dup_group = collection, "g1"
        docs.append(doc)
    store.write([Change("added", d, content_hash(d)) for d in docs])
    store.delete(docs[2].docid)  # a tombstone in the hidden collection
    hidden = ("legal",)
    assert store.group_sizes(["g1"]) == {"g1": 3}
    assert store.group_sizes(["g1"], hidden) == {"g1": 2}
    assert store.set_counts(hidden).collections == {"open": 1}
    assert store.set_counts(hidden).countries == {"AF": 2, "TJ": 2}
    assert store.set_counts().countries == {"AF": 3, "TJ": 3}
    figures = store.stats(hidden)
    assert figures["documents"] == 2 and figures["by_collection"] == {"open": 1, "": 1}
    assert figures["passages"] == 2 * len(docs[0].passages)
    assert figures["top_countries"] == {"AF": 2, "TJ": 2}
    every = HarvestFilter(exclude_collections=hidden)
    assert {r.document.docid for r in store.list_updated(every)} == {docs[0].docid, docs[3].docid}
    assert store.count_updated(every) == 2
    assert store.count_updated(HarvestFilter()) == 4  # three documents and the tombstone


def test_saved_searches_and_the_documents_added_since_a_position(store: Store) -> None:
    from sourcebook.errors import Conflict
    from sourcebook.saved import SavedSearch

    start = store.last_position()
    saved = store.save_search(
        SavedSearch("floods", "Kulob floods", {"countries": ["TJ"]}, "ana", "daily", "a@x.org")
    )
    assert saved.id and saved.created_at is not None
    with pytest.raises(Conflict):
        store.save_search(SavedSearch("floods", "other", owner="ana"))
    store.save_search(SavedSearch("floods", "mine too", owner="bo"))  # another owner's name
    assert [s.name for s in store.saved_searches("ana")] == ["floods"]
    assert store.saved_searches("ana")[0].filters == {"countries": ["TJ"]}
    assert len(store.saved_searches()) == 2
    first, second = make_doc("test:1"), make_doc("test:2")
    store.write([Change("added", d, content_hash(d)) for d in (first, second)])
    store.delete(first.docid)
    end = store.last_position()
    assert [d for _, d in store.added_since(start, end, 10)] == [second.docid]
    assert store.added_since(end, end, 10) == []
    when = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    store.mark_digest_sent(saved.id, end, when)
    again = store.saved_searches("ana")[0]
    assert (again.last_position, again.last_sent_at) == (end, when)
    store.delete_saved_search(saved.id)
    with pytest.raises(NotFound):
        store.delete_saved_search(saved.id)


def test_folders_items_and_shares(store: Store) -> None:
    from sourcebook.folders import FolderItem, Share

    tables = store.folders
    mine = tables.create_folder("ana", "Case 2026/14")
    theirs = tables.create_folder("bo", "Bo's notes")
    assert mine.id and mine.created_at is not None
    assert tables.get_folder(mine.id).title == "Case 2026/14"
    quote = tables.add_folder_item(
        FolderItem(mine.id, "abc", "quote", 3, 9, 2, "quoted", "my note", passage=4)
    )
    tables.add_folder_item(FolderItem(mine.id, "def"))
    items = tables.folder_items(mine.id)
    assert [(i.docid, i.kind, i.start, i.end, i.revision, i.passage) for i in items] == [
        ("abc", "quote", 3, 9, 2, 4),
        ("def", "document", 0, 0, 0, 0),
    ]
    tables.set_item_note(quote.id, "changed note")
    assert tables.folder_items(mine.id)[0].note == "changed note"
    tables.share_folder(theirs.id, Share("group", "lawyers", "read"))
    tables.share_folder(theirs.id, Share("group", "lawyers", "edit"))  # replaces
    assert tables.folder_shares(theirs.id) == [Share("group", "lawyers", "edit")]
    assert [f.id for f in tables.folders_of("ana", [])] == [mine.id]
    assert [f.id for f in tables.folders_of("ana", ["lawyers"])] == [mine.id, theirs.id]
    tables.unshare_folder(theirs.id, "group", "lawyers")
    assert tables.folders_of("cy", ["lawyers"]) == []
    tables.remove_folder_item(quote.id)
    with pytest.raises(NotFound):
        tables.remove_folder_item(quote.id)
    tables.rename_folder(mine.id, "Case 2026/15")
    tables.delete_folder(mine.id)  # its items go with it
    assert tables.folder_items(mine.id) == []
    with pytest.raises(NotFound):
        tables.get_folder(mine.id)
