"""The Store contract for the source registry and kept originals (both backends)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from sourcebook.errors import Conflict, NotFound
from sourcebook.sources.model import Original, Source
from sourcebook.store.base import Change, Store
from sourcebook.store.codec import content_hash
from tests.store.test_contract import make_doc


def test_sources_are_added_listed_updated_and_removed(store: Store) -> None:
    feed = store.add_source(Source("news", "https://example.org/feed", "feed", 3600, "tests"))
    assert feed.created_at is not None
    store.add_source(Source("repo", "https://example.org/oai", "oai", oai_set="collection:x"))
    with pytest.raises(Conflict):
        store.add_source(Source("news", "https://example.org/other", "page"))
    assert [s.name for s in store.list_sources()] == ["news", "repo"]

    got = store.get_source("news")
    assert (got.url, got.kind, got.every_seconds, got.collection) == (
        "https://example.org/feed",
        "feed",
        3600,
        "tests",
    )
    assert got.last_run_at is None and got.etag == "" and got.runs == 0

    ran = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    got.etag, got.last_modified, got.oai_from, got.oai_token = '"v1"', "Sun, 01 Mar", "2026", "t"
    got.last_run_at = got.last_success_at = ran
    got.last_error, got.runs, got.fetched, got.added, got.failed = "boom", 2, 5, 3, 1
    store.save_source_state(got)
    again = store.get_source("news")
    assert again.etag == '"v1"' and again.oai_token == "t" and again.last_error == "boom"
    assert again.last_run_at == ran and again.last_success_at == ran
    assert (again.runs, again.fetched, again.added, again.failed) == (2, 5, 3, 1)
    assert again.url == "https://example.org/feed"  # the state write leaves the config alone

    store.remove_source("repo")
    with pytest.raises(NotFound):
        store.get_source("repo")
    with pytest.raises(NotFound):
        store.remove_source("repo")
    with pytest.raises(NotFound):
        store.save_source_state(Source("repo", "https://example.org/oai", "oai"))


def _original(docid: str, body: bytes, revision: int = 1) -> Original:
    return Original(
        docid=docid,
        revision=revision,
        source="news",
        url="https://example.org/a",
        final_url="https://example.org/a?x=1",
        fetched_at=datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC),
        status=200,
        content_type="text/html; charset=utf-8",
        sha256=hashlib.sha256(body).hexdigest(),
        size=len(body),
        headers={"content-type": "text/html; charset=utf-8", "etag": '"x"'},
    )


def test_originals_are_kept_as_received_and_go_with_their_document(store: Store) -> None:
    doc, other = make_doc("test:1"), make_doc("test:2")
    store.write([Change("added", d, content_hash(d)) for d in (doc, other)])
    first = b"<html>\x00\xff first</html>"
    assert store.latest_originals([doc.docid]) == {}
    kept = [
        (_original(doc.docid, first), first),
        (_original(doc.docid, b"second", 2), b"second"),
        (_original(other.docid, first), first),  # equal bytes: one blob
    ]
    one, two, shared = store.add_originals(kept)
    assert one < two < shared and [o.id for o, _ in kept] == [one, two, shared]
    latest = store.latest_originals([doc.docid, other.docid, "missing"])
    assert {d: o.id for d, o in latest.items()} == {doc.docid: two, other.docid: shared}
    listed = store.list_originals(doc.docid)
    assert [o.id for o in listed] == [two, one]
    assert listed[1].headers["etag"] == '"x"' and listed[1].final_url.endswith("?x=1")
    assert listed[1].fetched_at == datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)
    info, body = store.get_original(doc.docid, one)
    assert body == first and info.sha256 == hashlib.sha256(first).hexdigest()
    assert info.size == len(first) and info.revision == 1 and info.status == 200
    with pytest.raises(NotFound):
        store.get_original(other.docid, one)  # an id of another document's original

    store.delete(doc.docid)
    assert store.list_originals(doc.docid) == []
    assert store.get_original(other.docid, shared)[1] == first  # the shared blob stays
    store.delete(other.docid)
    with pytest.raises(NotFound):
        store.get_original(other.docid, shared)
