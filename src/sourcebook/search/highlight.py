"""Best passages and highlighted terms for a hit, with exact character offsets.

Tantivy ranks documents; choosing which paragraphs to show is done here, on the stored passages,
so every passage and highlight carries offsets into the document body that a user can quote and
link to. A passage scores by how many distinct query terms it holds (then how often they occur);
passages are analysed with the document's own language analyzer, so a stemmed match ("borders"
for "border") is highlighted exactly where it stands in the text. Words are found with a regular
expression equivalent to Tantivy's simple tokenizer and stemmed through a cache, which is several
times faster than asking Tantivy to tokenise every passage.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache

from sourcebook.index.analyzers import analyze, analyzer_language
from sourcebook.model import Document, Highlight, PassageHit
from sourcebook.search.compile import stem_truncations, wildcard_regex
from sourcebook.search.query import And, Node, Not, Or, Phrase, Prefix, Term, Wildcard

_HIGHLIGHT_FIELDS = {None, "title", "body"}


#: Stemmers that also cut prefixes or change letters inside words (so a stem is no prefix).
_NOT_PREFIX_STEMMING = {"ar", "tr", "el"}
#: Words as Tantivy's simple tokenizer sees them: runs of letters and digits.
_WORD = re.compile(r"[^\W_]+")


@lru_cache(maxsize=262_144)
def _stem(lang: str, word: str) -> str:
    """The index term of one word (cached: the same words recur across hits and queries)."""
    tokens = analyze(lang, word)
    return tokens[0] if tokens else ""


@dataclass
class TermPatterns:
    """The positive text terms of a query: words, prefixes and wildcard patterns."""

    words: list[str] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    wildcards: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.words or self.prefixes or self.wildcards)


def positive_terms(node: Node, out: TermPatterns | None = None) -> TermPatterns:
    """Collect the text terms a hit is expected to contain (terms under NOT are left out)."""
    out = out if out is not None else TermPatterns()
    if isinstance(node, And | Or):
        for item in node.items:
            positive_terms(item, out)
    elif isinstance(node, Not):
        pass
    elif isinstance(node, Term | Phrase) and node.field in _HIGHLIGHT_FIELDS:
        out.words.append(node.text)
    elif isinstance(node, Prefix) and node.field in _HIGHLIGHT_FIELDS:
        out.prefixes.append(node.text)
    elif isinstance(node, Wildcard) and node.field in _HIGHLIGHT_FIELDS:
        out.wildcards.append(node.pattern)
    return out


@dataclass
class _Matcher:
    stems: dict[str, int]  # stem -> index of the query term it comes from
    prefixes: list[tuple[tuple[str, ...], int]]
    patterns: list[tuple[re.Pattern[str], int]]
    n_terms: int

    def term_of(self, token: str) -> int | None:
        found = self.stems.get(token)
        if found is not None:
            return found
        for options, idx in self.prefixes:
            if token.startswith(options):
                return idx
        for pattern, idx in self.patterns:
            if pattern.fullmatch(token):
                return idx
        return None


def _matcher(terms: TermPatterns, lang: str) -> _Matcher:
    stems: dict[str, int] = {}
    idx = 0
    for word in terms.words:
        tokens = analyze(lang, word)
        for token in tokens:
            stems.setdefault(token, idx)
        if tokens:
            idx += 1
    prefixes = []
    for prefix in terms.prefixes:
        options = {*analyze("xx", prefix), *analyze(lang, prefix)}
        if options:
            prefixes.append((tuple(sorted(options)), idx))
            raw = analyze("xx", prefix)
            if len(raw) == 1:
                for term in stem_truncations(lang, raw[0]):
                    stems.setdefault(term, idx)
            idx += 1
    patterns = []
    for wildcard in terms.wildcards:
        patterns.append((re.compile(wildcard_regex(wildcard, stemmed=lang != "xx")), idx))
        idx += 1
    return _Matcher(stems, prefixes, patterns, idx)


def best_passages(
    doc: Document, terms: TermPatterns, limit: int = 3, default_language: str = ""
) -> list[PassageHit]:
    """Up to ``limit`` passages of ``doc`` that best match ``terms``, best first.

    When no passage holds a query term (a match on the title or on metadata only), the first
    passage is shown without highlights, so every hit can still be quoted.
    """
    if limit <= 0 or not doc.passages:
        return []
    lang = analyzer_language(doc.language, default_language)
    scored: list[PassageHit] = []
    if terms:
        matcher = _matcher(terms, lang)
        needles = _needles(matcher) if lang not in _NOT_PREFIX_STEMMING else None
        for passage in doc.passages:
            text = passage.text
            highlights: list[Highlight] = []
            counts: dict[int, int] = {}
            # Only words that start like a query stem need stemming; they are found in the
            # folded text when folding keeps every offset, else every word is checked.
            folded = _folded(text, lang) if needles is not None else None
            words = (
                _candidates(text, folded, needles)
                if folded is not None and needles is not None
                else _WORD.finditer(text)
            )
            for match in words:
                term = matcher.term_of(_stem(lang, match.group()))
                if term is not None:
                    counts[term] = counts.get(term, 0) + 1
                    highlights.append(Highlight(match.start(), match.end()))
            if counts:
                score = len(counts) + math.log1p(sum(counts.values())) / 10
                scored.append(
                    PassageHit(
                        seq=passage.seq,
                        start=passage.start,
                        end=passage.end,
                        text=passage.text,
                        highlights=_merge(highlights, passage.text),
                        score=round(score, 4),
                    )
                )
    if not scored:
        first = doc.passages[0]
        return [PassageHit(seq=first.seq, start=first.start, end=first.end, text=first.text)]
    scored.sort(key=lambda p: (-p.score, p.seq))
    return scored[:limit]


def _needles(matcher: _Matcher) -> list[str] | None:
    """Lower-case strings every matching word starts with.

    A Snowball stem is a prefix of its (folded, lower-cased) word but for its last letter:
    "use" for "using", "live" for "living", "happi" for "happy", "brief" for "brieven". So a
    word whose stem is ``s``, or starts with a prefix ``s``, starts with ``s[:-1]``.
    """
    if matcher.patterns:
        return None
    needles = {s[:-1] if len(s) > 1 else s for s in matcher.stems}
    needles.update(o[:-1] if len(o) > 1 else o for options, _ in matcher.prefixes for o in options)
    needles.discard("")
    return sorted(needles) if needles else None


#: Letters that Tantivy's ASCII folding turns into one letter though Unicode does not decompose
#: them; ё is folded only for Russian, whose stemmer (not the folding) writes it е.
_EXTRA_FOLDS = {"ø": "o", "ł": "l", "đ": "d", "ħ": "h", "ı": "i", "ŧ": "t", "ŀ": "l"}
#: A letter or digit that folding might change (not ASCII, not Cyrillic but ё): its words could
#: be missed by the needles, so such a text is checked word by word.
_UNSAFE = re.compile(r"(?![\x00-\x7f\u0400-\u0450\u0452-\u04ff])[^\W_]")


@cache
def _fold_table(lang: str) -> dict[int, str]:
    """One-letter ASCII folds of lower-case Latin letters, as the analyzer applies them
    (é -> e); applied to lower-cased text only."""
    table: dict[int, str] = {}
    # Latin-1 Supplement, Latin Extended-A and -B, IPA; Latin Extended Additional (Vietnamese)
    for code in (*range(0x80, 0x2B0), *range(0x1E00, 0x1F00)):
        char = chr(code)
        if char != char.lower():
            continue
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        if len(base) == 1 and base.isascii() and base.isalpha():
            table[code] = base
    table.update({ord(char): fold for char, fold in _EXTRA_FOLDS.items()})
    if lang == "ru":
        table[ord("ё")] = "е"
    return table


def _folded(text: str, lang: str) -> str | None:
    """``text`` lower-cased and folded letter for letter, or None when that would move an
    offset or miss a fold (ß -> ss, æ -> ae, Greek, Arabic...): then every word is checked."""
    lowered = text.lower()
    if len(lowered) != len(text):  # "İ" lower-cases to two characters
        return None
    if lowered.isascii() or _UNSAFE.search(lowered) is None:
        return lowered  # non-ASCII punctuation (“ ” — «) and Cyrillic need no folding
    folded = lowered.translate(_fold_table(lang))
    if len(folded) != len(text) or _UNSAFE.search(folded) is not None:
        return None
    return folded


def _candidates(text: str, lowered: str, needles: list[str]) -> list[re.Match[str]]:
    """The words of ``text`` whose folded form (``lowered``) starts with a needle, in order.

    ``str.find`` over the folded text is several times faster than a regular expression scan,
    and only the few candidate words are then stemmed.
    """
    found: dict[int, re.Match[str]] = {}
    for needle in needles:
        i = lowered.find(needle)
        while i >= 0:
            if (i == 0 or not lowered[i - 1].isalnum()) and i not in found:
                match = _WORD.match(text, i)
                if match is not None:
                    found[i] = match
            i = lowered.find(needle, i + 1)
    return [found[k] for k in sorted(found)]


def _merge(highlights: list[Highlight], text: str) -> list[Highlight]:
    """Join adjacent highlights separated only by spaces or hyphens (one mark per phrase)."""
    merged: list[Highlight] = []
    for h in highlights:
        if (
            merged
            and text[merged[-1].end : h.start].strip(" -") == ""
            and h.start - merged[-1].end <= 2
        ):
            merged[-1] = Highlight(merged[-1].start, h.end)
        else:
            merged.append(h)
    return merged


# --- showing passages: the web page and the command line cut snippets the same way ---------

#: A hit's passage longer than this is shown as a window around its first match.
SNIPPET_CHARS = 480
_SNIPPET_LEAD = 120

#: A piece of a passage and whether it is a match.
Segment = tuple[str, bool]


def highlight_segments(text: str, spans: Iterable[tuple[int, int]]) -> list[Segment]:
    """``text`` cut into ``(piece, is_match)`` at the highlight spans (offsets into ``text``).

    Overlapping or out-of-range spans are clipped, so any offsets give a well-formed result.
    """
    segments: list[Segment] = []
    pos = 0
    for start, end in sorted(spans):
        start, end = max(start, pos), min(end, len(text))
        if start >= end:
            continue
        if start > pos:
            segments.append((text[pos:start], False))
        segments.append((text[start:end], True))
        pos = end
    if pos < len(text):
        segments.append((text[pos:], False))
    return segments


def snippet_segments(
    text: str, spans: Iterable[tuple[int, int]], limit: int = SNIPPET_CHARS
) -> list[Segment]:
    """Like :func:`highlight_segments`, but a long passage is cut to a window of about
    ``limit`` characters around its first match, at word boundaries, with ``…`` marking cuts."""
    ordered = sorted(spans)
    if len(text) <= limit:
        return highlight_segments(text, ordered)
    first = ordered[0][0] if ordered else 0
    lead = min(_SNIPPET_LEAD, limit // 4)
    start = max(0, min(first - lead, len(text) - limit))
    if start > 0:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(text), start + limit)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start + limit // 2 else end
    window = [(s - start, e - start) for s, e in ordered if e > start and s < end]
    segments = highlight_segments(text[start:end], window)
    if start > 0:
        segments.insert(0, ("…", False))
    if end < len(text):
        segments.append(("…", False))
    return segments
