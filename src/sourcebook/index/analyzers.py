"""Language-aware text analysis: one Tantivy analyzer per stemming language.

Each document's title and body go into the fields of its own language (``body_en``,
``body_fr``...), analysed with that language's Snowball stemmer; text in a language Tantivy cannot
stem goes to the ``xx`` fields (lower-cased and accent-folded, no stemming). A query is analysed
once per language present in the archive, so "frontières" finds "frontière" in French documents
while English documents are matched with the English stemmer. Accents are folded before
stemming, so a query typed without accents ("securite") meets the same stem as "sécurité".
Stop words are kept in the index (phrases like "Radio Free Europe/Radio Liberty" must match
exactly) and dropped at query time in plain-text mode.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

import tantivy

#: ISO 639-1 code -> Snowball stemmer name, for the languages we index with stemming.
STEMMERS: dict[str, str] = {
    "en": "english",
    "fr": "french",
    "ru": "russian",
    "es": "spanish",
    "ar": "arabic",
    "de": "german",
    "it": "italian",
    "pt": "portuguese",
    "nl": "dutch",
    "tr": "turkish",
    "sv": "swedish",
    "el": "greek",
}
#: The analyzer for every other (or unknown) language.
FALLBACK = "xx"
LANGUAGES: tuple[str, ...] = (*STEMMERS, FALLBACK)
MAX_TOKEN_CHARS = 40


def analyzer_language(language: str, default: str = "") -> str:
    """The analyzer key for a document language code.

    A document whose language is unknown ("") is analysed as ``default`` (the archive's main
    language, setting ``default_language``): short or technical records often defeat language
    detection, and indexing them unstemmed in a small field of their own skews BM25 (their
    terms get the inflated idf of a tiny field). An unsupported language gets "xx".
    """
    code = (language or default or "").lower()[:2]
    return code if code in STEMMERS else FALLBACK


def tokenizer_name(lang: str) -> str:
    return f"sb_{lang}"


@cache
def build_analyzer(lang: str) -> Any:
    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_TOKEN_CHARS))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
    )
    if lang in STEMMERS:
        builder = builder.filter(tantivy.Filter.stemmer(STEMMERS[lang]))
    return builder.build()


def register_analyzers(index: Any) -> None:
    for lang in LANGUAGES:
        index.register_tokenizer(tokenizer_name(lang), build_analyzer(lang))


@lru_cache(maxsize=65_536)
def analyze(lang: str, text: str) -> tuple[str, ...]:
    """The index terms of ``text`` under the analyzer of ``lang`` (cached: queries repeat)."""
    return tuple(build_analyzer(lang).analyze(text))
