"""ZIP and TAR archives walked as folders: each member file parsed as an input of its own.

A ``.zip``, ``.tar``, ``.tar.gz``/``.tgz``, ``.tar.bz2``/``.tbz2`` or ``.tar.xz``/``.txz`` given
to ingest (named, or met in a folder walk) is opened where files are parsed, in the parser
worker (``ingest/sandbox.py``), so a bomb meets the worker's memory and time limits and never the
archive's own process. Nothing is extracted to disk: each member's bytes are read into memory,
counted as they are decompressed, and handed to the same parser auction a file on disk goes
through (as ``ingest/attachments.py`` does for e-mail attachments).

Names: a member is reported as ``<archive path>!/<member path>`` (``reports.zip!/2024/a.txt``);
a member of an archive inside an archive as ``outer.tar.gz!/inner.zip!/a.txt``. Its first
document's ``source_key`` is ``file:<resolved archive path>!/<member path>`` (further records of
the same member add ``#<k>``, attachments of a message member add ``#attachment/...``), so a
second ingest of the same archive finds the same keys. A record that carries its docid (an
export) keeps its own key. :func:`archive_of` gives the archive part of a key back.

Bounds (:class:`ArchiveLimits`, settings ``SOURCEBOOK_ARCHIVE_*``): bytes unpacked in all
(nested archives included), members in all, nesting depth, and the compression ratio. Each is
checked from the headers before anything is read and again while reading, on the bytes actually
decompressed (headers can lie). Past the byte or member bound the archive's reading stops; a
member past the ratio, larger than ``SOURCEBOOK_MAX_FILE_BYTES``, encrypted or unreadable fails
on its own and the next member is read.

Skipped with a note (never read): folders, hidden names (unless ``--include-hidden``),
housekeeping names and metadata manifests (the folder walk's rules, ``ingest/inputs.py``;
manifests and ``.sourcebookignore`` inside an archive are not applied yet), unsafe names
(absolute, or with a ``..`` part), and in a TAR symbolic links, hard links, devices and pipes.
"""

from __future__ import annotations

import io
import logging
import lzma
import mimetypes
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO

from sourcebook.errors import ParseError, SourcebookError, UnsupportedFormat
from sourcebook.ingest.attachments import _linked_key
from sourcebook.ingest.inputs import IGNORE_FILE, housekeeping_reason
from sourcebook.ingest.registry import (
    BY_CONTENT,
    HEAD_BYTES,
    NO_MATCH,
    Parser,
    ParserRegistry,
    Source,
)
from sourcebook.ingest.report import FileOutcome
from sourcebook.model import BadRecord, Document, EmptyRecord

if TYPE_CHECKING:
    from sourcebook.config import Settings
    from sourcebook.ingest.report import IngestOptions

log = logging.getLogger(__name__)

__all__ = [
    "ARCHIVE_MARK",
    "ArchiveLimits",
    "ArchiveWalker",
    "MemberStart",
    "archive_kind",
    "archive_limits",
    "archive_of",
    "feed_members",
    "preview_archive",
]

ARCHIVE_MARK = "!/"
PARSER_NAME = "archive"
#: Below this many unpacked bytes a member's compression ratio is not held against it (a page
#: of spaces compresses 100:1 and harms nobody).
RATIO_FLOOR = 1024 * 1024
_CHUNK = 1024 * 1024
#: Times one archive is read again after its worker died on a member.
MAX_RESUMES = 10

_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz")

Item = Document | BadRecord | EmptyRecord


def archive_kind(name: str) -> str:
    """ "zip", "tar" or "" (not an archive), from the name's ending only: DOCX, ODT and EPUB
    are ZIP files too, and are read by their own parsers."""
    lowered = name.lower()
    if lowered.endswith(".zip"):
        return "zip"
    if lowered.endswith(_TAR_SUFFIXES):
        return "tar"
    return ""


