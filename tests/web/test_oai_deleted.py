"""OAI-PMH deleted records (deletedRecord persistent), harvested by a real client (Sickle)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sickle import Sickle

from sourcebook.services import Archive
from tests.web.test_oai import NS, STAMPS, build_archive, fetch, make_app, make_doc, serve

DELETED_AT = datetime(2024, 4, 2, 9, 30, 0, tzinfo=UTC)
PAGE = 4


def oai_id(docid: str) -> str:
    return f"oai:127.0.0.1:{docid}"


@pytest.fixture(scope="module")
def deleted_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    docs = [make_doc(i) for i in range(10)]
    archive = build_archive(tmp_path_factory.mktemp("oai-del"), [(STAMPS[0], docs)])
    yield archive
    archive.close()


@pytest.fixture(scope="module")
def gone(deleted_archive: Archive) -> list[str]:
    """Docids of documents 1, 2 and 5 (countries AF+TJ, RU, AF+TJ), deleted at DELETED_AT."""
    by_source = {d.source_id: d.docid for d in deleted_archive.store.iter_documents()}
    docids = [by_source["1"], by_source["2"], by_source["5"]]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("sourcebook.store.sqlite.now_utc", lambda: DELETED_AT)
        report = deleted_archive.delete(docids)
    assert report.deleted == docids
    return docids


@pytest.fixture(scope="module")
def url(deleted_archive: Archive, gone: list[str]) -> Iterator[str]:
    with serve(make_app(deleted_archive, page_size=PAGE)) as base:
        yield base + "/oai"


def test_identify_says_deletions_are_persistent(url: str) -> None:
    assert Sickle(url).Identify().deletedRecord == "persistent"


def test_list_identifiers_reports_deleted_records_last_with_their_deletion_time(
    url: str, gone: list[str]
) -> None:
    headers = list(Sickle(url).ListIdentifiers(metadataPrefix="oai_dc"))
    assert len(headers) == 10  # 7 live records, 3 deleted, paged by 4 across the mix
    live, dead = headers[:7], headers[7:]
    assert not any(h.deleted for h in live)
    assert [h.identifier for h in dead] == [oai_id(d) for d in gone]
    assert all(h.deleted for h in dead)
    assert {h.datestamp for h in dead} == {"2024-04-02T09:30:00Z"}


def test_from_until_and_sets_apply_to_deleted_records(url: str, gone: list[str]) -> None:
    since = list(Sickle(url).ListIdentifiers(metadataPrefix="oai_dc", **{"from": "2024-04-01"}))
    assert [h.identifier for h in since] == [oai_id(d) for d in gone]
    before = list(Sickle(url).ListIdentifiers(metadataPrefix="oai_dc", until="2024-03-31"))
    assert len(before) == 7 and not any(h.deleted for h in before)
    tajik = list(Sickle(url).ListIdentifiers(metadataPrefix="oai_dc", set="country:TJ"))
    deleted_tajik = [h for h in tajik if h.deleted]
    assert [h.identifier for h in deleted_tajik] == [oai_id(gone[0]), oai_id(gone[2])]
    assert "country:TJ" in deleted_tajik[0].setSpecs


def test_list_records_and_get_record_give_a_header_without_metadata(
    http_client: httpx.Client, url: str, gone: list[str]
) -> None:
    records = list(Sickle(url).ListRecords(metadataPrefix="oai_dc", **{"from": "2024-04-01"}))
    assert [r.header.identifier for r in records] == [oai_id(d) for d in gone]
    assert all(r.deleted and not hasattr(r, "metadata") for r in records)
    root = fetch(
        http_client, url, verb="GetRecord", identifier=oai_id(gone[1]), metadataPrefix="oai_dc"
    )
    header = root.find("o:GetRecord/o:record/o:header", NS)
    assert header is not None and header.get("status") == "deleted"
    assert root.find("o:GetRecord/o:record/o:metadata", NS) is None


def test_a_deleted_docid_is_never_given_to_another_source(
    deleted_archive: Archive, gone: list[str], tmp_path: Path
) -> None:
    assert deleted_archive.store.docid_owner(gone[0]) == "oai-test:1"
    assert deleted_archive.stats()["docids_issued"] == 10


@pytest.fixture(scope="module")
def http_client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client
