"""The search page's "Why this result" disclosure: asked for with ``explain=1`` (a link on the
results line), one per hit ranked by relevance, escaped."""

from __future__ import annotations

from sourcebook.search.request import SearchRequest
from sourcebook.services import Archive
from sourcebook.web.why import why_view
from tests.search import test_hybrid
from tests.web.client import Client
from tests.web.markup import by_class, links

#: 40 bulletins embedded with the bag-of-words embedder (tests/search/test_hybrid.py).
toy_archive = test_hybrid.toy_archive


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


def test_a_hybrid_hit_shows_each_lists_part(toy_archive: Archive) -> None:
    result = toy_archive.search(SearchRequest(query="flood aid", explain=True, page_size=20))
    views = [why_view(hit.explanation) for hit in result.hits if hit.explanation is not None]
    fused = [v for v in views if v.lists]
    assert fused and all(v.summary.endswith("words and meaning, fused.") for v in fused)
    assert all(v.fusion.startswith("z-scores") for v in fused)
    assert [row.name for row in fused[0].lists] == ["Words (BM25)", "Meaning (vectors)"]
    assert fused[0].lists[0].weight == "0.60" and fused[0].lists[1].weight == "0.40"
    meaning_only = [v for v in fused if not v.terms]
    assert meaning_only and all("found for its meaning" in " ".join(v.notes) for v in meaning_only)
    assert any(v.notes and v.notes[-1].startswith("Ranked after the fused lists") for v in views)
