"""The JSON API through the real app (httpx + ASGI), on a real temporary archive."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sourcebook import cli
from sourcebook.api import schemas
from sourcebook.config import Settings
from sourcebook.enrich.embeddings import available, unavailable_reason
from sourcebook.ids import make_docid
from sourcebook.search.request import SearchRequest
from sourcebook.services import Archive, document_to_json
from tests.web.client import Client, build_archive, open_client

SEED = "vsrdalhiem"
PROBLEM = "application/problem+json"

STORY = """Border security talks in Dushanbe

Russian and Tajik officials agreed to bolster security along the Tajik-Afghan border near Panj.
"""


def assert_problem(response: Any, status: int, name: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"https://sourcebook.dev/problems/{name}"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert "Traceback" not in response.text
    return body


# --- search ---------------------------------------------------------------------------------


def test_search_returns_hits_passages_offsets_facets(site: Client) -> None:
    data = site.get("/api/search", params={"q": "Rahmon"}).json()
    assert data["total"] == 1 and data["page"] == 1 and data["page_size"] == 10
    assert data["took_ms"] >= 0 and data["sort"] == "relevance"
    hit = data["hits"][0]
    assert hit["docid"] == SEED and hit["publication_date"] == "2017-02-27"
    assert hit["countries"] == ["TJ", "AF", "RU"]
    record = site.get(f"/api/records/{SEED}").json()
    for passage in hit["passages"]:
        assert record["body"][passage["start"] : passage["end"]] == passage["text"]
        for start, end in passage["highlights"]:
            assert passage["text"][start:end] == "Rahmon"
    assert set(data["facets"]) == {
        "country",
        "publisher",
        "type",
        "language",
        "year",
        "collection",
        "place",
        "person",
        "organisation",
    }
    assert {"value": "TJ", "label": "Tajikistan", "count": 1} in data["facets"]["country"]


def test_search_json_is_the_clis_json(site: Client, tmp_path: Path) -> None:
    assert cli.result_to_json is schemas.result_to_json
    data = site.get("/api/search", params={"q": "border", "size": 3}).json()
    assert list(data) == [
        "query",
        "total",
        "collapsed",
        "page",
        "page_size",
        "sort",
        "took_ms",
        "hits",
        "facets",
        "ranking",
        "facets_approximate",
        "notices",
    ]
    assert data["notices"] == []  # a plain query read as written
    assert data["ranking"] == "bm25"  # this archive has no vectors
    assert data["facets_approximate"] is False  # a small archive counts facets exactly
    assert list(data["hits"][0]) == [
        "docid",
        "score",
        "title",
        "publisher",
        "publication_date",
        "countries",
        "language",
        "document_type",
        "collection",
        "passages",
        "dup_group",
        "similar",
        "similar_query",
        "explanation",
    ]
    assert data["hits"][0]["explanation"] is None  # only with explain=true


def test_search_filters_sort_and_pages(site: Client) -> None:
    def search(**params: Any) -> dict[str, Any]:
        response = site.get("/api/search", params=params)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    assert search(q="border", country="AF")["total"] == 2
    assert search(q="border", country=["AF", "RU"])["total"] == 2  # OR within a field
    assert search(q="border", country="AF", publisher="UNHCR")["total"] == 0
    assert search(**{"from": "2020-01-01", "to": "2020-12-31"})["total"] == 12
    dates = [h["publication_date"] for h in search(sort="newest", size=15)["hits"]]
    assert dates == sorted(dates, reverse=True)
    first, second = search(size=10, page=1), search(size=10, page=2)
    assert first["total"] == second["total"] == 15 and len(second["hits"]) == 5
    assert not {h["docid"] for h in first["hits"]} & {h["docid"] for h in second["hits"]}
    assert search(q="Returnees", mode="plain", type="Country Report")["total"] == 1


def test_a_malformed_query_is_a_problem_with_its_position(site: Client) -> None:
    body = assert_problem(
        site.get("/api/search", params={"q": "country:TJ (border"}), 400, "query-syntax"
    )
    assert body["detail"] == "This ( is never closed"
    assert body["position"] == 11 and body["query"] == "country:TJ (border"
    assert body["instance"] == "/api/search"
    unknown = assert_problem(
        site.get("/api/search", params={"q": "x", "country": "Atlantis"}), 400, "query-syntax"
    )
    assert "Atlantis" in unknown["detail"]


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"size": "0"}, "size"),
        ({"size": "101"}, "size"),
        ({"page": "0"}, "page"),
        ({"page": "x"}, "page"),
        ({"mode": "loose"}, "mode"),
        ({"sort": "random"}, "sort"),
        ({"from": "2017-13-01"}, "from"),
        ({"q": "x" * 2001}, "q"),
    ],
)
def test_invalid_parameters_are_validation_problems(
    site: Client, params: dict[str, str], where: str
) -> None:
    body = assert_problem(site.get("/api/search", params=params), 422, "validation")
    assert [issue["loc"] for issue in body["errors"]] == [["query", where]]


# --- records, citations, similar, facets --------------------------------------------------------


def test_record_has_every_exported_field(site: Client) -> None:
    data = site.get(f"/api/records/{SEED}").json()
    assert data["title"] == "Putin and Rahmon agree to bolster Tajik-Afghan border security"
    assert [p["seq"] for p in data["passages"]] == [0, 1, 2]
    assert data["revisions"][0]["number"] == 1
    archive_doc = site.app.state.archive.get(SEED)
    assert data == document_to_json(archive_doc)


def test_unknown_and_malformed_docids(site: Client) -> None:
    body = assert_problem(site.get("/api/records/zzzzzzzzzz"), 404, "not-found")
    assert "zzzzzzzzzz" in body["detail"]
    assert_problem(site.get("/api/records/not-a-docid!"), 422, "validation")
    assert_problem(site.get("/api/records/zzzzzzzzzz/citation"), 404, "not-found")
    assert_problem(site.get("/api/records/zzzzzzzzzz/similar"), 404, "not-found")


@pytest.mark.parametrize("style", ["refworld", "bibtex", "ris", "csl-json"])
def test_citations(site: Client, style: str) -> None:
    data = site.get(
        f"/api/records/{SEED}/citation", params={"style": style, "accessed": "2023-05-19"}
    ).json()
    assert data["docid"] == SEED and data["style"] == style
    text = data["text"]
    if style == "refworld":
        assert text == (
            "Radio Free Europe/Radio Liberty, Putin and Rahmon agree to bolster Tajik-Afghan "
            "border security, 27 February 2017, available at: "
            "https://www.refworld.org/docid/5975a5b29.html [accessed 19 May 2023]"
        )
    elif style == "bibtex":
        assert text.startswith(f"@article{{sb_{SEED},") and "urldate = {2023-05-19}" in text
    elif style == "ris":
        assert text.startswith("TY  - NEWS\r\n") and "Y2  - 2023/05/19" in text
    else:
        assert json.loads(text)[0]["accessed"] == {"date-parts": [[2023, 5, 19]]}


def test_citation_style_must_be_known(site: Client) -> None:
    assert_problem(site.get(f"/api/records/{SEED}/citation?style=apa"), 422, "validation")


def test_similar_documents(site: Client) -> None:
    flood = make_docid("test:flood-3")
    data = site.get(f"/api/records/{flood}/similar", params={"limit": 3}).json()
    assert data["docid"] == flood
    assert 1 <= len(data["hits"]) <= 3
    assert flood not in {h["docid"] for h in data["hits"]}
    assert all(h["title"].startswith("Floods in Kulob") for h in data["hits"])


def test_facets(site: Client) -> None:
    data = site.get("/api/facets/country").json()
    assert data["facet"] == "country"
    assert data["values"][0] == {"value": "TJ", "label": "Tajikistan", "count": 14}
    years = [v["value"] for v in site.get("/api/facets/year").json()["values"]]
    assert years == ["2021", "2020", "2019", "2017"]
    assert_problem(site.get("/api/facets/planet"), 422, "validation")


# --- export and stats ----------------------------------------------------------------------------


def test_export_streams_every_record(site: Client) -> None:
    response = site.get("/api/export.jsonl")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    assert "attachment" in response.headers["content-disposition"]
    lines = response.text.splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == site.get("/api/stats").json()["documents"]
    seed = next(r for r in records if r["docid"] == SEED)
    assert seed == site.get(f"/api/records/{SEED}").json()


def test_stats(site: Client) -> None:
    data = site.get("/api/stats").json()
    assert data["documents"] >= 15 and data["indexed_documents"] == data["documents"]
    assert "archive" not in data  # the server's file system is nobody's business
    assert data["top_countries"]["TJ"] >= 14


# --- errors -------------------------------------------------------------------------------------


def test_unknown_paths_and_methods_are_problems(site: Client) -> None:
    assert_problem(site.get("/api/nothing"), 404, "not-found")
    assert_problem(site.post("/api/search"), 405, "method-not-allowed")


def test_openapi_schema_declares_problems(site: Client) -> None:
    schema = site.get("/api/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/search",
        "/api/records/{docid}",
        "/api/records/{docid}/citation",
        "/api/records/{docid}/similar",
        "/api/facets/{facet}",
        "/api/export.jsonl",
        "/api/stats",
        "/api/ingest",
    ):
        assert path in paths, path
    assert not any(p.startswith(("/search", "/record", "/browse")) for p in paths)
    search = paths["/api/search"]["get"]
    assert set(search["responses"]["400"]["content"]) == {PROBLEM}
    assert set(search["responses"]["422"]["content"]) == {PROBLEM}
    size = next(p for p in search["parameters"] if p["name"] == "size")
    assert size["schema"]["maximum"] == 100
    assert (
        "application/x-ndjson" in paths["/api/export.jsonl"]["get"]["responses"]["200"]["content"]
    )


# --- ingest -------------------------------------------------------------------------------------


def test_ingest_a_good_file_then_find_it(site: Client) -> None:
    files = {"files": ("talks.txt", STORY.encode(), "text/plain")}
    response = site.post("/api/ingest", files=files, data={"collection": "uploads"})
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["added"], report["failed"]) == (1, 0)
    (outcome,) = report["files"]
    assert outcome["path"] == "talks.txt" and outcome["parser"] == "text"
    assert outcome["status"] == "added" and outcome["errors"] == []
    found = site.get("/api/search", params={"q": "Panj", "collection": "uploads"}).json()
    assert found["total"] == 1
    assert found["hits"][0]["title"] == "Border security talks in Dushanbe"

    again = site.post("/api/ingest", files=files, data={"collection": "uploads"}).json()
    assert (again["added"], again["unchanged"]) == (0, 1)  # the same upload is the same source


def test_ingest_a_bad_file_reports_its_error(site: Client) -> None:
    files = [
        ("files", ("junk.bin", bytes(range(256)) * 20, "application/octet-stream")),
        (
            "files",
            (
                "../../notes.md",
                b"# Notes on Khorog\n\nProtests in Khorog in May.\n",
                "text/markdown",
            ),
        ),
    ]
    response = site.post("/api/ingest", files=files)
    assert response.status_code == 200, response.text
    report = response.json()
    junk, notes = report["files"]
    assert junk["path"] == "junk.bin" and junk["status"] == "failed" and junk["failed"] == 1
    assert junk["errors"] == ["no parser recognises junk.bin (media type application/octet-stream)"]
    assert notes["path"] == "notes.md" and notes["added"] == 1
    home: Path = site.app.state.settings.home
    assert str(home) not in response.text  # the report names uploads, not server paths
    assert not (home / "uploads").exists()  # staged copies are removed
    assert not (home.parent / "notes.md").exists()


def test_ingest_needs_files(site: Client) -> None:
    assert_problem(site.post("/api/ingest", data={"collection": "x"}), 422, "validation")


def test_searching_goes_on_while_ingesting(site: Client) -> None:
    upload = {
        "files": [
            ("files", (f"story-{i}.txt", STORY.replace("Panj", f"Panj{i}").encode(), "text/plain"))
            for i in range(20)
        ]
    }
    searches = [("GET", "/api/search", {"params": {"q": "border"}}) for _ in range(8)]
    responses = site.gather(
        ("POST", "/api/ingest", upload), *searches, ("POST", "/api/ingest", upload)
    )
    assert [r.status_code for r in responses] == [200] * 10
    # the two uploads may reach the (single) ingest worker in either order
    reports = sorted((responses[0].json(), responses[-1].json()), key=lambda r: -r["added"])
    assert (reports[0]["added"], reports[1]["unchanged"]) == (20, 20), reports


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """An archive that takes files of at most 2,000 bytes."""
    config = build_archive(tmp_path_factory.mktemp("small") / "archive", max_file_bytes=2_000)
    with open_client(config) as client:
        yield client


def test_a_file_over_the_limit_is_refused_with_413(small: Client) -> None:
    files = {"files": ("big.txt", b"word " * 1_000, "text/plain")}  # 5,000 bytes
    body = assert_problem(small.post("/api/ingest", files=files), 413, "input-too-large")
    assert "big.txt is 5,000 bytes; the limit is 2,000" in body["detail"]
    ok = small.post("/api/ingest", files={"files": ("small.txt", STORY.encode(), "text/plain")})
    assert ok.status_code == 200 and ok.json()["added"] == 1


def test_an_upload_over_the_body_limit_is_refused_before_it_is_read(small: Client) -> None:
    files = {"files": ("huge.txt", b"x" * 3_000_000, "text/plain")}
    body = assert_problem(small.post("/api/ingest", files=files), 413, "input-too-large")
    assert "the limit is" in body["detail"]


def test_the_archive_is_searchable_after_the_app_closes(tmp_path: Path) -> None:
    config = build_archive(tmp_path / "archive")
    with open_client(config) as client:
        files = {"files": ("talks.txt", STORY.encode(), "text/plain")}
        assert client.post("/api/ingest", files=files).json()["added"] == 1
    with Archive(Settings(home=config.home)) as archive:
        assert archive.search(SearchRequest(query="Panj")).total == 1
        assert archive.check().ok


def test_dates_outside_the_index_range_are_not_server_errors(site: Client) -> None:
    early = site.get("/api/search", params={"from": "0067-06-18", "to": "0189-03-23"})
    assert early.status_code == 200 and early.json()["total"] == 0
    late = site.get("/api/search", params={"from": "1000-01-01", "to": "9999-12-31"})
    assert late.status_code == 200 and late.json()["total"] == 15
    far = site.get("/api/search", params={"q": "date:1000"})
    assert far.status_code == 200 and far.json()["total"] == 0
    assert site.get("/search", params={"q": "border date:>9000"}).status_code == 200


def test_uploads_from_other_sites_are_refused(site: Client) -> None:
    files = {"files": ("talks.txt", STORY.encode(), "text/plain")}
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # another port of the same machine
    ):
        response = site.post("/api/ingest", files=files, headers=headers)
        assert_problem(response, 403, "access-denied")
    own = {"Origin": "http://127.0.0.1", "Sec-Fetch-Site": "same-origin"}
    assert site.post("/api/ingest", files=files, headers=own).status_code == 200


def test_allowed_hosts_keep_out_other_names(tmp_path: Path) -> None:
    from sourcebook.web.access import LOOPBACK_HOSTS
    from sourcebook.web.app import create_app

    config = build_archive(tmp_path / "archive")
    with Client(create_app(config, allowed_hosts=LOOPBACK_HOSTS)) as client:
        assert client.get("/", headers={"Host": "127.0.0.1:8000"}).status_code == 200
        assert client.get("/", headers={"Host": "localhost:8000"}).status_code == 200
        rebound = client.get("/api/stats", headers={"Host": "evil.example:8000"})
        assert rebound.status_code == 400
        assert rebound.headers["x-content-type-options"] == "nosniff"


def test_every_record_has_similar_documents_or_none(site: Client) -> None:
    docids = [json.loads(line)["docid"] for line in site.get("/api/export.jsonl").text.splitlines()]
    for docid in docids:
        response = site.get(f"/api/records/{docid}/similar")
        assert response.status_code == 200, (docid, response.text)
        assert site.get(f"/record/{docid}").status_code == 200


@pytest.mark.slow
@pytest.mark.skipif(not available(), reason=unavailable_reason() or "")
def test_hybrid_search_through_the_api(tmp_path: Path) -> None:
    config = build_archive(tmp_path / "archive")
    with Archive(config) as archive:
        archive.enrich_embeddings()
    with open_client(config) as client:  # the app warms the model up in the background
        vectors = client.app.state.archive.engine.vectors
        vectors.wait_until_warm(120)
        # the warm-up loaded the model: the first query finds it ready
        model = vectors.embedder
        assert getattr(model, "_session", None) is not None or getattr(model, "_model", None)
        stats = client.get("/api/stats").json()
        assert stats["embedded_documents"] == stats["documents"] == 15
        data = client.get("/api/search", params={"q": "soldiers watching the frontier"}).json()
        assert data["ranking"] == "hybrid" and data["hits"]
        dated = client.get("/api/search", params={"q": "border", "sort": "newest"}).json()
        assert dated["ranking"] == "bm25"
