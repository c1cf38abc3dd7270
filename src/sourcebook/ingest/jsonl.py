"""JSON Lines: Sourcebook's own export format, and BEIR ``corpus.jsonl`` collections.

Our records use exactly the :class:`~sourcebook.model.Document` field names. ``docid`` and
``source_key`` are carried through unchanged, so an exported archive re-imports to the same
docids; ``passages`` and ``revisions`` are derived by the archive and ignored on input, and
``origin`` is always where *this* read found the record. Every value is type-checked: a record
with a wrong type, an unreadable date or an unknown country is reported as a BadRecord naming its
line, and the rest of the file still goes in. Keys that are not record fields are ignored with
one warning per file (an export from a newer version may carry more).

A record with an ``_id`` key is a BEIR corpus record (``_id``, ``title``, ``text``); its
collection is the name of the folder that holds the file (``beir/scifact/corpus.jsonl`` is
collection ``scifact``), which is how BEIR names its data sets.

Two records of one file with the same identity (the same ``source_key``, or BEIR ``_id``: CACM
repeats ``_id`` 28) would silently overwrite each other in the archive, so the second is a
BadRecord naming the line of the first.

Dates are ISO ``YYYY-MM-DD`` (other clear forms are accepted too); ``last_updated`` is an ISO
datetime, taken as UTC when it has no offset.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sourcebook.countries import resolve_country, resolve_language
from sourcebook.dates import parse_date, parse_datetime
from sourcebook.ingest.registry import (
    BY_CONTENT,
    BY_EXTENSION,
    NO_MATCH,
    RECORD_ERRORS,
    Source,
    record_failure,
)
from sourcebook.model import BadRecord, Document, EmptyRecord

log = logging.getLogger(__name__)

__all__ = ["JsonlParser", "record_to_document"]

#: recomputed by the importing archive (places and near-duplicate groups by its enrichment)
_DERIVED_ON_IMPORT = frozenset({"passages", "revisions", "origin", "places", "dup_group"})
_FIELDS = frozenset(f.name for f in fields(Document))
_LIST_FIELDS = frozenset({"authors", "countries", "derived", "people", "organisations"})
_DATE_FIELDS = frozenset({"publication_date", "accessed_date"})
_OTHER_FIELDS = frozenset({"last_updated", "source_tags", "ocr_confidence"})
#: Every other field holds a string (the model's str fields: title, body, docid, ...).
_STRING_FIELDS = _FIELDS - _DERIVED_ON_IMPORT - _LIST_FIELDS - _DATE_FIELDS - _OTHER_FIELDS


class RecordError(ValueError):
    """One record is unusable; the message says which field and why."""


def _string(key: str, value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RecordError(f"{key} must be a string, not {type(value).__name__}")
    return value


def _string_list(key: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RecordError(f"{key} must be a list of strings")
    return list(value)


def _date(key: str, value: Any) -> date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RecordError(f"{key} must be a date string, not {type(value).__name__}")
    parsed = parse_date(value)
    if parsed is None:
        raise RecordError(f"{key} {value!r} is not a valid date (expected YYYY-MM-DD)")
    return parsed


def _datetime(key: str, value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RecordError(f"{key} must be a datetime string, not {type(value).__name__}")
    parsed = parse_datetime(value)
    if parsed is None:
        raise RecordError(f"{key} {value!r} is not a valid datetime (expected ISO 8601)")
    return parsed


def _tags(value: Any) -> dict[str, list[str]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RecordError("source_tags must be an object of lists of strings")
    return {str(k): _string_list(f"source_tags.{k}", v) for k, v in value.items()}


def _confidence(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise RecordError("ocr_confidence must be a number from 0 to 100, or null")
    return float(value)


def _countries(value: Any) -> list[str]:
    codes: list[str] = []
    for item in _string_list("countries", value):
        code = resolve_country(item)
        if code is None:
            raise RecordError(f"countries: {item!r} is not a known country or ISO code")
        if code not in codes:
            codes.append(code)
    return codes


def record_to_document(record: dict[str, Any]) -> Document:
    """A Document from one of our records; raises RecordError naming the bad field."""
    values: dict[str, Any] = {}
    for key, value in record.items():
        if key not in _FIELDS or key in _DERIVED_ON_IMPORT:
            continue
        if key in _STRING_FIELDS:
            values[key] = _string(key, value)
        elif key == "countries":
            values[key] = _countries(value)
        elif key in _LIST_FIELDS:
            values[key] = _string_list(key, value)
        elif key in _DATE_FIELDS:
            values[key] = _date(key, value)
        elif key == "last_updated":
            values[key] = _datetime(key, value)
        elif key == "source_tags":
            values[key] = _tags(value)
        elif key == "ocr_confidence":
            values[key] = _confidence(value)
    if values.get("language"):
        code = resolve_language(values["language"])
        if code is None:
            raise RecordError(f"language {values['language']!r} is not a known language")
        values["language"] = code
    if not values.get("title", "").strip() and not values.get("body", "").strip():
        raise RecordError("record has neither title nor body")
    return Document(**values)


def _beir_document(record: dict[str, Any], collection: str) -> Document:
    identifier = record["_id"]
    if isinstance(identifier, int) and not isinstance(identifier, bool):
        identifier = str(identifier)
    identifier = _string("_id", identifier)
    if not identifier:
        raise RecordError("_id is empty")
    title = _string("title", record.get("title"))
    body = _string("text", record.get("text"))
    if not title.strip() and not body.strip():
        raise RecordError("record has neither title nor text")
    return Document(
        source_id=identifier,
        title=title.strip(),
        body=body.strip(),
        collection=collection,
        source_key=f"beir:{collection}:{identifier}",
    )


class JsonlParser:
    """One JSON object per line: our records, or BEIR corpus records."""

    name = "jsonl"
    media_types: tuple[str, ...] = ("application/x-ndjson", "application/jsonl")
    extensions: tuple[str, ...] = ("jsonl", "ndjson")

    def match(self, source: Source) -> int:
        declared = source.extension in self.extensions or source.media_type in self.media_types
        first = source.head.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0]
        looks = first.startswith(b"{") and (
            first.rstrip().endswith(b"}") or len(first) >= len(source.head) - 1
        )
        if declared:
            return BY_CONTENT if looks else BY_EXTENSION
        return NO_MATCH

    def parse(self, source: Source) -> Iterator[Document | BadRecord | EmptyRecord]:
        path = source.path
        collection = collection_of(path)
        resolved = str(path.resolve())
        ignored: set[str] = set()
        seen: dict[str, int] = {}
        count = 0
        for number, line in enumerate(source.iter_lines(), start=1):
            if not line.strip():
                continue
            count += 1
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield BadRecord(where, f"not valid JSON: {exc.msg} (column {exc.colno})")
                continue
            except RecursionError as exc:
                yield record_failure(where, "the record", exc)
                continue
            if not isinstance(record, dict):
                yield BadRecord(where, f"expected a JSON object, got {type(record).__name__}")
                continue
            try:
                if "_id" in record:
                    doc = _beir_document(record, collection)
                else:
                    ignored.update(k for k in record if k not in _FIELDS)
                    doc = record_to_document(record)
            except RecordError as exc:
                yield BadRecord(where, str(exc))
                continue
            except RECORD_ERRORS as exc:  # a value our checks did not foresee; the next is read
                yield record_failure(where, "the record", exc)
                continue
            if not doc.source_key:
                doc.source_key = (
                    f"jsonl:{doc.collection}:{doc.source_id}"
                    if doc.source_id
                    else f"jsonl:{resolved}:{number}"
                )
            if doc.source_key in seen:
                yield BadRecord(
                    where,
                    f"duplicate identity {doc.source_key!r} (first on line {seen[doc.source_key]})",
                )
                continue
            seen[doc.source_key] = number
            doc.origin = f"{path}#{count}"
            yield doc
        if not count:
            yield EmptyRecord(str(path), "the file holds no records")
        if ignored:
            log.warning("%s: ignored keys that are not record fields: %s", path, sorted(ignored))


def collection_of(path: Path) -> str:
    """The BEIR collection name of a corpus file: its folder's name."""
    return path.resolve().parent.name
