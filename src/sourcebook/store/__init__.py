"""Storage: the ``Store`` protocol and its backends. The store is the archive's source of truth."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sourcebook.config import Settings
    from sourcebook.store.base import Store

DB_FILE = "sourcebook.db"


def is_database_url(value: str) -> bool:
    """True for a PostgreSQL connection URL (``postgresql://`` or ``postgres://``)."""
    return value.startswith(("postgresql://", "postgres://"))


def open_location(location: str | Path, pool_size: int = 8) -> Store:
    """The store at ``location``: a PostgreSQL URL, or an archive folder (its SQLite file).

    Not migrated: the caller runs ``migrate()``. psycopg is imported only for PostgreSQL, so the
    embedded archive needs none of the ``postgres`` extra.
    """
    if isinstance(location, str) and is_database_url(location):
        from sourcebook.errors import ConfigError

        try:
            from sourcebook.store.postgres import PostgresStore
        except ImportError as exc:
            raise ConfigError(
                "PostgreSQL needs the postgres extra: pip install 'sourcebook[postgres]'"
            ) from exc
        return PostgresStore(location, pool_size)
    from sourcebook.store.sqlite import SQLiteStore

    return SQLiteStore(Path(location) / DB_FILE)


def open_store(settings: Settings, read_only: bool = False) -> Store:
    """The archive's store: PostgreSQL when ``settings.database_url`` is set, else SQLite in
    the archive folder (``read_only``: opened for reading, see ``SQLiteStore``)."""
    if settings.database_url:
        from sourcebook.errors import ConfigError

        if not is_database_url(settings.database_url):
            raise ConfigError(
                f"SOURCEBOOK_DATABASE_URL must start with postgresql://, not "
                f"{settings.database_url.split(':', 1)[0]!r}"
            )
        return open_location(settings.database_url, settings.database_pool_size)
    from sourcebook.store.sqlite import SQLiteStore

    return SQLiteStore(settings.db_path, read_only=read_only)