def archive_of(source_key: str) -> str:
    """The archive a member's key names (``file:/x/a.zip!/b/c.txt`` -> ``/x/a.zip``; nested:
    the outer archive's path with the inner one's), "" when the key is no archive member's."""
    if not source_key.startswith("file:") or ARCHIVE_MARK not in source_key:
        return ""
    archive = source_key[len("file:") :].rpartition(ARCHIVE_MARK)[0]
    return archive if archive_kind(archive) else ""  # a folder named "news!" is no archive


@dataclass(frozen=True)
class ArchiveLimits:
    """How much one archive may unpack to (see the module's docstring)."""

    max_bytes: int = 1024**3
    max_files: int = 10_000
    max_ratio: float = 100.0
    max_depth: int = 2
    #: The largest member (``SOURCEBOOK_MAX_FILE_BYTES``).
    member_max_bytes: int = 200 * 1024 * 1024
    include_hidden: bool = False
    skip_housekeeping: bool = True
    #: Members 1..n of the walk are passed over: a worker died on member n (see feed_members).
    skip_members: int = 0


def archive_limits(settings: Settings, options: IngestOptions) -> ArchiveLimits:
    """The bounds an ingest with ``options`` walks archives within."""
    return ArchiveLimits(
        max_bytes=settings.archive_max_bytes,
        max_files=settings.archive_max_files,
        max_ratio=settings.archive_max_ratio,
        max_depth=settings.archive_max_depth,
        member_max_bytes=settings.max_file_bytes,
        include_hidden=options.include_hidden,
        skip_housekeeping=options.skip_housekeeping,
    )


@dataclass
class MemberStart(EmptyRecord):
    """Marks where one member's records begin (``where``: its name); never stored. ``parser``
    is "archive" for an archive's own notes and errors."""

    parser: str = ""
    #: The member's place in the walk (nested members counted too), to resume after it.
    index: int = 0


@dataclass
class _Budget:
    bytes_left: int
    files_left: int
    seen: int = 0  # members met so far


@dataclass
class _Context:
    display: str  # the archive as reported: "a.zip", "a.zip!/b.zip"
    key: str  # its source key: "file:/abs/a.zip"
    depth: int  # 1 for an archive named to ingest
    budget: _Budget
    current: list[str] = field(default_factory=list)  # the member records now go to


@dataclass
class _Member:
    name: str  # the name in the archive, cleaned
    size: int  # unpacked size as the header says
    compressed: int  # compressed size (-1: unknown, inside a compressed TAR stream)
    skip: str = ""  # why it is skipped (a note)
    error: str = ""  # why it fails (an error)
    opener: Callable[[], IO[bytes] | io.BufferedIOBase] | None = None
    read: bool = False  # its bytes were read (a TAR stream need not read through them)


