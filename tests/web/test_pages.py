"""The server-rendered pages through the real app (httpx + ASGI), on a real temporary archive."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import bibtexparser
import pytest
import rispy

from sourcebook.ids import make_docid
from sourcebook.web.security import CONTENT_SECURITY_POLICY
from tests.web.client import Client
from tests.web.markup import by_class, by_id, links, parse

SEED = "vsrdalhiem"  # the docid of refworld:5975a5b29
REPORT = make_docid("test:report-tj")
XSS = make_docid("test:xss")

PAGES = [
    "/",
    "/search",
    "/search?q=border",
    "/advanced",
    "/help",
    "/browse",
    "/browse/country",
    "/browse/publisher",
    "/browse/year",
    f"/record/{SEED}",
    "/api/docs",
]


def hit_titles(html: str) -> list[str]:
    return [e.text.strip() for e in by_class(html, "hit__title")]


def summary_total(html: str) -> int:
    match = re.search(r"<strong>([\d,]+)</strong> documents?", html)
    assert match, "no result count on the page"
    return int(match.group(1).replace(",", ""))


@pytest.mark.parametrize("url", PAGES)
def test_every_page_renders_accessibly(site: Client, url: str) -> None:
    response = site.get(url)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    assert '<html lang="en">' in html
    assert '<a class="skip-link" href="#main">' in html and 'id="main"' in html
    for landmark in ("<header", "<nav", "<main", "<footer"):
        assert landmark in html
    page = parse(html)
    labelled = {e.attrs.get("for") for e in page.elements if e.tag == "label"}
    for element in page.elements:
        if element.tag in ("input", "select", "textarea") and element.attrs.get("type") != "hidden":
            assert element.attrs.get("id") in labelled, f"unlabelled {element}"
    assert len(response.content) < 200_000


@pytest.mark.parametrize("url", [*PAGES, "/nope", "/search?q=country:TJ%20(x"])
def test_no_inline_script_or_style(site: Client, url: str) -> None:
    page = parse(site.get(url).text)
    for element in page.elements:
        assert "style" not in element.attrs, element
        assert not any(name.startswith("on") for name in element.attrs), element
        if element.tag == "script":
            assert element.attrs.get("src", "").startswith("/static/"), element
            assert not element.text.strip()
        assert element.tag != "style"


@pytest.mark.parametrize("url", ["/", "/static/sourcebook.css", "/nope", "/api/stats", "/api/nope"])
def test_security_headers_on_every_response(site: Client, url: str) -> None:
    headers = site.get(url).headers
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"


def test_static_files_are_small_and_self_contained(site: Client) -> None:
    css = site.get("/static/sourcebook.css")
    js = site.get("/static/sourcebook.js")
    assert css.headers["content-type"].startswith("text/css")
    assert "javascript" in js.headers["content-type"]
    assert ":target" in css.text and ":focus-visible" in css.text
    assert "@import" not in css.text and "@font-face" not in css.text
    assert "http" not in css.text.replace("https://", "")
    assert len(css.content) + len(js.content) < 40_000


def test_search_shows_hits_with_highlighted_passages(site: Client) -> None:
    html = site.get("/search", params={"q": "Rahmon"}).text
    assert summary_total(html) == 1
    assert hit_titles(html) == ["Putin and Rahmon agree to bolster Tajik-Afghan border security"]
    assert (
        f"/record/{SEED}",
        "Putin and Rahmon agree to bolster Tajik-Afghan border security",
    ) in (links(html))
    assert "<mark>Rahmon</mark>" in html
    assert "Radio Free Europe/Radio Liberty" in html
    assert '<time datetime="2017-02-27">27 February 2017</time>' in html
    assert "Tajikistan, Afghanistan, Russian Federation" in html
    passage_links = [href for href, _ in links(html) if href.startswith(f"/record/{SEED}?")]
    assert passage_links == [f"/record/{SEED}?q=Rahmon#p-1"]  # the query marks its words there
    assert re.search(r"\(\d+\.\d ms", html), "took_ms is shown"


def test_highlights_are_escaped_pieces_of_the_text(site: Client) -> None:
    html = site.get("/search", params={"q": "markup"}).text
    assert "Text with &lt;img src=x onerror=alert(1)&gt; <mark>markup</mark> about" in html
    assert "<img" not in html


def test_a_title_with_script_is_escaped_everywhere(site: Client) -> None:
    for url in ("/search?q=border", f"/record/{XSS}", "/browse/publisher"):
        html = site.get(url).text
        assert "<script>alert" not in html and "<b>bold</b>" not in html, url
        assert "&lt;b&gt;bold&lt;/b&gt;" in html, url
    assert "Border &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; security" in (
        site.get(f"/record/{XSS}").text
    )


def test_a_facet_link_narrows_and_the_filter_can_be_removed(site: Client) -> None:
    html = site.get("/search", params={"q": "border"}).text
    before = summary_total(html)
    country_links = {text: href for href, text in links(html) if "country=" in href}
    assert "Afghanistan" in country_links
    target = country_links["Afghanistan"]
    assert parse_qs(urlsplit(target).query) == {"q": ["border"], "country": ["AF"]}

    narrowed = site.get(target).text
    assert 0 < summary_total(narrowed) < before
    assert set(hit_titles(narrowed)) == {
        "Putin and Rahmon agree to bolster Tajik-Afghan border security",
        "Border <script>alert('x')</script> & security",
    }
    chips = by_class(narrowed, "chip")
    assert [" ".join(c.text.split()) for c in chips] == ["Remove filter Country: Afghanistan ×"]
    assert chips[0].attrs["href"] == "/search?q=border"
    assert summary_total(site.get(chips[0].attrs["href"]).text) == before


def test_a_selected_facet_offers_no_values_that_would_widen(site: Client) -> None:
    html = site.get("/search", params={"q": "border", "country": "TJ"}).text
    hrefs = [href for href, _ in links(html)]
    assert not any("country=TJ&country=" in h for h in hrefs)
    assert 'Tajikistan<span class="visually-hidden"> (selected)</span>' in html
    # the other facets still narrow, keeping the country
    assert "/search?q=border&country=TJ&publisher=UNHCR" in hrefs


def test_the_year_facet_sets_a_date_range(site: Client) -> None:
    html = site.get("/search", params={"q": "border"}).text
    year_links = [href for href, text in links(html) if "from=2020-01-01" in href]
    assert year_links == ["/search?q=border&from=2020-01-01&to=2020-12-31"]
    narrowed = site.get(year_links[0]).text
    assert summary_total(narrowed) == 12
    assert "Year: 2020" in narrowed


def test_pagination(site: Client) -> None:
    first = site.get("/search").text  # no query: every document, newest first
    assert summary_total(first) == 15
    assert len(hit_titles(first)) == 10
    assert "page 1 of 2" in first
    assert hit_titles(first)[0] == "Border <script>alert('x')</script> & security"
    next_links = [e.attrs["href"] for e in parse(first).elements if e.attrs.get("rel") == "next"]
    assert next_links == ["/search?page=2"]
    second = site.get(next_links[0]).text
    assert len(hit_titles(second)) == 5
    assert '<ol class="hits" start="11">' in second
    assert 'aria-current="page"><span class="visually-hidden">Page </span>2<' in second
    assert not set(hit_titles(first)) & set(hit_titles(second))
    assert site.get("/search", params={"page": "3"}).status_code == 200


def test_sorting(site: Client) -> None:
    by_title = hit_titles(site.get("/search", params={"q": "border", "sort": "title"}).text)
    assert by_title == sorted(by_title, key=str.casefold)
    oldest = hit_titles(site.get("/search", params={"q": "border", "sort": "oldest"}).text)
    assert oldest[0] == "Putin and Rahmon agree to bolster Tajik-Afghan border security"
    html = site.get("/search", params={"q": "border", "sort": "oldest"}).text
    assert '<option value="oldest" selected>' in html


def test_a_malformed_query_is_explained_on_the_search_page(site: Client) -> None:
    response = site.get("/search", params={"q": "country:TJ (border"})
    assert response.status_code == 400
    html = response.text
    assert "This ( is never closed (at character 12)" in html
    assert '<code>country:TJ <mark class="query-marker__here">(</mark>border</code>' in html
    assert 'value="country:TJ (border"' in html  # the query stays in the box to fix
    assert 'aria-invalid="true"' in html
    assert "Traceback" not in html and "QuerySyntaxError" not in html
    plain = [href for href, text in links(html) if "plain text" in text]
    assert site.get(plain[0]).status_code == 200


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": "abc"}, "page must be a whole number from 1 to 1000"),
        ({"page": "0"}, "page must be a whole number"),
        ({"size": "5000"}, "size must be a whole number from 1 to 1000"),
        ({"size": "500"}, "page size must be between 1 and 100"),
        ({"from": "yesterday"}, "is not a date"),
        ({"sort": "sideways"}, "unknown sort"),
        ({"country": "Atlantis"}, "unknown country filter"),
    ],
)
def test_bad_parameters_are_explained_with_400(
    site: Client, params: dict[str, str], message: str
) -> None:
    response = site.get("/search", params=params)
    assert response.status_code == 400
    assert message in response.text


def test_not_found_pages(site: Client) -> None:
    for url, text in (
        ("/record/zzzzzzzzzz", "no document with docid"),
        ("/nope", "There is nothing at /nope."),
        ("/browse/planet", "There is no browse page"),
        ("/record/zzzzzzzzzz/cite.bib", "no document with docid"),
    ):
        response = site.get(url)
        assert response.status_code == 404, url
        assert response.headers["content-type"].startswith("text/html")
        assert text in response.text and "Traceback" not in response.text


def test_record_page_follows_the_refworld_layout(site: Client) -> None:
    html = site.get(f"/record/{SEED}").text
    order = [
        "Last Updated:",
        'id="record-title"',
        "<dt>Publisher</dt>",
        "<dt>Publication Date</dt>",
        "Cite as",
        "Disclaimer",
        'id="p-0"',
        "<dt>Link to original</dt>",
        "<dt>Copyright notice</dt>",
        "Revisions",
        "Similar documents",
    ]
    positions = [html.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert "27 February 2017" in html
    assert (
        "Radio Free Europe/Radio Liberty, Putin and Rahmon agree to bolster Tajik-Afghan border security, 27 February 2017, available at: https://www.refworld.org/docid/5975a5b29.html [accessed "
        in html
    )
    assert (
        '<a href="https://www.rferl.org/a/putin-rahmon-tajik-afghan-border/28335893.html" rel="external noopener noreferrer">'
        in html
    )
    assert "Copyright (c) 2007-2009. RFE/RL, Inc." in html
    for ident in ("p-0", "p-1", "p-2"):
        assert by_id(html, ident).tag == "div"
    assert "7,000 troops" in by_id(html, "p-2").text
    assert ("#p-1", "Passage 2") in links(html)
    copy = by_class(html, "cite__copy")[0]
    assert copy.attrs["data-copy"] == "cite-text" and "hidden" in copy.attrs
    assert by_id(html, "cite-text").tag == "textarea"


def test_record_page_marks_derived_fields(site: Client) -> None:
    html = site.get(f"/record/{REPORT}").text
    assert "<dt>Language</dt>" in html
    assert 'English</a> <span class="derived">(detected)</span>' in html
    assert "(recorded by Sourcebook)" in html  # last_updated is ours, not the source's
    assert "<dt>Author(s)</dt>" in html and "McAdam, Jane" in html
    seed = site.get(f"/record/{SEED}").text
    assert "(detected)" not in seed


def test_a_javascript_url_is_never_a_link(site: Client) -> None:
    html = site.get(f"/record/{REPORT}").text
    assert "javascript:alert(&#39;original&#39;)" in html  # shown as text
    assert not any(href.startswith("javascript") for href, _ in links(html))


def test_record_links_to_downloads_and_similar_documents(site: Client) -> None:
    html = site.get(f"/record/{SEED}").text
    hrefs = [href for href, _ in links(html)]
    for ext in ("bib", "ris", "json"):
        assert f"/record/{SEED}/cite.{ext}" in hrefs
    assert f"/api/records/{SEED}" in hrefs
    similar = site.get(f"/record/{make_docid('test:flood-1')}").text
    assert similar.count('class="similar__list"') == 1
    assert "Floods in Kulob, bulletin" in by_class(similar, "similar__list")[0].text


def test_citation_downloads_parse(site: Client) -> None:
    bib = site.get(f"/record/{SEED}/cite.bib", params={"accessed": "2023-05-19"})
    assert bib.headers["content-type"] == "application/x-bibtex; charset=utf-8"
    assert bib.headers["content-disposition"] == f'attachment; filename="sourcebook-{SEED}.bib"'
    entry = bibtexparser.parse_string(bib.text).entries[0]
    assert entry.key == f"sb_{SEED}" and entry["urldate"] == "2023-05-19"

    ris = site.get(f"/record/{SEED}/cite.ris")
    assert ris.headers["content-type"] == "application/x-research-info-systems; charset=utf-8"
    assert ris.headers["content-disposition"].endswith(f'filename="sourcebook-{SEED}.ris"')
    record = rispy.loads(ris.text)[0]
    assert record["type_of_reference"] == "NEWS" and record["publisher"].startswith("Radio Free")

    csl = site.get(f"/record/{SEED}/cite.json")
    assert csl.headers["content-type"] == "application/vnd.citationstyles.csl+json; charset=utf-8"
    assert json.loads(csl.text)[0]["id"] == SEED

    bad = site.get(f"/record/{SEED}/cite.bib", params={"accessed": "soon"})
    assert bad.status_code == 400 and "accessed must be a date" in bad.text


def test_advanced_search_builds_the_query(site: Client) -> None:
    html = site.get("/advanced").text
    assert '<option value="TJ">Tajikistan (14)</option>' in html
    response = site.get(
        "/advanced/search",
        params={
            "all": "Putin Rahmon",
            "phrase": "border security",
            "none": "Moscow",
            "country": "TJ",
            "language": "",
            "from": "2017-01-01",
            "to": "",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert parse_qs(urlsplit(location).query) == {
        "q": ['Putin Rahmon "border security" -Moscow'],
        "mode": ["syntax"],
        "country": ["TJ"],
        "from": ["2017-01-01"],
    }
    assert hit_titles(site.get(location).text) == [
        "Putin and Rahmon agree to bolster Tajik-Afghan border security"
    ]
    empty = site.get("/advanced/search", follow_redirects=False)
    assert empty.headers["location"] == "/search"


def test_every_example_on_the_help_page_is_a_valid_query(site: Client) -> None:
    html = site.get("/help").text
    examples = [href for href, _ in links(html) if href.startswith("/search?q=")]
    assert len(examples) >= 20
    for href in examples:
        if "OR%20Herat" in href and "%28Kabul" in href and "returnees" not in href:
            assert site.get(href).status_code == 400  # the documented error example
        else:
            assert site.get(href).status_code == 200, href


def test_browse_pages_link_to_newest_first(site: Client) -> None:
    html = site.get("/browse/country").text
    entries = {text: href for href, text in links(html) if href.startswith("/search?")}
    assert entries["Tajikistan"] == "/search?country=TJ&sort=newest"
    assert 'Tajikistan</a> <span class="facet__count">14<' in html
    publishers = [href for href, _ in links(site.get("/browse/publisher").text)]
    assert "/search?publisher=Radio+Free+Europe%2FRadio+Liberty&sort=newest" in publishers
    years = [href for href, _ in links(site.get("/browse/year").text)]
    assert "/search?from=2020-01-01&to=2020-12-31&sort=newest" in years


def test_api_reference_page(site: Client) -> None:
    html = site.get("/api/docs").text
    for path in ("/api/search", "/api/records/{docid}", "/api/ingest", "/api/export.jsonl"):
        assert f"{path}</code>" in html
    assert "/api/openapi.json" in html


def test_estimated_facet_counts_are_marked(tmp_path_factory: pytest.TempPathFactory) -> None:
    from tests.web.client import build_archive, open_client

    config = build_archive(tmp_path_factory.mktemp("sampled") / "archive", facet_exact_limit=2)
    with open_client(config) as client:
        page = client.get("/search", params={"q": ""})
        assert page.status_code == 200
        assert "estimated from a sample" in page.text
        assert "<abbr" in page.text and "≈" in page.text
        api = client.get("/api/search", params={"q": ""}).json()
        assert api["facets_approximate"] is True
        narrow = client.get("/api/search", params={"q": "docid:nothing-here"}).json()
        assert narrow["facets_approximate"] is False
