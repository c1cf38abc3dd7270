"""Harvesting a SQLite store (OAI-PMH, feeds): documents and tombstones in the order of their
last change, by set and time (mixed into ``SQLiteStore``)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from sourcebook.model import Document
from sourcebook.store.base import HarvestedRecord, HarvestFilter, HarvestPosition, SetCounts
from sourcebook.store.codec import (
    DOCUMENT_COLUMNS,
    document_from_row,
    iso_datetime,
    parse_iso_datetime,
)

_SELECT_COLUMNS = ", ".join(("id", *DOCUMENT_COLUMNS))


class SQLiteHarvest:
    """Harvest methods of the Store protocol (see store/base.py)."""

    def _conn(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _passages(self, conn: sqlite3.Connection, ids: dict[int, Document]) -> None:
        raise NotImplementedError

    # --- harvesting ---------------------------------------------------------------------
    # updated_at is stored as ISO 8601 UTC text of one shape (``now_utc().isoformat()``), so text
    # order is time order and the documents_updated_at index (which holds the rowid after the
    # key) serves both the range and the (updated_at, id) order.
    @staticmethod
    def _harvest_where(selection: HarvestFilter) -> tuple[list[str], list[Any]]:
        return _selection_where(
            selection,
            "updated_at",
            "EXISTS (SELECT 1 FROM document_countries c"
            " WHERE c.document_id = documents.id AND c.code = ?)",
            "EXISTS (SELECT 1 FROM document_countries c WHERE c.document_id = documents.id)",
        )

    @staticmethod
    def _tombstone_where(selection: HarvestFilter) -> tuple[list[str], list[Any]]:
        """The same selection over deleted records (their kept sets and deletion times)."""
        return _selection_where(
            selection,
            "deleted_at",
            "EXISTS (SELECT 1 FROM json_each(tombstones.countries) WHERE value = ?)",
            "countries != '[]'",
        )

    @staticmethod
    def _tombstones(rows: list[Any]) -> list[HarvestedRecord]:
        out = []
        for row in rows:
            deleted = parse_iso_datetime(row[2])
            assert deleted is not None
            doc = Document(docid=row[0], collection=row[3], countries=json.loads(row[4]))
            out.append(HarvestedRecord(int(row[1]), deleted, doc, deleted=True))
        return out

    def _harvested(self, conn: sqlite3.Connection, rows: list[Any]) -> list[HarvestedRecord]:
        records = []
        by_id: dict[int, Document] = {}
        for row in rows:
            doc = document_from_row(row)
            updated = parse_iso_datetime(row["updated_at"])
            assert updated is not None
            by_id[row["id"]] = doc
            records.append(HarvestedRecord(key=int(row["id"]), updated_at=updated, document=doc))
        self._passages(conn, by_id)
        return records

    def list_updated(
        self, selection: HarvestFilter, after: HarvestPosition | None = None, limit: int = 100
    ) -> list[HarvestedRecord]:
        clauses, params = self._harvest_where(selection)
        if after is not None:
            clauses.append("(updated_at, id) > (?, ?)")
            params += [iso_datetime(after[0]), after[1]]
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        conn = self._conn()
        rows = conn.execute(
            f"SELECT {_SELECT_COLUMNS}, updated_at FROM documents{where}"
            " ORDER BY updated_at, id LIMIT ?",
            [*params, max(0, limit)],
        ).fetchall()
        records = self._harvested(conn, rows)
        # deleted records take their place in the same order, by deletion time
        clauses, params = self._tombstone_where(selection)
        if after is not None:
            clauses.append("(deleted_at, key) > (?, ?)")
            params += [iso_datetime(after[0]), after[1]]
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        gone = conn.execute(
            "SELECT docid, key, deleted_at, collection, countries FROM tombstones"
            f"{where} ORDER BY deleted_at, key LIMIT ?",
            [*params, max(0, limit)],
        ).fetchall()
        if not gone:
            return records
        merged = sorted([*records, *self._tombstones(gone)], key=lambda r: r.position)
        return merged[: max(0, limit)]

    def count_updated(self, selection: HarvestFilter) -> int:
        clauses, params = self._harvest_where(selection)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT count(*) FROM documents{where}"
        live = int(self._conn().execute(sql, params).fetchone()[0])
        clauses, params = self._tombstone_where(selection)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT count(*) FROM tombstones{where}"
        return live + int(self._conn().execute(sql, params).fetchone()[0])

    def set_counts(self, exclude_collections: Sequence[str] = ()) -> SetCounts:
        conn = self._conn()
        hidden = list(exclude_collections)
        visible = f" AND collection NOT IN ({','.join('?' * len(hidden))})" if hidden else ""
        return SetCounts(
            collections={
                str(r[0]): int(r[1])
                for r in conn.execute(
                    f"SELECT collection, count(*) FROM documents WHERE collection != ''{visible}"
                    " GROUP BY collection ORDER BY collection",
                    hidden,
                )
            },
            countries={
                str(r[0]): int(r[1])
                for r in conn.execute(
                    "SELECT code, count(*) FROM document_countries WHERE document_id IN"
                    f" (SELECT id FROM documents WHERE 1{visible}) GROUP BY code ORDER BY code",
                    hidden,
                )
            },
        )

    def get_harvested(self, docids: Sequence[str]) -> dict[str, HarvestedRecord]:
        conn = self._conn()
        wanted = list(dict.fromkeys(docids))
        out: dict[str, HarvestedRecord] = {}
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT {_SELECT_COLUMNS}, updated_at FROM documents WHERE docid IN ({marks})",
                chunk,
            ).fetchall()
            out.update((r.document.docid, r) for r in self._harvested(conn, rows))
        gone = [d for d in wanted if d not in out]
        for i in range(0, len(gone), 500):
            chunk = gone[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                "SELECT docid, key, deleted_at, collection, countries FROM tombstones"
                f" WHERE docid IN ({marks})",
                chunk,
            ).fetchall()
            out.update((r.document.docid, r) for r in self._tombstones(rows))
        return out


def _selection_where(
    selection: HarvestFilter, time_column: str, country_is: str, any_country: str
) -> tuple[list[str], list[Any]]:
    """SQL conditions and parameters for a harvest selection over live documents or tombstones:
    the time column they are ordered by, and how each says which countries it holds."""
    clauses: list[str] = []
    params: list[Any] = []
    if selection.since is not None:
        clauses.append(f"{time_column} >= ?")
        params.append(iso_datetime(selection.since))
    if selection.until is not None:
        clauses.append(f"{time_column} <= ?")
        params.append(iso_datetime(selection.until))
    if selection.collection is not None:
        clauses.append("collection = ?")
        params.append(selection.collection)
    if selection.any_collection:
        clauses.append("collection != ''")
    if selection.exclude_collections:
        marks = ",".join("?" * len(selection.exclude_collections))
        clauses.append(f"collection NOT IN ({marks})")
        params.extend(selection.exclude_collections)
    if selection.country is not None:
        clauses.append(country_is)
        params.append(selection.country)
    if selection.any_country:
        clauses.append(any_country)
    return clauses, params
