"""The Tantivy schema. Bump SCHEMA_VERSION whenever it changes: the index is then rebuilt."""

from __future__ import annotations

import zlib
from datetime import date
from typing import Any

import tantivy

from sourcebook.index.analyzers import LANGUAGES, tokenizer_name

SCHEMA_VERSION = 5

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
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("docid", stored=True, fast=True, tokenizer_name="raw")
    sb.add_text_field("chash", stored=True, tokenizer_name="raw")
    for lang in LANGUAGES:
        sb.add_text_field(text_field("title", lang), tokenizer_name=tokenizer_name(lang))
        sb.add_text_field(text_field("body", lang), tokenizer_name=tokenizer_name(lang))
    sb.add_text_field("publisher", tokenizer_name=tokenizer_name("xx"))
    for name in NAME_FIELDS:
        sb.add_text_field(name, tokenizer_name=tokenizer_name("xx"))
    for name in KEYWORD_FIELDS:
        sb.add_text_field(name, fast=True, tokenizer_name="raw")
    sb.add_text_field("source_id", tokenizer_name="raw")
    sb.add_text_field("title_sort", fast=True, tokenizer_name="raw")
    sb.add_date_field("date", indexed=True, fast=True)
    sb.add_unsigned_field("year", indexed=True, fast=True)
    sb.add_unsigned_field("has_date", indexed=True, fast=True)
    # a number per near-duplicate group, read from the columnar store to collapse a page
    sb.add_unsigned_field("dup_key", fast=True)
    sb.add_unsigned_field("dup_leader", fast=True)  # 1 for the group's earliest member
    # a fixed pseudo-random bucket per document: facets of very broad queries count a sample
    sb.add_unsigned_field("sample", indexed=True)
    return sb.build()
