"""OCR of scanned PDFs and images: scans made here from known text, read by the real Tesseract."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, TextStringObject

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.append(str(BENCHMARKS))  # last: benchmarks/http.py must not shadow http

from rapidfuzz.distance import Levenshtein  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

import eval_ocr  # noqa: E402
from _scans import missing_tools, rasterise, scanned_pdf, text_pdf  # noqa: E402
from sourcebook.cli import app as cli_app  # noqa: E402
from sourcebook.config import Settings  # noqa: E402
from sourcebook.errors import ParseError  # noqa: E402
from sourcebook.ingest.image import ImageParser  # noqa: E402
from sourcebook.ingest.jsonl import record_to_document  # noqa: E402
from sourcebook.ingest.ocr import (  # noqa: E402
    OcrSettings,
    OcrUnavailable,
    installed_languages,
    read_tsv,
)
from sourcebook.ingest.pdf import PdfParser  # noqa: E402
from sourcebook.ingest.registry import ParserRegistry, Source  # noqa: E402
from sourcebook.model import Document, EmptyRecord  # noqa: E402
from sourcebook.records import document_to_json  # noqa: E402
from sourcebook.search.request import SearchRequest  # noqa: E402
from sourcebook.services import Archive  # noqa: E402
from sourcebook.web.app import create_app  # noqa: E402
from tests.web.client import Client  # noqa: E402

ENGLISH = (
    "The ministry announced on Tuesday that border crossings in the northern province "
    "would reopen after three weeks of closure. Travellers must carry valid identity "
    "documents and register at the checkpoint.\n\n"
    "Human rights groups reported that several detainees had been released without charge."
)
FRENCH = (
    "Le gouvernement a annoncé mercredi une réforme de la procédure d'asile. Les demandeurs "
    "devront déposer leur dossier dans un délai de trois mois après leur arrivée sur le "
    "territoire français.\n\nLa mesure a été critiquée par plusieurs associations d'aide aux "
    "réfugiés, qui dénoncent des délais trop courts."
)
TESSERACT = shutil.which("tesseract")
FAST = OcrSettings(dpi=200)

TESSERACT_MISSING = (
    ""
    if TESSERACT is not None and "eng" in installed_languages(TESSERACT)
    else "Tesseract with the English pack is not installed (apt-get install tesseract-ocr "
    "tesseract-ocr-eng tesseract-ocr-osd tesseract-ocr-fra poppler-utils; README.md)"
)
needs_tools = pytest.mark.skipif(
    bool(missing_tools()), reason=f"cannot make scans: {missing_tools()} missing"
)
needs_tesseract = pytest.mark.skipif(bool(TESSERACT_MISSING), reason=TESSERACT_MISSING)


def test_ci_has_what_ocr_needs() -> None:
    """The OCR tests skip on a machine without Tesseract; CI must not be such a machine."""
    missing = "; ".join(m for m in (TESSERACT_MISSING, missing_tools()) if m)
    if not missing:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the OCR tests: {missing}")
    pytest.skip(missing)


def similarity(got: str, want: str) -> float:
    """1 - character edit distance / length, whitespace collapsed."""
    got, want = " ".join(got.split()), " ".join(want.split())
    return 1 - Levenshtein.distance(got, want) / len(want)


def registry() -> ParserRegistry:
    return ParserRegistry([PdfParser(), ImageParser()])


def parse(path: Path, ocr: OcrSettings = FAST) -> Document:
    docs = list(registry().parse(Source.from_path(path, ocr=ocr)))
    assert len(docs) == 1 and isinstance(docs[0], Document)
    return docs[0]


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if missing_tools():
        pytest.skip(f"cannot make scans: {missing_tools()} missing")
    folder = tmp_path_factory.mktemp("scans")
    english = scanned_pdf([ENGLISH], folder / "english.pdf", dpi=200, noise_seed=1)
    french = scanned_pdf([FRENCH], folder / "french.pdf", dpi=200)
    # a mixed PDF: page 1 has its text layer, page 2 is a scan
    mixed = PdfWriter()
    mixed.append(text_pdf(["Page one has a text layer of its own."], folder / "text.pdf"))
    mixed.append(english)
    mixed.write(folder / "mixed.pdf")
    # a two-page TIFF
    pages = rasterise(
        text_pdf([ENGLISH, "Second page: the report ends here."], folder / "t.pdf"), 200
    )
    pages[0].save(folder / "two.tiff", save_all=True, append_images=pages[1:], dpi=(200, 200))
    two = scanned_pdf([ENGLISH, "Second page."], folder / "two.pdf", dpi=100)
    return {
        "two": two,
        "english": english,
        "french": french,
        "mixed": folder / "mixed.pdf",
        "tiff": folder / "two.tiff",
    }


@needs_tools
@needs_tesseract
def test_a_scanned_pdf_is_read_and_marked(scans: dict[str, Path]) -> None:
    assert not (PdfReader(scans["english"]).pages[0].extract_text() or "").strip()
    doc = parse(scans["english"])
    assert similarity(doc.body, ENGLISH) > 0.95, doc.body
    assert doc.ocr_confidence is not None and 70 < doc.ocr_confidence <= 100
    assert doc.ocr_note() == f"Text read by OCR (confidence {round(doc.ocr_confidence)}%)"
    assert doc.language == "en" and "language" in doc.derived
    # the title is the first line (not the file name Pillow wrote as /Title)
    assert similarity(doc.title, ENGLISH[: len(doc.title)]) > 0.9, doc.title
    assert doc.body.count("\n\n") == 1  # the two paragraphs, rebuilt from the OCR lines


@needs_tools
@needs_tesseract
def test_a_mixed_pdf_keeps_its_text_page(scans: dict[str, Path]) -> None:
    doc = parse(scans["mixed"])
    assert doc.body.startswith("Page one has a text layer of its own.\n\n")
    assert similarity(doc.body.split("\n\n", 1)[1], ENGLISH) > 0.95
    assert doc.ocr_confidence is not None


@needs_tools
@needs_tesseract
def test_a_french_page_is_read_with_the_french_pack(scans: dict[str, Path]) -> None:
    if "fra" not in installed_languages(str(TESSERACT)):
        pytest.skip("tesseract-ocr-fra is not installed")
    doc = parse(scans["french"])
    assert doc.language == "fr"
    # the English pack reads "apres" and "francais"; the French one reads every accent
    for word in ("annoncé", "réforme", "après", "français", "délai", "réfugiés"):
        assert word in doc.body
    assert similarity(doc.body, FRENCH) > 0.97


@needs_tools
@needs_tesseract
def test_a_pdf_language_hint_is_used(scans: dict[str, Path], tmp_path: Path) -> None:
    # /Lang says English: the French page is read with the English pack, no detection
    writer = PdfWriter(clone_from=scans["french"])
    writer._root_object[NameObject("/Lang")] = TextStringObject("en")
    writer.write(tmp_path / "hinted.pdf")
    doc = parse(tmp_path / "hinted.pdf")
    assert doc.language == "en" and "language" not in doc.derived
    assert doc.body != parse(scans["french"]).body  # which the French pack reads


@needs_tools
@needs_tesseract
def test_a_multi_page_tiff_is_read_page_by_page(scans: dict[str, Path]) -> None:
    doc = parse(scans["tiff"])
    assert similarity(doc.body.split("\n\n")[0] + " " + doc.body.split("\n\n")[1], ENGLISH) > 0.95
    assert doc.body.endswith("Second page: the report ends here.")
    assert registry().auction(Source.from_path(scans["tiff"])).name == "image"


@needs_tools
def test_without_tesseract_a_scan_fails_with_what_to_install(
    scans: dict[str, Path], tmp_path: Path
) -> None:
    missing = OcrSettings(tesseract=str(tmp_path / "no-such-tesseract"))
    with pytest.raises(
        OcrUnavailable, match=r"needs OCR: Tesseract was not found.*apt-get install tesseract-ocr"
    ):
        parse(scans["english"], missing)
    with pytest.raises(OcrUnavailable, match=r"image, whose text needs OCR.*apt-get install"):
        parse(scans["tiff"], missing)
    # a mixed PDF keeps the text it has
    assert parse(scans["mixed"], missing).body == "Page one has a text layer of its own."
    # through an archive: recorded on the report, the batch goes on, no traceback
    settings = Settings(home=tmp_path / "archive", ocr_tesseract=str(tmp_path / "nope"))
    with Archive(settings, registry=registry()) as archive:
        report = archive.ingest([scans["english"], scans["mixed"]])
    assert report.total("added") == 1 and report.total("failed") == 1
    (error,) = report.files[0].errors
    assert "english.pdf has no text layer (a scan) and needs OCR: Tesseract was not found" in error
    assert "Traceback" not in error and "internal error" not in error


@needs_tools
def test_ocr_turned_off_says_so(scans: dict[str, Path]) -> None:
    with pytest.raises(OcrUnavailable, match=r"OCR is turned off \(SOURCEBOOK_OCR=false\)"):
        parse(scans["english"], OcrSettings(enabled=False))


@needs_tools
@needs_tesseract
def test_a_page_over_the_time_limit_is_refused(scans: dict[str, Path]) -> None:
    with pytest.raises(
        ParseError, match=r"page 1 took longer than 0.05 s .*SOURCEBOOK_OCR_PAGE_SECONDS"
    ):
        parse(scans["tiff"], OcrSettings(page_seconds=0.05))


@needs_tools
def test_too_many_pages_are_refused_not_cut(scans: dict[str, Path]) -> None:
    with pytest.raises(ParseError, match=r"has 2 pages to read by OCR; the limit is 1"):
        parse(scans["tiff"], OcrSettings(max_pages=1))
    with pytest.raises(
        ParseError, match=r"has 2 pages without text to read by OCR; the limit is 1"
    ):
        parse(scans["two"], OcrSettings(max_pages=1))


@needs_tools
@needs_tesseract
def test_the_confidence_is_stored_exported_and_shown(
    scans: dict[str, Path], tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "archive", ocr_dpi=200)
    with Archive(settings, registry=registry()) as archive:
        report = archive.ingest([scans["english"]])
        assert report.total("added") == 1
        (hit,) = archive.search(SearchRequest(query="checkpoint")).hits
        doc = archive.get(hit.docid)
    assert doc.ocr_confidence is not None and doc.ocr_confidence > 70
    note = doc.ocr_note()
    with Client(create_app(settings)) as client:
        page = client.get(f"/record/{doc.docid}")
        api = client.get(f"/api/records/{doc.docid}")
    assert page.status_code == 200 and note in page.text
    assert api.status_code == 200 and api.json()["ocr_confidence"] == doc.ocr_confidence
    shown = CliRunner().invoke(cli_app, ["--archive", str(settings.home), "show", doc.docid])
    assert shown.exit_code == 0 and note in " ".join(shown.output.split()), shown.output
    record = document_to_json(doc)
    assert record["ocr_confidence"] == doc.ocr_confidence
    # an export re-imports with its confidence
    again = record_to_document(json.loads(json.dumps(record)))
    assert again.ocr_confidence == doc.ocr_confidence
    with pytest.raises(ValueError, match="ocr_confidence must be a number"):
        record_to_document({**record, "ocr_confidence": "high"})


def test_tsv_lines_and_paragraph_gaps() -> None:
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
    rows = [
        (1, 1, 1, 1, 100, 30, 90.0, "First"),
        (1, 1, 1, 2, 100, 30, 80.0, "line."),
        (1, 1, 2, 1, 140, 30, 70.0, "Second"),
        # Tesseract puts a paragraph's last line in a block of its own: no gap, no break
        (2, 1, 1, 1, 180, 30, 60.0, "continued"),
        (3, 1, 1, 1, 300, 30, -1.0, ""),
        (3, 1, 1, 1, 300, 30, 100.0, "After"),
    ]
    tsv = header + "".join(
        f"5\t1\t{b}\t{p}\t{ln}\t{w}\t0\t{top}\t10\t{h}\t{conf}\t{text}\n"
        for b, p, ln, w, top, h, conf, text in rows
    )
    text, confidence, words = read_tsv(tsv)
    assert text == "First line.\nSecond\ncontinued\n\nAfter"
    assert words == 5 and confidence == pytest.approx(80.0)
    assert read_tsv(header) == ("", 0.0, 0)


def test_settings_reach_ocr() -> None:
    settings = Settings(ocr=False, ocr_tesseract="/opt/t", ocr_page_seconds=5, ocr_max_pages=3)
    assert OcrSettings.from_settings(settings) == OcrSettings(
        enabled=False, tesseract="/opt/t", page_seconds=5, max_pages=3, dpi=300
    )


@needs_tesseract
def test_icons_and_pictures_without_text_are_skipped(tmp_path: Path) -> None:
    Image.new("RGB", (64, 64), "red").save(tmp_path / "logo.png")
    Image.new("L", (1200, 900), 255).save(tmp_path / "blank.jpg")
    for name, reason in (("logo.png", "too small"), ("blank.jpg", "OCR found no text")):
        (item,) = registry().parse(Source.from_path(tmp_path / name, ocr=FAST))
        assert isinstance(item, EmptyRecord) and reason in item.message


@needs_tools
@needs_tesseract
def test_a_page_scanned_upside_down_or_sideways_is_turned_upright(tmp_path: Path) -> None:
    (page,) = rasterise(text_pdf([ENGLISH], tmp_path / "text.pdf"), 200)
    turned = [page.rotate(180, expand=True), page.rotate(90, expand=True)]
    turned[0].save(tmp_path / "turned.tiff", save_all=True, append_images=turned[1:])
    doc = parse(tmp_path / "turned.tiff")
    first, second = doc.body.split("\n\n")[:2], doc.body.split("\n\n")[2:]
    assert similarity(" ".join(first), ENGLISH) > 0.95, doc.body
    assert similarity(" ".join(second), ENGLISH) > 0.95, doc.body


#: The benchmark's paragraphs (benchmarks/eval_ocr.py), written for it.
ARABIC_SCRIPT = {language: eval_ocr.WRITTEN[language] for language in ("ar", "fa", "ps")}
#: Letters only the right pack writes: Arabic ta marbuta and yeh; Persian kaf, yeh, gaf;
#: Pashto ddal, rreh, yeh, dze.
OWN_LETTERS = {"ar": "ةي", "fa": "کیگ", "ps": "ډړېځ"}


@needs_tools
@needs_tesseract
@pytest.mark.parametrize("language", ["ar", "fa", "ps"])
def test_arabic_script_pages_are_told_apart(language: str, tmp_path: Path) -> None:
    if not {"ara", "fas", "pus"} <= installed_languages(str(TESSERACT)):
        pytest.skip("tesseract-ocr-ara, -fas and -pus are not installed")
    text = ARABIC_SCRIPT[language]
    doc = parse(scanned_pdf([text], tmp_path / f"{language}.pdf", dpi=200))
    assert doc.language == language
    assert all(letter in doc.body for letter in OWN_LETTERS[language]), doc.body
    assert similarity(doc.body, text) > 0.95, doc.body


@needs_tools
@needs_tesseract
def test_a_scan_attached_to_a_message_is_read(scans: dict[str, Path], tmp_path: Path) -> None:
    from email.message import EmailMessage

    from sourcebook.ingest.email import EmailParser

    msg = EmailMessage()
    msg["From"] = "desk@example.org"
    msg["Subject"] = "Illustrative: the scanned notice"
    msg["Message-ID"] = "<scan-1@example.org>"
    msg.set_content("The notice is attached.\n")
    data = scans["english"].read_bytes()
    msg.add_attachment(data, maintype="application", subtype="pdf", filename="notice.pdf")
    path = tmp_path / "mail.eml"
    path.write_bytes(msg.as_bytes())
    items = list(
        ParserRegistry([EmailParser(), PdfParser(), ImageParser()]).parse(
            Source.from_path(path, ocr=FAST)
        )
    )
    docs = [item for item in items if isinstance(item, Document)]
    assert len(docs) == 2, items
    assert docs[0].ocr_confidence is None
    assert docs[1].ocr_confidence is not None and similarity(docs[1].body, ENGLISH) > 0.95


@pytest.mark.skipif(shutil.which("timeout") is None, reason="coreutils' timeout is missing")
def test_a_killed_parser_leaves_no_ocr_process_running(tmp_path: Path) -> None:
    """The archive kills a parser worker that takes too long; its Tesseract must not outlive
    the page limit (SIGKILL gives the worker no chance to stop it)."""
    marker = tmp_path / "pid"
    src = Path(__file__).resolve().parents[2] / "src"
    script = (
        f"import sys; sys.path.insert(0, {str(src)!r})\n"
        "from sourcebook.ingest.ocr import _run\n"
        f"_run(['sh', '-c', 'echo $$ > {marker}; exec sleep 60'], 1.0, 'a page')\n"
    )
    worker = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 20
    while not (marker.is_file() and marker.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.kill()
    worker.wait()
    child = Path(f"/proc/{int(marker.read_text())}")
    deadline = time.monotonic() + 10
    while child.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not child.exists(), "the OCR process outlived its parser and its time limit"
