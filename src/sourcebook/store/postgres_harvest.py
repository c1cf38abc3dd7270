"""Harvesting a PostgreSQL store (OAI-PMH, feeds): documents and tombstones in the order of their
last change, by set and time; each function runs on a connection the store lends it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg.rows import DictRow

from sourcebook.model import Document
from sourcebook.store.base import HarvestedRecord, HarvestFilter, HarvestPosition, SetCounts
from sourcebook.store.postgres_codec import (
    SELECT,
    Conn,
    document_from_row,
    load_passages,
    utc,
)


def where(selection: HarvestFilter, stamp: str) -> tuple[list[str], list[Any]]:
    """The selection over documents (``stamp`` updated_at) or tombstones (deleted_at)."""
    clauses: list[str] = []
    params: list[Any] = []
    if selection.since is not None:
        clauses.append(f"{stamp} >= %s")
        params.append(utc(selection.since))
    if selection.until is not None:
        clauses.append(f"{stamp} <= %s")
        params.append(utc(selection.until))
    if selection.collection is not None:
        clauses.append("collection = %s")
        params.append(selection.collection)
    if selection.any_collection:
        clauses.append("collection <> ''")
    if selection.exclude_collections:
        clauses.append("NOT (collection = ANY(%s))")
        params.append(list(selection.exclude_collections))
    if selection.country is not None:
        clauses.append("countries @> ARRAY[%s]::text[]")
        params.append(selection.country)
    if selection.any_country:
        clauses.append("cardinality(countries) > 0")
    return clauses, params


def tombstones(rows: Sequence[DictRow]) -> list[HarvestedRecord]:
    return [
        HarvestedRecord(
            int(r["key"]),
            r["deleted_at"],
            Document(docid=r["docid"], collection=r["collection"], countries=list(r["countries"])),
            deleted=True,
        )
        for r in rows
    ]


def harvested(conn: Conn, rows: Sequence[DictRow]) -> list[HarvestedRecord]:
    records = []
    by_id: dict[int, Document] = {}
    for row in rows:
        doc = document_from_row(row)
        by_id[row["id"]] = doc
        records.append(HarvestedRecord(int(row["id"]), row["updated_at"], doc))
    load_passages(conn, by_id)
    return records


def list_updated(
    conn: Conn, selection: HarvestFilter, after: HarvestPosition | None, limit: int
) -> list[HarvestedRecord]:
    """Up to ``limit`` selected records after ``after``, ordered by (update time, key)."""
    limit = max(0, limit)
    clauses, params = where(selection, "updated_at")
    if after is not None:
        clauses.append("(updated_at, id) > (%s, %s)")
        params += [utc(after[0]), after[1]]
    where_sql = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = conn.execute(
        f"SELECT {SELECT}, updated_at FROM documents{where_sql} ORDER BY updated_at, id LIMIT %s",
        [*params, limit],
    ).fetchall()
    records = harvested(conn, rows)
    # deleted records take their place in the same order, by deletion time
    clauses, params = where(selection, "deleted_at")
    if after is not None:
        clauses.append("(deleted_at, key) > (%s, %s)")
        params += [utc(after[0]), after[1]]
    where_sql = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    gone = conn.execute(
        "SELECT docid, key, deleted_at, collection, countries FROM tombstones"
        f"{where_sql} ORDER BY deleted_at, key LIMIT %s",
        [*params, limit],
    ).fetchall()
    if not gone:
        return records
    merged = sorted([*records, *tombstones(gone)], key=lambda r: r.position)
    return merged[:limit]


def count_updated(conn: Conn, selection: HarvestFilter) -> int:
    total = 0
    for table, stamp in (("documents", "updated_at"), ("tombstones", "deleted_at")):
        clauses, params = where(selection, stamp)
        where_sql = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        row = conn.execute(f"SELECT count(*) AS n FROM {table}{where_sql}", params).fetchone()
        total += int(row["n"]) if row else 0
    return total


def set_counts(conn: Conn, exclude_collections: Sequence[str] = ()) -> SetCounts:
    hidden = list(exclude_collections)
    visible = " AND NOT (collection = ANY(%s))" if hidden else ""
    params = (hidden,) if hidden else ()
    return SetCounts(
        collections={
            str(r["k"]): int(r["n"])
            for r in conn.execute(
                "SELECT collection AS k, count(*) AS n FROM documents"
                f" WHERE collection <> ''{visible} GROUP BY collection ORDER BY collection",
                params,
            )
        },
        countries={
            str(r["k"]): int(r["n"])
            for r in conn.execute(
                "SELECT code AS k, count(*) AS n FROM documents, unnest(countries) AS code"
                f" WHERE true{visible} GROUP BY code ORDER BY code",
                params,
            )
        },
    )


def get_harvested(conn: Conn, wanted: Sequence[str]) -> dict[str, HarvestedRecord]:
    rows = conn.execute(
        f"SELECT {SELECT}, updated_at FROM documents WHERE docid = ANY(%s)", (list(wanted),)
    ).fetchall()
    out = {r.document.docid: r for r in harvested(conn, rows)}
    gone = [d for d in wanted if d not in out]
    if gone:
        rows = conn.execute(
            "SELECT docid, key, deleted_at, collection, countries FROM tombstones"
            " WHERE docid = ANY(%s)",
            (gone,),
        ).fetchall()
        out.update((r.document.docid, r) for r in tombstones(rows))
    return out
