"""PostgreSQL LISTEN/NOTIFY for followers: a commit that appends to the change log notifies
``CHANNEL`` (``pg_notify`` inside the write transaction, delivered at commit), and a follower's
:class:`PostgresChangeFeed` waits on a dedicated connection instead of sleeping between polls.

A notification carries only the schema of the archive (notifications are per database; a feed
ignores other schemas' ones) and may be merged or lost (a dropped connection): it only says
"look now". The change log stays the truth, and a follower still polls every
``SOURCEBOOK_FOLLOW_SECONDS`` in case one is missed.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import psycopg

from sourcebook.errors import StorageError
from sourcebook.store.postgres_codec import Conn, describe

log = logging.getLogger(__name__)

#: The channel the change log's writers notify.
CHANNEL = "sourcebook_changes"
#: Seconds to wait for the listening connection.
CONNECT_TIMEOUT = 10


def notify_change(conn: Conn) -> None:
    """Inside a write transaction: wake the followers when it commits (merged with any other
    notification of the same transaction)."""
    conn.execute("SELECT pg_notify(%s, current_schema())", (CHANNEL,))


class PostgresChangeFeed:
    """A LISTEN connection; reconnects after the server went away (polling covers the gap)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: psycopg.Connection[Any] | None = None
        self._schema = ""
        self._connect()

    def _connect(self) -> None:
        try:
            self._conn = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
            row = self._conn.execute("SELECT current_schema()").fetchone()
            self._schema = str(row[0]) if row else ""
            self._conn.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as exc:
            self._drop()
            raise StorageError(f"cannot listen on {describe(self.url)}: {exc}") from exc

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def wait(self, timeout: float) -> bool:
        """True as soon as a change is committed; False after ``timeout`` seconds without one,
        or when the connection is down (then it sleeps and tries to reconnect next time)."""
        if self._conn is None:
            try:
                self._connect()
            except StorageError as exc:
                log.debug("%s; polling meanwhile", exc)
                time.sleep(max(0.0, timeout))
                return False
        assert self._conn is not None
        deadline = time.monotonic() + max(0.0, timeout)
        try:
            while (left := deadline - time.monotonic()) > 0:
                for note in self._conn.notifies(timeout=left, stop_after=1):
                    if note.payload == self._schema:
                        return True
        except psycopg.Error as exc:
            log.warning("the change notifications stopped (%s); polling meanwhile", exc)
            self._drop()
        return False

    def close(self) -> None:
        self._drop()
