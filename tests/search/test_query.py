"""The query language parser: every construct, precedence, errors with positions, plain mode."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from sourcebook.errors import QuerySyntaxError
from sourcebook.search.query import (
    FIELDS,
    MAX_PLAIN_TERMS,
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
    looks_like_syntax,
    parse_plain,
    parse_query,
)

T = Term


def only_not(item: Node) -> Node:
    return And((MatchAll(), Not(item)))


def year(y: int) -> DateRange:
    return DateRange("date", date(y, 1, 1), date(y, 12, 31))


def days(start: str | None, end: str | None) -> DateRange:
    return DateRange(
        "date",
        date.fromisoformat(start) if start else None,
        date.fromisoformat(end) if end else None,
    )


# --- constructs ------------------------------------------------------------------------------

CONSTRUCTS: list[tuple[str, Node]] = [
    # words, default AND, case kept, lower-case operators are words
    ("Hazara", T("Hazara")),
    ("Hazara returnees", And((T("Hazara"), T("returnees")))),
    ("  Hazara \t returnees\n", And((T("Hazara"), T("returnees")))),
    ("IDPs", T("IDPs")),
    ("Sunni and Shia", And((T("Sunni"), T("and"), T("Shia")))),
    ("war or peace", And((T("war"), T("or"), T("peace")))),
    ("not guilty", And((T("not"), T("guilty")))),
    ("al-Shabaab", T("al-Shabaab")),
    ("Tajikistan's", T("Tajikistan's")),
    ("U.S. embassy", And((T("U.S."), T("embassy")))),
    ("C++", T("C++")),
    ("Help!", T("Help!")),
    ("[Geneva]", T("[Geneva]")),
    # punctuation-only words carry nothing the index could match
    ("Tajik – Afghan", And((T("Tajik"), T("Afghan")))),
    ("Tajik - Afghan", And((T("Tajik"), T("Afghan")))),
    ("a -- b", And((T("a"), T("b")))),
    ("a -& b", And((T("a"), T("b")))),
    ("a & b", And((T("a"), T("b")))),
    # boolean operators
    ("Kabul OR Herat", Or((T("Kabul"), T("Herat")))),
    ("Kabul || Herat", Or((T("Kabul"), T("Herat")))),
    ("Kabul AND Herat", And((T("Kabul"), T("Herat")))),
    ("Kabul && Herat", And((T("Kabul"), T("Herat")))),
    ("+Kabul +Herat", And((T("Kabul"), T("Herat")))),
    ("Kabul NOT Herat", And((T("Kabul"), Not(T("Herat"))))),
    ("Kabul AND NOT Herat", And((T("Kabul"), Not(T("Herat"))))),
    ("Kabul -Herat", And((T("Kabul"), Not(T("Herat"))))),
    ("Kabul !Herat", And((T("Kabul"), Not(T("Herat"))))),
    ('Kabul -"Herat province"', And((T("Kabul"), Not(Phrase("Herat province"))))),
    ("Kabul -(Herat OR Mazar)", And((T("Kabul"), Not(Or((T("Herat"), T("Mazar"))))))),
    ("Kabul AND(Herat)", And((T("Kabul"), T("Herat")))),
    ("NOT(Herat)", only_not(T("Herat"))),
    ("a OR-b", And((T("a"), T("OR-b")))),
    # phrases and proximity
    ('"border security"', Phrase("border security")),
    ('"  border   security "', Phrase("border security")),
    ('"Taliban"', Phrase("Taliban")),
    ('"border security"~5', Phrase("border security", slop=5)),
    ('"border security"~0', Phrase("border security")),
    ('"border security"~100', Phrase("border security", slop=100)),
    ("“border security”", Phrase("border security")),
    ('"say \\"no\\""', Phrase('say "no"')),
    ('"a (b) OR c: d*"', Phrase("a (b) OR c: d*")),
    ('"a b""c d"', And((Phrase("a b"), Phrase("c d")))),
    ('Kabul"Herat"', And((T("Kabul"), Phrase("Herat")))),
    # prefix and wildcards
    ("negotiat*", Prefix("negotiat")),
    ("re*", Prefix("re")),
    ("te?t", Wildcard("te?t")),
    ("t*st", Wildcard("t*st")),
    ("wom?n*", Wildcard("wom?n*")),
    ("a?", Wildcard("a?")),
    ("Iran?", Wildcard("Iran?")),
    ("fo\\*o*", Prefix("fo*o")),
    ("f\\?o*", Prefix("f?o")),
    ("fo\\*o?", Wildcard("fo\\*o?")),
    ("refugee\\*", T("refugee*")),
    ("*", MatchAll()),
    ("*:*", MatchAll()),
    # escapes
    ("\\(TSS\\)", T("(TSS)")),
    ("title\\:Kabul", T("title:Kabul")),
    ("foo\\:bar", T("foo:bar")),
    ("\\AND", T("AND")),
    ("\\-Herat", T("-Herat")),
    ("a\\ b", T("a b")),
    ("back\\\\slash", T("back\\slash")),
    # colons that are not fields
    (
        "http://www.refworld.org/docid/5975a5b29.html",
        T("http://www.refworld.org/docid/5975a5b29.html"),
    ),
    ("https://ecoi.net", T("https://ecoi.net")),
    ("12:30", T("12:30")),
    ("Syria: Kurds", And((T("Syria:"), T("Kurds")))),
    ("Note:", T("Note:")),
    ("(Note:)", T("Note:")),
    # unicode
    ("Таджикистан граница", And((T("Таджикистан"), T("граница")))),
    ("أفغانستان OR طالبان", Or((T("أفغانستان"), T("طالبان")))),
    ("réfugiés Côte d'Ivoire", And((T("réfugiés"), T("Côte"), T("d'Ivoire")))),
    ('"sécurité des frontières"', Phrase("sécurité des frontières")),
    ("title:Душанбе*", Prefix("Душанбе", "title")),
    ("country:CI -Abidjan", And((T("CI", "country"), Not(T("Abidjan"))))),
]


@pytest.mark.parametrize(("query", "expected"), CONSTRUCTS)
def test_constructs(query: str, expected: Node) -> None:
    assert parse_query(query) == expected


PRECEDENCE: list[tuple[str, Node]] = [
    ("a OR b c", Or((T("a"), And((T("b"), T("c")))))),
    ("a b OR c", Or((And((T("a"), T("b"))), T("c")))),
    ("a AND b OR c AND d", Or((And((T("a"), T("b"))), And((T("c"), T("d")))))),
    ("a OR b AND c", Or((T("a"), And((T("b"), T("c")))))),
    ("(a OR b) c", And((Or((T("a"), T("b"))), T("c")))),
    ("NOT a b", And((Not(T("a")), T("b")))),
    ("NOT a OR b", Or((only_not(T("a")), T("b")))),
    ("a OR NOT b", Or((T("a"), only_not(T("b"))))),
    ("-a -b", And((MatchAll(), Not(T("a")), Not(T("b"))))),
    ("NOT (a OR b)", only_not(Or((T("a"), T("b"))))),
    ("a OR b OR c", Or((T("a"), T("b"), T("c")))),
    ("a OR (b OR c)", Or((T("a"), T("b"), T("c")))),
    ("(a b) (c d)", And((T("a"), T("b"), T("c"), T("d")))),
    ("((((a))))", T("a")),
    ("a (b (c (d)))", And((T("a"), T("b"), T("c"), T("d")))),
    ("+a OR +b", Or((T("a"), T("b")))),
    ("a && b || c", Or((And((T("a"), T("b"))), T("c")))),
]


@pytest.mark.parametrize(("query", "expected"), PRECEDENCE)
def test_precedence(query: str, expected: Node) -> None:
    assert parse_query(query) == expected


NORMALISATION: list[tuple[str, Node]] = [
    ("-foo", only_not(T("foo"))),
    ("NOT foo", only_not(T("foo"))),
    ("!foo", only_not(T("foo"))),
    ("--foo", T("foo")),
    ("NOT NOT foo", T("foo")),
    ("NOT (NOT foo)", T("foo")),
    ("NOT -foo", T("foo")),
    ("a (-b)", And((T("a"), Not(T("b"))))),
    ("(-a -b) OR c", Or((And((MatchAll(), Not(T("a")), Not(T("b")))), T("c")))),
    ("* -x", only_not(T("x"))),
    ("* x", T("x")),
    ("* OR x", MatchAll()),
    ("+foo", T("foo")),
    ("title:(-a)", only_not(T("a", "title"))),
]


@pytest.mark.parametrize(("query", "expected"), NORMALISATION)
def test_normalisation(query: str, expected: Node) -> None:
    assert parse_query(query) == expected


def _nots_have_positive_siblings(node: Node, parent: Node | None) -> bool:
    if isinstance(node, Not):
        if not isinstance(parent, And) or all(isinstance(i, Not) for i in parent.items):
            return False
        return _nots_have_positive_siblings(node.item, node)
    if isinstance(node, And | Or):
        same = type(node)
        return all(
            not isinstance(i, same) and _nots_have_positive_siblings(i, node) for i in node.items
        ) and (len(node.items) > 1)
    return True


@pytest.mark.parametrize(
    "query",
    [
        "-a",
        "a OR -b",
        "NOT (a OR -b) OR (c -d)",
        "((-a)) ((-b))",
        "title:(-a OR -b) -(c OR (-d e))",
        "NOT NOT NOT a",
    ],
)
def test_tree_invariants(query: str) -> None:
    """Every Not sits in an And with a positive item; no And in And, no Or in Or, no 1-item."""
    assert _nots_have_positive_siblings(parse_query(query), None)


def test_required_marker_is_kept_but_not_compared() -> None:
    node = parse_query("+Kabul")
    assert isinstance(node, Term) and node.required
    assert node == Term("Kabul")
    assert not Term("Kabul").required


# --- fields ----------------------------------------------------------------------------------

ALIASES = [
    ("title", "title"),
    ("publisher", "publisher"),
    ("country", "country"),
    ("countries", "country"),
    ("language", "language"),
    ("lang", "language"),
    ("type", "type"),
    ("document_type", "type"),
    ("doctype", "type"),
    ("collection", "collection"),
    ("body", "body"),
    ("text", "body"),
    ("docid", "docid"),
    ("source_id", "source_id"),
    ("sourceid", "source_id"),
]


@pytest.mark.parametrize(("alias", "canonical"), ALIASES)
def test_field_aliases(alias: str, canonical: str) -> None:
    assert FIELDS[alias] == canonical
    assert parse_query(f"{alias}:value") == Term("value", canonical)
    assert parse_query(f"{alias.upper()}:value") == Term("value", canonical)


@pytest.mark.parametrize("alias", ["date", "published", "publication_date", "year", "Year"])
def test_date_aliases(alias: str) -> None:
    assert parse_query(f"{alias}:2017") == year(2017)


def test_fields_mapping_is_read_only() -> None:
    with pytest.raises(TypeError):
        FIELDS["x"] = "y"  # type: ignore[index]


FIELD_VALUES: list[tuple[str, Node]] = [
    ('title:"border security"', Phrase("border security", "title")),
    ('title:"border security"~4', Phrase("border security", "title", 4)),
    ("title:(Kabul OR Herat)", Or((T("Kabul", "title"), T("Herat", "title")))),
    ("title:(Kabul Herat)", And((T("Kabul", "title"), T("Herat", "title")))),
    ("title:(Kabul body:Herat)", And((T("Kabul", "title"), T("Herat", "body")))),
    ("title:negotiat*", Prefix("negotiat", "title")),
    ("title:te?t", Wildcard("te?t", "title")),
    ("-title:Pakistan", only_not(T("Pakistan", "title"))),
    ("title:-Pakistan", only_not(T("Pakistan", "title"))),
    ('country:"Syrian Arab Republic"', Phrase("Syrian Arab Republic", "country")),
    (
        'publisher:"Radio Free Europe/Radio Liberty"',
        Phrase("Radio Free Europe/Radio Liberty", "publisher"),
    ),
    ("publisher:RFE/RL", T("RFE/RL", "publisher")),
    ("type:“Country Report”", Phrase("Country Report", "type")),
    ("source_id:refworld:5975a5b29", T("refworld:5975a5b29", "source_id")),
    ("docid:abcdefgh23", T("abcdefgh23", "docid")),
    ("title:http://x", T("http://x", "title")),
    ("title:AND\\ OR", T("AND OR", "title")),
    (
        'country:TJ "border security" date:2017',
        And((T("TJ", "country"), Phrase("border security"), year(2017))),
    ),
    (
        "(country:AF OR country:PK) type:report",
        And((Or((T("AF", "country"), T("PK", "country"))), T("report", "type"))),
    ),
]


@pytest.mark.parametrize(("query", "expected"), FIELD_VALUES)
def test_field_values(query: str, expected: Node) -> None:
    assert parse_query(query) == expected


# --- dates -----------------------------------------------------------------------------------

DATES: list[tuple[str, DateRange]] = [
    ("date:2017", year(2017)),
    ("date:2017-02", days("2017-02-01", "2017-02-28")),
    ("date:2016-02", days("2016-02-01", "2016-02-29")),
    ("date:2017-2", days("2017-02-01", "2017-02-28")),
    ("date:2017-02-27", days("2017-02-27", "2017-02-27")),
    ("date:2017-01-01..2017-12-31", days("2017-01-01", "2017-12-31")),
    ("date:2015..2017", days("2015-01-01", "2017-12-31")),
    ("date:2017-03..2017-05", days("2017-03-01", "2017-05-31")),
    ("date:2017-01-01..", days("2017-01-01", None)),
    ("date:..2017-12-31", days(None, "2017-12-31")),
    ("date:[2017-01-01 TO 2017-12-31]", days("2017-01-01", "2017-12-31")),
    ("date:[2017 TO 2018]", days("2017-01-01", "2018-12-31")),
    ("date:[2017-01-01 to 2017-06-30]", days("2017-01-01", "2017-06-30")),
    ("date:[2017 TO *]", days("2017-01-01", None)),
    ("date:[* TO 2017]", days(None, "2017-12-31")),
    ("date:[2017 TO]", days("2017-01-01", None)),
    ("date:{2016 TO 2018}", year(2017)),
    ("date:[2017-01-01 TO 2017-07-01}", days("2017-01-01", "2017-06-30")),
    ("date:>=2017-01-01", days("2017-01-01", None)),
    ("date:>2017", days("2018-01-01", None)),
    ("date:>2017-02", days("2017-03-01", None)),
    ("date:<2018", days(None, "2017-12-31")),
    ("date:<=2018", days(None, "2018-12-31")),
    ("date:<2017-03-01", days(None, "2017-02-28")),
    ('date:"2017-02"', days("2017-02-01", "2017-02-28")),
    ("year:2017", year(2017)),
    ("year:2015..2017", days("2015-01-01", "2017-12-31")),
    ("published:2017-02-27", days("2017-02-27", "2017-02-27")),
]


@pytest.mark.parametrize(("query", "expected"), DATES)
def test_dates(query: str, expected: DateRange) -> None:
    assert parse_query(query) == expected


def test_dates_in_groups_and_with_words() -> None:
    assert parse_query("date:(2017 OR 2019)") == Or((year(2017), year(2019)))
    assert parse_query("-date:2017 Tajikistan") == And((Not(year(2017)), T("Tajikistan")))
    assert parse_query("(date:2017 OR date:[2019 TO 2020]) Kulob") == And(
        (Or((year(2017), days("2019-01-01", "2020-12-31"))), T("Kulob"))
    )


# --- errors ----------------------------------------------------------------------------------

ERRORS: list[tuple[str, str, int | None]] = [
    # (query, a fragment of the message, position)
    ("", "The query is empty", None),
    ("   \t\n ", "The query is empty", None),
    ("- & –", "no words to search for", None),
    ("(Kabul", "This ( is never closed", 0),
    ("a (b (c) d", "This ( is never closed", 2),
    ("Kabul)", "This ) has no matching (", 5),
    (") Kabul", "This ) has no matching (", 0),
    ('"border security', "This quote is never closed", 0),
    ('a "b" "c', "This quote is never closed", 6),
    ('"abc\\"', "This quote is never closed", 0),
    ("AND foo", "AND has nothing on its left", 0),
    ("OR foo", "OR has nothing on its left", 0),
    ("(OR foo)", "OR has nothing on its left", 1),
    ("foo OR", "OR has nothing on its right", 4),
    ("Kabul (", "The query ends with an opening parenthesis '(': close it or remove it", 6),
    ("(", "The query ends with an opening parenthesis '('", 0),
    ("(Kabul OR (", "The query ends with an opening parenthesis '('", 10),
    ("foo AND", "AND has nothing on its right", 4),
    ("foo ||", "|| has nothing on its right", 4),
    ("(foo OR) bar", "OR has nothing on its right", 5),
    ("NOT", "NOT has nothing after it", 0),
    ("foo NOT", "NOT has nothing after it", 4),
    ("(foo NOT)", "NOT has nothing after it", 5),
    ("foo AND AND bar", "AND cannot follow AND: two operators in a row", 8),
    ("foo OR AND bar", "AND cannot follow OR: two operators in a row", 7),
    ("foo NOT OR bar", "OR cannot follow NOT: two operators in a row", 8),
    ("()", "Empty parentheses", 0),
    ("a ( ) b", "Empty parentheses", 2),
    ('""', "Empty phrase", 0),
    ('a "  "', "Empty phrase", 2),
    ('"!?"', "This phrase has no letters or digits", 0),
    ('"a b"~', "Proximity needs a whole number from 0 to 100", 5),
    ('"a b"~x', "Proximity needs a whole number", 5),
    ('"a b"~101', "Proximity needs a whole number", 5),
    ('"a b"~5x', "Proximity needs a whole number", 5),
    ('"a b"~1.5', "Proximity needs a whole number", 5),
    ('"a b"~-1', "Proximity needs a whole number", 5),
    ('"a b"~99999999999999999999', "Proximity needs a whole number", 5),
    ("foo:bar", "Unknown field 'foo'", 0),
    ("Kabul foo:bar", "Unknown field 'foo'", 6),
    ("mailto:x@example.org", "Unknown field 'mailto'", 0),
    ("title:", "The field title: has no value", 0),
    ("Kabul title: Herat", "The field title: has no value", 6),
    ("(title:)", "The field title: has no value", 1),
    ("title:OR x", "The field title: has no value", 0),
    ("title:&", "title:& has no letters or digits", 0),
    ("title:-&", "title:-& has no letters or digits", 0),
    ("*term", "A word cannot start with * or ?", 0),
    ("?erm", "A word cannot start with * or ?", 0),
    ("Kabul title:*", "A word cannot start with * or ?", 12),
    ("a*", "A wildcard needs at least 2 characters before *", 0),
    ("x title:a*", "A wildcard needs at least 2 characters before *", 8),
    ("foo~", "Fuzzy search (word~N) is not supported", 0),
    ("foo~2", "Fuzzy search (word~N) is not supported", 0),
    ("foo\\", "lone backslash", 3),
    ("(" * 51 + "a" + ")" * 51, "Parentheses are nested more than 50 deep", 50),
    ("date:2017-13-01", "'2017-13-01' is not a valid date", 5),
    ("date:2017-02-30", "'2017-02-30' is not a valid date", 5),
    ("date:0000", "'0000' is not a valid date", 5),
    ("date:2017-01-01..2017-13-01", "'2017-13-01' is not a valid date", 17),
    ("date:[2017-01-01 TO 2017-13-01]", "'2017-13-01' is not a valid date", 20),
    ("date:>=2017-00", "'2017-00' is not a valid date", 7),
    ("date:17", "'17' is not a date", 5),
    ("date:yesterday", "'yesterday' is not a date", 5),
    ("date:2017*", "is not a date", 5),
    ("date:..", "date:.. has no letters or digits", 0),
    ("date:1..", "'1' is not a valid date", 5),
    ("date:2018..2017", "The date range starts (2018-01-01) after it ends (2017-12-31)", 5),
    ("date:[2018 TO 2017]", "The date range starts", 5),
    ("date:{2017 TO 2018}", "The date range starts (2018-01-01) after it ends (2017-12-31)", 5),
    ("date:>9999", "This date is out of range", 6),
    ("date:<0001-01-01", "This date is out of range", 6),
    ("date:[2017 TO 2018", "This [ is never closed", 5),
    ("date:[2017 2018]", "Write a date range as [2017-01-01 TO 2017-12-31]", 5),
    ("date:", "The field date: has no value", 0),
    ("title:[2017 TO 2018]", "Only the date field takes ranges, not title", 6),
    ("[2017 TO 2018]", "A range needs the date field", 0),
    ("title:2017..2018", "Only the date field takes dates and ranges, not title", 6),
    ("country:>=2017", "Only the date field takes dates and ranges, not country", 8),
    ("2017..2018", "need the date field: write date:2017..2018", 0),
    ("x" * 2001, "The query is 2,001 characters long; the limit is 2,000", None),
]


@pytest.mark.parametrize(("query", "message", "position"), ERRORS)
def test_errors(query: str, message: str, position: int | None) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(query)
    assert message in info.value.message
    assert info.value.position == position
    assert info.value.query == query


def test_unknown_field_lists_the_known_ones() -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse_query("regoin:Kabul")
    for name in ("title", "publisher", "country", "language", "type", "date", "year", "docid"):
        assert name in info.value.message


def test_error_draws_a_caret_under_the_position() -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse_query("Kabul foo:bar")
    assert str(info.value).splitlines()[1:] == ["  Kabul foo:bar", "        ^"]


def test_max_chars_is_configurable() -> None:
    assert parse_query("a" * 3000, max_chars=5000) == T("a" * 3000)
    with pytest.raises(QuerySyntaxError, match="the limit is 10"):
        parse_query("Hazara returnees", max_chars=10)


def test_deep_unary_chains_do_not_recurse() -> None:
    assert parse_query("-" * 1998 + "a") == T("a")
    assert parse_query("NOT " * 499 + "a") == only_not(T("a"))


def test_nesting_at_the_limit_is_fine() -> None:
    assert parse_query("(" * 50 + "a" + ")" * 50) == T("a")


def test_positions_are_recorded_on_nodes() -> None:
    node = parse_query('Kabul title:"border security" date:2017 negotiat* te?t')
    assert isinstance(node, And)
    assert [getattr(item, "pos", None) for item in node.items] == [0, 12, 35, 40, 50]


def test_the_parser_does_not_import_tantivy() -> None:
    code = "import sys, sourcebook.search.query; print('tantivy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- plain-text mode -------------------------------------------------------------------------

PLAIN: list[tuple[str, list[str]]] = [
    (
        "What is the situation of Hazaras returning from Iran?",
        ["What", "is", "the", "situation", "of", "Hazaras", "returning", "from", "Iran"],
    ),
    ("TSS (Time Sharing System)", ["TSS", "Time", "Sharing", "System"]),
    ("al-Shabaab recruitment", ["al", "Shabaab", "recruitment"]),
    ("Tajikistan's border", ["Tajikistan", "s", "border"]),
    ("Iran iran IRAN Iranian", ["Iran", "Iranian"]),
    ('country:TJ "border security" -foo*', ["country", "TJ", "border", "security", "foo"]),
    ("Côte d'Ivoire: réfugiés", ["Côte", "d", "Ivoire", "réfugiés"]),
    ("Положение таджиков в России?", ["Положение", "таджиков", "в", "России"]),
    ("وضع الهزارة في أفغانستان", ["وضع", "الهزارة", "في", "أفغانستان"]),
    ("مُحَمَّد", ["مُحَمَّد"]),  # combining marks stay in the word
    ("Cafe\u0301 in Kabul", ["Cafe\u0301", "in", "Kabul"]),
    ("2017-02-27 12:30", ["2017", "02", "27", "12", "30"]),
    ("snake_case", ["snake", "case"]),
    ("Kabul", ["Kabul"]),
]


@pytest.mark.parametrize(("text", "words"), PLAIN)
def test_plain_mode(text: str, words: list[str]) -> None:
    node = parse_plain(text)
    expected: Node = Term(words[0]) if len(words) == 1 else Or(tuple(Term(w) for w in words))
    assert node == expected


def test_plain_mode_keeps_the_first_64_distinct_words() -> None:
    words = [f"w{i}" for i in range(100)]
    node = parse_plain(" ".join(words + words))
    assert isinstance(node, Or)
    assert len(node.items) == MAX_PLAIN_TERMS
    assert node.items == tuple(Term(w) for w in words[:MAX_PLAIN_TERMS])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The query is empty"),
        ("  \n", "The query is empty"),
        ("?!? – ...", "no words to search for"),
        ("x" * 2001, "2,001 characters long"),
    ],
)
def test_plain_mode_errors(text: str, message: str) -> None:
    with pytest.raises(QuerySyntaxError, match=message.replace("?", "\\?")):
        parse_plain(text)


@pytest.mark.parametrize(
    "text",
    ['"unclosed', "foo:bar (", "AND OR NOT", "*term a* ((", "date:2017-13-01", "foo\\"],
)
def test_plain_mode_never_raises_on_bad_syntax(text: str) -> None:
    assert isinstance(parse_plain(text), Term | Or)


SYNTAX = [
    'country:TJ "border security" date:2017',
    '"border security"',
    "“border security” Tajikistan",
    '"forced marriage"~3 Afghanistan',
    "title:Hazara",
    "COUNTRY:AF returnees",
    "(country:AF OR country:PK) -title:Pakistan",
    "date:2017",
    "year:2017 Kulob",
    "Hazara OR Hazaras",
    "Hazara AND Iran",
    "Kabul && Herat",
    "Hazara NOT Iran",
    "NOT Iran",
    "ISIS OR DAESH",
    "Taliban -Pakistan",
    "+Kabul +Herat",
    "!Kabul",
    "-(Kabul OR Herat)",
    "negotiat* Tajik",
    "(returnee* OR deportee*)",
    "طالبان OR داعش",
]

PLAIN_TEXT = [
    "What is the situation of Hazaras returning from Iran?",
    "TSS (Time Sharing System)",
    "Is FGM practised in Sierra Leone - yes or no?",
    "treatment of Ahmadis and Christians in Pakistan",
    "Syria: situation of Kurds in Afrin",
    "Note:the report is from 2017",
    "See https://www.refworld.org/docid/5975a5b29.html",
    "Meeting at 12:30 in Dushanbe",
    "Tajik-Afghan border security",
    "Putin and Rahmon agree to bolster Tajik-Afghan border security",
    "Is it safe for women to travel alone?",
    "Côte d'Ivoire : situation des réfugiés",
    "Положение хазарейцев в Иране?",
    "WHAT IS THE SITUATION OF HAZARAS AND TAJIKS IN IRAN",
    "children aged 5-10 in camps",
    "-5 degrees in Kabul",
    "+49 30 1234 phone number",
    "C++ programming",
    "AND",
    "Hazara AND",
    "He said “no",
]


@pytest.mark.parametrize("text", SYNTAX)
def test_looks_like_syntax(text: str) -> None:
    assert looks_like_syntax(text)


@pytest.mark.parametrize("text", PLAIN_TEXT)
def test_looks_like_plain_text(text: str) -> None:
    assert not looks_like_syntax(text)


# --- the user's page ------------------------------------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "query-language.md"


def _doc_table(heading: str) -> list[list[str]]:
    """The rows (cells) of the first table under ``## heading`` in docs/query-language.md."""
    section = DOC.read_text(encoding="utf-8").split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")][2:]
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows]


