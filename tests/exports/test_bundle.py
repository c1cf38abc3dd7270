"""The research bundle: Markdown, DOCX read back with python-docx, PDF read back with pypdf
(Cyrillic and Arabic included); pinpoints, changed quotes and the bibliography."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import docx
import pypdf
import pytest

from sourcebook.cite import cite_refworld
from sourcebook.errors import ConfigError, InputTooLarge, NotFound
from sourcebook.exports import BundleQuote, render_bundle
from sourcebook.exports.bundle import CHANGED_NOTICE, MAX_BUNDLE_QUOTES, build_bundle
from sourcebook.exports.bundle_md import escape_markdown
from sourcebook.exports.bundle_pdf import DEFAULT_FONT_DIR, FONT_FILES
from tests.exports.samples import ACCESSED, ARABIC, RUSSIAN, SEED, TRICKY

BORDER = "Russian and Tajik officials agreed to bolster security along the border near Panj."
CYRILLIC = "Задержания продолжаются в Чечне."
CYRILLIC_NOW = "Задержания прекратились."
ARABIC_QUOTE = "يعيش اللاجئون في ظروف صعبة في المخيمات."


def quotes() -> list[BundleQuote]:
    return [
        BundleQuote(SEED, BORDER, 21, "Shows the border is guarded."),
        BundleQuote(RUSSIAN, CYRILLIC, 3, "Detentions go on.", True, CYRILLIC_NOW),
        BundleQuote(ARABIC, ARABIC_QUOTE, 2, "Camp conditions."),
        BundleQuote(SEED, "", 0, "The whole article."),
        BundleQuote(TRICKY, "See [this](javascript:alert(1)) <script>", 1, "# not a heading"),
    ]


def test_refworld_pinpoints_and_sorted_deduplicated_bibliography() -> None:
    bundle = build_bundle("Case 42", quotes(), "refworld", accessed=ACCESSED)
    seed_line = cite_refworld(SEED, ACCESSED)
    assert bundle.sections[0].citation == f"{seed_line}, para. 21"
    assert bundle.sections[1].citation.endswith("3 May 2021, para. 3")
    assert bundle.sections[3].citation == seed_line  # a whole document: no paragraph
    assert len(bundle.bibliography) == 4  # SEED is quoted twice and listed once
    assert bundle.bibliography == sorted(bundle.bibliography, key=str.casefold)
    assert bundle.summary.startswith("5 quotes from 4 documents.")


def test_apa_and_chicago_come_from_the_csl_styles_package() -> None:
    apa = build_bundle("Case 42", quotes(), "apa", accessed=ACCESSED)
    assert apa.sections[0].citation == "(Radio Free Europe/Radio Liberty, 2017, para. 21)"
    assert apa.sections[1].citation == "(Petrova, 2021, para. 3)"
    assert apa.bibliography[0].startswith("Petrova, A. (2021")
    chicago = build_bundle("Case 42", quotes(), "chicago", accessed=ACCESSED)
    assert chicago.sections[1].citation == "(Petrova 2021, para. 3)"  # no comma before the year
    assert chicago.bibliography[0].startswith("Petrova, A. 2021.")


def test_harvard_pinpoints_are_author_date_with_paragraph() -> None:
    bundle = build_bundle("Case 42", quotes(), "harvard", accessed=ACCESSED)
    cites = [s.citation for s in bundle.sections]
    assert cites[0] == "(Radio Free Europe/Radio Liberty, 2017, para. 21)"
    assert cites[1] == "(Petrova, 2021, para. 3)"
    assert cites[2] == "(UNHCR, no date, para. 2)"
    assert cites[3] == "(Radio Free Europe/Radio Liberty, 2017)"
    assert len(bundle.bibliography) == 4
    assert bundle.bibliography[0].startswith("Petrova, A. (2021)")
    assert "(Accessed: 5 January 2026)" in bundle.bibliography[1]


def test_markdown_escapes_and_says_when_the_document_changed() -> None:
    text = render_bundle("Case *42*", quotes(), "refworld", "md", accessed=ACCESSED).data.decode()
    assert text.startswith("# Case \\*42\\*\n")
    assert f"> {CYRILLIC}" in text and f"> {CYRILLIC_NOW}" in text
    changed = text.index(CHANGED_NOTICE)
    assert text.index(CYRILLIC) < changed < text.index(CYRILLIC_NOW)
    assert text.count(CHANGED_NOTICE) == 1
    assert "\\[this\\](javascript:alert(1)) \\<script\\>" in text
    assert "**Note:** \\# not a heading" in text
    assert text.count("\n- ") == 4  # the bibliography


def test_escape_markdown_neutralises_block_markers() -> None:
    assert escape_markdown("- item\n1. first\n+ x") == "\\- item\n1\\. first\n\\+ x"
    assert escape_markdown("a_b & <i>") == "a\\_b \\& \\<i\\>"


def test_docx_reads_back_with_quote_styles_notes_and_bibliography() -> None:
    out = render_bundle("Case 42", quotes(), "harvard", "docx", accessed=ACCESSED)
    assert out.extension == "docx" and out.media_type.endswith("wordprocessingml.document")
    document = docx.Document(io.BytesIO(out.data))
    assert document.core_properties.title == "Case 42"
    paragraphs = [(p.style.name if p.style else "", p.text) for p in document.paragraphs]
    assert ("Title", "Case 42") in paragraphs
    assert ("Quote", BORDER) in paragraphs and ("Quote", CYRILLIC_NOW) in paragraphs
    assert ("Quote", ARABIC_QUOTE) in paragraphs
    assert ("Normal", "(Petrova, 2021, para. 3)") in paragraphs
    assert ("Normal", "Note: Detentions go on.") in paragraphs
    assert ("Normal", CHANGED_NOTICE) in paragraphs
    headings = [text for style, text in paragraphs if style.startswith("Heading")]
    assert headings[0] == f"1. {SEED.title}" and headings[-1] == "Bibliography"
    bibliography = [text for _, text in paragraphs[-4:]]
    assert bibliography[0].startswith("Petrova, A. (2021)")
    arabic = next(p for p in document.paragraphs if p.text == ARABIC_QUOTE)
    assert arabic._p.pPr.find(docx.oxml.ns.qn("w:bidi")) is not None  # right to left


@pytest.mark.skipif(not DEFAULT_FONT_DIR.is_dir(), reason="fonts-dejavu-core is not installed")
def test_pdf_text_holds_cyrillic_and_arabic_quotes_and_pinpoints(tmp_path: Path) -> None:
    out = render_bundle("Case 42", quotes(), "refworld", "pdf", accessed=ACCESSED)
    assert out.data.startswith(b"%PDF") and out.media_type == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(out.data))
    assert reader.metadata is not None and reader.metadata.title == "Case 42"
    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = " ".join(text.split())
    assert CYRILLIC in flat and CYRILLIC_NOW in flat
    for word in ("اللاجئون", "ظروف", "صعبة", "المخيمات"):
        assert word in flat  # shaped Arabic still extracts as the letters it shows
    assert "para. 21" in flat and "3 May 2021, para. 3" in flat
    assert CHANGED_NOTICE in flat and "Note: Shows the border is guarded." in flat
    assert flat.index("Bibliography") > flat.index("Note: # not a heading")


def test_pdf_without_the_font_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="fonts-dejavu-core"):
        render_bundle("Case 42", quotes(), "refworld", "pdf", font_dir=tmp_path)


@pytest.mark.skipif(not DEFAULT_FONT_DIR.is_dir(), reason="fonts-dejavu-core is not installed")
def test_pdf_takes_fonts_from_another_folder(tmp_path: Path) -> None:
    for name in FONT_FILES.values():
        shutil.copy(DEFAULT_FONT_DIR / name, tmp_path / name)
    out = render_bundle("Case", quotes()[:1], "harvard", "pdf", font_dir=tmp_path)
    assert BORDER in pypdf.PdfReader(io.BytesIO(out.data)).pages[0].extract_text()


def test_bounds_and_unknown_names() -> None:
    one = quotes()[0]
    with pytest.raises(InputTooLarge, match="at most 2,000 quotes"):
        build_bundle("Too many", [one] * (MAX_BUNDLE_QUOTES + 1), "refworld")
    with pytest.raises(InputTooLarge, match="characters"):
        build_bundle("Too long", [BundleQuote(SEED, "x" * 2_000_001, 1)], "refworld")
    with pytest.raises(NotFound, match="refworld, harvard, apa, chicago"):
        build_bundle("Style", [one], "mla")
    with pytest.raises(NotFound, match="md, docx, pdf"):
        render_bundle("Format", [one], "refworld", "odt")


def test_control_characters_never_reach_the_docx() -> None:
    odd = BundleQuote(SEED, "bell\x07 and nul\x00 inside", 4, "note\x0b")
    out = render_bundle("Odd\x01", [odd], "refworld", "docx")
    texts = [p.text for p in docx.Document(io.BytesIO(out.data)).paragraphs]
    assert "bell and nul inside" in texts and "Odd" in texts


def test_an_empty_folder_makes_a_bundle_with_an_empty_bibliography() -> None:
    text = render_bundle("Empty", [], "harvard", "md").data.decode()
    assert "0 quotes from 0 documents" in text and text.rstrip().endswith("## Bibliography")


def test_only_joining_scripts_are_shaped() -> None:
    from sourcebook.exports.bundle_pdf import needs_shaping

    assert needs_shaping(ARABIC_QUOTE) and needs_shaping("Note: " + ARABIC_QUOTE)
    assert not needs_shaping(BORDER) and not needs_shaping(CYRILLIC + " Ελλάδα é")
