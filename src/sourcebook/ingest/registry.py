"""The parser registry: every parser bids on a file and the best bid wins.

Built-in parsers are registered exactly like a plug-in would be, through the entry-point group
``sourcebook.parsers`` in ``pyproject.toml`` (Aleph ingest-file's ``Manager.auction``). A parser
declares the media types and file extensions it takes and returns a ``match()`` score from 0
(cannot read it) to 100 (certainly its format), usually by sniffing the first bytes.
"""

from __future__ import annotations

import io
import logging
import mimetypes
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from sourcebook.errors import InputTooLarge, ParseError, SourcebookError, UnsupportedFormat
from sourcebook.ingest.ocr import OcrSettings
from sourcebook.model import BadRecord, Document, EmptyRecord

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "sourcebook.parsers"
HEAD_BYTES = 8192

#: Score conventions for ``match()``.
NO_MATCH = 0
FALLBACK = 10  # can read it, but something more specific should win
BY_EXTENSION = 50  # the extension or media type is one we declare
BY_CONTENT = 90  # the content itself has our format's signature


@dataclass
class Source:
    """A file offered to the parsers: its path, guessed media type and first bytes."""

    path: Path
    media_type: str = ""
    head: bytes = b""
    size: int = 0
    max_bytes: int = 200 * 1024 * 1024
    #: What OCR of page images may do (scanned PDFs, TIFF/PNG/JPEG).
    ocr: OcrSettings = field(default_factory=OcrSettings)
    _data: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_path(
        cls, path: Path, max_bytes: int = 200 * 1024 * 1024, ocr: OcrSettings | None = None
    ) -> Source:
        with _open_regular(path) as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(HEAD_BYTES)
        media_type = mimetypes.guess_type(path.name)[0] or ""
        return cls(
            path=path,
            media_type=media_type,
            head=head,
            size=size,
            max_bytes=max_bytes,
            ocr=ocr or OcrSettings(),
        )

    @property
    def extension(self) -> str:
        """Lower-case extension without the dot ("" when none)."""
        return self.path.suffix.lower().lstrip(".")

    def read_bytes(self) -> bytes:
        if self.size > self.max_bytes:
            raise InputTooLarge(
                f"{self.path.name} is {self.size:,} bytes; the limit is {self.max_bytes:,} "
                "(setting SOURCEBOOK_MAX_FILE_BYTES)"
            )
        if self._data is None:
            with _open_regular(self.path) as fh:
                self._data = fh.read()
        return self._data

    def open(self) -> BinaryIO:
        """The file opened for streaming (a regular file within the byte limit); a source held
        in memory (an attachment of a message) is read from there."""
        if self.size > self.max_bytes:
            self.read_bytes()  # raises InputTooLarge
        if self._data is not None:
            return io.BytesIO(self._data)
        return _open_regular(self.path)

    def iter_lines(self) -> Iterator[str]:
        """The file's lines without their ends, read one at a time (a parser of a line-based
        format never holds the whole file). Each line is decoded as :func:`decode_text` decodes
        a file; a UTF-16 file (by its BOM) is read whole."""
        if utf16_bom(self.head):
            yield from self.read_text().split("\n")
            return
        with self.open() as fh:
            for number, raw in enumerate(fh):
                line = decode_text(
                    raw[3:] if number == 0 and raw.startswith(b"\xef\xbb\xbf") else raw
                )
                yield line[:-1] if line.endswith("\n") else line

    def read_text(self) -> str:
        """The file as text: UTF-8 (with or without BOM), else Windows-1252, never failing."""
        return decode_text(self.read_bytes())

    def head_text(self) -> str:
        if utf16_bom(self.head):
            return self.head.decode("utf-16", errors="replace").lstrip("\ufeff")
        return self.head.decode("utf-8", errors="replace").lstrip("\ufeff")


def _open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading, refused unless it is a regular file: opening a named pipe
    does not wait for a writer (``O_NONBLOCK``) and the check is on what was opened."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ParseError(f"{path} is not a regular file; it was skipped")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def utf16_bom(data: bytes) -> bool:
    """Whether ``data`` opens with a UTF-16 byte-order mark (Windows "Unicode" text files)."""
    return data[:2] in (b"\xff\xfe", b"\xfe\xff")


