"""Converting documents to and from database rows, and the content hash that decides revisions."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any

from sourcebook.model import Document, PlaceMention


def content_hash(doc: Document) -> str:
    """SHA-256 of the document's content fields in canonical JSON.

    Only what the source says counts: ingesting the same content again is a no-op, whatever the
    access date or file location.
    """
    canonical = json.dumps(doc.content(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso_date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def iso_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def parse_iso_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def parse_iso_datetime(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def loads(value: str) -> Any:
    """JSON from a column; the empty list and object (most of them) without the parser."""
    if value == "[]":
        return []
    if value == "{}":
        return {}
    return json.loads(value)


#: Columns of the documents table written from a Document, in order.
DOCUMENT_COLUMNS: tuple[str, ...] = (
    "docid",
    "source_key",
    "source_id",
    "title",
    "publisher",
    "authors",
    "publication_date",
    "last_updated",
    "source_url",
    "original_url",
    "accessed_date",
    "cite_as",
    "disclaimer",
    "copyright",
    "body",
    "document_type",
    "language",
    "countries",
    "collection",
    "source_tags",
    "derived",
    "origin",
    "places",
    "people",
    "organisations",
    "dup_group",
    "ocr_confidence",
)


def document_values(doc: Document) -> tuple[Any, ...]:
    """Values for DOCUMENT_COLUMNS."""
    return (
        doc.docid,
        doc.source_key,
        doc.source_id,
        doc.title,
        doc.publisher,
        dumps(doc.authors),
        iso_date(doc.publication_date),
        iso_datetime(doc.last_updated),
        doc.source_url,
        doc.original_url,
        iso_date(doc.accessed_date),
        doc.cite_as,
        doc.disclaimer,
        doc.copyright,
        doc.body,
        doc.document_type,
        doc.language,
        dumps(doc.countries),
        doc.collection,
        dumps(doc.source_tags),
        dumps(doc.derived),
        doc.origin,
        dumps([vars(p) for p in doc.places]),
        dumps(doc.people),
        dumps(doc.organisations),
        doc.dup_group,
        doc.ocr_confidence,
    )


def document_from_row(row: Any) -> Document:
    """A Document from a row mapping with DOCUMENT_COLUMNS (passages and revisions not set)."""
    return Document(
        docid=row["docid"],
        source_key=row["source_key"],
        source_id=row["source_id"],
        title=row["title"],
        publisher=row["publisher"],
        authors=loads(row["authors"]),
        publication_date=parse_iso_date(row["publication_date"]),
        last_updated=parse_iso_datetime(row["last_updated"]),
        source_url=row["source_url"],
        original_url=row["original_url"],
        accessed_date=parse_iso_date(row["accessed_date"]),
        cite_as=row["cite_as"],
        disclaimer=row["disclaimer"],
        copyright=row["copyright"],
        body=row["body"],
        document_type=row["document_type"],
        language=row["language"],
        countries=loads(row["countries"]),
        collection=row["collection"],
        source_tags=loads(row["source_tags"]),
        derived=loads(row["derived"]),
        origin=row["origin"],
        places=[PlaceMention(**p) for p in loads(row["places"])],
        people=loads(row["people"]),
        organisations=loads(row["organisations"]),
        dup_group=row["dup_group"],
        ocr_confidence=row["ocr_confidence"],
    )
