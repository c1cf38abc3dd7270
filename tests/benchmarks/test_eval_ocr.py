"""The OCR benchmark's pieces: its measure, its texts and its floors (the run itself is the gate)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.append(str(BENCHMARKS))  # last: benchmarks/http.py must not shadow http

import eval_ocr  # noqa: E402


def test_accuracy_is_one_minus_edit_distance_over_length() -> None:
    assert eval_ocr.accuracy("the  cat\nsat", "the cat sat") == 1.0
    assert eval_ocr.accuracy("the cot sat", "the cat sat") == 1 - 1 / 11
    assert eval_ocr.accuracy("", "the cat sat") == 0.0
    assert eval_ocr.accuracy("x" * 50, "abc") == 0.0  # never below zero


def test_every_page_of_a_run_has_a_floor() -> None:
    floors = json.loads((BENCHMARKS / "ocr_floors.json").read_text())["ocr"]
    keys = {
        f"{lang}_{dpi}_{'noisy' if noisy else 'clean'}"
        for lang in eval_ocr.WRITTEN
        for dpi, noisy in eval_ocr.CONDITIONS
    }
    assert set(floors) == keys | {"mean", "language_accuracy"}
    assert all(0.9 <= value <= 1.0 for value in floors.values())


def test_shared_pages_are_whole_paragraphs_of_about_a_page(shared_data: Path) -> None:
    texts = eval_ocr.shared_texts(shared_data)
    assert set(texts) == {"en", "fr", "ru"}
    for text in texts.values():
        assert 500 <= len(text) <= eval_ocr.PAGE_CHARS + 200
        assert "\u00ad" not in text and "Source PDF" not in text