class ArchiveWalker:
    """Reads an archive's members through ``registry`` (the parser named ``parser_name`` for
    every member, else each member's auction winner). Looks like a parser to the sandbox."""

    name = PARSER_NAME
    media_types: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()

    def __init__(self, registry: ParserRegistry, limits: ArchiveLimits, parser_name: str = ""):
        self.registry = registry
        self.limits = limits
        self.parser_name = parser_name

    def match(self, source: Source) -> int:
        return NO_MATCH  # never bids: archives are recognised by name before the auction

    def document_parser(self, source: Source) -> Parser | None:
        """The parser that knows a ``.zip`` by its content (a DOCX, ODT or EPUB renamed), which
        then reads it as the one document it is; None for an archive."""
        if archive_kind(source.path.name) != "zip":
            return None
        try:
            parser = self.registry.auction(source)
            return parser if parser.match(source) >= BY_CONTENT else None
        except SourcebookError:
            return None

    def parse(self, source: Source) -> Iterator[Item]:
        limits = self.limits
        ctx = _Context(
            display=str(source.path),
            key=f"file:{source.path.resolve()}",
            depth=1,
            budget=_Budget(limits.max_bytes, limits.max_files),
        )
        ctx.current.append(ctx.display)
        with source.open() as fh:
            yield from self._walk(fh, ctx)

    # -- one archive -------------------------------------------------------------------------
    def _walk(self, fh: BinaryIO, ctx: _Context) -> Iterator[Item]:
        kind = archive_kind(ctx.display)
        limits = self.limits
        members = _zip_members(fh, ctx, limits) if kind == "zip" else _tar_members(fh, ctx, limits)
        try:
            yield from self._members(members, ctx)
        except (_Stop, ParseError) as stop:  # bounds spent, or the archive itself is damaged
            yield from _to(ctx, ctx.display, PARSER_NAME)
            yield BadRecord(ctx.display, str(stop))

    def _members(self, members: Iterator[_Member], ctx: _Context) -> Iterator[Item]:
        for member in members:
            where = f"{ctx.display}{ARCHIVE_MARK}{member.name}"
            _take_file(ctx, self.limits, member.name)
            ctx.budget.seen += 1
            index = ctx.budget.seen
            skip = self.limits.skip_members
            if index <= skip and not (index < skip and archive_kind(member.name)):
                # read by a worker that then died: passed over (an archive inside, unless it
                # is the member it died on, is entered for the members after that one)
                if member.compressed >= 0:
                    ctx.budget.bytes_left -= member.size  # counted as if read again
                continue
            if not member.skip and not member.error:
                member.skip = self._skip_reason(member.name)
            if member.skip:
                yield from _to(ctx, ctx.display, PARSER_NAME, index)
                yield EmptyRecord(where, member.skip)
                continue
            # the member's own outcome from here, before its bytes are read (a worker that
            # dies reading them dies on this member)
            yield from _to(ctx, where, PARSER_NAME, index)
            if member.error:
                yield BadRecord(where, member.error)
                continue
            try:
                data = _read_member(member, ctx, self.limits)
            except _Refused as exc:
                yield BadRecord(where, str(exc))
                continue
            if archive_kind(member.name) and not self._disguised(where, data):
                yield from self._nested(where, f"{ctx.key}{ARCHIVE_MARK}{member.name}", data, ctx)
            else:
                yield from self._member(where, f"{ctx.key}{ARCHIVE_MARK}{member.name}", data, ctx)

    def _skip_reason(self, name: str) -> str:
        parts = name.split("/")
        if parts[0] == "__MACOSX":
            return "macOS resource fork"
        if not self.limits.include_hidden and any(p.startswith(".") for p in parts):
            return "hidden"
        base = parts[-1]
        if base == IGNORE_FILE:
            return "ignore file (not applied inside archives yet)"
        reason = housekeeping_reason(base)
        if reason == "metadata manifest":
            return "metadata manifest (not applied inside archives yet)"
        if reason and self.limits.skip_housekeeping:
            return reason
        return ""

    def _disguised(self, where: str, data: bytes) -> bool:
        source = Source(path=Path(where), head=data[:HEAD_BYTES], size=len(data), _data=data)
        return not self.parser_name and self.document_parser(source) is not None

    def _nested(self, where: str, key: str, data: bytes, ctx: _Context) -> Iterator[Item]:
        yield from _to(ctx, where, PARSER_NAME)
        if ctx.depth >= self.limits.max_depth:
            if ctx.budget.seen < self.limits.skip_members:
                return  # said already, before the worker died
            yield BadRecord(
                where,
                f"an archive nested more than {self.limits.max_depth} deep; not read "
                "(SOURCEBOOK_ARCHIVE_MAX_DEPTH)",
            )
            return
        inner = _Context(where, key, ctx.depth + 1, ctx.budget, ctx.current)
        try:
            yield from self._walk(io.BytesIO(data), inner)
        except SourcebookError as exc:
            yield from _to(ctx, where, PARSER_NAME)
            yield BadRecord(where, str(exc))

    def _member(self, where: str, key: str, data: bytes, ctx: _Context) -> Iterator[Item]:
        name = where.rpartition("/")[2]
        sub = Source(
            path=Path(where),
            media_type=mimetypes.guess_type(name)[0] or "",
            head=data[:HEAD_BYTES],
            size=len(data),
            max_bytes=self.limits.member_max_bytes,
            _data=data,
        )
        try:
            parser = (
                self.registry.get(self.parser_name)
                if self.parser_name
                else self.registry.auction(sub)
            )
        except UnsupportedFormat as exc:
            yield BadRecord(where, str(exc))
            return
        yield MemberStart(where, "", parser.name, ctx.budget.seen)  # names the parser
        if not data:
            yield EmptyRecord(where, "empty member")
            return
        yield from _keyed(key, where, self.registry.parse(sub, parser))


