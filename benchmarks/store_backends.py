"""The store on SQLite beside PostgreSQL: writes, reads and copy-store, on synthetic documents.

    python benchmarks/store_backends.py --database postgresql://postgres@127.0.0.1/test

Writes N documents (about 4,500 characters, 6 passages each) in batches of 500 through
``Store.write`` to each backend, reads them back with revisions (``iter_documents``), then copies
the SQLite store into PostgreSQL and back with ``copy-store``. PostgreSQL works in a schema of its
own, dropped at the end. Prints documents/s and the PostgreSQL/SQLite ratio.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import psycopg

from sourcebook.copy_store import copy_store
from sourcebook.ids import make_docid
from sourcebook.model import Document
from sourcebook.passages import split_passages
from sourcebook.store.base import Change, Store
from sourcebook.store.codec import content_hash
from sourcebook.store.postgres import PostgresStore
from sourcebook.store.sqlite import SQLiteStore

PARAGRAPH = "Paragraph about the border situation and the security forces in the region. " * 10


def changes(n: int) -> list[Change]:
    out = []
    for i in range(n):
        doc = Document(
            source_key=f"bench:{i}",
            title=f"Report {i}",
            body=f"{i} " + "\n\n".join([PARAGRAPH] * 6),
            countries=["TJ"],
            language="en",
        )
        doc.docid = make_docid(doc.source_key)
        doc.passages = split_passages(doc.body, 800)
        out.append(Change("added", doc, content_hash(doc)))
    return out


def rate(n: int, work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return n / (time.perf_counter() - start)


def measure(store: Store, batch: list[Change]) -> tuple[float, float]:
    store.migrate()
    write = rate(
        len(batch), lambda: [store.write(batch[i : i + 500]) for i in range(0, len(batch), 500)]
    )
    read = rate(len(batch), lambda: sum(1 for _ in store.iter_documents(with_revisions=True)))
    store.close()
    return write, read


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--database", required=True, help="a PostgreSQL URL (a schema is created)")
    ap.add_argument("--documents", type=int, default=5000)
    args = ap.parse_args()
    batch = changes(args.documents)
    schema = f"sbbench_{uuid.uuid4().hex[:8]}"
    sep = "&" if "?" in args.database else "?"
    url = f"{args.database}{sep}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(args.database, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        with tempfile.TemporaryDirectory(prefix="sourcebook-bench-") as tmp:
            lite = Path(tmp) / "lite"
            sqlite_w, sqlite_r = measure(SQLiteStore(lite / "sourcebook.db"), batch)
            pg_w, pg_r = measure(PostgresStore(url), batch)
            print(f"documents: {args.documents:,} in batches of 500")
            print(
                f"write: SQLite {sqlite_w:,.0f} docs/s, PostgreSQL {pg_w:,.0f} ({pg_w / sqlite_w:.2f}x)"
            )
            print(
                f"read:  SQLite {sqlite_r:,.0f} docs/s, PostgreSQL {pg_r:,.0f} ({pg_r / sqlite_r:.2f}x)"
            )
            with psycopg.connect(args.database, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
                conn.execute(f"CREATE SCHEMA {schema}")
            there = rate(args.documents, lambda: copy_store(str(lite), url))
            back = rate(args.documents, lambda: copy_store(url, str(Path(tmp) / "back")))
            print(f"copy-store: SQLite -> PostgreSQL {there:,.0f} docs/s, back {back:,.0f} docs/s")
    finally:
        with psycopg.connect(args.database, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
