"""PostgreSQL rows: documents to and from PostgreSQL types, connection strings, migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from typing import Any

import psycopg
from psycopg import Connection
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow
from psycopg.types.json import Json, Jsonb

from sourcebook.model import Document, Passage, PlaceMention, Revision
from sourcebook.store.codec import DOCUMENT_COLUMNS

Conn = Connection[DictRow]
#: The internal key and the document columns, as selected.
SELECT = ", ".join(("id", *DOCUMENT_COLUMNS))


def migration_scripts() -> list[tuple[str, str]]:
    """(name, sql) of every PostgreSQL migration shipped with the package, in order."""
    folder = resources.files("sourcebook.store") / "migrations" / "postgres"
    scripts = [
        (entry.name.removesuffix(".sql"), entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    ]
    return sorted(scripts)


def utc(value: datetime | None) -> datetime | None:
    """An aware UTC datetime (a naive one is taken as UTC, as the SQLite store does)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def pg_text(value: Any) -> Any:
    """A string PostgreSQL can hold: NUL (which SQLite keeps, PostgreSQL refuses in text) becomes
    U+FFFD, one character for one, so passage offsets stay valid; lists element by element;
    anything else as it is."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, list):
        return [pg_text(v) for v in value]
    return value


def document_values(doc: Document) -> tuple[Any, ...]:
    """Values for COLUMNS, in PostgreSQL types."""
    return tuple(pg_text(v) for v in _values(doc))


def _values(doc: Document) -> tuple[Any, ...]:
    return (
        doc.docid,
        doc.source_key,
        doc.source_id,
        doc.title,
        doc.publisher,
        list(doc.authors),
        doc.publication_date,
        utc(doc.last_updated),
        doc.source_url,
        doc.original_url,
        doc.accessed_date,
        doc.cite_as,
        doc.disclaimer,
        doc.copyright,
        doc.body,
        doc.document_type,
        doc.language,
        list(doc.countries),
        doc.collection,
        Json(doc.source_tags),
        list(doc.derived),
        doc.origin,
        Jsonb([vars(p) for p in doc.places]),
        list(doc.people),
        list(doc.organisations),
        doc.dup_group,
        doc.ocr_confidence,
    )


def document_from_row(row: DictRow) -> Document:
    """A Document from a row with COLUMNS (passages and revisions not set)."""
    return Document(
        docid=row["docid"],
        source_key=row["source_key"],
        source_id=row["source_id"],
        title=row["title"],
        publisher=row["publisher"],
        authors=list(row["authors"]),
        publication_date=row["publication_date"],
        last_updated=utc(row["last_updated"]),
        source_url=row["source_url"],
        original_url=row["original_url"],
        accessed_date=row["accessed_date"],
        cite_as=row["cite_as"],
        disclaimer=row["disclaimer"],
        copyright=row["copyright"],
        body=row["body"],
        document_type=row["document_type"],
        language=row["language"],
        countries=list(row["countries"]),
        collection=row["collection"],
        source_tags=row["source_tags"],
        derived=list(row["derived"]),
        origin=row["origin"],
        places=[PlaceMention(**p) for p in row["places"]],
        people=list(row["people"]),
        organisations=list(row["organisations"]),
        dup_group=row["dup_group"],
        ocr_confidence=row["ocr_confidence"],
    )


def describe(url: str) -> str:
    """The server and database of a connection string, without its password."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "PostgreSQL (unreadable connection string)"
    host = parts.get("host") or "localhost"
    return f"PostgreSQL database {parts.get('dbname', '')!s} at {host}:{parts.get('port') or 5432}"


def load_passages(conn: Conn, ids: dict[int, Document]) -> None:
    """Fill in the passages of documents by their internal keys."""
    if not ids:
        return
    for row in conn.execute(
        'SELECT document_id, seq, start, "end", language FROM passages'
        " WHERE document_id = ANY(%s) ORDER BY document_id, seq",
        (list(ids),),
    ):
        doc = ids[row["document_id"]]
        doc.passages.append(
            Passage(
                seq=row["seq"],
                start=row["start"],
                end=row["end"],
                text=doc.body[row["start"] : row["end"]],
                language=row["language"],
            )
        )


def load_revisions(conn: Conn, ids: dict[int, Document]) -> None:
    """Fill in the revisions of documents by their internal keys."""
    if not ids:
        return
    for rev in conn.execute(
        "SELECT document_id, number, content_hash, recorded_at, changed_fields FROM revisions"
        " WHERE document_id = ANY(%s) ORDER BY document_id, number",
        (list(ids),),
    ):
        ids[rev["document_id"]].revisions.append(
            Revision(
                number=rev["number"],
                content_hash=rev["content_hash"],
                recorded_at=rev["recorded_at"],
                changed_fields=list(rev["changed_fields"]),
            )
        )
