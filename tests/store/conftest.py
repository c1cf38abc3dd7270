"""PostgreSQL for the store tests: a fresh schema per test on the local server.

The server is the one the development and CI machines run (127.0.0.1:5432, trust auth; another
with ``SOURCEBOOK_TEST_DATABASE_URL``). When it is unreachable the PostgreSQL tests skip and say
why, except in CI (``CI=true``), where they fail: CI must run them.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from sourcebook.store.base import Store
from sourcebook.store.sqlite import SQLiteStore

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def base_url() -> str:
    return os.environ.get("SOURCEBOOK_TEST_DATABASE_URL", DEFAULT_URL)


def _unavailable() -> str | None:
    """Why PostgreSQL cannot be used here, or None."""
    try:
        import psycopg
        import psycopg_pool  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(base_url())
    host, port = str(parts.get("host") or "127.0.0.1"), int(parts.get("port") or 5432)
    try:
        with socket.create_connection((host, port), timeout=2):
            pass
    except OSError as exc:
        return f"PostgreSQL is not reachable at {host}:{port} ({exc}); see docs/organisation.md"
    try:
        with psycopg.connect(base_url(), connect_timeout=5):
            pass
    except psycopg.Error as exc:
        return f"cannot connect to PostgreSQL ({base_url()}): {exc}"
    return None


def require_postgres() -> None:
    reason = _unavailable()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the PostgreSQL tests: {reason}")
    pytest.skip(reason)


def url_with_schema(schema: str) -> str:
    sep = "&" if "?" in base_url() else "?"
    return f"{base_url()}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A connection URL whose search_path is a new, empty schema (dropped afterwards)."""
    require_postgres()
    import psycopg

    schema = f"sbtest_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base_url(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield url_with_schema(schema)
    finally:
        with psycopg.connect(base_url(), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    backend: Store
    if request.param == "sqlite":
        backend = SQLiteStore(tmp_path / "sourcebook.db")
    else:  # a fresh schema on the local server (skips when absent, except in CI)
        url = request.getfixturevalue("pg_url")  # first: it skips without psycopg or a server
        from sourcebook.store.postgres import PostgresStore

        backend = PostgresStore(url)
    backend.migrate()
    yield backend
    backend.close()