def decode_text(data: bytes) -> str:
    """Decode bytes as UTF-16 when they open with its BOM, else as UTF-8, falling back to
    Windows-1252 then Latin-1 (which never fails)."""
    if utf16_bom(data):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


#: What reading one damaged record of a multi-record file can raise: data that is not what the
#: parser expects (a wrong type, an impossible date, nesting past Python's recursion limit).
RECORD_ERRORS: tuple[type[BaseException], ...] = (
    SourcebookError,
    ValueError,
    TypeError,
    LookupError,
    AttributeError,
    ArithmeticError,
    RecursionError,
)


def record_failure(where: str, what: str, exc: BaseException) -> BadRecord:
    """The BadRecord for a record whose reading raised ``exc``: the next record is read."""
    log.debug("%s: %s could not be read", where, what, exc_info=exc)
    if isinstance(exc, RecursionError):
        return BadRecord(where, f"{what} is nested too deeply to be read")
    detail = str(exc) if isinstance(exc, SourcebookError) else f"{type(exc).__name__}: {exc}"
    return BadRecord(where, f"{what} could not be read ({detail[:300]})")


@runtime_checkable
class Parser(Protocol):
    """What every parser provides."""

    name: str
    media_types: tuple[str, ...]
    extensions: tuple[str, ...]

    def match(self, source: Source) -> int:
        """How sure this parser is that it can read ``source`` (0-100)."""
        ...

    def parse(self, source: Source) -> Iterator[Document | BadRecord | EmptyRecord]:
        """Yield the documents in ``source``; a bad record inside a good file is a BadRecord,
        a record with nothing in it an EmptyRecord (skipped, not an error).

        Raise :class:`~sourcebook.errors.ParseError` when the file as a whole is unreadable.
        Documents come back without docid; ``source_key`` must be set.
        """
        ...


class ParserRegistry:
    """Holds parser instances and picks the best one for a file."""

    def __init__(self, parsers: list[Parser] | None = None) -> None:
        self._parsers: list[Parser] = []
        for parser in parsers or []:
            self.register(parser)

    @classmethod
    def from_entry_points(cls) -> ParserRegistry:
        registry = cls()
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            try:
                parser_cls = ep.load()
            except Exception as exc:  # a broken plug-in must not take ingest down
                log.error("could not load parser %s (%s): %s", ep.name, ep.value, exc)
                continue
            registry.register(parser_cls())
        return registry

    def register(self, parser: Parser) -> None:
        self._parsers.append(parser)
        # a container format (e-mail) hands its attachments back to the auction it belongs to
        bind = getattr(parser, "bind_registry", None)
        if callable(bind):
            bind(self)

    @property
    def parsers(self) -> list[Parser]:
        return list(self._parsers)

    def get(self, name: str) -> Parser:
        for parser in self._parsers:
            if parser.name == name:
                return parser
        names = ", ".join(p.name for p in self._parsers)
        raise UnsupportedFormat(f"no parser named {name!r} (have: {names})")

    def auction(self, source: Source) -> Parser:
        """The parser with the highest ``match()`` score; ties go to the first registered."""
        best: Parser | None = None
        best_score = NO_MATCH
        for parser in self._parsers:
            try:
                score = parser.match(source)
            except Exception as exc:
                log.warning("parser %s failed to score %s: %s", parser.name, source.path, exc)
                continue
            if score > best_score:
                best, best_score = parser, score
        if best is None:
            raise UnsupportedFormat(
                f"no parser recognises {source.path.name} "
                f"(media type {source.media_type or 'unknown'})"
            )
        return best

    def parse(
        self, source: Source, parser: Parser | None = None
    ) -> Iterator[Document | BadRecord | EmptyRecord]:
        """The records of ``source`` read by ``parser`` (default: the auction's winner); what a
        parser raises on a damaged file becomes a ParseError naming the file."""
        parser = parser or self.auction(source)
        try:
            yield from parser.parse(source)
        except ParseError:
            raise
        except InputTooLarge:
            raise
        except (UnicodeError, ValueError, KeyError, OSError) as exc:
            raise ParseError(
                f"{parser.name} parser could not read {source.path.name}: {exc}"
            ) from exc
