"""OCR: text from page images with Tesseract, each word with its confidence.

Tesseract runs as a subprocess (``tesseract IMAGE stdout -l LANGS tsv``), one call per page,
each with a time limit (``SOURCEBOOK_OCR_PAGE_SECONDS``), so a stuck page is killed and never
outlives the parse. We call the binary directly rather than through pytesseract: pytesseract
keeps the binary's path in a module global, and its TSV parsing is the few lines below.
``OMP_THREAD_LIMIT=1`` keeps one Tesseract to one core; parallelism is the ingest's business.

Language, per document:

1. a hint from the source's metadata (a PDF's ``/Lang``) names the pack of every page;
2. else each page's script comes from Tesseract's orientation-and-script detection
   (``--psm 0``, pack ``osd``, which also finds pages scanned sideways or upside down: they are
   turned upright). The first page of a script is read with a first pack (``eng`` for Latin,
   ``rus`` for Cyrillic, ``fas`` for Arabic script); when the language model's first answer on
   that reading names another installed pack (French, Arabic, Pashto...), the page is read
   again with it, and the second reading is kept when our detector
   (:mod:`sourcebook.enrich.language`) is sure it is in that language, or Tesseract is surer of
   its words. The language found holds for the following pages of that script.

Only installed packs are used (``tesseract --list-langs``). The text keeps Tesseract's lines,
with a blank line where the gap between lines is clearly wider than usual (Tesseract's own
block and paragraph numbers often split a paragraph before its last line; the PDF parser
rebuilds paragraphs from line lengths); the confidence is the mean of the words' confidences
(0-100), over the words Tesseract read.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import logging
import os
import shutil
import statistics
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sourcebook.errors import ParseError

if TYPE_CHECKING:
    from sourcebook.config import Settings

log = logging.getLogger(__name__)

#: Called after each page is rendered or read: the parse worker (``ingest/sandbox.py``) tells
#: the archive, which restarts the file's clock, so a long scan is bounded page by page
#: (``SOURCEBOOK_PARSE_SECONDS`` without a page done, ``SOURCEBOOK_OCR_MAX_PAGES`` pages), not
#: as a whole. None: nobody listens (parsing in the archive's own process).
_page_done: Callable[[], None] | None = None


def on_page_done(hook: Callable[[], None] | None) -> None:
    """Set the function called after each page (the parse worker's progress message)."""
    global _page_done
    _page_done = hook


def _progress() -> None:
    if _page_done is not None:
        _page_done()


__all__ = [
    "OcrDocument",
    "OcrPage",
    "OcrSettings",
    "OcrTimeout",
    "OcrUnavailable",
    "installed_languages",
    "ocr_images",
    "tesseract_language",
]

#: ISO 639-1 -> Tesseract traineddata name, for the languages of a COI archive.
TESSERACT_LANGUAGES: dict[str, str] = {
    "en": "eng",
    "fr": "fra",
    "ru": "rus",
    "ar": "ara",
    "fa": "fas",
    "prs": "fas",  # Dari is written as Persian
    "ps": "pus",
    "es": "spa",
    "tr": "tur",
    "de": "deu",
    "it": "ita",
    "pt": "por",
    "uk": "ukr",
    "ur": "urd",
    "zh": "chi_sim",
    "am": "amh",
    "ti": "tir",
    "so": "som",
    "ku": "kmr",
    "tg": "tgk",
    "uz": "uzb",
    "ky": "kir",
    "kk": "kaz",
    "hy": "hye",
    "ka": "kat",
    "az": "aze",
    "sq": "sqi",
    "sr": "srp",
    "bn": "ben",
    "ta": "tam",
    "my": "mya",
    "ne": "nep",
    "ha": "hau",
    "sw": "swa",
}
#: The script Tesseract's OSD reports -> the pack of the first pass.
#: Arabic script is read first with the Persian pack: it writes the letters of Arabic, Persian
#: and Pashto apart (the Arabic pack writes ی as ى and ک as ك, so every Persian page would
#: look Arabic to the detector), and each language's own pack then reads the page again.
SCRIPT_FIRST_PASS: dict[str, str] = {"Latin": "eng", "Cyrillic": "rus", "Arabic": "fas"}
#: OSD's orientation confidence from which a turned page is turned upright (upright and turned
#: pages of our test scans score 9-14; a page with a few words scores under 1).
MIN_ORIENTATION_CONFIDENCE = 2.0

INSTALL_HINT = (
    "install Tesseract (Debian: apt-get install tesseract-ocr tesseract-ocr-eng "
    "tesseract-ocr-osd poppler-utils, plus tesseract-ocr-LANG for other languages) "
    "or set SOURCEBOOK_OCR_TESSERACT to its path"
)


class OcrUnavailable(ParseError):
    """OCR is needed but turned off, or Tesseract (or pdftoppm) is not installed."""


class OcrTimeout(ParseError):
    """A page took longer than its time limit to render or read."""


@dataclass(frozen=True)
class OcrSettings:
    """What OCR may do: passed down from :class:`~sourcebook.config.Settings`."""

    enabled: bool = True
    tesseract: str = "tesseract"
    page_seconds: float = 60.0
    max_pages: int = 100
    dpi: int = 300

    @classmethod
    def from_settings(cls, settings: Settings) -> OcrSettings:
        return cls(
            enabled=settings.ocr,
            tesseract=settings.ocr_tesseract,
            page_seconds=settings.ocr_page_seconds,
            max_pages=settings.ocr_max_pages,
            dpi=settings.ocr_dpi,
        )

    def binary(self) -> str:
        """The Tesseract executable, or raise :class:`OcrUnavailable` saying what to do."""
        if not self.enabled:
            raise OcrUnavailable("OCR is turned off (SOURCEBOOK_OCR=false)")
        found = shutil.which(self.tesseract)
        if found is None:
            raise OcrUnavailable(f"Tesseract was not found ({self.tesseract!r}): {INSTALL_HINT}")
        return found


@dataclass
class OcrPage:
    """One page read by OCR."""

    text: str
    #: Mean word confidence, 0-100 (0 when no word was read).
    confidence: float
    words: int
    language: str  # the Tesseract pack(s) used, "eng" or "fra"


@dataclass
class OcrDocument:
    """The pages of one document read by OCR, in order."""

    pages: list[OcrPage] = field(default_factory=list)
    #: ISO 639-1 language chosen for the document ("" when unknown).
    language: str = ""

    @property
    def confidence(self) -> float | None:
        """Mean confidence of every word read, 0-100; None when no word was read."""
        words = sum(p.words for p in self.pages)
        if not words:
            return None
        return sum(p.confidence * p.words for p in self.pages) / words


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_THREAD_LIMIT": "1"}


@functools.lru_cache(maxsize=8)
def installed_languages(binary: str) -> frozenset[str]:
    """The traineddata packs Tesseract at ``binary`` has (``tesseract --list-langs``)."""
    try:
        done = subprocess.run(
            [binary, "--list-langs"], capture_output=True, text=True, timeout=30, env=_env()
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OcrUnavailable(f"Tesseract at {binary} does not run: {exc}") from exc
    lines = (done.stdout + done.stderr).splitlines()
    return frozenset(line.strip() for line in lines[1:] if line.strip() and " " not in line)


def tesseract_language(code: str, installed: frozenset[str]) -> str:
    """The installed Tesseract pack for ISO 639-1 ``code``, or "" when there is none."""
    pack = TESSERACT_LANGUAGES.get(code.lower().split("-")[0], "")
    return pack if pack in installed else ""


def _run(args: Sequence[str], seconds: float, what: str) -> str:
    """Run a command for its output, within ``seconds`` (0: no limit).

    The command runs under coreutils' ``timeout`` when there is one, so it is killed on time
    even when our own process is killed first (the parser worker, stopped by the archive past
    SOURCEBOOK_PARSE_SECONDS, would otherwise leave a Tesseract running).
    """
    command = list(args)
    wrapper = shutil.which("timeout") if seconds > 0 else None
    if wrapper is not None:
        command = [wrapper, "-k", "5", f"{seconds:g}", *command]
    timed_out = OcrTimeout(
        f"{what} took longer than {seconds:g} s (setting SOURCEBOOK_OCR_PAGE_SECONDS)"
    )
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            timeout=seconds + 10 if seconds > 0 else None,  # a backstop
            env=_env(),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise timed_out from exc
    except OSError as exc:
        raise OcrUnavailable(f"{what}: {args[0]} does not run: {exc}") from exc
    if wrapper is not None and done.returncode in (124, 137):  # timeout's "timed out", "killed"
        raise timed_out
    if done.returncode == 127 and wrapper is not None:  # timeout could not run the command
        raise OcrUnavailable(f"{what}: {args[0]} does not run")
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ParseError(f"{what} failed: {message[-1] if message else done.returncode}")
    return done.stdout.decode("utf-8", "replace")


def _script(binary: str, image: Path, seconds: float, what: str) -> str:
    """The script OSD sees on the page ("Latin", "Cyrillic"...), or "" when it cannot tell.

    A page OSD finds turned (a scan fed sideways or upside down) is turned upright in place.
    """
    try:
        out = _run([binary, str(image), "stdout", "--psm", "0"], seconds, what)
    except (OcrUnavailable, OcrTimeout):
        raise
    except ParseError:  # too little text for OSD ("Too few characters")
        return ""
    found = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    try:
        rotate = int(found.get("Rotate", "0"))
        sure = float(found.get("Orientation confidence", "0"))
    except ValueError:
        rotate, sure = 0, 0.0
    if rotate in (90, 180, 270) and sure >= MIN_ORIENTATION_CONFIDENCE:
        from PIL import Image

        log.info("%s: the page is turned; rotated by %d degrees", what, rotate)
        with Image.open(image) as page:
            upright = page.rotate(-rotate, expand=True, fillcolor=255)
        upright.save(image)
    return found.get("Script", "").strip()


@dataclass
class _Line:
    top: int
    bottom: int
    words: list[str] = field(default_factory=list)


def read_tsv(tsv: str) -> tuple[str, float, int]:
    """(text, mean word confidence, words) from Tesseract's TSV output.

    Lines are Tesseract's; a blank line is put where the vertical gap between two lines is
    clearly wider than the page's usual line gap (Tesseract's own block and paragraph numbers
    often cut a paragraph before its last line).
    """
    lines: dict[tuple[str, ...], _Line] = {}
    confidences: list[float] = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        if row.get("level") != "5":
            continue
        text = (row.get("text") or "").strip()
        try:
            conf = float(row.get("conf") or -1)
            top, height = int(row["top"]), int(row["height"])
        except (ValueError, KeyError, TypeError):
            continue
        if not text or conf < 0:
            continue
        key = (row["page_num"], row["block_num"], row["par_num"], row["line_num"])
        line = lines.setdefault(key, _Line(top, top + height))
        line.top, line.bottom = min(line.top, top), max(line.bottom, top + height)
        line.words.append(text)
        confidences.append(conf)
    boxes = [(line.top, line.bottom, " ".join(line.words)) for line in lines.values()]
    gaps = [b[0] - a[1] for a, b in itertools.pairwise(boxes)]
    heights = sorted(bottom - top for top, bottom, _ in boxes)
    usual_gap = statistics.median([g for g in gaps if g >= 0] or [0])
    usual_height = heights[len(heights) // 2] if heights else 0
    out: list[str] = []
    for index, (_, _, text) in enumerate(boxes):
        if index and gaps[index - 1] > max(1.6 * usual_gap, 0.8 * usual_height):
            out.append("")
        out.append(text)
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return "\n".join(out), mean, len(confidences)


def _read(binary: str, image: Path, pack: str, seconds: float, what: str) -> OcrPage:
    tsv = _run([binary, str(image), "stdout", "-l", pack, "--psm", "3", "tsv"], seconds, what)
    text, confidence, words = read_tsv(tsv)
    return OcrPage(text=text, confidence=confidence, words=words, language=pack)


def _language_of(text: str) -> str:
    from sourcebook.enrich.language import detect_language

    return detect_language(text)


#: The pack of the second reading follows the language model's first answer on the first
#: reading when that answer is at least this likely, however weak its lead: a page read with
#: the wrong pack has lost the letters that tell its language best (Turkish read with the
#: English pack: "gözaltına" -> "gdzaltina"; Pashto read with the Persian pack reads as Pashto
#: 0.28, Persian 0.21), so our own detector, which wants a sure answer, often has none, or names
#: a neighbour (the Pashto page is "Arabic" to it).
PACK_MIN_SCORE = 0.1


def _first_answer(text: str) -> str:
    """The language model's first answer on ``text`` ("" below PACK_MIN_SCORE or too short)."""
    from sourcebook.enrich.language import _detector

    sample = " ".join(text.split())[:2000]
    if len(sample) < 40:
        return ""
    try:
        answers = _detector()(sample, model="lite", k=1)
    except Exception as exc:  # detection must never stop a parse
        log.warning("language detection failed: %s", exc)
        return ""
    if not isinstance(answers, list) or not answers:
        return ""
    if float(answers[0].get("score", 0.0)) < PACK_MIN_SCORE:
        return ""
    return str(answers[0].get("lang", "")).split("-")[0].lower()


def ocr_images(
    images: Sequence[Path],
    settings: OcrSettings,
    language_hint: str = "",
    labels: Sequence[str] = (),
) -> OcrDocument:
    """Read page images in order.

    With a ``language_hint`` whose pack is installed, every page is read with it. Otherwise
    each page's script is detected, and the language is settled on the first page of each
    script that has text (a French report quoting a Russian decree on page 5 reads both).
    ``labels`` name the pages in messages ("page 3"); a page over the time limit raises
    :class:`ParseError`, as does Tesseract failing on a page.
    """
    binary = settings.binary()
    installed = installed_languages(binary)
    if not installed - {"osd"}:
        raise OcrUnavailable(f"Tesseract has no language packs: {INSTALL_HINT}")
    fallback = "eng" if "eng" in installed else sorted(installed - {"osd"})[0]
    hinted = tesseract_language(language_hint, installed) if language_hint else ""
    #: script -> (pack, ISO language) once settled
    settled: dict[str, tuple[str, str]] = {}
    words_by_language: dict[str, int] = {}
    result = OcrDocument()
    for number, image in enumerate(images):
        what = f"OCR of {labels[number] if number < len(labels) else f'page {number + 1}'}"
        if hinted:
            page = _read(binary, image, hinted, settings.page_seconds, what)
            result.pages.append(page)
            words_by_language[language_hint] = words_by_language.get(language_hint, 0) + page.words
            _progress()
            continue
        script = _script(binary, image, settings.page_seconds, what) if "osd" in installed else ""
        if script in settled:
            pack, language = settled[script]
            page = _read(binary, image, pack, settings.page_seconds, what)
        else:
            first = SCRIPT_FIRST_PASS.get(script, "")
            first = first if first in installed else fallback
            page = _read(binary, image, first, settings.page_seconds, what)
            language = _language_of(page.text)
            guess = _first_answer(page.text)
            pack = tesseract_language(guess, installed) if guess else ""
            if pack and pack != first:
                log.info("%s: read again as %s (first pass %s)", what, pack, first)
                again = _read(binary, image, pack, settings.page_seconds, what)
                again_language = _language_of(again.text)
                # kept when its text is surely in the guessed language, or Tesseract is surer
                if again_language == guess or again.confidence > page.confidence:
                    page, language = again, again_language or language
                else:
                    pack = first
            if language:
                settled[script] = (pack or first, language)
        result.pages.append(page)
        if language:
            words_by_language[language] = words_by_language.get(language, 0) + page.words
        _progress()
    if words_by_language:
        result.language = max(words_by_language, key=lambda k: words_by_language[k])
    return result


def render_pdf_pages(
    pdf: Path, pages: Sequence[int], folder: Path, settings: OcrSettings
) -> list[Path]:
    """Render 1-based ``pages`` of ``pdf`` to greyscale PNGs in ``folder`` with pdftoppm."""
    binary = shutil.which("pdftoppm")
    if binary is None:
        raise OcrUnavailable(
            "pdftoppm was not found: install poppler-utils (Debian: apt-get install poppler-utils)"
        )
    out: list[Path] = []
    for page in pages:
        root = folder / f"page-{page:05d}"
        pick = ["-f", str(page), "-l", str(page), "-r", str(settings.dpi)]
        _run(
            [binary, *pick, "-gray", "-png", "-singlefile", str(pdf), str(root)],
            settings.page_seconds,
            f"rendering page {page}",
        )
        out.append(root.with_suffix(".png"))
        _progress()
    return out
