"""The search page's "Why this result" disclosure: asked for with ``explain=1`` (a link on the
results line), one per hit ranked by relevance, escaped."""

from __future__ import annotations

from tests.web.client import Client
from tests.web.markup import by_class, links


def test_every_hit_has_a_why_this_result_disclosure_when_asked(site: Client) -> None:
    html = site.get("/search", params={"q": "Tajikistan border", "explain": "1"}).text
    hits = by_class(html, "hit")
    disclosures = [e for e in by_class(html, "why") if e.tag == "details"]
    assert hits and len(disclosures) == len(hits)
    assert html.count("<summary>Why this result") == len(hits)
    assert "Words matched (BM25)" in html and '<th scope="row">tajikistan</th>' in html
    assert "BM25 over the words matched" in html
    assert ("/search?q=Tajikistan+border", "Hide why") in links(html)
    assert 'name="explain" value="1"' in html  # a new query from the form keeps them


def test_the_results_line_links_to_the_explanations(site: Client) -> None:
    html = site.get("/search", params={"q": "Tajikistan border"}).text
    assert "Why this result" not in html  # not computed unless asked
    assert ("/search?q=Tajikistan+border&explain=1", "Why these results?") in links(html)
    feed = next(u for u, _ in links(html) if u.startswith("/search.atom"))
    explained = site.get("/search", params={"q": "Tajikistan border", "explain": "1"}).text
    assert next(u for u, _ in links(explained) if u.startswith("/search.atom")) == feed


def test_the_disclosure_escapes_the_title(site: Client) -> None:
    html = site.get("/search", params={"q": "border security bold", "explain": "1"}).text
    assert "<script>alert" not in html and "<b>bold</b>" not in html
    assert 'Why this result<span class="visually-hidden">: Border &lt;script&gt;' in html


def test_no_disclosure_when_not_ranked_by_relevance(site: Client) -> None:
    for params in ({"q": "border", "sort": "newest"}, {"q": ""}):
        html = site.get("/search", params={**params, "explain": "1"}).text
        assert "Why this result" not in html and "Why these results" not in html, params
