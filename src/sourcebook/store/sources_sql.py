"""The source registry and kept originals in SQL, shared by both backends.

Statements are written with ``?`` placeholders; PostgreSQL's module turns them into ``%s``.
Rows come back as mappings (``sqlite3.Row`` or psycopg's ``dict_row``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from sourcebook.sources.model import Original, Source

#: Source fields set when it is added; the others are its state, written after each run.
CONFIG = ("name", "url", "kind", "every_seconds", "collection", "oai_set", "follow", "max_pages")
STATE = tuple(f.name for f in fields(Source) if f.name not in (*CONFIG, "created_at"))
SOURCE_COLUMNS = (*CONFIG, "created_at", *STATE)
DATETIMES = {"created_at", "last_run_at", "last_success_at"}

INSERT_SOURCE = (
    f"INSERT INTO sources ({', '.join(SOURCE_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(SOURCE_COLUMNS))})"
)
SELECT_SOURCES = f"SELECT {', '.join(SOURCE_COLUMNS)} FROM sources"
UPDATE_STATE = f"UPDATE sources SET {', '.join(f'{c} = ?' for c in STATE)} WHERE name = ?"

ORIGINAL_COLUMNS = (
    "docid",
    "revision",
    "source",
    "url",
    "final_url",
    "fetched_at",
    "status",
    "content_type",
    "sha256",
    "size",
    "headers",
)
INSERT_ORIGINAL = (
    f"INSERT INTO originals ({', '.join(ORIGINAL_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(ORIGINAL_COLUMNS))})"
)
SELECT_ORIGINALS = f"SELECT id, {', '.join(ORIGINAL_COLUMNS)} FROM originals"
#: Blobs no original refers to any more (after a document was deleted).
DELETE_ORPHAN_BLOBS = (
    "DELETE FROM original_blobs WHERE NOT EXISTS"
    " (SELECT 1 FROM originals o WHERE o.sha256 = original_blobs.sha256)"
)


def as_datetime(value: Any) -> datetime | None:
    """A stored time (ISO text in SQLite, timestamptz in PostgreSQL) as an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def source_values(source: Source, columns: tuple[str, ...], text_times: bool) -> list[Any]:
    out: list[Any] = []
    for name in columns:
        value = getattr(source, name)
        if name in DATETIMES and value is not None and text_times:
            value = value.astimezone(UTC).isoformat()
        out.append(value)
    return out


def source_from_row(row: Mapping[str, Any]) -> Source:
    values = {c: row[c] for c in SOURCE_COLUMNS}
    for name in DATETIMES:
        values[name] = as_datetime(values[name])
    return Source(**values)


def original_values(original: Original, text_times: bool) -> list[Any]:
    out: list[Any] = []
    for name in ORIGINAL_COLUMNS:
        value = getattr(original, name)
        if name == "fetched_at" and text_times:
            value = value.astimezone(UTC).isoformat()
        elif name == "headers":
            value = json.dumps(value, ensure_ascii=False)
        out.append(value)
    return out


def original_from_row(row: Mapping[str, Any]) -> Original:
    headers = row["headers"]
    if isinstance(headers, str):
        headers = json.loads(headers)
    fetched = as_datetime(row["fetched_at"])
    assert fetched is not None
    return Original(
        docid=row["docid"],
        revision=int(row["revision"]),
        source=row["source"],
        url=row["url"],
        final_url=row["final_url"],
        fetched_at=fetched,
        status=int(row["status"]),
        content_type=row["content_type"],
        sha256=row["sha256"],
        size=int(row["size"]),
        headers={str(k): str(v) for k, v in dict(headers).items()},
        id=int(row["id"]),
    )