def _code(cell: str) -> list[str]:
    return [c.replace("\\|", "|") for c in re.findall(r"`([^`]+)`", cell)]


def test_documented_coi_examples_parse() -> None:
    rows = _doc_table("Examples from COI work")
    assert len(rows) >= 8
    for row in rows:
        for query in _code(row[0]):
            assert looks_like_syntax(query), query
            parse_query(query)


def test_documented_dates_parse_to_ranges() -> None:
    for row in _doc_table("Dates"):
        for query in _code(row[0]):
            node = parse_query(query)
            items = node.items if isinstance(node, Or) else (node,)
            assert all(isinstance(item, DateRange) for item in items), query


def test_documented_error_messages_are_the_real_ones() -> None:
    checked = 0
    for message, example in _doc_table("Error messages"):
        if example.startswith("("):  # a remark, not an example
            continue
        examples = [e for e in _code(example) if e.strip()]
        for query in examples:
            with pytest.raises(QuerySyntaxError) as info:
                parse_query(query)
            expected = message.split(" …")[0].replace("\\\\", "\\")
            assert info.value.message.startswith(expected), (query, info.value.message)
            checked += 1
    assert checked >= 30


# --- fuzz ------------------------------------------------------------------------------------

PIECES = [
    *"()\"“”\\*?-+!:[]{}~.<>=/&|' \t\n",
    "AND", "OR", "NOT", "&&", "||", "TO", " TO ", "..", ">=", "<=", "~5", "~101",
    "title:", "date:", "year:", "country:", "foo:", "http://", "12:30", "*:*",
    "Kabul", "a", "te", "2017", "2017-02", "2017-02-30", "2017-13", "0000", "9999",
    "é", "Д", "ع", "\u0301", "_", "0", "\x00",
]  # fmt: skip


