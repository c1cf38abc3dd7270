"""OCR character accuracy on scans made here from known text, and its gate.

    python benchmarks/eval_ocr.py [--shared ../shared/data] [--gate] [--update]

For each language, one page of known text is typeset (fpdf2, DejaVu Sans 11 pt), rasterised by
pdftoppm at 300 and 150 dpi, made noisy (a slight rotation and blur, salt-and-pepper specks;
:mod:`_scans`) or left clean, saved as a PDF of images only, and read back through the real
PDF parser (``parse_pdf_file``: render, script detection, OCR, language choice, paragraph
rebuilding). Character accuracy is ``1 - edit distance / length`` of the known text, whitespace
collapsed (rapidfuzz's Levenshtein).

Texts: English from the State Department human rights reports, French and Russian from
Wikinews (``../shared/data``, read at run time, never committed); Spanish and Turkish paragraphs
written for this benchmark, below, and so are Arabic, Persian and Pashto (typeset right to left
with fpdf2's text shaping). Without ../shared the English, French and Russian pages are
the paragraphs below too (the figures then differ a little from the floors' run).

Figures: ``ocr <lang>_<dpi>_<clean|noisy> <accuracy>``, ``ocr mean``, and per page the language
the parser chose and its confidence. ``--gate`` fails (exit 1) when a figure in
``benchmarks/ocr_floors.json`` is not reached or a page's language is wrong; ``--update`` raises
the floors this run beat. About a minute on two idle cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from _scans import add_noise, image_pdf, missing_tools, rasterise, text_pdf
from sourcebook.ingest.ocr import OcrSettings
from sourcebook.ingest.pdf import parse_pdf_file
from sourcebook.ingest.registry import Source

_HERE = Path(__file__).resolve().parent
FLOORS = _HERE / "ocr_floors.json"
PAGE_CHARS = 1100
CONDITIONS: tuple[tuple[int, bool], ...] = ((300, False), (300, True), (150, True))

WRITTEN: dict[str, str] = {
    "en": (
        "Authorities detained at least forty people during the demonstrations in the capital, "
        "according to local monitors. Most were released within two days, but several students "
        "remained in custody without access to a lawyer.\n\n"
        "The ministry of interior stated that the arrests were made to protect public order. "
        "Independent journalists who covered the protests reported that their equipment was "
        "confiscated at checkpoints on the main road to the airport."
    ),
    "fr": (
        "Le tribunal administratif a rejeté mardi le recours de l'association, qui contestait "
        "l'expulsion de trois familles hébergées dans un gymnase depuis l'été dernier. Selon "
        "leur avocate, les enfants étaient scolarisés dans la commune.\n\n"
        "La préfecture a indiqué qu'une solution de relogement serait proposée avant la fin du "
        "mois, mais aucune date précise n'a été communiquée aux intéressés."
    ),
    "ru": (
        "Во вторник суд приговорил журналиста к трём годам лишения свободы по обвинению в "
        "распространении заведомо ложной информации. Защита заявила, что обжалует приговор.\n\n"
        "Правозащитники отмечают, что в течение последнего года число подобных дел выросло, а "
        "слушания всё чаще проходят в закрытом режиме без доступа представителей прессы."
    ),
    "es": (
        "Las autoridades migratorias anunciaron el lunes un nuevo procedimiento para las "
        "solicitudes de asilo presentadas en la frontera norte. Según el decreto, los "
        "solicitantes deberán registrarse en un plazo de diez días hábiles.\n\n"
        "Varias organizaciones de derechos humanos criticaron la medida y pidieron que se "
        "garantice el acceso a intérpretes y a asistencia jurídica gratuita."
    ),
    "tr": (
        "İçişleri Bakanlığı, sınır kapılarında uygulanan yeni kayıt sisteminin önümüzdeki ay "
        "yürürlüğe gireceğini açıkladı. Açıklamaya göre başvuru sahipleri kimlik belgelerini "
        "yanlarında bulundurmak zorunda olacak.\n\n"
        "Baroya bağlı avukatlar, gözaltına alınan kişilerin aileleriyle görüşme hakkının "
        "kısıtlandığını ve bazı dosyalarda çeviri desteği sağlanmadığını belirtti."
    ),
    # Arabic, Persian (Dari is written the same way) and Pashto: the same news, written here
    "ar": (
        "أعلنت وزارة الداخلية يوم الثلاثاء عن إجراءات جديدة لتسجيل طالبي اللجوء عند المعابر "
        "الحدودية. وقالت الوزارة إن على المتقدمين تقديم وثائق الهوية خلال عشرة أيام من وصولهم."
        "\n\nوانتقدت منظمات حقوق الإنسان هذه الإجراءات وطالبت بضمان حق الوصول إلى محام ومترجم."
    ),
    "fa": (
        "وزارت کشور روز سه‌شنبه اعلام کرد که گذرگاه‌های مرزی در ولایت شمالی پس از سه هفته "
        "دوباره باز می‌شوند. مسافران باید مدارک هویتی معتبر همراه داشته باشند و در ایست بازرسی "
        "ثبت نام کنند.\n\nگروه‌های حقوق بشر گزارش دادند که چند زندانی بدون اتهام آزاد شده‌اند."
    ),
    "ps": (
        "د کورنیو چارو وزارت د سه شنبې په ورځ اعلان وکړ چې په شمالي ولایت کې پولې تېرېدونکي "
        "لارې به له درې اونیو وروسته بیا پرانیستل شي. مسافرین باید د پېژندنې اسناد له ځانه "
        "سره ولري.\n\nد بشري حقونو ډلو راپور ورکړ چې څو بندیان پرته له تور څخه خوشې شوي دي."
    ),
}


def default_shared() -> Path:
    env = os.environ.get("SOURCEBOOK_SHARED")
    return Path(env) / "data" if env else _HERE.parent.parent / "shared" / "data"


def _clean(text: str) -> str:
    return " ".join(text.replace("\u00ad", "").split())


def _page_of(paragraphs: list[str]) -> str:
    """Whole paragraphs (80+ characters) until about PAGE_CHARS characters."""
    out: list[str] = []
    total = 0
    for paragraph in paragraphs:
        paragraph = _clean(paragraph)
        if len(paragraph) < 80 or paragraph.startswith(("#", "Source PDF:", "Editions")):
            continue
        if total + len(paragraph) > PAGE_CHARS and out:
            break
        out.append(paragraph[: PAGE_CHARS + 200])
        total += len(out[-1])
    return "\n\n".join(out)


def shared_texts(data: Path) -> dict[str, str]:
    """A page of real text per language found in ``data`` (pinned files, first paragraphs)."""
    out: dict[str, str] = {}
    report = data / "us-state-dept-hrr" / "reports" / "eritrea.md"
    if report.is_file():
        text = report.read_text(encoding="utf-8")
        start = text.find("### Executive Summary")
        out["en"] = _page_of(text[max(start, 0) :].split("\n\n"))
    for lang, name in (("fr", "fr/docs/43971.txt"), ("ru", "ru/docs/dev/119336_text.txt")):
        path = data / "wikinews-fr-ru" / name
        if path.is_file():
            lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            out[lang] = _page_of(lines[2:])  # the title twice, then the paragraphs
    return out


def accuracy(got: str, want: str) -> float:
    got, want = _clean(got), _clean(want)
    return max(0.0, 1 - Levenshtein.distance(got, want) / len(want))


@dataclass
class PageResult:
    key: str
    language: str
    accuracy: float
    confidence: float
    chosen: str
    seconds: float


def run(texts: dict[str, str], folder: Path) -> list[PageResult]:
    results: list[PageResult] = []
    for lang, text in texts.items():
        source_pdf = text_pdf([text], folder / f"{lang}.pdf", size=11)
        for dpi, noisy in CONDITIONS:
            images = rasterise(source_pdf, dpi)
            if noisy:
                images = [add_noise(image, seed=dpi) for image in images]
            key = f"{lang}_{dpi}_{'noisy' if noisy else 'clean'}"
            scan = image_pdf(images, folder / f"{key}.pdf", dpi)
            started = time.perf_counter()
            doc = parse_pdf_file(Source.from_path(scan, ocr=OcrSettings(dpi=dpi)))
            results.append(
                PageResult(
                    key=key,
                    language=lang,
                    accuracy=accuracy(doc.body, text),
                    confidence=doc.ocr_confidence or 0.0,
                    chosen=doc.language,
                    seconds=time.perf_counter() - started,
                )
            )
    return results


def figures(results: list[PageResult]) -> dict[str, float]:
    out = {r.key: r.accuracy for r in results}
    out["mean"] = sum(r.accuracy for r in results) / len(results)
    out["language_accuracy"] = sum(r.chosen == r.language for r in results) / len(results)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--shared", type=Path, default=default_shared(), help="../shared/data")
    ap.add_argument("--gate", action="store_true", help="fail below benchmarks/ocr_floors.json")
    ap.add_argument("--update", action="store_true", help="raise the floors this run beat")
    args = ap.parse_args(argv)
    missing = missing_tools()
    if missing:
        print(f"ocr skipped: {missing} missing")
        return 1 if args.gate else 0
    from quality_gate import check, raised

    texts = dict(WRITTEN)
    texts.update(shared_texts(args.shared))
    with tempfile.TemporaryDirectory(prefix="sourcebook-eval-ocr-") as folder:
        started = time.perf_counter()
        results = run(texts, Path(folder))
        elapsed = time.perf_counter() - started
    floors: dict[str, dict[str, float]] = json.loads(FLOORS.read_text()) if FLOORS.is_file() else {}
    print(f"{'page':<16} {'accuracy':>8} {'floor':>6} {'conf':>5} {'lang':>4} {'seconds':>7}")
    for r in results:
        floor = floors.get("ocr", {}).get(r.key)
        shown = f"{floor:.3f}" if floor is not None else "-"
        print(
            f"{r.key:<16} {r.accuracy:>8.4f} {shown:>6} {r.confidence:>5.1f} "
            f"{r.chosen or '?':>4} {r.seconds:>7.1f}"
        )
    scores = figures(results)
    for key, value in scores.items():
        print(f"ocr {key} {value:.4f}")
    print(f"ocr pages {len(results)} in {elapsed:.0f} s")
    failures = check({"ocr": scores}, floors)
    if args.update:
        FLOORS.write_text(
            json.dumps(raised({"ocr": scores}, floors), indent=2, sort_keys=True) + "\n"
        )
    if args.gate and failures:
        for failure in failures:
            print(f"FAIL {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
