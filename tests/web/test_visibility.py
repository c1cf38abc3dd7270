"""Every read route of the server hides what the visitor may not read (docs/security.md).

The property-based test (tests/test_access_leaks.py) checks the services; this one checks that
the routes go through them: JSON API, pages, Atom and OAI-PMH, for an anonymous visitor.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sourcebook.access import CollectionPolicy
from sourcebook.config import Settings
from sourcebook.ids import group_name
from sourcebook.model import Document
from sourcebook.services import Archive, IngestOptions
from sourcebook.services.accounts import Accounts
from sourcebook.store.accounts_base import AuditFilter
from sourcebook.viewer import Viewer
from tests.web.client import Client, open_client

SHARED = "Floods reached the Kulob district ferry crossing on Tuesday."


def documents() -> list[Document]:
    return [
        Document(
            source_key="access:open",
            title="Kulob floods (public)",
            publisher="Open Wire",
            body=SHARED + " Officials opened shelters.",
            collection="news",
        ),
        Document(
            source_key="access:legal",
            title="Kulob detention memo (restricted)",
            publisher="Counsel Office",
            body=SHARED + " Counsel notes on the detainees' hearing, privileged.",
            collection="legal",
        ),
    ]


#: A lawyer's read token, made by :func:`make_site`.
TOKENS: dict[str, str] = {}


def make_site(home: Path, **settings: object) -> Settings:
    """An archive with a public and a restricted document, and two users (so that requests from
    this machine are no longer the operator's: docs/security.md)."""
    config = Settings(
        home=home, password_hash_memory_kib=1024, password_hash_time_cost=1, **settings
    )  # type: ignore[arg-type]
    with Archive(config) as archive:
        report = archive.add_documents(documents(), IngestOptions(enrich=False))
        assert report.total("failed") == 0
        archive.set_collection(CollectionPolicy("legal", "restricted", ("lawyers",)))
        accounts = Accounts(archive.store, config)
        operator = Viewer.system()
        accounts.add_user("ana", "reader", None, by=operator)
        accounts.add_user("bo", "reader", None, by=operator)
        accounts.add_group("lawyers", by=operator)
        accounts.set_membership("bo", "lawyers", True, by=operator)
        TOKENS["bo"], _ = accounts.create_token("bo", "tests", "read")
    return config


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, str, str]]:
    config = make_site(tmp_path_factory.mktemp("access") / "archive")
    with Archive(config, read_only=True) as archive:
        ids = {d.collection: d.docid for d in archive.store.iter_documents()}
    with open_client(config) as client:
        yield client, ids["news"], ids["legal"]


def test_search_facets_and_stats_count_only_what_a_visitor_may_read(
    site: tuple[Client, str, str],
) -> None:
    client, public, secret = site
    found = client.get("/api/search", params={"q": "Kulob"}).json()
    assert [h["docid"] for h in found["hits"]] == [public]
    assert found["total"] == 1
    collections = {v["value"]: v["count"] for v in found["facets"]["collection"]}
    assert collections == {"news": 1}
    values = client.get("/api/facets/collection").json()["values"]
    assert [(v["value"], v["count"]) for v in values] == [("news", 1)]
    stats = client.get("/api/stats").json()
    assert stats["documents"] == 1 and stats["by_collection"] == {"news": 1}
    assert stats["docids_issued"] is None and stats["store_position"] is None
    assert "archive" not in stats
    assert client.get("/api/search", params={"q": "privileged"}).json()["total"] == 0
    assert client.get("/api/search", params={"q": f"group:{secret}"}).json()["total"] == 0
    named = client.get("/api/search", params={"q": f"group:{group_name(secret)}"}).json()
    assert named["total"] == 0


def test_a_member_of_the_group_reads_the_restricted_record(site: tuple[Client, str, str]) -> None:
    client, public, secret = site
    lawyer = {"Authorization": f"Bearer {TOKENS['bo']}"}
    found = client.get("/api/search", params={"q": "Kulob"}, headers=lawyer).json()
    assert sorted(h["docid"] for h in found["hits"]) == sorted([public, secret])
    assert client.get(f"/api/records/{secret}", headers=lawyer).status_code == 200
    with Archive(client.app.state.settings, read_only=True) as archive:
        reads = [e for e in archive.audit.entries(AuditFilter()) if e.action == "read-restricted"]
    assert [(e.actor, e.target) for e in reads][:1] == [("bo", secret)]


def test_a_restricted_record_is_not_found_everywhere(site: tuple[Client, str, str]) -> None:
    client, public, secret = site
    for url in (
        f"/api/records/{secret}",
        f"/api/records/{secret}/citation",
        f"/api/records/{secret}/similar",
        f"/record/{secret}",
    ):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/api/records/{public}").status_code == 200
    similar = client.get(f"/api/records/{public}/similar").json()["hits"]
    assert secret not in [h["docid"] for h in similar]
    page = client.get(f"/record/{public}").text
    assert secret not in page and "privileged" not in page
    export = client.get("/api/export.jsonl").text
    assert public in export and secret not in export and "privileged" not in export


def test_feeds_and_oai_pmh_leave_restricted_records_out(site: tuple[Client, str, str]) -> None:
    client, public, secret = site
    atom = client.get("/search.atom", params={"q": "Kulob"}).text
    assert public in atom and secret not in atom
    records = client.get("/oai", params={"verb": "ListRecords", "metadataPrefix": "oai_dc"}).text
    assert public in records and secret not in records and "privileged" not in records
    one = client.get(
        "/oai",
        params={"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": f"oai:x:{secret}"},
    ).text
    assert "idDoesNotExist" in one or "badArgument" in one
    sets = client.get("/oai", params={"verb": "ListSets"}).text
    assert "legal" not in sets


def test_an_archive_closed_to_anonymous_visitors_shows_them_nothing(tmp_path: Path) -> None:
    config = make_site(tmp_path / "archive", anonymous_access="none")
    with open_client(config) as client:
        assert client.get("/api/search", params={"q": "Kulob"}).json()["total"] == 0
        assert client.get("/api/stats").json()["documents"] == 0
        records = client.get("/oai", params={"verb": "ListRecords", "metadataPrefix": "oai_dc"})
        assert "noRecordsMatch" in records.text


def test_routes_read_through_the_viewers_view_only() -> None:
    """No route reads ``runtime.archive`` directly: reads go through ``view_of(request)``."""
    import re

    root = Path(__file__).resolve().parents[2] / "src" / "sourcebook"
    reads = re.compile(
        r"runtime\.archive\.(search|get|similar|browse|cite|stats|export_jsonl|harvest\w*|parent)\b"
    )
    for folder in ("web", "api"):
        for path in (root / folder).glob("*.py"):
            assert not reads.search(path.read_text(encoding="utf-8")), path