def _check_any_input(text: str) -> None:
    try:
        node = parse_query(text)
    except QuerySyntaxError as exc:
        assert exc.position is None or 0 <= exc.position <= len(text)
    else:
        assert isinstance(node, Term | Phrase | Prefix | Wildcard | DateRange | And | Or | MatchAll)
        assert _nots_have_positive_siblings(node, None)
    try:
        assert isinstance(parse_plain(text), Term | Or)
    except QuerySyntaxError as exc:
        assert any(why in exc.message for why in ("empty", "no words", "characters long"))
    assert looks_like_syntax(text) in (True, False)


def test_fuzz_seeded() -> None:
    rng = random.Random(20170227)
    for _ in range(5000):
        _check_any_input("".join(rng.choice(PIECES) for _ in range(rng.randint(0, 25))))
    for _ in range(300):  # long inputs, around and over the limit
        _check_any_input("".join(rng.choice(PIECES) for _ in range(rng.randint(300, 900))))


try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis is optional

    def test_fuzz_hypothesis_skipped() -> None:
        pytest.skip("hypothesis is not installed: the seeded fuzz above still runs")

else:

    @settings(max_examples=1500, deadline=None)
    @given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
    def test_fuzz_hypothesis(text: str) -> None:
        _check_any_input(text)

    @settings(max_examples=1000, deadline=None)
    @given(st.text(max_size=60))
    def test_fuzz_hypothesis_any_text(text: str) -> None:
        _check_any_input(text)
