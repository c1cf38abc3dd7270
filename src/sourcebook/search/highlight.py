"""Best passages and highlighted terms for a hit, with exact character offsets.

Tantivy ranks documents; choosing which paragraphs to show is done here, on the stored passages,
so every passage and highlight carries offsets into the document body that a user can quote and
link to. A passage scores by how many distinct query terms it holds (then how often they occur);
passages are analysed with the document's own language analyzer, so a stemmed match ("borders"
for "border") is highlighted exactly where it stands in the text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sourcebook.index.analyzers import analyze, analyzer_language, build_analyzer
from sourcebook.model import Document, Highlight, PassageHit
from sourcebook.search.compile import MIN_STEM_CHARS, STEM_SLACK, _wildcard_regex
from sourcebook.search.query import And, Node, Not, Or, Phrase, Prefix, Term, Wildcard

_HIGHLIGHT_FIELDS = {None, "title", "body"}


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
            if lang != "xx" and len(raw) == 1:
                # whole-term truncations, as in search.compile._prefix_regex
                for cut in range(1, STEM_SLACK + 1):
                    if len(raw[0]) - cut >= MIN_STEM_CHARS:
                        stems.setdefault(raw[0][:-cut], idx)
            idx += 1
    patterns = []
    for wildcard in terms.wildcards:
        patterns.append((re.compile(_wildcard_regex(wildcard, stemmed=lang != "xx")), idx))
        idx += 1
    return _Matcher(stems, prefixes, patterns, idx)


def best_passages(doc: Document, terms: TermPatterns, limit: int = 3) -> list[PassageHit]:
    """Up to ``limit`` passages of ``doc`` that best match ``terms``, best first.

    When no passage holds a query term (a match on the title or on metadata only), the first
    passage is shown without highlights, so every hit can still be quoted.
    """
    if limit <= 0 or not doc.passages:
        return []
    lang = analyzer_language(doc.language)
    scored: list[PassageHit] = []
    if terms:
        matcher = _matcher(terms, lang)
        analyzer = build_analyzer(lang)
        cheap_check = lang not in {"ar", "tr", "el"} and not matcher.patterns
        needles = _needles(matcher) if cheap_check else []
        for passage in doc.passages:
            if cheap_check and not _mentions_any(passage.text, needles):
                continue
            highlights: list[Highlight] = []
            counts: dict[int, int] = {}
            for token in analyzer.pre_tokenize(passage.text).tokens:
                term = matcher.term_of(token.text)
                if term is not None:
                    counts[term] = counts.get(term, 0) + 1
                    highlights.append(Highlight(token.char_offset_from, token.char_offset_to))
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


def _needles(matcher: _Matcher) -> list[str]:
    # A stem is (nearly always) a prefix of the folded word form, so a passage that lacks every
    # stem as a substring cannot match: skip tokenising it.
    needles = [s[:-1] if len(s) > 3 else s for s in matcher.stems]
    needles.extend(opt for options, _ in matcher.prefixes for opt in options)
    return needles


def _mentions_any(text: str, needles: Iterable[str]) -> bool:
    lowered = text.lower()
    if not lowered.isascii():
        # accent folding in the analyzer means "etat" must find "État": fall back to tokenising
        return True
    return any(n in lowered for n in needles)


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
