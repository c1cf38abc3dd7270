"""The search query language: a tokenizer and a hand-written recursive-descent parser.

``parse_query`` turns what a user typed into a small typed tree (``Term``, ``Phrase``, ``Prefix``,
``Wildcard``, ``DateRange``, ``And``, ``Or``, ``Not``, ``MatchAll``); the index layer compiles the
tree into Tantivy queries, so nothing here imports Tantivy. ``parse_plain`` is the forgiving mode
for pasted sentences and questions, and ``looks_like_syntax`` guesses which mode a text wants.
``docs/query-language.md`` is the user's page.

Grammar (EBNF; tokens are separated by whitespace, operators are upper case)::

    query      = or_expr ;
    or_expr    = and_expr { ( "OR" | "||" ) and_expr } ;
    and_expr   = unary { [ "AND" | "&&" ] unary } ;        (* side by side means AND *)
    unary      = { "NOT" | "-" | "!" | "+" | field ":" } primary ;
    primary    = "(" or_expr ")" | phrase | range | "*" | word ;
    phrase     = quote { char | "\\" char } quote [ "~" digits ] ;
    range      = ( "[" | "{" ) bound "TO" bound ( "]" | "}" ) ;   (* date field only *)
    word       = { char | "\\" char } ;         (* unescaped * and ? are wildcards *)
    date_value = date | [ date ] ".." [ date ] | ( ">" | ">=" | "<" | "<=" ) date ;
    date       = YYYY [ "-" MM [ "-" DD ] ] ;   bound = date | "*" ;

``-``, ``+`` and ``!`` are operators only when attached to what follows (``-word``); a field is
``name:`` with ``name`` made of letters or underscores, directly followed by a value that does not
start with ``/`` (so ``http://x``, ``12:30`` and ``Note: ...`` stay text). A ``field:`` prefix
applies to the one operand after it, which may be a parenthesised group.

Why it is built this way:

* Hand-written, over a tokenizer, with no parser generator: error messages point at the exact
  character (``QuerySyntaxError.describe`` draws the caret), there is no dependency, and a
  typical query parses in tens of microseconds.
* Every failure is a ``QuerySyntaxError``; nesting is bounded (``MAX_DEPTH``) so Python's
  recursion limit is never reached, and unary prefixes are read in a loop, not recursively.
* Words with no letters or digits (``-``, ``&``, ``–``) are dropped, as the index tokenizer drops
  them: ``Tajik – Afghan`` searches two words instead of failing on a dash.
* Dates are periods: ``2017`` is the whole year and ``2017-02`` the whole month, so
  ``date:2017..2018-06`` runs from 2017-01-01 to 2018-06-30; ``<`` and ``>`` exclude the whole
  period. ``DateRange`` bounds are inclusive.
* The tree is normalised so the compiler has few cases: nested ``And``/``Or`` are flattened, a
  one-item ``And``/``Or`` is its item, ``NOT NOT x`` is ``x``, ``+word`` equals ``word``
  (``Term.required`` records the ``+`` but is left out of comparisons) and every ``Not`` sits in
  an ``And`` with at least one positive item, ``MatchAll`` when there is no other: a search
  engine cannot answer "everything except x" without something to subtract from.
* Straight and curly double quotes both delimit phrases, because users paste from word processors.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from calendar import monthrange
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date, timedelta
from types import MappingProxyType
from typing import NamedTuple, TypeAlias

from sourcebook.errors import QuerySyntaxError

__all__ = [
    "FIELDS",
    "MAX_DEPTH",
    "MAX_PLAIN_TERMS",
    "And",
    "DateRange",
    "Field",
    "MatchAll",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "Prefix",
    "Term",
    "Wildcard",
    "looks_like_syntax",
    "parse_plain",
    "parse_query",
    "syntax_ignored",
]

MAX_DEPTH = 50  # parentheses nested deeper than this are refused
MAX_SLOP = 100
MAX_PLAIN_TERMS = 64

#: Field names as users may type them (lower case) -> canonical field.
FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "title": "title",
        "publisher": "publisher",
        "country": "country",
        "countries": "country",
        "language": "language",
        "lang": "language",
        "type": "type",
        "document_type": "type",
        "doctype": "type",
        "collection": "collection",
        "body": "body",
        "text": "body",
        "docid": "docid",
        "source_id": "source_id",
        "sourceid": "source_id",
        "date": "date",
        "published": "date",
        "publication_date": "date",
        "year": "date",
        "place": "place",
        "places": "place",
        "person": "person",
        "people": "person",
        "organisation": "organisation",
        "organization": "organisation",
        "org": "organisation",
        "group": "group",
    }
)
DATE_FIELD = "date"
_FIELD_LIST = ", ".join(sorted({*FIELDS.values(), "year"}))

Field: TypeAlias = str | None  # canonical field name; None = the default text fields


@dataclass(frozen=True)
class Term:
    """A bare word. ``required`` records a leading ``+`` (the default AND makes it a no-op)."""

    text: str
    field: Field = None
    required: bool = dc_field(default=False, compare=False)
    pos: int = dc_field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class Phrase:
    """Words in this order; ``slop`` is how many moves apart they may be (``"a b"~5``)."""

    text: str
    field: Field = None
    slop: int = 0
    pos: int = dc_field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class Prefix:
    """``text*``: words starting with ``text`` (at least two characters)."""

    text: str
    field: Field = None
    pos: int = dc_field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class Wildcard:
    """A pattern where ``*`` is any run and ``?`` one character; ``\\`` escapes a literal one."""

    pattern: str
    field: Field = None
    pos: int = dc_field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class DateRange:
    """Dates from ``start`` to ``end``, both inclusive; ``None`` is an open end."""

    field: str
    start: date | None
    end: date | None
    pos: int = dc_field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class MatchAll:
    """Every document: ``*`` and the base of a purely negative query."""


Node: TypeAlias = Term | Phrase | Prefix | Wildcard | DateRange | And | Or | Not | MatchAll

# ---------------------------------------------------------------------------------------------
# Tokenizer

_WORD, _PHRASE, _FIELD, _RANGE, _ALL, _EOF = "word", "phrase", "field", "range", "*", "end"
_LPAREN, _RPAREN, _AND, _OR, _NOT, _PLUS = "(", ")", "AND", "OR", "NOT", "+"
_OPERATORS = {"AND": _AND, "&&": _AND, "OR": _OR, "||": _OR, "NOT": _NOT}
_PREFIX_OPS = {"-": _NOT, "!": _NOT, "+": _PLUS}
_QUOTES = '"“”'

# Starts with a letter or digit, ends at whitespace, a parenthesis or the end; nothing special.
_PLAIN_WORD = re.compile(r"[^\W_][\w'’.,;&/@#$%=-]*(?![^\s()])")
_WORD_RUN = re.compile(r'[^\s()"“”\\]+')
_PHRASE_RUN = re.compile(r'[^"“”\\]+')
_FIELD_NAME = re.compile(r"([^\W\d]+):")
_PREFIX_RUN = re.compile(r"[-+!]+")
_SLOP = re.compile(r"[0-9]+")
_RANGE_TO = re.compile(r"\sTO\s")
_ALNUM = re.compile(r"[^\W_]")
_FUZZY = re.compile(r".~[0-9.]*$")
_D = r"[0-9]{4}(?:-[0-9]{1,2}){0,2}"
_RANGE_LIKE = re.compile(rf"(?:[<>]=?{_D}|{_D}\.\.(?:{_D})?|\.\.{_D})")
_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{1,2})(?:-([0-9]{1,2}))?)?")
_TO_SPLIT = re.compile(r"(?:^|\s+)TO(?:\s+|$)", re.IGNORECASE)


class _Token(NamedTuple):
    kind: str
    pos: int
    text: str = ""  # words and phrases without escapes; a field's canonical name; a range
    raw: str = ""  # as typed
    wild: tuple[int, ...] = ()  # offsets in ``text`` of unescaped * and ?
    slop: int = 0


def _tokenize(q: str) -> list[_Token]:
    toks: list[_Token] = []
    n = len(q)
    i = 0
    after_field = False  # the token right after ``field:`` is a value, never another field
    while i < n:
        c = q[i]
        if c.isspace():
            i += 1
            after_field = False
            continue
        value, after_field = after_field, False
        m = _PLAIN_WORD.match(q, i)  # fast path: most tokens are plain words
        if m:
            raw = m.group()
            kind = _OPERATORS.get(raw)
            toks.append(_Token(kind, i, raw=raw) if kind else _Token(_WORD, i, raw, raw))
            i = m.end()
            continue
        if c in "()":
            toks.append(_Token(c, i, raw=c))
            i += 1
            continue
        if c in _QUOTES:
            tok, i = _lex_phrase(q, i)
            toks.append(tok)
            continue
        if c in "[{":
            close = min((k for k in (q.find("]", i), q.find("}", i)) if k >= 0), default=-1)
            if value or (close > 0 and _RANGE_TO.search(q, i, close)):
                if close < 0:
                    raise QuerySyntaxError(f"This {c} is never closed", q, i)
                toks.append(_Token(_RANGE, i, q[i : close + 1], q[i : close + 1]))
                i = close + 1
                continue
        m = _PREFIX_RUN.match(q, i)
        if m and m.end() < n and not q[m.end()].isspace() and q[m.end()] != ")":
            toks.extend(_Token(_PREFIX_OPS[q[k]], k, raw=q[k]) for k in range(i, m.end()))
            i = m.end()
            continue
        m = None if value else _FIELD_NAME.match(q, i)
        if m:
            name, j = m.group(1), m.end()
            canonical = FIELDS.get(name.lower())
            nxt = q[j] if j < n else " "
            if not nxt.isspace() and nxt not in "/)":
                if canonical is None:
                    raise QuerySyntaxError(
                        f"Unknown field {name!r}: the fields are {_FIELD_LIST} "
                        f"(write {name}\\: to search for the text)",
                        q,
                        i,
                    )
                toks.append(_Token(_FIELD, i, canonical, name))
                i = j
                after_field = True
                continue
            if canonical is not None and nxt != "/":
                raise QuerySyntaxError(f"The field {name}: has no value", q, i)
        word, end = _lex_word(q, i)
        if word is not None:
            toks.append(word)
        else:
            _drop_dangling_prefix(q, toks, i, end)
        i = end
    toks.append(_Token(_EOF, n))
    return toks


def _drop_dangling_prefix(q: str, toks: list[_Token], start: int, end: int) -> None:
    """A dropped word takes the ``-``/``+``/``!`` attached to it along; ``field:`` refuses it."""
    while toks and toks[-1].pos == start - 1 and toks[-1].raw in _PREFIX_OPS:
        toks.pop()
        start -= 1
    if toks and toks[-1].kind == _FIELD and toks[-1].pos + len(toks[-1].raw) + 1 == start:
        field = toks[-1]
        raise QuerySyntaxError(
            f"{field.raw}:{q[start:end]} has no letters or digits to search for", q, field.pos
        )


def _lex_word(q: str, i: int) -> tuple[_Token | None, int]:
    """Read a word from ``i``; None for a word with no letters or digits (nothing to match)."""
    n, start = len(q), i
    parts: list[str] = []
    wild: list[int] = []
    length = 0
    escaped = False
    while i < n:
        m = _WORD_RUN.match(q, i)
        if m:
            chunk = m.group()
            if "*" in chunk or "?" in chunk:
                wild.extend(length + k for k, ch in enumerate(chunk) if ch in "*?")
            parts.append(chunk)
            length += len(chunk)
            i = m.end()
        if i < n and q[i] == "\\":
            if i + 1 >= n:
                raise QuerySyntaxError(
                    "The query ends with a lone backslash: write \\\\ to search for one", q, i
                )
            parts.append(q[i + 1])
            length += 1
            escaped = True
            i += 2
            continue
        break
    raw, text = q[start:i], "".join(parts)
    if not escaped:
        if raw in _OPERATORS:
            return _Token(_OPERATORS[raw], start, raw=raw), i
        if raw in ("*", "*:*"):
            return _Token(_ALL, start, raw=raw), i
    if not _ALNUM.search(text):
        return None, i
    return _Token(_WORD, start, text, raw, tuple(wild)), i


def _lex_phrase(q: str, i: int) -> tuple[_Token, int]:
    n, j = len(q), i + 1
    parts: list[str] = []
    while True:
        m = _PHRASE_RUN.match(q, j)
        if m:
            parts.append(m.group())
            j = m.end()
        if j >= n:
            raise QuerySyntaxError("This quote is never closed", q, i)
        if q[j] != "\\":
            break  # the closing quote
        if j + 1 < n:
            parts.append(q[j + 1])
        j += 2
    text = " ".join("".join(parts).split())
    if not text:
        raise QuerySyntaxError("Empty phrase: put words between the quotes", q, i)
    if not _ALNUM.search(text):
        raise QuerySyntaxError("This phrase has no letters or digits to search for", q, i)
    end, slop = j + 1, 0
    if end < n and q[end] == "~":
        m = _SLOP.match(q, end + 1)
        after = q[m.end()] if m and m.end() < n else " "
        if not m or len(m.group()) > 3 or not (after.isspace() or after in ")" + _QUOTES):
            raise QuerySyntaxError(_BAD_SLOP, q, end)
        slop = int(m.group())
        if slop > MAX_SLOP:
            raise QuerySyntaxError(_BAD_SLOP, q, end)
        end = m.end()
    return _Token(_PHRASE, i, text, q[i:end], slop=slop), end


_BAD_SLOP = f'Proximity needs a whole number from 0 to {MAX_SLOP} after ~, as in "a b"~5'

# ---------------------------------------------------------------------------------------------
# Parser


class _Parser:
    def __init__(self, query: str, tokens: list[_Token]) -> None:
        self.q = query
        self.toks = tokens
        self.i = 0
        self.depth = 0

    def error(self, message: str, pos: int) -> QuerySyntaxError:
        return QuerySyntaxError(message, self.q, pos)

    def parse(self) -> Node:
        node = self.or_expr(None)
        tok = self.toks[self.i]
        if tok.kind == _RPAREN:
            raise self.error("This ) has no matching (", tok.pos)
        return node

    def operand_after(self, op: _Token) -> None:
        tok = self.toks[self.i]
        if tok.kind in (_EOF, _RPAREN):
            raise self.error(f"{op.raw} has nothing on its right", op.pos)
        if tok.kind in (_AND, _OR):
            raise self.error(f"{tok.raw} cannot follow {op.raw}: two operators in a row", tok.pos)

    def or_expr(self, field: Field) -> Node:
        items = [self.and_expr(field)]
        while self.toks[self.i].kind == _OR:
            op = self.toks[self.i]
            self.i += 1
            self.operand_after(op)
            items.append(self.and_expr(field))
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self, field: Field) -> Node:
        items = [self.unary(field)]
        while True:
            tok = self.toks[self.i]
            if tok.kind == _AND:
                self.i += 1
                self.operand_after(tok)
            elif tok.kind in (_OR, _RPAREN, _EOF):
                break
            items.append(self.unary(field))
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self, field: Field) -> Node:
        tok = self.toks[self.i]
        if tok.kind == _WORD and field != DATE_FIELD:  # the common case, straight to the word
            self.i += 1
            return self.word(tok, field, False)
        negate = required = False
        last: _Token | None = None
        while True:  # a loop, not recursion: ``- - - ... x`` cannot exhaust the stack
            tok = self.toks[self.i]
            if tok.kind == _NOT:
                negate = not negate
            elif tok.kind == _PLUS:
                required = True
            elif tok.kind == _FIELD:
                field = tok.text
            else:
                break
            last = tok
            self.i += 1
        if tok.kind in (_EOF, _RPAREN, _AND, _OR):
            if last is None:
                if tok.kind == _RPAREN:
                    raise self.error("This ) has no matching (", tok.pos)
                if tok.kind == _EOF:
                    raise self.error("The query ends before a word or phrase", tok.pos)
                raise self.error(f"{tok.raw} has nothing on its left", tok.pos)
            if last.kind == _FIELD:
                raise self.error(f"The field {last.raw}: has no value", last.pos)
            if tok.kind in (_AND, _OR):
                msg = f"{tok.raw} cannot follow {last.raw}: two operators in a row"
                raise self.error(msg, tok.pos)
            raise self.error(f"{_name(last)} has nothing after it", last.pos)
        node = self.primary(field, required)
        return Not(node) if negate else node

    def primary(self, field: Field, required: bool) -> Node:
        tok = self.toks[self.i]
        self.i += 1
        if tok.kind == _LPAREN:
            if self.depth >= MAX_DEPTH:
                raise self.error(f"Parentheses are nested more than {MAX_DEPTH} deep", tok.pos)
            if self.toks[self.i].kind == _RPAREN:
                raise self.error("Empty parentheses: put a word or phrase between ( and )", tok.pos)
            if self.toks[self.i].kind == _EOF:
                raise self.error(
                    "The query ends with an opening parenthesis '(': close it or remove it",
                    tok.pos,
                )
            self.depth += 1
            node = self.or_expr(field)
            self.depth -= 1
            if self.toks[self.i].kind != _RPAREN:
                raise self.error("This ( is never closed", tok.pos)
            self.i += 1
            return node
        if field == DATE_FIELD:
            return self.date_value(tok)
        if tok.kind == _PHRASE:
            return Phrase(tok.text, field, tok.slop, pos=tok.pos)
        if tok.kind == _RANGE:
            if field is None:
                msg = "A range needs the date field, as in date:[2017-01-01 TO 2017-12-31]"
            else:
                msg = f"Only the date field takes ranges, not {field}"
            raise self.error(msg, tok.pos)
        if tok.kind == _ALL:
            if field is None:
                return MatchAll()
            raise self.error(_LEADING_WILDCARD, tok.pos)
        return self.word(tok, field, required)

    def word(self, tok: _Token, field: Field, required: bool) -> Node:
        text = tok.text
        if text[0] in "0123456789<>." and _RANGE_LIKE.fullmatch(text):
            if field is None:
                msg = f"Dates and date ranges need the date field: write date:{text}"
            else:
                msg = f"Only the date field takes dates and ranges, not {field}"
            raise self.error(msg, tok.pos)
        if not tok.wild and "~" in text and tok.raw == text and _FUZZY.search(text):
            msg = 'Fuzzy search (word~N) is not supported; for words near each other write "a b"~5'
            raise self.error(msg, tok.pos)
        if not tok.wild:
            return Term(text, field, required, pos=tok.pos)
        first = tok.wild[0]
        if first == 0:
            raise self.error(_LEADING_WILDCARD, tok.pos)
        if len(tok.wild) == 1 and first == len(text) - 1 and text[first] == "*":
            if first < 2:
                raise self.error("A wildcard needs at least 2 characters before *", tok.pos)
            return Prefix(text[:-1], field, pos=tok.pos)
        wild = set(tok.wild)
        pattern = "".join(
            ch if k in wild or ch not in "*?\\" else "\\" + ch for k, ch in enumerate(text)
        )
        return Wildcard(pattern, field, pos=tok.pos)

    def date_value(self, tok: _Token) -> DateRange:
        if tok.kind == _RANGE:
            return _bracket_range(tok.text, tok.pos, self.q)
        if tok.kind == _WORD and not tok.wild:
            return _date_expression(tok.text, tok.pos, self.q)
        if tok.kind == _PHRASE:
            return _date_expression(tok.text, tok.pos + 1, self.q)
        raise self.error(f"{tok.raw!r} is not a date: {_DATE_HELP}", tok.pos)


def _name(tok: _Token) -> str:
    """A prefix token as typed: NOT as it is, a sign quoted ('-' alone reads as a dash)."""
    return f"'{tok.raw}'" if tok.raw in _PREFIX_OPS else tok.raw


_LEADING_WILDCARD = "A word cannot start with * or ? (leading wildcards are not supported)"
_DATE_HELP = "write date:2017, date:2017-02, date:2017-01-01..2017-06-30 or date:>=2017-01-01"

# ---------------------------------------------------------------------------------------------
# Dates


def _period(text: str, pos: int, q: str) -> tuple[date, date]:
    """The first and last day that ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` stands for."""
    m = _DATE.fullmatch(text)
    try:
        if m is None:
            raise ValueError(text)
        year, month, day = int(m[1]), m[2], m[3]
        if day is not None:
            one = date(year, int(month), int(day))
            return one, one
        if month is not None:
            first = date(year, int(month), 1)
            return first, first.replace(day=monthrange(year, first.month)[1])
        return date(year, 1, 1), date(year, 12, 31)
    except ValueError:
        msg = f"{text!r} is not a valid date: write YYYY, YYYY-MM or YYYY-MM-DD"
        raise QuerySyntaxError(msg, q, pos) from None


def _shift(day: date, days: int, pos: int, q: str) -> date:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        raise QuerySyntaxError("This date is out of range", q, pos) from None


def _checked(start: date | None, end: date | None, pos: int, q: str) -> DateRange:
    if start is not None and end is not None and start > end:
        msg = f"The date range starts ({start.isoformat()}) after it ends ({end.isoformat()})"
        raise QuerySyntaxError(msg, q, pos)
    return DateRange(DATE_FIELD, start, end, pos=pos)


def _date_expression(text: str, pos: int, q: str) -> DateRange:
    for op in (">=", "<=", ">", "<"):
        if text.startswith(op):
            at = pos + len(op)
            first, last = _period(text[len(op) :], at, q)
            if op == ">=":
                return _checked(first, None, pos, q)
            if op == ">":
                return _checked(_shift(last, 1, at, q), None, pos, q)
            if op == "<=":
                return _checked(None, last, pos, q)
            return _checked(None, _shift(first, -1, at, q), pos, q)
    if ".." in text:
        lo, _, hi = text.partition("..")
        if not lo and not hi:
            raise QuerySyntaxError(f"'..' is not a date range: {_DATE_HELP}", q, pos)
        start = _period(lo, pos, q)[0] if lo else None
        end = _period(hi, pos + len(lo) + 2, q)[1] if hi else None
        return _checked(start, end, pos, q)
    if not _DATE.fullmatch(text):
        raise QuerySyntaxError(f"{text!r} is not a date: {_DATE_HELP}", q, pos)
    first, last = _period(text, pos, q)
    return _checked(first, last, pos, q)


def _bracket_range(text: str, pos: int, q: str) -> DateRange:
    """``[a TO b]`` includes both ends; ``{`` / ``}`` exclude that end's whole period."""
    inner = text[1:-1]
    parts = _TO_SPLIT.split(inner.strip())
    if len(parts) != 2:
        raise QuerySyntaxError("Write a date range as [2017-01-01 TO 2017-12-31]", q, pos)
    lo, hi = parts
    start = end = None
    if lo not in ("", "*"):
        at = pos + 1 + inner.find(lo)
        first, last = _period(lo, at, q)
        start = first if text[0] == "[" else _shift(last, 1, at, q)
    if hi not in ("", "*"):
        at = pos + 1 + inner.rfind(hi)
        first, last = _period(hi, at, q)
        end = last if text[-1] == "]" else _shift(first, -1, at, q)
    return _checked(start, end, pos, q)


# ---------------------------------------------------------------------------------------------
# Normalisation


def _normalise(node: Node) -> Node:
    if isinstance(node, And):
        items: list[Node] = []
        for item in node.items:
            item = _normalise(item)
            items.extend(item.items if isinstance(item, And) else (item,))
        positives = [i for i in items if not isinstance(i, Not | MatchAll)]
        if positives:
            items = [i for i in items if not isinstance(i, MatchAll)]
        elif any(isinstance(i, Not) for i in items):
            items = [MatchAll(), *(i for i in items if isinstance(i, Not))]
        else:
            return MatchAll()
        return items[0] if len(items) == 1 else And(tuple(items))
    if isinstance(node, Or):
        alternatives: list[Node] = []
        for item in node.items:
            item = _normalise(item)
            if isinstance(item, MatchAll):
                return item
            alternatives.extend(item.items if isinstance(item, Or) else (_positive(item),))
        return alternatives[0] if len(alternatives) == 1 else Or(tuple(alternatives))
    if isinstance(node, Not):
        inner = _normalise(node.item)
        return inner.item if isinstance(inner, Not) else Not(inner)
    return node


def _positive(node: Node) -> Node:
    return And((MatchAll(), node)) if isinstance(node, Not) else node


# ---------------------------------------------------------------------------------------------
# Public functions


def _check_text(text: str, max_chars: int) -> None:
    if len(text) > max_chars:
        msg = f"The query is {len(text):,} characters long; the limit is {max_chars:,}"
        raise QuerySyntaxError(msg, text)
    if not text.strip():
        raise QuerySyntaxError("The query is empty", text)


def parse_query(text: str, max_chars: int = 2000) -> Node:
    """Parse query syntax into a normalised tree; raise ``QuerySyntaxError`` saying where."""
    _check_text(text, max_chars)
    tokens = _tokenize(text)
    if len(tokens) == 1:
        raise QuerySyntaxError("The query has no words to search for", text)
    return _positive(_normalise(_Parser(text, tokens).parse()))


@functools.cache
def _plain_word() -> re.Pattern[str]:
    """Letters, digits and combining marks (built on first use: scanning the BMP takes ~15 ms)."""
    ranges: list[str] = []
    start = -1
    for cp in range(0x300, 0x10001):
        mark = cp < 0x10000 and unicodedata.category(chr(cp))[0] == "M"
        if mark and start < 0:
            start = cp
        elif not mark and start >= 0:
            ranges.append(f"{re.escape(chr(start))}-{re.escape(chr(cp - 1))}")
            start = -1
    return re.compile(rf"[^\W_](?:[^\W_]|[{''.join(ranges)}])*")


def parse_plain(text: str, max_chars: int = 2000) -> Node:
    """Plain-text mode: any of the words (first ``MAX_PLAIN_TERMS`` distinct ones), never syntax.

    Raises ``QuerySyntaxError`` only for an empty or too long text, or one without any word.
    """
    _check_text(text, max_chars)
    seen: set[str] = set()
    terms: list[Node] = []
    for m in _plain_word().finditer(text):
        key = m.group().casefold()  # the index lower-cases, so "Iran" and "iran" are one term
        if key not in seen:
            seen.add(key)
            terms.append(Term(m.group(), pos=m.start()))
            if len(terms) == MAX_PLAIN_TERMS:
                break
    if not terms:
        raise QuerySyntaxError("The query has no words to search for", text)
    return terms[0] if len(terms) == 1 else Or(tuple(terms))


_HINT_FIELD = re.compile(r"(?<![^\s(+!-])([^\W\d]+):(?=[^\s/)])")
_HINT_PREFIX = re.compile(r'(?<![^\s(])[-+!]+(?=[^\W\d_]|["“”(])')
_HINT_STAR = re.compile(r"[^\W_]\*(?![^\s)])")
_HINT_OPERATOR = re.compile(r"(?<![^\s(])(?:AND|OR|NOT|&&|\|\|)(?![^\s(])")


_SYNTAX_SIGN = re.compile(r'["“”()*?\[\]{}\\]|\w:|(?<![^\s(])(?:AND|OR|NOT|&&|\|\||[-+!]\S)')


def syntax_ignored(text: str, max_chars: int = 2000) -> str | None:
    """Why query syntax in ``text`` could not be used (the parser's message), or None.

    Auto mode runs a text that does not look like syntax as plain words; when the text has
    signs of syntax anyway (a lone quote, ``region:``, a dangling ``OR``, ``*stan``) the user is
    told so in one line, with the reason the syntax reading failed.
    """
    if not _SYNTAX_SIGN.search(text):
        return None
    try:
        parse_query(text, max_chars)
    except QuerySyntaxError as exc:
        return exc.message
    return None


def looks_like_syntax(text: str) -> bool:
    """True when ``text`` uses query syntax on purpose; False for sentences and questions.

    Signs of syntax: a pair of quotes, a known ``field:``, an upper-case AND/OR between words (or
    NOT before one), ``-word``/``+word``/``!word``, ``word*``. Operators in a long all-capitals
    text are taken for shouting, not syntax.
    """
    if sum(text.count(quote) for quote in _QUOTES) >= 2:
        return True
    if any(m.group(1).lower() in FIELDS for m in _HINT_FIELD.finditer(text)):
        return True
    if _HINT_PREFIX.search(text) or _HINT_STAR.search(text):
        return True
    for m in _HINT_OPERATOR.finditer(text):
        has_left = bool(text[: m.start()].strip()) or m.group() == "NOT"
        if has_left and text[m.end() :].strip():
            rest = _HINT_OPERATOR.sub(" ", text)
            shouting = not any(c.islower() for c in rest) and any(c.isupper() for c in rest)
            return not (shouting and len(rest.split()) > 4)
    return False
