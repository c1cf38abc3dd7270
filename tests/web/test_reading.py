"""The search and record pages for reading: sorting from the home page, feeds, languages,
headings and contents of long reports, the query's words in an opened record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from sourcebook.config import Settings
from sourcebook.model import Document
from sourcebook.services import Archive, IngestOptions
from sourcebook.web.record_body import heading_level, paragraph_spans, record_text
from tests.web.client import Client, build_archive, open_client
from tests.web.markup import by_class, by_id, links, parse

SEED = "vsrdalhiem"

SECTION = (
    "Authorities arbitrarily detained returnees at the border and held them without charge, "
    "according to lawyers who represented them. "
)
REPORT_BODY = "\n\n".join(
    [
        "Executive Summary",
        SECTION * 8,
        "Section 1. Integrity of the Person",
        "a. Arbitrary Detention <script>alert(1)</script>",
        SECTION * 10,
        "b. Torture",
        SECTION * 10,
        "Section 2. Liberty",
        SECTION * 10,
        "February 27, 2017",
        "A closing remark without a full stop",
    ]
)
RUSSIAN_TITLE = "Таджикистан: задержания на границе"
RUSSIAN_BODY = (
    "Власти задержали вернувшихся мигрантов на границе в Душанбе.\n\nЮристы сообщили об этом."
)


def extra_documents() -> list[Document]:
    return [
        Document(
            source_key="test:long-report",
            title="Tajikistan 2024 Human Rights Report",
            publisher="Illustrative Research Unit",
            publication_date=date(2024, 4, 1),
            body=REPORT_BODY,
            document_type="Country Report",
            language="en",
            countries=["TJ"],
        ),
        Document(
            source_key="test:russian",
            title=RUSSIAN_TITLE,
            publisher="Азия-Плюс",
            publication_date=date(2022, 5, 2),
            body=RUSSIAN_BODY,
            language="ru",
            countries=["TJ"],
        ),
    ]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    config = build_archive(tmp_path_factory.mktemp("reading") / "archive")
    with Archive(Settings(home=config.home, passage_target_chars=200)) as archive:
        archive.add_documents(extra_documents(), IngestOptions(enrich=False))
    with open_client(config) as client:
        yield client


def docid(site: Client, query: str) -> str:
    return str(site.get("/api/search", params={"q": query}).json()["hits"][0]["docid"])


def selected_sort(html: str) -> tuple[str, str]:
    """(value, label) of the sort control's selected option."""
    page = parse(html)
    options = [e for e in page.elements if e.tag == "option" and "selected" in e.attrs]
    assert len(options) == 1
    return options[0].attrs["value"], options[0].text.strip()


def test_a_query_typed_on_the_home_page_is_sorted_by_relevance(site: Client) -> None:
    home = site.get("/").text
    value, label = selected_sort(home)
    assert value == "" and label.lower().startswith("newest")  # the default, not sent as newest
    # what the home page's form sends when a query is typed and the sort is left alone
    typed = site.get("/search", params={"q": "border security", "sort": value}).text
    ranked = site.get("/search", params={"q": "border security", "sort": "relevance"}).text
    newest = site.get("/search", params={"q": "border security", "sort": "newest"}).text
    titles = [e.text for e in by_class(typed, "hit__title")]
    assert titles == [e.text for e in by_class(ranked, "hit__title")]
    assert titles != [e.text for e in by_class(newest, "hit__title")]
    assert selected_sort(typed)[1].lower().startswith("relevance")
    # a sort the reader chose is carried as chosen
    assert selected_sort(newest)[0] == "newest"


def test_every_search_page_links_its_feed(site: Client) -> None:
    for params in ({"q": "border", "country": "TJ"}, {}, {"q": "nothingmatchesthis"}):
        html = site.get("/search", params=params).text
        alternates = [
            e.attrs
            for e in parse(html).elements
            if e.tag == "link" and e.attrs.get("rel") == "alternate"
        ]
        assert len(alternates) == 1 and alternates[0]["type"] == "application/atom+xml"
        href = alternates[0]["href"]
        assert href.startswith("/search.atom")
        assert (href, "Subscribe to this search (Atom feed)") in links(html)
        assert "Subscribe" in by_class(html, "summary__feed")[0].text
        feed = site.get(href)
        assert feed.status_code == 200 and feed.headers["content-type"].startswith(
            "application/atom+xml"
        )
    assert (
        "/search.atom?q=border&amp;country=TJ"
        in site.get("/search", params={"q": "border", "country": "TJ", "page": "1"}).text
    )


