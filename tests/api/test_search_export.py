"""``GET /api/search/export`` through the real app: formats, order, bounds, access."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import bibtexparser
import pytest
import rispy

from sourcebook.services import Archive
from tests.web.client import Client, build_archive, open_client
from tests.web.test_visibility import make_site

SEED = "vsrdalhiem"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    config = build_archive(tmp_path_factory.mktemp("export") / "archive")
    with open_client(config) as client:
        yield client


def test_every_format_reads_back_in_result_order(site: Client) -> None:
    listed = site.get("/api/search", params={"q": "border", "size": 100}).json()
    order = [hit["docid"] for hit in listed["hits"]]
    assert len(order) >= 2
    ris = site.get("/api/search/export", params={"format": "ris", "q": "border"})
    assert ris.status_code == 200, ris.text
    assert ris.headers["content-type"] == "application/x-research-info-systems"
    assert 'filename="sourcebook-search.ris"' in ris.headers["content-disposition"]
    assert [r["id"] for r in rispy.loads(ris.text)] == order
    assert ris.headers["x-sourcebook-total"] == str(listed["total"])
    bib = site.get("/api/search/export", params={"format": "bibtex", "q": "border"})
    assert [e.key for e in bibtexparser.parse_string(bib.text).entries] == [
        f"sb_{d}" for d in order
    ]
    csl = site.get("/api/search/export", params={"format": "csl-json", "q": "border"})
    assert [item["id"] for item in csl.json()] == order
    table = site.get("/api/search/export", params={"format": "csv", "q": "border"})
    rows = list(csv.DictReader(io.StringIO(table.content.decode("utf-8-sig"))))
    assert [row["docid"] for row in rows] == order


def test_filters_apply_and_a_cut_list_says_so(site: Client) -> None:
    one = site.get("/api/search/export", params={"format": "csl-json", "q": "Rahmon"})
    assert [item["id"] for item in one.json()] == [SEED]
    assert json.loads(one.headers["x-sourcebook-notices"]) == []
    cut = site.get("/api/search/export", params={"format": "csv", "limit": 2})
    total = int(cut.headers["x-sourcebook-total"])
    assert total > 2 and cut.headers["x-sourcebook-exported"] == "2"
    notices = json.loads(cut.headers["x-sourcebook-notices"])
    assert notices == [f"The search matched {total:,} documents; the export holds the first 2."]
    dated = site.get(
        "/api/search/export", params={"format": "csl-json", "from": "2017", "to": "2017"}
    )
    assert all(item["issued"]["date-parts"][0][0] == 2017 for item in dated.json())


def test_bad_parameters_are_problems(site: Client) -> None:
    plain = site.get("/api/search/export", params={"q": "Rahmon"})  # RIS unless told
    assert plain.headers["content-type"] == "application/x-research-info-systems"
    assert site.get("/api/search/export", params={"format": "xlsx"}).status_code == 422
    # an unknown sort or mode is refused as on /api/search, not silently replaced
    for bad in ({"sort": "best"}, {"mode": "fuzzy"}):
        refused = site.get("/api/search/export", params={"q": "border", **bad})
        assert refused.status_code == 422 and next(iter(bad)) in refused.text
    assert (
        site.get("/api/search/export", params={"format": "ris", "limit": 1001}).status_code == 422
    )
    bad = site.get("/api/search/export", params={"format": "ris", "q": 'a AND ("b'})
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
    bad_date = site.get("/api/search/export", params={"format": "ris", "from": "yesterday"})
    assert bad_date.status_code == 400


def test_the_export_lists_only_what_the_visitor_may_read(tmp_path: Path) -> None:
    config = make_site(tmp_path / "archive")
    with Archive(config, read_only=True) as archive:
        ids = {d.collection: d.docid for d in archive.store.iter_documents()}
    with open_client(config) as client:
        out = client.get("/api/search/export", params={"format": "csl-json", "q": "Kulob"})
        assert [item["id"] for item in out.json()] == [ids["news"]]
        assert out.headers["x-sourcebook-total"] == "1"
        assert ids["legal"] not in client.get("/api/search/export?format=ris").text
