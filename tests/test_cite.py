"""Citations: the exact Refworld line, and machine formats that real readers parse back."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import bibtexparser
import pytest
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware
from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON

from sourcebook.cite import (
    STYLES,
    cite_bibtex,
    cite_csl_json,
    cite_refworld,
    cite_ris,
    csl_item,
    format_citation,
    format_day_month_year,
)
from sourcebook.errors import NotFound, SourcebookError
from sourcebook.ids import make_docid
from sourcebook.model import Document

SEED_LINE = (
    "Radio Free Europe/Radio Liberty, Putin and Rahmon agree to bolster Tajik-Afghan border "
    "security, 27 February 2017, available at: https://www.refworld.org/docid/5975a5b29.html "
    "[accessed 19 May 2023]"
)
SEED_URL = "https://www.refworld.org/docid/5975a5b29.html"
SEED_ACCESSED = date(2023, 5, 19)

CYRILLIC_TITLE = "Путин и Рахмон договорились укрепить таджикско-афганскую границу"
ARABIC_TITLE = "بوتين ورحمون يتفقان على تعزيز أمن الحدود الطاجيكية الأفغانية"
SPECIAL_TITLE = 'Rights & "wrongs": 50% of $5 #1 snake_case {braced} ~x^2 back\\slash'

# The inverse of the LaTeX escapes cite.py promises, written out independently.
LATEX_UNESCAPES = (
    (r"\textbackslash{}", "\\"),
    (r"\textbraceleft{}", "{"),
    (r"\textbraceright{}", "}"),
    (r"\textasciitilde{}", "~"),
    (r"\textasciicircum{}", "^"),
    (r"\&", "&"),
    (r"\%", "%"),
    (r"\$", "$"),
    (r"\#", "#"),
    (r"\_", "_"),
)


def seed_document() -> Document:
    """The seed record (shared/examples/refworld/000_daad56808568b6dc.txt) as a Document."""
    return Document(
        docid=make_docid("refworld:5975a5b29"),
        source_id="5975a5b29",
        title="Putin and Rahmon agree to bolster Tajik-Afghan border security",
        publisher="Radio Free Europe/Radio Liberty",
        publication_date=date(2017, 2, 27),
        source_url=SEED_URL,
        cite_as=SEED_LINE,
        document_type="News",
        language="en",
        countries=["Tajikistan", "Russian Federation"],
    )


def latex_unescape(value: str) -> str:
    for escaped, plain in LATEX_UNESCAPES:
        value = value.replace(escaped, plain)
    return value


def unbrace(value: str) -> str:
    assert value.startswith("{") and value.endswith("}"), value
    return value[1:-1]


def parse_bibtex(text: str) -> dict[str, str]:
    library = bibtexparser.parse_string(text)
    assert library.failed_blocks == []
    assert len(library.entries) == 1
    entry = library.entries[0]
    fields = {field.key: field.value for field in entry.fields}
    fields["ENTRYTYPE"] = entry.entry_type
    fields["ID"] = entry.key
    return fields


def render_csl(item: dict[str, object], html: bool = False) -> str:
    style = CitationStylesStyle("harvard-cite-them-right", locale="en-GB")
    source = CiteProcJSON([item])
    bibliography = CitationStylesBibliography(
        style, source, formatter.html if html else formatter.plain
    )
    bibliography.register(Citation([CitationItem(str(item["id"]))]))
    entries = [str(entry) for entry in bibliography.bibliography()]
    assert len(entries) == 1
    return entries[0]


# -- the Refworld line ---------------------------------------------------------------------------


def test_seed_line_is_refworlds_exactly() -> None:
    doc = seed_document()
    assert cite_refworld(doc, SEED_ACCESSED) == SEED_LINE
    assert format_citation(doc, "refworld", accessed=SEED_ACCESSED) == SEED_LINE
    assert cite_refworld(doc, SEED_ACCESSED) == doc.cite_as


@pytest.mark.shared
def test_seed_line_from_the_parsed_record(seed_record: Path) -> None:
    refworld = pytest.importorskip("sourcebook.ingest.refworld")
    from sourcebook.ingest.registry import Source

    parsed = list(refworld.RefworldParser().parse(Source.from_path(seed_record)))
    assert len(parsed) == 1
    doc = parsed[0]
    assert isinstance(doc, Document)
    assert cite_refworld(doc, SEED_ACCESSED) == SEED_LINE


@pytest.mark.parametrize(
    ("month", "name"),
    [
        (1, "January"),
        (2, "February"),
        (3, "March"),
        (4, "April"),
        (5, "May"),
        (6, "June"),
        (7, "July"),
        (8, "August"),
        (9, "September"),
        (10, "October"),
        (11, "November"),
        (12, "December"),
    ],
)
def test_dates_use_english_month_names(month: int, name: str) -> None:
    assert format_day_month_year(date(2020, month, 1)) == f"1 {name} 2020"


def test_day_has_no_leading_zero() -> None:
    doc = replace(seed_document(), publication_date=date(2017, 2, 7))
    line = cite_refworld(doc, date(2023, 5, 9))
    assert ", 7 February 2017, " in line
    assert line.endswith("[accessed 9 May 2023]")


def test_accessed_argument_wins_over_record() -> None:
    doc = replace(seed_document(), accessed_date=date(2020, 1, 2))
    assert cite_refworld(doc, SEED_ACCESSED).endswith("[accessed 19 May 2023]")


def test_accessed_falls_back_to_record() -> None:
    doc = replace(seed_document(), accessed_date=date(2020, 1, 2))
    assert cite_refworld(doc).endswith("[accessed 2 January 2020]")


def test_accessed_falls_back_to_today() -> None:
    before = date.today()
    line = cite_refworld(seed_document())
    after = date.today()
    # Two readings of the clock, in case the test straddles midnight.
    assert any(line.endswith(f"[accessed {format_day_month_year(d)}]") for d in (before, after))


def test_url_prefers_source_then_original_then_own_page() -> None:
    doc = replace(seed_document(), original_url="https://www.rferl.org/a/28337421.html")
    assert f"available at: {SEED_URL} " in cite_refworld(doc, SEED_ACCESSED)
    doc = replace(doc, source_url="")
    assert "available at: https://www.rferl.org/a/28337421.html " in cite_refworld(
        doc, SEED_ACCESSED
    )
    doc = replace(doc, original_url="")
    own = cite_refworld(doc, SEED_ACCESSED, base_url="https://coi.example.org/")
    assert f"available at: https://coi.example.org/record/{doc.docid} [accessed" in own


def test_without_any_url_there_is_no_available_at_nor_accessed() -> None:
    doc = replace(seed_document(), source_url="")
    assert cite_refworld(doc, SEED_ACCESSED) == (
        "Radio Free Europe/Radio Liberty, Putin and Rahmon agree to bolster Tajik-Afghan border "
        "security, 27 February 2017"
    )
    bibtex = parse_bibtex(cite_bibtex(doc, SEED_ACCESSED))
    assert "url" not in bibtex and "urldate" not in bibtex
    ris = rispy.loads(cite_ris(doc, SEED_ACCESSED))[0]
    assert "urls" not in ris and "access_date" not in ris
    item = csl_item(doc, SEED_ACCESSED)
    assert "URL" not in item and "accessed" not in item


def test_missing_publisher_is_said_not_left_as_a_gap() -> None:
    doc = replace(seed_document(), publisher="")
    assert cite_refworld(doc, SEED_ACCESSED).startswith(
        "Publisher not stated, Putin and Rahmon agree to bolster Tajik-Afghan border security, "
        "27 February 2017, "
    )
    authored = replace(doc, authors=["McAdam, Jane"])
    assert cite_refworld(authored, SEED_ACCESSED).startswith(
        "McAdam, Jane, Putin and Rahmon agree to bolster Tajik-Afghan border security, "
        "publisher not stated, 27 February 2017, "
    )
    # machine formats leave the field out: no invented publisher for a reference manager
    assert "not stated" not in cite_bibtex(doc, SEED_ACCESSED)
    assert "not stated" not in cite_ris(doc, SEED_ACCESSED)
    assert "publisher" not in csl_item(doc, SEED_ACCESSED)


def test_missing_date_is_said_not_invented() -> None:
    doc = replace(seed_document(), publication_date=None)
    assert cite_refworld(doc, SEED_ACCESSED) == (
        "Radio Free Europe/Radio Liberty, Putin and Rahmon agree to bolster Tajik-Afghan border "
        f"security, no date, available at: {SEED_URL} [accessed 19 May 2023]"
    )
    bibtex = parse_bibtex(cite_bibtex(doc, SEED_ACCESSED))
    assert not {"year", "month", "date"} & bibtex.keys()
    ris = rispy.loads(cite_ris(doc, SEED_ACCESSED))[0]
    assert "year" not in ris and "date" not in ris
    assert "issued" not in csl_item(doc, SEED_ACCESSED)
    assert "no date" not in cite_bibtex(doc, SEED_ACCESSED)


def test_missing_title_keeps_the_rest() -> None:
    doc = replace(seed_document(), title="")
    assert cite_refworld(doc, SEED_ACCESSED) == (
        f"Radio Free Europe/Radio Liberty, 27 February 2017, available at: {SEED_URL} "
        "[accessed 19 May 2023]"
    )


def test_empty_document_gives_empty_but_valid_citations() -> None:
    doc = Document()
    assert cite_refworld(doc, SEED_ACCESSED) == ""
    bibtex = parse_bibtex(cite_bibtex(doc, SEED_ACCESSED))
    assert bibtex["ENTRYTYPE"] == "misc" and bibtex["ID"].startswith("sb_")
    assert rispy.loads(cite_ris(doc, SEED_ACCESSED)) == [{"type_of_reference": "GEN"}]
    item = csl_item(doc, SEED_ACCESSED)
    assert item["type"] == "document" and item["id"]
    assert set(item) == {"id", "type"}


def test_authors_lead_and_publisher_follows_title() -> None:
    doc = replace(
        seed_document(),
        authors=["McAdam, Jane", "Goodwin-Gill, Guy S."],
        publisher="UN High Commissioner for Refugees (UNHCR)",
        document_type="Research Papers",
    )
    assert cite_refworld(doc, SEED_ACCESSED).startswith(
        "McAdam, Jane; Goodwin-Gill, Guy S., Putin and Rahmon agree to bolster Tajik-Afghan "
        "border security, UN High Commissioner for Refugees (UNHCR), 27 February 2017, "
    )


def test_whitespace_inside_fields_is_collapsed() -> None:
    doc = replace(seed_document(), title="  Putin and Rahmon\nagree to bolster\tTajik-Afghan ")
    assert ", Putin and Rahmon agree to bolster Tajik-Afghan, " in cite_refworld(doc)
    ris = cite_ris(doc, SEED_ACCESSED)
    assert "TI  - Putin and Rahmon agree to bolster Tajik-Afghan\r\n" in ris


# -- dispatch ------------------------------------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
def test_format_citation_dispatches_each_style(style: str) -> None:
    direct = {
        "refworld": cite_refworld,
        "bibtex": cite_bibtex,
        "ris": cite_ris,
        "csl-json": cite_csl_json,
    }[style]
    doc = seed_document()
    assert format_citation(doc, style, SEED_ACCESSED) == direct(doc, SEED_ACCESSED)
    assert format_citation(doc, f" {style.upper()} ", SEED_ACCESSED) == direct(doc, SEED_ACCESSED)


def test_unknown_style_is_not_found_and_lists_the_styles() -> None:
    with pytest.raises(NotFound) as caught:
        format_citation(seed_document(), "chicago")
    message = str(caught.value)
    assert "'chicago'" in message
    for style in STYLES:
        assert style in message
    assert isinstance(caught.value, SourcebookError)


# -- BibTeX --------------------------------------------------------------------------------------


def test_bibtex_seed_parses_back() -> None:
    doc = seed_document()
    fields = parse_bibtex(cite_bibtex(doc, SEED_ACCESSED))
    assert fields["ENTRYTYPE"] == "article"
    assert fields["ID"] == f"sb_{doc.docid}"
    assert unbrace(fields["title"]) == doc.title
    assert fields["journal"] == doc.publisher
    assert fields["year"] == "2017"
    assert fields["month"] == "feb"
    assert fields["date"] == "2017-02-27"
    assert fields["url"] == SEED_URL
    assert fields["urldate"] == "2023-05-19"
    assert doc.docid in fields["note"]
    assert "author" not in fields


@pytest.mark.parametrize(
    ("document_type", "entry_type", "publisher_field"),
    [
        ("News", "article", "journal"),
        ("Country Reports", "techreport", "institution"),
        ("Position Papers", "techreport", "institution"),
        ("Case Law", "misc", "publisher"),
        ("Legislation", "misc", "publisher"),
        ("", "misc", "publisher"),
    ],
)
def test_bibtex_entry_type_follows_document_type(
    document_type: str, entry_type: str, publisher_field: str
) -> None:
    doc = replace(seed_document(), document_type=document_type)
    fields = parse_bibtex(cite_bibtex(doc, SEED_ACCESSED))
    assert fields["ENTRYTYPE"] == entry_type
    assert fields[publisher_field] == doc.publisher


@pytest.mark.parametrize("title", [SPECIAL_TITLE, CYRILLIC_TITLE, ARABIC_TITLE])
def test_bibtex_escapes_specials_and_keeps_utf8(title: str) -> None:
    doc = replace(
        seed_document(),
        title=title,
        publisher="Médecins Sans Frontières & Partners_",
        authors=["Smith, Jane", "Ministry of Justice and Security", "Amnesty International, UK"],
    )
    text = cite_bibtex(doc, SEED_ACCESSED)
    fields = parse_bibtex(text)
    assert latex_unescape(unbrace(fields["title"])) == title
    assert latex_unescape(fields["journal"]) == doc.publisher
    assert fields["author"] == (
        "Smith, Jane and {Ministry of Justice and Security} and {Amnesty International, UK}"
    )
    assert fields["year"] == "2017"
    assert fields["url"] == SEED_URL
    # Non-ASCII is written as UTF-8, not as LaTeX accents.
    assert "Médecins Sans Frontières" in text
    if title != SPECIAL_TITLE:
        assert title in text


def test_bibtex_escapes_read_back_by_a_latex_decoder() -> None:
    title = "Rights & wrongs: 50% of $5, #1, snake_case — Путин, بوتين"
    doc = replace(seed_document(), title=title)
    library = bibtexparser.parse_string(
        cite_bibtex(doc, SEED_ACCESSED), append_middleware=[LatexDecodingMiddleware()]
    )
    assert library.failed_blocks == []
    assert library.entries[0]["title"] == title


def test_bibtex_url_is_not_latex_escaped_but_stays_balanced() -> None:
    url = "https://example.org/a_b%20c?q={x}#frag"
    doc = replace(seed_document(), source_url=url)
    fields = parse_bibtex(cite_bibtex(doc, SEED_ACCESSED))
    assert fields["url"] == "https://example.org/a_b%20c?q=%7Bx%7D#frag"


def test_bibtex_key_without_docid_is_stable_and_safe() -> None:
    doc = replace(seed_document(), docid="")
    first = parse_bibtex(cite_bibtex(doc, SEED_ACCESSED))["ID"]
    assert first == parse_bibtex(cite_bibtex(doc, SEED_ACCESSED))["ID"]
    assert first.startswith("sb_") and first.replace("_", "").isalnum()


# -- RIS -----------------------------------------------------------------------------------------


def test_ris_seed_parses_back_with_crlf() -> None:
    doc = seed_document()
    text = cite_ris(doc, SEED_ACCESSED)
    assert text.startswith("TY  - NEWS\r\n")
    assert text.endswith("ER  - \r\n")
    assert "\n" not in text.replace("\r\n", "")
    expected = {
        "type_of_reference": "NEWS",
        "title": doc.title,
        "publisher": doc.publisher,
        "year": "2017",
        "date": "2017/02/27",
        "urls": [SEED_URL],
        "access_date": "2023/05/19",
        "language": "en",
        "id": doc.docid,
    }
    assert rispy.loads(text) == [expected]
    assert rispy.loads(text, newline="\r\n") == [expected]


@pytest.mark.parametrize("title", [SPECIAL_TITLE, CYRILLIC_TITLE, ARABIC_TITLE])
def test_ris_keeps_special_characters_and_authors(title: str) -> None:
    authors = ["Smith, Jane", "Human Rights Watch", "Аббасов, Тимур"]
    doc = replace(seed_document(), title=title, authors=authors, document_type="Country Reports")
    (record,) = rispy.loads(cite_ris(doc, SEED_ACCESSED))
    assert record["type_of_reference"] == "RPRT"
    assert record["title"] == title
    assert record["authors"] == authors
    assert record["year"] == "2017"
    assert record["urls"] == [SEED_URL]


def test_ris_url_semicolon_does_not_split_the_url() -> None:
    doc = replace(seed_document(), source_url="https://example.org/doc;jsessionid=1")
    (record,) = rispy.loads(cite_ris(doc, SEED_ACCESSED))
    assert record["urls"] == ["https://example.org/doc%3Bjsessionid=1"]


# -- CSL-JSON ------------------------------------------------------------------------------------


def test_csl_json_seed_item() -> None:
    doc = seed_document()
    text = cite_csl_json(doc, SEED_ACCESSED)
    assert json.loads(text) == [csl_item(doc, SEED_ACCESSED)]
    assert text.startswith("[\n  {\n")
    assert csl_item(doc, SEED_ACCESSED) == {
        "id": doc.docid,
        "type": "article-newspaper",
        "title": doc.title,
        "author": [{"literal": doc.publisher}],
        "publisher": doc.publisher,
        "container-title": doc.publisher,
        "issued": {"date-parts": [[2017, 2, 27]]},
        "URL": SEED_URL,
        "accessed": {"date-parts": [[2023, 5, 19]]},
        "language": "en",
    }


def test_csl_json_keeps_non_ascii_unescaped() -> None:
    doc = replace(seed_document(), title=CYRILLIC_TITLE)
    text = cite_csl_json(doc, SEED_ACCESSED)
    assert CYRILLIC_TITLE in text
    assert json.loads(text)[0]["title"] == CYRILLIC_TITLE


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("McAdam, Jane", {"family": "McAdam", "given": "Jane"}),
        ("Goodwin-Gill, Guy S.", {"family": "Goodwin-Gill", "given": "Guy S."}),
        ("Аббасов, Тимур", {"family": "Аббасов", "given": "Тимур"}),
        ("Jane McAdam", {"literal": "Jane McAdam"}),
        ("Human Rights Watch", {"literal": "Human Rights Watch"}),
        ("Amnesty International, UK", {"literal": "Amnesty International, UK"}),
        ("UNHCR, Geneva", {"literal": "UNHCR, Geneva"}),
        ("Smith, John, Jr.", {"literal": "Smith, John, Jr."}),
    ],
)
def test_csl_names_split_only_clear_persons(name: str, expected: dict[str, str]) -> None:
    doc = replace(seed_document(), authors=[name])
    assert csl_item(doc, SEED_ACCESSED)["author"] == [expected]


@pytest.mark.parametrize(
    ("document_type", "csl_type"),
    [
        ("News", "article-newspaper"),
        ("Blog post", "post-weblog"),
        ("News blog", "post-weblog"),
        ("Country Reports", "report"),
        ("Case Law", "legal_case"),
        ("Legislation", "legislation"),
        ("Manuals", "document"),
    ],
)
def test_csl_type_follows_document_type(document_type: str, csl_type: str) -> None:
    doc = replace(seed_document(), document_type=document_type)
    assert csl_item(doc, SEED_ACCESSED)["type"] == csl_type


@pytest.mark.parametrize("document_type", ["News", "Country Reports", "Manuals"])
@pytest.mark.parametrize("title", [SPECIAL_TITLE, CYRILLIC_TITLE, ARABIC_TITLE])
def test_csl_renders_with_citeproc(document_type: str, title: str) -> None:
    doc = replace(
        seed_document(),
        title=title,
        document_type=document_type,
        authors=["McAdam, Jane", "Human Rights Watch"],
    )
    rendered = render_csl(csl_item(doc, SEED_ACCESSED))
    assert title in rendered
    assert doc.publisher in rendered
    assert "McAdam, J." in rendered
    assert "Human Rights Watch" in rendered
    assert "2017" in rendered
    assert SEED_URL in rendered


@pytest.mark.parametrize("document_type", ["News", "Blog", "Country Reports", "Manuals", ""])
def test_a_publisher_without_authors_is_the_corporate_author(document_type: str) -> None:
    doc = replace(seed_document(), document_type=document_type, authors=[])
    item = csl_item(doc, SEED_ACCESSED)
    assert item["author"] == [{"literal": doc.publisher}]
    rendered = render_csl(item)
    assert rendered.count(doc.title) == 1, rendered  # not printed in the author's place too
    assert rendered.startswith(f"{doc.publisher} (2017)"), rendered


def test_the_seed_renders_as_a_news_item() -> None:
    rendered = render_csl(csl_item(seed_document(), SEED_ACCESSED))
    assert rendered == (
        "Radio Free Europe/Radio Liberty (2017) ‘Putin and Rahmon agree to bolster Tajik-Afghan "
        "border security’, Radio Free Europe/Radio Liberty, 27 February. Available at: "
        f"{SEED_URL} (Accessed: 19 May 2023)."
    )


def test_citeproc_html_does_not_escape_markup() -> None:
    # A canary for whoever renders citations into pages: citeproc-py's html formatter passes
    # "<" and "&" from the record through untouched, so its output must not be trusted as HTML.
    doc = replace(seed_document(), title="Rights & <wrongs>")
    rendered = render_csl(csl_item(doc, SEED_ACCESSED), html=True)
    assert "<i>Radio Free Europe/Radio Liberty</i>" in rendered
    assert "Rights & <wrongs>" in rendered