def _to(ctx: _Context, where: str, parser: str, index: int = 0) -> Iterator[MemberStart]:
    """The marker that sends the next records to ``where``'s outcome (none if they go there)."""
    if ctx.current[-1] != where:
        ctx.current[-1] = where
        yield MemberStart(where, "", parser, index or ctx.budget.seen)


def _keyed(key: str, where: str, items: Iterator[Item]) -> Iterator[Item]:
    """A member's records, keyed and located under the archive (as attachments are)."""
    first_key = ""
    k = 0
    try:
        for item in items:
            if isinstance(item, Document) and not item.docid:
                k += 1
                if k == 1:
                    first_key = item.source_key
                item.source_key = _linked_key(key, first_key, item.source_key, k)
                if k == 1:
                    item.origin = where
                elif not item.origin.startswith(where):
                    item.origin = f"{where}#{k}"
            yield item
    except SourcebookError as exc:
        if _out_of_memory(exc):  # a parser that wraps every exception: the worker's to handle
            raise MemoryError from exc
        yield BadRecord(where, str(exc))
    except (MemoryError, RecursionError):
        raise
    except Exception as exc:  # a parser bug in one member must not lose the others
        log.exception("unexpected error parsing %s", where)
        yield BadRecord(where, f"internal error ({type(exc).__name__}): {exc}")


