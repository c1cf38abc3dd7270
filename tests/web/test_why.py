"""The search page's "Why this result" disclosure: one per hit ranked by relevance, escaped."""

from __future__ import annotations

from tests.web.client import Client
from tests.web.markup import by_class


def test_every_hit_has_a_why_this_result_disclosure(site: Client) -> None:
    html = site.get("/search", params={"q": "Tajikistan border"}).text
    hits = by_class(html, "hit")
    disclosures = [e for e in by_class(html, "why") if e.tag == "details"]
    assert hits and len(disclosures) == len(hits)
    assert html.count("<summary>Why this result") == len(hits)
    assert "Words matched (BM25)" in html and '<th scope="row">tajikistan</th>' in html
    assert "BM25 over the words matched" in html


def test_the_disclosure_escapes_the_title(site: Client) -> None:
    html = site.get("/search", params={"q": "border security bold"}).text
    assert "<script>alert" not in html and "<b>bold</b>" not in html
    assert 'Why this result<span class="visually-hidden">: Border &lt;script&gt;' in html


def test_no_disclosure_when_not_ranked_by_relevance(site: Client) -> None:
    for params in ({"q": "border", "sort": "newest"}, {"q": ""}):
        html = site.get("/search", params=params).text
        assert "Why this result" not in html, params
