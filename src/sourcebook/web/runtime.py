"""The archive the web app serves and the threads its blocking calls run on.

The services are synchronous (SQLite, Tantivy), so pages and API routes run them off the event
loop. They use pools of their own rather than the default thread pool: the store keeps one SQLite
connection per thread until the archive closes, and the default pool retires idle threads after a
few seconds, so every burst of traffic would open connections that are never reused. Our threads
live as long as the app. Ingest has a pool of one thread: Tantivy allows one index writer, and
uploads are serialised rather than refused.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO, ParamSpec, TypeVar, cast

from starlette.requests import Request

from sourcebook.config import Settings
from sourcebook.follower import Follower
from sourcebook.services import Archive
from sourcebook.services.accounts import Accounts
from sourcebook.services.reading import ArchiveView
from sourcebook.web.viewing import viewer_of

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

#: Threads that serve reads (searches, records, citations).
READ_THREADS = min(16, (os.cpu_count() or 2) + 4)
#: Threads that stream exports (each holds one for as long as its client reads).
EXPORT_THREADS = 2
#: A streamed export sends chunks of about this many characters...
STREAM_CHUNK_CHARS = 64 * 1024
#: ...and its producer waits when this many chunks are waiting for a slow client.
STREAM_QUEUE_CHUNKS = 8


class _Stopped(Exception):
    """The client went away or the app is closing: the producer stops at its next write."""


class _ChunkWriter:
    """A write-only text file whose writes are passed on in chunks (what ``export_jsonl`` writes to)."""

    def __init__(self, put: Callable[[bytes], None]) -> None:
        self._put = put
        self._parts: list[str] = []
        self._size = 0

    def write(self, text: str) -> int:
        self._parts.append(text)
        self._size += len(text)
        if self._size >= STREAM_CHUNK_CHARS:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self._parts:
            self._put("".join(self._parts).encode("utf-8"))
            self._parts = []
            self._size = 0


@dataclass
class Runtime:
    """One archive and the executors its calls run on; created by the app's lifespan."""

    settings: Settings
    archive: Archive
    readers: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(READ_THREADS, thread_name_prefix="sb-read")
    )
    exporters: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(EXPORT_THREADS, thread_name_prefix="sb-export")
    )
    writer: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="sb-ingest")
    )
    #: Keeps this node's search index level with the store (SOURCEBOOK_FOLLOW_SECONDS).
    follower: Follower | None = None
    #: Stop signals of the exports being streamed, so closing the app ends them.
    _streams: set[threading.Event] = field(default_factory=set, repr=False)

    async def read(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a read (search, get, cite...) on a reader thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.readers, functools.partial(fn, *args, **kwargs))

    async def write(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a write (ingest) on the single writer thread; writes queue behind each other."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.writer, functools.partial(fn, *args, **kwargs))

    async def stream(self, produce: Callable[[IO[str]], object]) -> AsyncIterator[bytes]:
        """Run ``produce(file)`` on an export thread and yield what it writes, in chunks.

        The producer waits while the client is slow (a bounded number of chunks in flight) and
        stops at its next write when the client disconnects or the app closes.
        """
        loop = asyncio.get_running_loop()
        items: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()
        slots = threading.Semaphore(STREAM_QUEUE_CHUNKS)
        stop = threading.Event()
        self._streams.add(stop)

        def put(item: bytes | BaseException | None) -> None:
            while not slots.acquire(timeout=0.2):
                if stop.is_set():
                    raise _Stopped
            if stop.is_set():
                raise _Stopped
            loop.call_soon_threadsafe(items.put_nowait, item)

        def run() -> None:
            writer = _ChunkWriter(put)
            try:
                try:
                    produce(cast(IO[str], writer))
                    writer.flush()
                except _Stopped:
                    return
                except Exception as exc:  # reported to the consumer, which aborts the response
                    log.exception("streaming failed")
                    put(exc)
                    return
                put(None)
            except (_Stopped, RuntimeError):  # RuntimeError: the event loop is closed
                return

        loop.run_in_executor(self.exporters, run)
        try:
            while True:
                item = await items.get()
                slots.release()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            self._streams.discard(stop)

    @functools.cached_property
    def accounts(self) -> Accounts:
        """Users, sessions, tokens and the audit log, in the archive's store."""
        return Accounts(self.archive.store, self.settings, self.archive.audit)

    def follow(self) -> None:
        """Start following the store's change log (a background thread; see follower.py)."""
        self.follower = Follower(
            self.archive, self.settings.follow_seconds, self.settings.follow_notify
        )
        self.follower.start()

    def close(self) -> None:
        if self.follower is not None:
            self.follower.stop()
        for stop in list(self._streams):
            stop.set()
        for pool in (self.writer, self.exporters, self.readers):
            pool.shutdown(wait=True, cancel_futures=True)
        self.archive.close()


def view_of(request: Request) -> ArchiveView:
    """The archive as this request's viewer may read it (every read route goes through it)."""
    return get_runtime(request).archive.view(viewer_of(request))


def get_runtime(request: Request) -> Runtime:
    """The app's runtime (a FastAPI dependency)."""
    runtime: Runtime = request.app.state.runtime
    return runtime