def test_api_docs_list_the_xml_protocols(site: Client) -> None:
    html = site.get("/api/docs").text
    assert by_id(html, "oai-pmh").tag == "section"
    assert by_id(html, "atom").tag == "section"
    names = [text for _, text in links(html)]
    assert any("/oai" in n for n in names) and any("/search.atom" in n for n in names)


def test_foreign_language_titles_and_texts_are_marked(site: Client) -> None:
    results = site.get("/search", params={"q": "country:TJ", "size": "50"}).text
    titles = {e.text.strip(): e.attrs.get("lang") for e in by_class(results, "hit__title")}
    assert titles[RUSSIAN_TITLE] == "ru"
    assert titles["Tajikistan 2024 Human Rights Report"] is None  # the page's own language
    record = site.get(f"/record/{docid(site, 'задержали')}").text
    assert by_id(record, "record-title").attrs.get("lang") == "ru"
    assert by_class(record, "record__body")[0].attrs.get("lang") == "ru"
    english = site.get(f"/record/{SEED}").text
    assert "lang" not in by_id(english, "record-title").attrs
    assert '<html lang="en">' in english


def test_headings_are_found_in_long_reports_only() -> None:
    assert heading_level("Executive Summary") == 2
    assert heading_level("Section 1. Integrity of the Person") == 2
    assert heading_level("a. Arbitrary Detention") == 3
    assert heading_level("## Returnees") == 2 and heading_level("### Detention") == 3
    for text in (
        "February 27, 2017",  # a dateline
        "Editions included: 2024",
        "He said the border was closed.",
        "Source PDF: https://www.state.gov/report.pdf",
        "two lines\nof text",
        "lower-case start of a sentence fragment",
    ):
        assert heading_level(text) == 0, text
    story = Document(source_key="t:1", body="Executive Summary\n\nShort story.\n\nEnd")
    assert record_text(story).contents == []


def test_a_long_report_has_contents_and_real_headings(site: Client) -> None:
    ident = docid(site, '"Integrity of the Person"')
    html = site.get(f"/record/{ident}").text
    contents = by_class(html, "contents")
    assert contents and contents[0].tag == "nav"
    entries = [(href, text) for href, text in links(html) if href.startswith("#s-")]
    assert [text for _, text in entries] == [
        "Executive Summary",
        "Section 1. Integrity of the Person",
        "a. Arbitrary Detention <script>alert(1)</script>",
        "b. Torture",
        "Section 2. Liberty",
    ]
    page = parse(html)
    headings = {e.attrs.get("id"): e.tag for e in page.elements if e.tag in ("h2", "h3")}
    assert headings["s-1"] == "h2" and headings["s-3"] == "h3" and headings["s-5"] == "h2"
    assert all(headings.get(href[1:]) for href, _ in entries)
    assert "<script>alert(1)</script>" not in html  # escaped like any text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # a dateline and a last line are not sections
    assert "February 27, 2017" not in [text for _, text in entries]


def test_the_shown_text_keeps_the_body_offsets(site: Client) -> None:
    with Archive(Settings(home=Path(site.app.state.settings.home))) as archive:
        doc = archive.get(docid(site, '"Integrity of the Person"'))
    text = record_text(doc)
    pos = 0
    for block in text.blocks:
        for paragraph in block.paragraphs:
            shown = "".join(piece for piece, _ in paragraph.segments)
            found = doc.body.find(shown, pos)
            assert found >= 0, shown
            pos = found + len(shown)
    assert sorted(paragraph_spans(doc.body)) == paragraph_spans(doc.body)


def test_a_passage_opened_from_a_hit_marks_the_query(site: Client) -> None:
    results = site.get("/search", params={"q": "troops"}).text
    href = next(h for h, _ in links(results) if h.startswith(f"/record/{SEED}?"))
    assert href == f"/record/{SEED}?q=troops#p-2"
    record = site.get(href.split("#", 1)[0]).text
    assert "<mark>troops</mark>" in record
    assert "Words of your search" in record
    plain = site.get(f"/record/{SEED}").text
    assert "<mark>" not in plain
    # stemmed like the hit: "facility" marks "facilities"
    stemmed = site.get(f"/record/{SEED}", params={"q": "stationed facility"}).text
    assert "<mark>stationed</mark>" in stemmed and "<mark>facilities</mark>" in stemmed
    # a query that cannot be read shows the record without marks, not an error
    broken = site.get(f"/record/{SEED}", params={"q": "(troops", "mode": "syntax"})
    assert broken.status_code == 200 and "<mark>" not in broken.text.split("record__body", 1)[1]
    escaped = site.get(f"/record/{SEED}", params={"q": "<b>troops</b>"}).text
    assert "<b>troops</b>" not in escaped
