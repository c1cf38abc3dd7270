"""``/api/search?explain=true``: an explanation per hit, documented in the OpenAPI schema."""

from __future__ import annotations

import pytest

from tests.web.client import Client


def test_explain_adds_terms_that_add_up_to_the_score(site: Client) -> None:
    data = site.get("/api/search", params={"q": "Tajikistan border", "explain": "true"}).json()
    assert data["hits"]
    for hit in data["hits"]:
        why = hit["explanation"]
        assert why["ranking"] == "bm25" and why["score"] == hit["score"]
        assert why["fusion"] == "" and why["lists"] == []
        assert sum(t["score"] for t in why["terms"]) == pytest.approx(why["bm25"], abs=1e-3)
        for term in why["terms"]:
            assert set(term) == {
                "field",
                "language",
                "term",
                "kind",
                "score",
                "boost",
                "freq",
                "doc_freq",
                "idf",
            }
            assert term["field"] in ("title", "body") and term["term"] in ("tajikistan", "border")
    plain = site.get("/api/search", params={"q": "Tajikistan border"}).json()
    assert [h["docid"] for h in plain["hits"]] == [h["docid"] for h in data["hits"]]
    assert all(h["explanation"] is None for h in plain["hits"])


def test_explain_with_a_date_sort_still_gives_the_words_score(site: Client) -> None:
    data = site.get(
        "/api/search", params={"q": "border", "explain": "true", "sort": "newest"}
    ).json()
    for hit in data["hits"]:
        assert hit["score"] == 0 and hit["explanation"]["bm25"] > 0


def test_explain_without_a_query_lists_no_terms(site: Client) -> None:
    data = site.get("/api/search", params={"explain": "true", "size": 2}).json()
    assert data["hits"] and all(h["explanation"]["terms"] == [] for h in data["hits"])


def test_explain_must_be_a_boolean(site: Client) -> None:
    response = site.get("/api/search", params={"q": "border", "explain": "maybe"})
    assert response.status_code == 422


def test_openapi_documents_explain(site: Client) -> None:
    schema = site.get("/api/openapi.json").json()
    search = schema["paths"]["/api/search"]["get"]
    explain = next(p for p in search["parameters"] if p["name"] == "explain")
    assert explain["schema"]["type"] == "boolean" and "BM25" in explain["description"]
    models = schema["components"]["schemas"]
    assert {"ExplanationOut", "TermScoreOut", "ListPartOut"} <= set(models)
    assert "vector" in models["ListPartOut"]["properties"]["score"]["description"]