def _out_of_memory(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    for _ in range(20):
        if cause is None:
            return False
        if isinstance(cause, MemoryError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


# --- reading members --------------------------------------------------------------------------


class _Refused(SourcebookError):
    """This member is not read; the next one is."""


class _Stop(SourcebookError):
    """The archive's bounds are spent: no further member is read."""


def _clean_name(raw: str) -> tuple[str, str]:
    """The member's name for reports and keys, and why it is unsafe ("" when it is not)."""
    name = raw.replace("\\", "/")
    shown = "".join(c if c.isprintable() else "?" for c in name)
    parts = [p for p in shown.split("/") if p not in ("", ".")]
    unsafe = ""
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        unsafe = f"unsafe name {raw!r} (an absolute path)"
    elif ".." in parts:
        unsafe = f"unsafe name {raw!r} (it climbs out with '..')"
    cleaned = "/".join(p for p in parts if p != "..").replace("#", "%23") or "(no name)"
    return cleaned, unsafe


def _bytes_limit(limits: ArchiveLimits) -> str:
    return f"{limits.max_bytes:,} bytes (SOURCEBOOK_ARCHIVE_MAX_BYTES)"


def _ratio_refusal(name: str, size: int, compressed: int, limits: ArchiveLimits) -> str:
    return (
        f"{name} unpacks to {size:,} bytes from {compressed:,} (more than {limits.max_ratio:g} "
        "to 1, SOURCEBOOK_ARCHIVE_MAX_RATIO): refused as a possible zip bomb"
    )


def _read_member(member: _Member, ctx: _Context, limits: ArchiveLimits) -> bytes:
    """The member's bytes, counted as they are decompressed against every bound."""
    budget = ctx.budget
    if member.size > budget.bytes_left:
        raise _Stop(
            f"the archive unpacks to more than {_bytes_limit(limits)}; "
            f"{member.name} and later members were not read"
        )
    if member.size > limits.member_max_bytes:
        raise _Refused(
            f"{member.name} is {member.size:,} bytes; the limit is "
            f"{limits.member_max_bytes:,} (setting SOURCEBOOK_MAX_FILE_BYTES)"
        )
    if (
        member.compressed >= 0
        and member.size > RATIO_FLOOR
        and member.size > limits.max_ratio * max(member.compressed, 1)
    ):
        raise _Refused(_ratio_refusal(member.name, member.size, member.compressed, limits))
    assert member.opener is not None
    member.read = True
    chunks: list[bytes] = []
    total = 0
    try:
        with member.opener() as fh:
            while chunk := fh.read(_CHUNK):  # a ZIP member: never past its declared size
                total += len(chunk)
                budget.bytes_left -= len(chunk)
                if budget.bytes_left < 0:
                    raise _Stop(
                        f"the archive unpacks to more than {_bytes_limit(limits)}; "
                        f"{member.name} and later members were not read"
                    )
                if total > limits.member_max_bytes:
                    raise _Refused(
                        f"{member.name} unpacks to more than {limits.member_max_bytes:,} bytes "
                        "(setting SOURCEBOOK_MAX_FILE_BYTES)"
                    )
                if (
                    member.compressed >= 0
                    and total > RATIO_FLOOR
                    and total > limits.max_ratio * max(member.compressed, 1)
                ):
                    raise _Refused(_ratio_refusal(member.name, total, member.compressed, limits))
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError) as exc:
        raise _Refused(f"{member.name} could not be read ({exc})") from exc
    except NotImplementedError as exc:  # a compression method zipfile lacks
        raise _Refused(f"{member.name} could not be read ({exc})") from exc
    except tarfile.TarError as exc:
        raise _Stop(f"the archive is damaged at {member.name} ({exc})") from exc
    return b"".join(chunks)


def _take_file(ctx: _Context, limits: ArchiveLimits, name: str) -> None:
    ctx.budget.files_left -= 1
    if ctx.budget.files_left < 0:
        raise _Stop(
            f"the archive has more than {limits.max_files:,} members "
            f"(SOURCEBOOK_ARCHIVE_MAX_FILES); {name} and later members were not read"
        )


def _zip_members(fh: BinaryIO, ctx: _Context, limits: ArchiveLimits) -> Iterator[_Member]:
    try:
        archive = zipfile.ZipFile(fh)
        infos = archive.infolist()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise ParseError(f"{ctx.display} is not a readable ZIP archive ({exc})") from exc
    files = [info for info in infos if not info.is_dir()]
    if len(files) > ctx.budget.files_left:
        raise ParseError(
            f"{ctx.display} has {len(files):,} members; the limit is {limits.max_files:,} "
            "(SOURCEBOOK_ARCHIVE_MAX_FILES); not read"
        )
    declared = sum(info.file_size for info in files)
    if declared > ctx.budget.bytes_left:
        raise ParseError(
            f"{ctx.display} would unpack to {declared:,} bytes; the limit is "
            f"{_bytes_limit(limits)}; not read"
        )
    _refuse_overlaps(files, ctx.display)
    with archive:
        for info in files:
            name, unsafe = _clean_name(info.filename)
            member = _Member(name, info.file_size, info.compress_size, skip=unsafe)
            if info.flag_bits & 0x1:
                member.error = "encrypted member: Sourcebook cannot read encrypted archives"
            member.opener = _zip_opener(archive, info)
            yield member


def _zip_opener(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo
) -> Callable[[], IO[bytes] | io.BufferedIOBase]:
    return lambda: archive.open(info)


def _refuse_overlaps(infos: list[zipfile.ZipInfo], display: str) -> None:
    """Members whose data overlap (the entries of a "non-recursive" zip bomb share one block
    of compressed data) make the archive refused."""
    end = -1
    for info in sorted(infos, key=lambda i: i.header_offset):
        if info.header_offset < end:
            raise ParseError(f"{display} has members whose data overlap (a zip bomb); not read")
        end = info.header_offset + 30 + len(info.orig_filename.encode()) + info.compress_size


class _Counting(io.RawIOBase):
    """A file object that counts the bytes read from it (the compressed side of a TAR)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.count += len(data)
        return data


def _tar_members(fh: BinaryIO, ctx: _Context, limits: ArchiveLimits) -> Iterator[_Member]:
    counting = _Counting(fh)
    try:
        archive = tarfile.open(fileobj=counting, mode="r|*")  # noqa: SIM115 (closed below)
    except (tarfile.TarError, zlib.error, lzma.LZMAError, EOFError, OSError) as exc:
        raise ParseError(f"{ctx.display} is not a readable TAR archive ({exc})") from exc
    # the stream's compression, read from its first bytes ("tar": none); the stream is read
    # from here on, no seek
    compressed = getattr(archive.fileobj, "comptype", "tar") != "tar"
    with archive:
        while True:
            try:
                info = archive.next()
            except (tarfile.TarError, zlib.error, lzma.LZMAError, EOFError, OSError) as exc:
                raise ParseError(
                    f"{ctx.display} is damaged ({exc}); later members not read"
                ) from exc
            if info is None:
                return
            if info.isdir():
                continue
            name, unsafe = _clean_name(info.name)
            member = _Member(name, info.size if info.isreg() else 0, -1, skip=unsafe)
            if info.issym():
                member.skip = f"a symbolic link (to {info.linkname!r}); not followed"
            elif info.islnk():
                member.skip = f"a hard link (to {info.linkname!r}); not followed"
            elif info.ischr() or info.isblk():
                member.skip = "a device"
            elif info.isfifo():
                member.skip = "a named pipe"
            elif not info.isreg():
                member.skip = "not a regular file"
            member.opener = _tar_opener(archive, info, counting, compressed, limits)
            yield member
            if member.size and not member.read:
                # the stream reads through a member it skips: counted and checked like a read
                _drain(member, ctx, limits)


def _drain(member: _Member, ctx: _Context, limits: ArchiveLimits) -> None:
    if member.size > ctx.budget.bytes_left:
        raise _Stop(
            f"the archive unpacks to more than {_bytes_limit(limits)}; "
            f"members after {member.name} were not read"
        )
    assert member.opener is not None
    try:
        with member.opener() as fh:
            while chunk := fh.read(_CHUNK):  # a ZIP member: never past its declared size
                ctx.budget.bytes_left -= len(chunk)
    except (tarfile.TarError, zlib.error, lzma.LZMAError, EOFError, OSError) as exc:
        raise _Stop(f"the archive is damaged at {member.name} ({exc})") from exc


def _tar_opener(
    archive: tarfile.TarFile,
    info: tarfile.TarInfo,
    counting: _Counting,
    compressed: bool,
    limits: ArchiveLimits,
) -> Callable[[], IO[bytes] | io.BufferedIOBase]:
    def opener() -> IO[bytes] | io.BufferedIOBase:
        handle = archive.extractfile(info)
        if handle is None:
            raise _Refused(f"{info.name} is not a regular file")
        return _RatioChecked(handle, info, counting, compressed, limits.max_ratio)

    return opener


class _RatioChecked(io.BufferedIOBase):
    """A TAR member read from a compressed stream, stopped when the stream so far unpacks to
    more than ``max_ratio`` times the compressed bytes read (a TAR member's own compressed
    size is in no header)."""

    def __init__(
        self,
        handle: IO[bytes],
        info: tarfile.TarInfo,
        counting: _Counting,
        compressed: bool,
        max_ratio: float,
    ) -> None:
        super().__init__()
        self.handle = handle
        self.info = info
        self.counting = counting
        self.compressed = compressed
        self.max_ratio = max_ratio
        self.out = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data = self.handle.read(-1 if size is None else size)
        self.out += len(data)
        if self.compressed:
            unpacked = self.info.offset_data + self.out
            packed = max(self.counting.count, 1)
            if unpacked > RATIO_FLOOR and unpacked > self.max_ratio * packed:
                raise _Stop(
                    f"the archive's stream unpacks to {unpacked:,} bytes from {packed:,} "
                    f"(more than {self.max_ratio:g} to 1, SOURCEBOOK_ARCHIVE_MAX_RATIO) at "
                    f"{self.info.name}: refused as a possible bomb; later members were not read"
                )
        return data


# --- the archive's side: one outcome per member ----------------------------------------------


def feed_members(
    items: Iterable[Item],
    top: FileOutcome,
    files: list[FileOutcome],
    add: Callable[[Iterable[Item], FileOutcome], None],
    fail: Callable[[FileOutcome, str], None],
    resume: Callable[[int], Iterable[Item]] | None = None,
) -> None:
    """Hand an archive's records to ``add`` member by member, each with its own outcome (added
    to ``files``; ``top`` is the archive's own).

    What the reading raises (the worker past its memory or time limit, or dead) is recorded by
    ``fail`` on the member being read; then ``resume(n)`` reads the archive again from the
    member after it (at most :data:`MAX_RESUMES` times). An archive's own outcome with nothing
    to say is dropped from ``files`` once its members have theirs.
    """
    stream = iter(items)
    known = {top.path: top}
    current = top
    pending: list[MemberStart] = []
    index = resumed_at = resumes = 0

    def group() -> Iterator[Item]:
        for item in stream:
            if isinstance(item, MemberStart):
                pending.append(item)
                return
            yield item

    while True:
        try:
            add(group(), current)
        except SourcebookError as exc:
            fail(current, str(exc))
            if resume is None or index <= resumed_at or resumes >= MAX_RESUMES:
                break
            log.warning("%s: reading on after member %d (%s)", top.path, index, exc)
            resumes, resumed_at, current = resumes + 1, index, top
            pending.clear()
            stream = iter(resume(index))
            continue
        if not pending:
            break
        marker = pending.pop()
        index = marker.index
        current = known.get(marker.where) or FileOutcome(path=marker.where)
        if marker.parser:
            current.parser = marker.parser
        if current.path not in known:
            known[current.path] = current
            files.append(current)
    if len(known) > 1:
        for outcome in known.values():
            quiet = not (outcome.failed or outcome.notes or outcome.documents)
            if outcome.parser == PARSER_NAME and quiet and outcome in files:
                files.remove(outcome)


def preview_archive(
    path: Path, registry: ParserRegistry, limits: ArchiveLimits, parser_name: str = ""
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """What ``ingest --dry-run`` says of an archive: ``(member, parser, problem)`` for each
    member an ingest would read, and ``(member, reason)`` for each it would skip. Members are
    read (within the same bounds) so their parser is chosen from their bytes, not parsed."""
    walker = ArchiveWalker(_Naming(registry), limits, parser_name)
    planned: list[tuple[str, str, str]] = []
    skipped: list[tuple[str, str]] = []
    parser = ""
    try:
        for item in walker.parse(Source.from_path(path, limits.max_bytes)):
            if isinstance(item, MemberStart):
                parser = item.parser
            elif isinstance(item, Document):
                planned.append((item.origin, parser, ""))
            elif isinstance(item, BadRecord):
                planned.append((item.where, "", item.message))
            else:
                skipped.append((item.where, item.message))
    except SourcebookError as exc:
        planned.append((str(path), "", str(exc)))
    return planned, skipped


class _Naming(ParserRegistry):
    """The registry's auction, without the parsing (for the preview)."""

    def __init__(self, registry: ParserRegistry) -> None:
        super().__init__()
        self._parsers = registry.parsers

    def parse(self, source: Source, parser: Parser | None = None) -> Iterator[Item]:
        yield Document(title="", body="", source_key=str(source.path))
