"""The advanced search form's fields turned into a query string, for users who do not write syntax.

Each field becomes a clause of the query language (docs/query-language.md); anything the user
types is made literal, so no input can become an operator or a syntax error: ordinary words are
kept as they are, anything else is quoted as a phrase with ``\\`` and quotes escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ORDINARY_WORD = re.compile(r"^[^\W_][\w'’.-]*$")
_PREFIX = re.compile(r"^[^\W_][\w'’-]+\*$")  # at least two characters before a trailing *
_HAS_TEXT = re.compile(r"[^\W_]")
_OPERATORS = frozenset({"AND", "OR", "NOT", "TO"})
_SPLIT = re.compile(r"\s+")


@dataclass
class AdvancedForm:
    all_words: str = ""
    phrase: str = ""
    any_words: str = ""
    none_words: str = ""
    title_words: str = ""
    publisher: str = ""


def literal(text: str) -> str:
    """``text`` as one literal word or phrase of the query language ("" if it has no letters)."""
    text = text.strip()
    if not _HAS_TEXT.search(text):
        return ""
    if (_ORDINARY_WORD.match(text) and text not in _OPERATORS) or _PREFIX.match(text):
        return text
    escaped = "".join("\\" + ch if ch in '\\"“”' else ch for ch in text)
    return f'"{escaped}"'


def words(text: str) -> list[str]:
    return [w for w in (literal(part) for part in _SPLIT.split(text)) if w]


def build_query(form: AdvancedForm) -> str:
    """The query string for the form; "" when every field is empty."""
    clauses: list[str] = []
    clauses.extend(words(form.all_words))
    phrase = literal(" ".join(form.phrase.split()))
    if phrase:
        clauses.append(phrase if phrase.startswith('"') else f'"{phrase}"')
    any_words = words(form.any_words)
    if len(any_words) == 1:
        clauses.append(any_words[0])
    elif any_words:
        clauses.append("(" + " OR ".join(any_words) + ")")
    title_words = words(form.title_words)
    if len(title_words) == 1:
        clauses.append(f"title:{title_words[0]}")
    elif title_words:
        clauses.append("title:(" + " ".join(title_words) + ")")
    publisher = literal(" ".join(form.publisher.split()))
    if publisher:
        clauses.append(f"publisher:{publisher}")
    # a query of exclusions only searches everything except them
    clauses.extend(f"-{w}" for w in words(form.none_words))
    return " ".join(clauses)
