"""Parse files in a worker process, under a memory limit and a time limit per file.

A parser is third-party code (lxml, feedparser, pypdf) run over files nobody vetted: an 11 MB
HTML page, an entity bomb or a PDF with a cyclic page tree can take gigabytes or never finish.
So the archive does not parse in its own process. A long-lived worker process parses one file
at a time and sends the records back in chunks (the parent never holds a whole file's worth);
the worker's address space is capped (``resource.RLIMIT_AS``, setting
``SOURCEBOOK_PARSE_MEMORY_MB``) and each file may keep the parent waiting at most
``SOURCEBOOK_PARSE_SECONDS`` (time the parent spends storing records does not count). A file
that breaks a limit, or a worker that dies, is recorded on the file's outcome with the reason;
a fresh worker is started for the next file and the batch goes on.

The worker is forked from multiprocessing's *forkserver*, which has the parsers imported
already, so a new worker is ready in milliseconds and never inherits the parent's threads, open
store or index. Log records of the parsers are sent back and logged by the parent.

:func:`parse_file` is what the worker runs; with ``SOURCEBOOK_PARSE_SANDBOX=false`` the archive
runs the very same function in its own process (no limits but the byte limit).

Special files are refused before anything opens them (:func:`regular_file_size`): reading a
named pipe blocks until someone writes to it, a device never ends.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import multiprocessing
import os
import pickle
import queue
import resource
import signal
import stat
import sys
import threading
import time
import traceback
import types
from collections.abc import Iterator
from importlib.metadata import entry_points
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sourcebook.errors import InputTooLarge, NotFound, ParseError, SourcebookError
from sourcebook.ingest import ocr as ocr_pages
from sourcebook.ingest.archives import ArchiveLimits, ArchiveWalker, MemberStart, archive_kind
from sourcebook.ingest.ocr import OcrSettings
from sourcebook.ingest.registry import ENTRY_POINT_GROUP, Parser, ParserRegistry, Source
from sourcebook.model import BadRecord, Document, EmptyRecord

log = logging.getLogger(__name__)

__all__ = ["ParseSandbox", "parse_file", "regular_file_size"]

Item = Document | BadRecord | EmptyRecord

#: Records per message, and characters of text per message, whichever comes first.
CHUNK_ITEMS = 256
CHUNK_CHARS = 4_000_000
#: Exit status of a worker that ran out of memory (after reporting it, if it could).
_OUT_OF_MEMORY = 75

_KINDS = {
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a folder",
}


def regular_file_size(path: Path) -> int:
    """The size of ``path``, a regular file (symbolic links followed); never opens it.

    Raises NotFound for a missing file or a broken link, ParseError for a symbolic-link loop
    and for anything that is not a regular file (a named pipe, socket, device or folder).
    """
    try:
        info = os.stat(path)
    except FileNotFoundError as exc:
        if path.is_symlink():
            raise NotFound(f"{path}: a symbolic link to a file that does not exist") from exc
        raise NotFound(f"{path}: no such file or directory") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ParseError(f"{path}: a loop of symbolic links; the file was skipped") from exc
        raise ParseError(f"{path} could not be read: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(info.st_mode):
        kind = _KINDS.get(stat.S_IFMT(info.st_mode), "a special file")
        raise ParseError(f"{path} is not a regular file ({kind}); it was skipped")
    return info.st_size


def parse_file(
    registry: ParserRegistry,
    path: Path,
    parser_name: str,
    max_bytes: int,
    ocr: OcrSettings | None = None,
    archive: ArchiveLimits | None = None,
) -> tuple[Parser, Iterator[Item]]:
    """The parser that takes ``path`` (the one named, else the auction's winner) and its records.

    With ``archive`` bounds, a ZIP or TAR is walked member by member (``ingest/archives.py``).
    Raises InputTooLarge for a file over ``max_bytes``, ParseError for one that is not a
    regular file; the records' iterator raises ParseError when the file is unreadable.
    """
    size = regular_file_size(path)
    if archive is not None and archive_kind(path.name):
        source = Source.from_path(path, archive.max_bytes, ocr)
        walker = ArchiveWalker(registry, archive, parser_name)
        if parser_name or not walker.document_parser(source):  # not a renamed DOCX or EPUB
            if size > archive.max_bytes:  # bounded by what it unpacks to, not by file size
                raise InputTooLarge(
                    f"{path.name} is {size:,} bytes; the limit for an archive is "
                    f"{archive.max_bytes:,} (SOURCEBOOK_ARCHIVE_MAX_BYTES)"
                )
            return walker, walker.parse(source)
    if size > max_bytes:
        raise InputTooLarge(
            f"{path.name} is {size:,} bytes; the limit is {max_bytes:,} (SOURCEBOOK_MAX_FILE_BYTES)"
        )
    source = Source.from_path(path, max_bytes, ocr)
    parser = registry.get(parser_name) if parser_name else registry.auction(source)
    return parser, registry.parse(source, parser)


# --- the worker -------------------------------------------------------------------------------


class _ForwardLogs(logging.Handler):
    """Sends the worker's log records to the parent, which logs them under the same name."""

    def __init__(self, conn: Connection) -> None:
        super().__init__()
        self.conn = conn

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.conn.send(("log", record.name, record.levelno, record.getMessage()))


def _weight(item: Item) -> int:
    if isinstance(item, Document):
        return len(item.body) + len(item.title) + 200
    return len(item.message) + 200


def _worker(
    conn: Connection, registry_blob: bytes, memory_bytes: int, log_level: int, ocr: OcrSettings
) -> None:
    """The worker's loop: read a request, parse the file, send its records in chunks."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # so is a service manager's SIGTERM to the whole group: the parent stops cleanly after its
    # batch (and ends this worker); dying here would record the file being parsed as failed
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    root = logging.getLogger()
    root.handlers = [_ForwardLogs(conn)]
    root.setLevel(log_level)
    # each page a scan's OCR finishes restarts the file's clock in the archive (docs/ocr.md)
    ocr_pages.on_page_done(lambda: conn.send(("progress",)))
    registry = pickle.loads(registry_blob) if registry_blob else ParserRegistry.from_entry_points()
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        path, parser_name, max_bytes, archive = request
        try:
            _parse_and_send(conn, registry, Path(path), parser_name, max_bytes, ocr, archive)
        except MemoryError:
            with contextlib.suppress(BaseException):
                conn.send(("memory",))
            os._exit(_OUT_OF_MEMORY)  # the heap may be in pieces: start afresh


def _parse_and_send(
    conn: Connection,
    registry: ParserRegistry,
    path: Path,
    parser_name: str,
    max_bytes: int,
    ocr: OcrSettings,
    archive: ArchiveLimits | None,
) -> None:
    chunk: list[Item] = []
    weight = 0
    try:
        parser, items = parse_file(registry, path, parser_name, max_bytes, ocr, archive)
        conn.send(("parser", parser.name))
        for item in items:
            chunk.append(item)
            weight += _weight(item)
            # an archive member's records go on their own clock: its marker is sent at once
            if len(chunk) >= CHUNK_ITEMS or weight >= CHUNK_CHARS or type(item) is MemberStart:
                conn.send(("items", chunk))
                chunk, weight = [], 0
        conn.send(("items", chunk))
        conn.send(("done",))
    except SourcebookError as exc:
        if _caused_by_memory(exc):  # a parser that wraps every exception wrapped this one too
            raise MemoryError from exc
        conn.send(("items", chunk))
        conn.send(("error", type(exc).__name__, str(exc)))
    except RecursionError:
        conn.send(("items", chunk))
        conn.send(("error", "ParseError", f"{path.name} is nested too deeply to be read"))
    except MemoryError:
        raise
    except Exception as exc:  # a parser bug: the parent logs it, the batch goes on
        conn.send(("items", chunk))
        conn.send(("bug", f"{type(exc).__name__}: {exc}", traceback.format_exc()))


def _caused_by_memory(exc: BaseException) -> bool:
    seen = 0
    cause: BaseException | None = exc
    while cause is not None and seen < 20:
        if isinstance(cause, MemoryError):
            return True
        cause = cause.__cause__ or cause.__context__
        seen += 1
    return False


# --- the parent's side ------------------------------------------------------------------------

_ERRORS: dict[str, type[SourcebookError]] = {
    cls.__name__: cls for cls in (SourcebookError, ParseError, InputTooLarge, NotFound)
}


class ParserBug(SourcebookError):
    """A parser raised something it should not have (logged with its traceback)."""


def _error_class(name: str) -> type[SourcebookError]:
    if name in _ERRORS:
        return _ERRORS[name]
    import sourcebook.errors as errors

    found = getattr(errors, name, None)
    if isinstance(found, type) and issubclass(found, SourcebookError):
        return found
    return SourcebookError


class ParseSandbox:
    """A worker process that parses files one at a time under memory and time limits.

    ``registry``: the parsers the worker uses (default: the installed ones); it must pickle.
    ``memory_mb``: the worker's address-space limit (0: none); ``seconds``: the most a file may
    keep the archive waiting (0: no limit). The worker starts on first use and is stopped by
    :meth:`close`.
    """

    def __init__(
        self,
        registry: ParserRegistry | None = None,
        memory_mb: int = 1024,
        seconds: float = 60,
        ocr: OcrSettings | None = None,
    ) -> None:
        self.memory_mb = memory_mb
        self.seconds = seconds
        self.ocr = ocr or OcrSettings()
        self._registry_blob = pickle.dumps(registry) if registry is not None else b""
        self._process: Any = None
        self._conn: Connection | None = None
        self._reader: _Reader | None = None

    # -- worker life ---------------------------------------------------------------------------
    def _start(self) -> Connection:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_preload_modules())
        parent_end, child_end = context.Pipe(duplex=True)
        process = context.Process(
            target=_worker,
            args=(
                child_end,
                self._registry_blob,
                self.memory_mb * 1024 * 1024,
                logging.getLogger("sourcebook").getEffectiveLevel(),
                self.ocr,
            ),
            name="sourcebook-parser",
            daemon=True,
        )
        with _main_module_hidden():
            process.start()
        child_end.close()
        self._process, self._conn = process, parent_end
        return parent_end

    def _stop(self, kill: bool) -> int | None:
        """Stop the worker; its exit code (None when it had to be killed)."""
        process, conn, reader = self._process, self._conn, self._reader
        self._process = self._conn = self._reader = None
        if process is None:
            return None
        if conn is not None and not kill:
            with contextlib.suppress(OSError):
                conn.send(None)
            process.join(2)
        if process.is_alive():
            process.kill()
            process.join(5)
        if reader is not None:
            reader.close()
        if conn is not None:
            conn.close()
        code: int | None = process.exitcode
        process.close()
        return code

    def close(self) -> None:
        self._stop(kill=False)

    # -- parsing -------------------------------------------------------------------------------
    def parse(
        self,
        path: Path,
        parser_name: str,
        max_bytes: int,
        archive: ArchiveLimits | None = None,
    ) -> tuple[str, Iterator[Item]]:
        """The name of the parser that took ``path``, and its records as the worker sends them.

        Raises what :func:`parse_file` raises, InputTooLarge when the file breaks the memory
        or time limit, and ParseError when the worker dies; the iterator raises the same.
        Each member of an archive has the time limit to itself.
        """
        request = (str(path), parser_name, max_bytes, archive)
        try:
            conn = self._conn or self._start()
            conn.send(request)
        except OSError:  # the idle worker is gone (killed from outside): start another
            self._stop(kill=True)
            conn = self._start()
            conn.send(request)
        self._reader = reader = _Reader(conn)
        wait = _Wait(self.seconds)
        message = self._receive(reader, path, wait)
        while message[0] == "items":  # an error before the parser was chosen
            message = self._receive(reader, path, wait)
        if message[0] != "parser":
            self._raise(message, path)
        return str(message[1]), self._items(reader, path, wait)

    def _items(self, reader: _Reader, path: Path, wait: _Wait) -> Iterator[Item]:
        finished = False
        reading = path  # in an archive, the member being read (named in a limit's message)
        try:
            while True:
                message = self._receive(reader, reading, wait)
                if message[0] == "items":
                    if message[1] and type(message[1][-1]) is MemberStart:
                        wait.restart()  # the next archive member's clock
                        reading = Path(message[1][-1].where)
                    yield from message[1]
                    continue
                finished = True
                if message[0] != "done":
                    self._raise(message, path)
                return
        finally:
            if not finished and self._reader is reader:
                self._stop(kill=True)  # abandoned mid-file: the worker is still sending

    def _receive(self, reader: _Reader, path: Path, wait: _Wait) -> tuple[Any, ...]:
        while True:
            message = wait.get(reader)
            if message is None:
                self._stop(kill=True)
                raise InputTooLarge(
                    f"parsing {path.name} took more than {self.seconds:g} s; the file was "
                    "skipped (SOURCEBOOK_PARSE_SECONDS)"
                )
            if message[0] == "eof":
                code = self._stop(kill=True)
                raise self._death(path, code)
            if message[0] == "log":
                logging.getLogger(message[1]).log(message[2], "%s", message[3])
                continue
            if message[0] == "progress":  # a page of a scan done: the next one's clock
                wait.restart()
                continue
            if message[0] == "memory":
                self._stop(kill=True)
                raise self._memory(path)
            return message

    def _raise(self, message: tuple[Any, ...], path: Path) -> None:
        if message[0] == "error":
            raise _error_class(message[1])(message[2])
        if message[0] == "bug":
            self._stop(kill=True)  # a fresh worker after a bug, whatever state this one is in
            log.error("parser failed on %s:\n%s", path, message[2])
            raise ParserBug(f"internal error ({message[1]})")
        raise ParseError(f"unexpected message from the parser process: {message[0]!r}")

    def _memory(self, path: Path) -> InputTooLarge:
        return InputTooLarge(
            f"parsing {path.name} needed more than {self.memory_mb:,} MB; the file was "
            "skipped (SOURCEBOOK_PARSE_MEMORY_MB)"
        )

    def _death(self, path: Path, code: int | None) -> SourcebookError:
        if code == _OUT_OF_MEMORY or code == -signal.SIGKILL:
            return self._memory(path)
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        return ParseError(f"the parser process stopped on {path.name} ({how}); it was skipped")


class _Wait:
    """The time one file has left to keep the parent waiting."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.left = seconds if seconds > 0 else None

    def restart(self) -> None:
        self.left = self.seconds if self.seconds > 0 else None

    def get(self, reader: _Reader) -> tuple[Any, ...] | None:
        """The next message, or None when the file's time is up."""
        if self.left is None:
            return reader.get(None)
        started = time.monotonic()
        message = reader.get(max(self.left, 0.0))
        self.left -= time.monotonic() - started
        return message


_TERMINAL = frozenset({"done", "error", "bug", "memory", "eof"})


class _Reader:
    """Receives one file's messages on a thread, a few chunks ahead of the archive, so the
    worker parses the next records while the archive stores the last ones (two cores, not one).
    The queue is bounded: the parent holds at most PREFETCH chunks of a file."""

    PREFETCH = 4

    def __init__(self, conn: Connection) -> None:
        self._queue: queue.Queue[tuple[Any, ...]] = queue.Queue(maxsize=self.PREFETCH)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(conn,), name="sourcebook-parse-reader", daemon=True
        )
        self._thread.start()

    def _run(self, conn: Connection) -> None:
        while not self._stop.is_set():
            try:
                message: tuple[Any, ...] = conn.recv()
            except (EOFError, OSError):
                message = ("eof",)
            except Exception as exc:  # a record that does not unpickle here
                message = ("bug", f"{type(exc).__name__}: {exc}", traceback.format_exc())
            while not self._stop.is_set():
                try:
                    self._queue.put(message, timeout=0.2)
                    break
                except queue.Full:
                    continue
            if message[0] in _TERMINAL:
                return

    def get(self, timeout: float | None) -> tuple[Any, ...] | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        """Stop reading (call after the worker is gone, so a waiting receive ends)."""
        self._stop.set()
        self._thread.join(5)


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Hide the caller's ``__main__`` while a worker starts: the worker needs nothing from it,
    and multiprocessing would otherwise import it again in the worker, re-running a script
    that lacks the ``if __name__ == "__main__":`` guard (and its ingest) in the worker."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def _preload_modules() -> list[str]:
    """Modules the forkserver imports once, so each worker starts with the parsers loaded."""
    modules = [__name__]
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        module = ep.value.partition(":")[0]
        if module.startswith("sourcebook."):
            modules.append(module)
    return modules
