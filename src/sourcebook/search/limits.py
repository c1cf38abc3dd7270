"""The cost model of a search query: limits checked on the parsed tree before Tantivy sees it.

Some short queries cost far more than their length suggests. The ones measured on the Reuters
archive (15,000 stories; ``benchmarks/query_fuzz.py``):

* **Repeated words in a sloppy phrase.** Tantivy's sloppy-phrase scorer tries the ways the
  copies of a word can be matched within the slop, and its memory doubles with each copy:
  ``"oil oil … oil"~100`` used 133 MB with 14 copies, 756 MB with 17 and more than 1.5 GB (the
  process aborted) with 18; ``"the the … the"~100`` needs only 10 copies to do the same, because
  "the" occurs many times in every story. The cost follows the number of *repeated* tokens of
  the phrase (its tokens minus its distinct tokens), whatever the words: four repeats ran in
  under 0.1 s and 52 MB, seven in 1.6 s. A phrase without slop is matched position by position
  and costs nothing extra.
* **Wildcards.** Each ``word*`` or ``w?rd`` walks the term dictionary of every text field in
  every language present and unites the postings of every term it matches; 180 prefixes took
  3.6 s and 430 MB. Tantivy runs a wildcard as an automaton over the term dictionary, not as a
  list of term clauses, so its size is bounded here by counting, before it runs, the index terms
  that start with its literal part (``Searcher.terms_with_prefix``, under a millisecond for a
  two-letter prefix on Reuters).
* **Fan-out.** Every word becomes one clause per language of the archive and per text field
  (title, body), so a long query on a many-language archive holds thousands of clauses.

Every limit is a setting (``Settings.query_max_*``, see docs/configuration.md) and is checked
by :func:`check_query`, which the search engine calls on the tree of every syntax query, from
every entry point (API, pages, CLI, Atom, advanced search): there is no path to Tantivy that
skips it. A refusal is a :class:`QuerySyntaxError` that names the limit, the value found and
what to do instead.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

from sourcebook.config import Settings
from sourcebook.errors import QuerySyntaxError
from sourcebook.index.analyzers import analyze
from sourcebook.index.schema import text_field
from sourcebook.search.query import (
    And,
    DateRange,
    MatchAll,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Term,
    Wildcard,
)

__all__ = ["QueryLimits", "TermCounter", "check_query", "query_cost"]

#: How many index terms of a field start with a prefix: ``(field, prefix) -> count``.
TermCounter = Callable[[str, str], int]

#: Fields whose words are analysed per language (the others are matched as one name or code).
_TEXT_KINDS: dict[str | None, int] = {None: 2, "title": 1, "body": 1}
_NAME_FIELDS = {"publisher", "place", "person", "organisation"}


@dataclass(frozen=True)
class QueryLimits:
    """Bounds on what one query may ask of the index (defaults: ``Settings``)."""

    max_slop: int = 100
    max_phrase_words: int = 64
    max_phrase_repeats: int = 4
    max_wildcards: int = 10
    max_wildcard_chars: int = 4
    max_wildcard_terms: int = 20_000
    max_clauses: int = 2_000
    max_depth: int = 20

    @classmethod
    def from_settings(cls, settings: Settings) -> QueryLimits:
        return cls(
            max_slop=settings.query_max_slop,
            max_phrase_words=settings.query_max_phrase_words,
            max_phrase_repeats=settings.query_max_phrase_repeats,
            max_wildcards=settings.query_max_wildcards,
            max_wildcard_chars=settings.query_max_wildcard_chars,
            max_wildcard_terms=settings.query_max_wildcard_terms,
            max_clauses=settings.query_max_clauses,
            max_depth=settings.query_max_depth,
        )


@dataclass
class QueryCost:
    """What a query asks of the index, counted over its tree."""

    clauses: int = 0
    wildcards: int = 0
    #: Index terms the wildcards may match (counted only with a ``TermCounter``).
    wildcard_terms: int = 0
    depth: int = 0


def check_query(
    node: Node,
    languages: Sequence[str],
    limits: QueryLimits,
    query_text: str = "",
    count_terms: TermCounter | None = None,
) -> QueryCost:
    """Refuse ``node`` with a ``QuerySyntaxError`` when it passes a limit; else its cost.

    ``count_terms`` (the index's term dictionary) lets wildcards be bounded by the number of
    terms they may match; without it only their number and shape are checked.
    """
    cost = QueryCost()
    walker = _Walker(tuple(languages) or ("en",), limits, query_text, count_terms, cost)
    walker.walk(node, 1)
    if cost.wildcards > limits.max_wildcards:
        raise QuerySyntaxError(
            f"the query has {cost.wildcards} words with * or ?; the limit is "
            f"{limits.max_wildcards}: use fewer wildcards, or list the words you mean",
            query_text,
        )
    if cost.wildcard_terms > limits.max_wildcard_terms:
        raise QuerySyntaxError(
            f"the wildcards of this query match {cost.wildcard_terms:,} different words in the "
            f"index; the limit is {limits.max_wildcard_terms:,}: give more letters before * or ?",
            query_text,
        )
    if cost.clauses > limits.max_clauses:
        raise QuerySyntaxError(
            f"the query needs {cost.clauses:,} index clauses (each word is searched in "
            f"{len(languages)} language(s) and in title and body); the limit is "
            f"{limits.max_clauses:,}: use fewer words, or a field such as title:",
            query_text,
        )
    return cost


def query_cost(node: Node, languages: Sequence[str]) -> QueryCost:
    """The cost of ``node`` without any limit (for benchmarks and logs)."""
    unlimited = QueryLimits(**{f.name: 10**9 for f in fields(QueryLimits)})
    return check_query(node, languages, unlimited)


class _Walker:
    def __init__(
        self,
        languages: tuple[str, ...],
        limits: QueryLimits,
        query_text: str,
        count_terms: TermCounter | None,
        cost: QueryCost,
    ) -> None:
        self.languages = languages
        self.limits = limits
        self.query_text = query_text
        self.count_terms = count_terms
        self.cost = cost

    def walk(self, node: Node, depth: int) -> None:
        cost, limits = self.cost, self.limits
        if depth > cost.depth:
            cost.depth = depth
            if depth > limits.max_depth:
                raise QuerySyntaxError(
                    f"the query nests groups and operators {depth} levels deep; the limit is "
                    f"{limits.max_depth}: write it with fewer parentheses",
                    self.query_text,
                )
        if isinstance(node, And | Or):
            cost.clauses += 1
            for item in node.items:
                self.walk(item, depth + 1)
            return
        if isinstance(node, Not):
            cost.clauses += 1
            self.walk(node.item, depth + 1)
            return
        if isinstance(node, MatchAll | DateRange):
            cost.clauses += 1
            return
        is_text = node.field in _TEXT_KINDS
        fan_out = len(self.languages) * _TEXT_KINDS[node.field] if is_text else 1
        if isinstance(node, Prefix | Wildcard):
            _check_wildcard(node, limits, self.query_text)
            cost.wildcards += 1
            cost.clauses += fan_out
            if self.count_terms is not None:
                cost.wildcard_terms += self.matching_terms(node)
            return
        if isinstance(node, Phrase):
            _check_phrase(node, self.languages if is_text else ("xx",), limits, self.query_text)
        cost.clauses += fan_out

    def matching_terms(self, node: Prefix | Wildcard) -> int:
        """Index terms starting with the literal part of ``node``, in every field it searches."""
        assert self.count_terms is not None
        if node.field == "group":
            return 0  # group:X is one term
        text = node.text if isinstance(node, Prefix) else node.pattern
        literal = re.split(r"(?<!\\)[*?]", text, maxsplit=1)[0].replace("\\", "")
        folded = analyze("xx", literal)
        if len(folded) != 1:
            return 0  # the compiler searches no regex for it
        if node.field in _TEXT_KINDS:
            kinds = ("title", "body") if node.field is None else (node.field,)
            fields = [text_field(k, lang) for lang in self.languages for k in kinds]
            prefix = folded[0]  # the index holds lower-cased, accent-folded terms
        else:
            fields = [node.field or ""]
            prefix = folded[0] if node.field in _NAME_FIELDS else literal
        total = 0
        for name in fields:
            try:
                total += self.count_terms(name, prefix)
            except ValueError:  # not a text field of this index
                continue
        return total


def _check_wildcard(node: Prefix | Wildcard, limits: QueryLimits, query_text: str) -> None:
    if isinstance(node, Prefix):
        return  # one trailing * after at least two characters (the parser checks those)
    pattern = node.pattern
    wild = [i for i, c in enumerate(pattern) if c in "*?" and (i == 0 or pattern[i - 1] != "\\")]
    if len(wild) > limits.max_wildcard_chars:
        raise QuerySyntaxError(
            f"{pattern!r} has {len(wild)} wildcard characters (* or ?); the limit is "
            f"{limits.max_wildcard_chars} per word: spell out more of the word",
            query_text,
            _pos(node),
        )
    literal = pattern[: wild[0]] if wild else pattern
    if len(literal.replace("\\", "")) < 2:
        raise QuerySyntaxError(
            f"{pattern!r} starts with only {len(literal.replace(chr(92), ''))} character(s) "
            "before its first * or ?; a wildcard word needs at least 2: spell out its start",
            query_text,
            _pos(node),
        )


def _check_phrase(
    node: Phrase, languages: tuple[str, ...], limits: QueryLimits, query_text: str
) -> None:
    if node.slop > limits.max_slop:
        raise QuerySyntaxError(
            f"the proximity ~{node.slop} is more than the limit of ~{limits.max_slop}: "
            "use a smaller number",
            query_text,
            _pos(node),
        )
    for lang in languages:
        tokens = analyze(lang, node.text)
        if len(tokens) > limits.max_phrase_words:
            raise QuerySyntaxError(
                f"the phrase has {len(tokens)} words; the limit is {limits.max_phrase_words}: "
                "quote a shorter, distinctive part of it",
                query_text,
                _pos(node),
            )
        if node.slop == 0:
            continue
        repeats = len(tokens) - len(set(tokens))
        if repeats > limits.max_phrase_repeats:
            counts = Counter(tokens).most_common(1)[0]
            raise QuerySyntaxError(
                f"the phrase with ~{node.slop} repeats words {repeats} times (the word "
                f"{counts[0]!r} appears {counts[1]} times); the limit is "
                f"{limits.max_phrase_repeats} repeats in a phrase with ~: "
                "drop the repeated words or the ~",
                query_text,
                _pos(node),
            )


def _pos(node: Term | Phrase | Prefix | Wildcard) -> int:
    return node.pos
