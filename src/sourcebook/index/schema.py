"""The Tantivy schema. Bump SCHEMA_VERSION whenever it changes: the index is then rebuilt."""

from __future__ import annotations

import zlib
from datetime import date
from functools import cache
from typing import Any

import tantivy

from sourcebook.index.analyzers import LANGUAGES, tokenizer_name

SCHEMA_VERSION = 7

#: Tantivy dates are 64-bit nanoseconds since 1970: the range a date field can hold (publication
#: dates outside it stay in the store but are not indexed as dates).
INDEX_DATE_MIN = date(1678, 1, 1)
INDEX_DATE_MAX = date(2262, 1, 1)

#: Keyword fields: exact values, fast (columnar) for facets and filters.
#: Documents fall into this many ``sample`` buckets (by a hash of their docid).
SAMPLE_BUCKETS = 1024


def sample_bucket(docid: str) -> int:
    """The document's sample bucket: stable, and uniform over docids."""
    return zlib.crc32(docid.encode()) % SAMPLE_BUCKETS


KEYWORD_FIELDS: tuple[str, ...] = (
    "country",
    "language",
    "type",
    "collection",
    "publisher_exact",
    "place_exact",
    "person_exact",
    "organisation_exact",
    "dup_group",
)
#: Name fields searchable word by word (``person:putin``), beside their exact facet fields.
NAME_FIELDS: tuple[str, ...] = ("place", "person", "organisation")


def text_field(kind: str, lang: str) -> str:
    """Name of the analysed field for ``kind`` ("title" or "body") in analyzer language ``lang``."""
    return f"{kind}_{lang}"


def build_schema() -> Any:
    return _build()[0]


@cache
def field_names() -> tuple[str, ...]:
    """The schema's field names in the order Tantivy numbers them (its score explanations name
    a field by that number)."""
    return _build()[1]


def _build() -> tuple[Any, tuple[str, ...]]:
    sb = tantivy.SchemaBuilder()
    names: list[str] = []

    def add(kind: str, name: str, **options: Any) -> None:
        getattr(sb, f"add_{kind}_field")(name, **options)
        names.append(name)

    add("text", "docid", stored=True, fast=True, tokenizer_name="raw")
    add("text", "chash", stored=True, tokenizer_name="raw")
    for lang in LANGUAGES:
        add("text", text_field("title", lang), tokenizer_name=tokenizer_name(lang))
        add("text", text_field("body", lang), tokenizer_name=tokenizer_name(lang))
    add("text", "publisher", tokenizer_name=tokenizer_name("xx"))
    for name in NAME_FIELDS:
        add("text", name, tokenizer_name=tokenizer_name("xx"))
    for name in KEYWORD_FIELDS:
        add("text", name, fast=True, tokenizer_name="raw")
    add("text", "source_id", tokenizer_name="raw")
    add("text", "title_sort", fast=True, tokenizer_name="raw")
    add("date", "date", indexed=True, fast=True)
    add("unsigned", "year", indexed=True, fast=True)
    add("unsigned", "has_date", indexed=True, fast=True)
    # the docid as a number (ids.id_number), read in bulk: which documents pass a search's
    # filters, for a vector search kept to them (search/hybrid.py)
    add("unsigned", "doc_key", fast=True)
    # a number per near-duplicate group, read from the columnar store to collapse a page
    add("unsigned", "dup_key", fast=True)
    add("unsigned", "dup_leader", fast=True)  # 1 for the group's earliest member
    # a fixed pseudo-random bucket per document: facets of very broad queries count a sample
    add("unsigned", "sample", indexed=True)
    return sb.build(), tuple(names)
