"""Compile a parsed query (``search.query`` AST) into a Tantivy query.

Text is analysed once per language present in the archive and searched in that language's
fields, so each document is matched with its own stemmer. A word that the analyzer splits into
several tokens ("Tajik-Afghan") becomes a phrase, as in Lucene. Prefix queries match both the
raw prefix and its stem, because the index holds stems ("negotiat*" must find "negotiations",
indexed as "negoti"). Keyword fields (country, language, type...) are normalised to the codes
the index stores, and a value that cannot be resolved is reported as a syntax error rather than
silently matching nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import tantivy

from sourcebook.countries import resolve_country, resolve_language
from sourcebook.errors import QuerySyntaxError
from sourcebook.ids import DOCID_LENGTH, is_valid_docid
from sourcebook.index.analyzers import analyze
from sourcebook.index.schema import INDEX_DATE_MAX, INDEX_DATE_MIN, text_field
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

Occur = tantivy.Occur
Query = tantivy.Query

#: Text field groups a query field name searches.
TEXT_KINDS: dict[str | None, tuple[str, ...]] = {
    None: ("title", "body"),
    "title": ("title",),
    "body": ("body",),
}
#: Names searched word by word (accent-folded, unstemmed): ``publisher:``, ``person:``...
NAME_FIELDS = {"publisher", "place", "person", "organisation"}
STEM_SLACK = 3
MIN_STEM_CHARS = 4
KEYWORD_FIELDS = {"country", "language", "type", "collection", "docid", "source_id"}


@dataclass
class Weights:
    """Field boosts for ranking, chosen on SciFact's train queries only (see docs/ranking.md).

    The body field holds the title too (one BM25 field over the whole text, as bm25s and Lucene
    baselines index it), so the title field only adds a small bonus for title matches.
    """

    title: float = 0.2
    body: float = 1.0


@dataclass
class CompileContext:
    schema: Any
    languages: Sequence[str]
    query_text: str = ""
    weights: Weights = field(default_factory=Weights)
    #: ``group:DOCID``: the public name of that document's group, or None when the viewer may
    #: not read it (the query then matches nothing)
    group_of: Callable[[str], str | None] | None = None


def _empty() -> Any:
    return Query.empty_query()


def _boost(query: Any, boost: float) -> Any:
    return query if boost == 1.0 else Query.boost_query(query, boost)


def _any_of(queries: list[Any]) -> Any:
    if not queries:
        return _empty()
    if len(queries) == 1:
        return queries[0]
    return Query.boolean_query([(Occur.Should, q) for q in queries])


def _text_query(ctx: CompileContext, kinds: tuple[str, ...], text: str, slop: int = 0) -> Any:
    parts: list[Any] = []
    for lang in ctx.languages:
        tokens = analyze(lang, text)
        if not tokens:
            continue
        for kind in kinds:
            field = text_field(kind, lang)
            if len(tokens) == 1:
                q = Query.term_query(ctx.schema, field, tokens[0])
            else:
                q = Query.phrase_query(ctx.schema, field, list(tokens), slop)
            parts.append(_boost(q, getattr(ctx.weights, kind)))
    return _any_of(parts)


def _prefix_regex(ctx: CompileContext, lang: str, prefix: str) -> str | None:
    folded = analyze("xx", prefix)
    if len(folded) != 1:
        return None
    raw = folded[0]
    options = [re.escape(raw) + ".*"]
    stemmed = analyze(lang, prefix)
    if len(stemmed) == 1 and stemmed[0] and stemmed[0] != raw:
        options.append(re.escape(stemmed[0]) + ".*")
    options.extend(re.escape(t) for t in stem_truncations(lang, raw))
    return "(" + "|".join(options) + ")"


def stem_truncations(lang: str, prefix: str) -> list[str]:
    """Whole index terms a typed prefix may stand for on a stemmed field.

    A stemmer cuts suffixes, so the stem of a longer word can be shorter than the prefix typed
    ("negotiat*" must find "negotiations", indexed as "negoti"): the prefix's own truncations by
    up to STEM_SLACK characters count as whole terms.
    """
    if lang == "xx":
        return []
    return [
        prefix[:-cut] for cut in range(1, STEM_SLACK + 1) if len(prefix) - cut >= MIN_STEM_CHARS
    ]


def _regex_query(ctx: CompileContext, kinds: tuple[str, ...], pattern_for: Any) -> Any:
    parts = []
    for lang in ctx.languages:
        pattern = pattern_for(lang)
        if pattern is None:
            continue
        for kind in kinds:
            q = Query.regex_query(ctx.schema, text_field(kind, lang), pattern)
            parts.append(_boost(q, getattr(ctx.weights, kind)))
    return _any_of(parts)


def wildcard_regex(pattern: str, stemmed: bool = False) -> str:
    """A regex for a wildcard pattern over index terms (lower-cased, accent-folded).

    On stemmed fields the literal tail after the last wildcard may have been cut by the stemmer
    ("Haz*ras" must find "hazara"), so truncations of that tail are accepted too.
    """
    folded = "".join(analyze("xx", c)[0] if analyze("xx", c) else c for c in pattern.lower())

    def to_regex(text: str) -> str:
        return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)

    options = [to_regex(folded)]
    if stemmed:
        tail = len(folded) - max(folded.rfind("*"), folded.rfind("?")) - 1
        for cut in range(1, min(STEM_SLACK, tail) + 1):
            options.append(to_regex(folded[:-cut]))
    return "(" + "|".join(options) + ")"


def _keyword_value(ctx: CompileContext, field: str, value: str) -> str:
    if field == "country":
        code = resolve_country(value)
        if code is None:
            raise QuerySyntaxError(
                f"unknown country {value!r}: use an ISO code (TJ) or an English name (Tajikistan)",
                ctx.query_text,
                _position(ctx, value),
            )
        return code
    if field == "language":
        code = resolve_language(value)
        if code is None:
            raise QuerySyntaxError(
                f"unknown language {value!r}: use an ISO 639-1 code (fr) or a name (French)",
                ctx.query_text,
                _position(ctx, value),
            )
        return code
    if field == "type":
        return value.lower()
    return value


def _position(ctx: CompileContext, value: str, node: object = None) -> int | None:
    pos = getattr(node, "pos", None)
    if isinstance(pos, int) and pos > 0:
        return pos
    found = ctx.query_text.find(value)
    return found if found >= 0 else None


def _keyword_query(ctx: CompileContext, node: Term | Phrase | Prefix | Wildcard) -> Any:
    field = node.field or ""
    if isinstance(node, Term | Phrase):
        value = _keyword_value(ctx, field, node.text)
        return Query.term_query(ctx.schema, field, value)
    if field in {"country", "language"}:
        raise QuerySyntaxError(
            f"wildcards are not supported on {field}: give a code or a name",
            ctx.query_text,
            _position(ctx, getattr(node, "text", getattr(node, "pattern", ""))),
        )
    if isinstance(node, Prefix):
        return Query.regex_query(ctx.schema, field, re.escape(node.text) + ".*")
    pattern = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in node.pattern)
    return Query.regex_query(ctx.schema, field, pattern)


def _day(d: date) -> datetime:
    # Tantivy stores dates as nanoseconds since 1970 in 64 bits: clamp to what it can hold
    d = min(max(d, INDEX_DATE_MIN), INDEX_DATE_MAX)
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def date_range_query(schema: Any, start: date | None, end: date | None) -> Any:
    if start is None and end is None:
        return Query.all_query()
    if (start and start > INDEX_DATE_MAX) or (end and end < INDEX_DATE_MIN):
        return Query.empty_query()
    return Query.range_query(
        schema,
        "date",
        tantivy.FieldType.Date,
        _day(start) if start else None,
        _day(end) if end else None,
    )


def compile_node(ctx: CompileContext, node: Node) -> Any:
    """The Tantivy query for one AST node."""
    if isinstance(node, MatchAll):
        return Query.all_query()
    if isinstance(node, And):
        clauses = []
        positives = 0
        for item in node.items:
            if isinstance(item, Not):
                clauses.append((Occur.MustNot, compile_node(ctx, item.item)))
            else:
                clauses.append((Occur.Must, compile_node(ctx, item)))
                positives += 1
        if positives == 0:
            clauses.append((Occur.Must, Query.all_query()))
        return Query.boolean_query(clauses)
    if isinstance(node, Or):
        return Query.boolean_query([(Occur.Should, compile_node(ctx, item)) for item in node.items])
    if isinstance(node, Not):
        return Query.boolean_query(
            [(Occur.Must, Query.all_query()), (Occur.MustNot, compile_node(ctx, node.item))]
        )
    if isinstance(node, DateRange):
        return date_range_query(ctx.schema, node.start, node.end)
    field = node.field
    if field == "group":  # the members of a near-duplicate group ("N similar")
        text = node.pattern if isinstance(node, Wildcard) else node.text
        if ctx.group_of is not None and is_valid_docid(text) and len(text) == DOCID_LENGTH:
            text = ctx.group_of(text) or text  # a docid matches no group name (those are longer)
        return Query.term_query(ctx.schema, "dup_group", text)
    if field in NAME_FIELDS:
        text = node.pattern if isinstance(node, Wildcard) else node.text
        if isinstance(node, Prefix | Wildcard):
            regex = wildcard_regex(text + "*" if isinstance(node, Prefix) else text)
            return Query.regex_query(ctx.schema, field, regex)
        tokens = analyze("xx", text)
        if not tokens:
            return _empty()
        if len(tokens) == 1:
            return Query.term_query(ctx.schema, field, tokens[0])
        slop = node.slop if isinstance(node, Phrase) else 0
        return Query.phrase_query(ctx.schema, field, list(tokens), slop)
    if field in KEYWORD_FIELDS:
        return _keyword_query(ctx, node)
    kinds = TEXT_KINDS.get(field)
    if kinds is None:
        raise QuerySyntaxError(f"the field {field!r} cannot be searched", ctx.query_text)
    if isinstance(node, Term):
        return _text_query(ctx, kinds, node.text)
    if isinstance(node, Phrase):
        return _text_query(ctx, kinds, node.text, node.slop)
    if isinstance(node, Prefix):
        prefix = node.text
        return _regex_query(ctx, kinds, lambda lang: _prefix_regex(ctx, lang, prefix))
    plain_regex = wildcard_regex(node.pattern)
    stem_regex = wildcard_regex(node.pattern, stemmed=True)
    return _regex_query(ctx, kinds, lambda lang: plain_regex if lang == "xx" else stem_regex)


def terms_any(ctx: CompileContext, terms: Sequence[tuple[str, float]], minimum_match: int) -> Any:
    """Plain-text mode: weighted terms searched in every text field; ``minimum_match`` must match."""
    clauses = [(Occur.Should, _boost(_text_query(ctx, TEXT_KINDS[None], t), w)) for t, w in terms]
    if not clauses:
        return Query.all_query()
    if minimum_match <= 1:
        return Query.boolean_query(clauses)
    return Query.boolean_query(clauses, minimum_match)
