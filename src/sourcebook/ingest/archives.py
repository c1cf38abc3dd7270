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
housekeeping names and metadata manifests (the folder walk's rules, ``ingest/inputs.py``; a
ZIP's manifests are read first and describe its members, a TAR's and ``.sourcebookignore``
are not applied yet), unsafe names
(absolute, or with a ``..`` part), and in a TAR symbolic links, hard links, devices and pipes.
"""

from __future__ import annotations

import io
import logging
import mimetypes
import posixpath
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from sourcebook.errors import ParseError, SourcebookError, UnsupportedFormat
from sourcebook.ingest.archive_members import (
    ArchiveLimits,
    Budget,
    Member,
    Refused,
    Stop,
    WalkContext,
    read_member,
    take_file,
    tar_members,
    zip_members,
)
from sourcebook.ingest.attachments import _linked_key
from sourcebook.ingest.inputs import IGNORE_FILE, housekeeping_reason
from sourcebook.ingest.manifest import ManifestRow, describe_documents
from sourcebook.ingest.ocr import OcrSettings
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
        self._ocr = OcrSettings()

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
        self._ocr = source.ocr  # members are read with the archive's OCR settings
        limits = self.limits
        ctx = WalkContext(
            display=str(source.path),
            key=f"file:{source.path.resolve()}",
            depth=1,
            budget=Budget(limits.max_bytes, limits.max_files),
        )
        ctx.current.append(ctx.display)
        with source.open() as fh:
            yield from self._walk(fh, ctx)

    # -- one archive -------------------------------------------------------------------------
    def _walk(self, fh: BinaryIO, ctx: WalkContext) -> Iterator[Item]:
        kind = archive_kind(ctx.display)
        limits = self.limits
        members = zip_members(fh, ctx, limits) if kind == "zip" else tar_members(fh, ctx, limits)
        try:
            yield from self._members(members, ctx)
        except (Stop, ParseError) as stop:  # bounds spent, or the archive itself is damaged
            yield from _to(ctx, ctx.display, PARSER_NAME)
            yield BadRecord(ctx.display, str(stop))

    def _members(self, members: Iterator[Member], ctx: WalkContext) -> Iterator[Item]:
        for member in members:
            where = f"{ctx.display}{ARCHIVE_MARK}{member.name}"
            take_file(ctx, self.limits, member.name)
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
                member.skip = self._skip_reason(member.name, ctx)
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
                data = read_member(member, ctx, self.limits)
            except Refused as exc:
                yield BadRecord(where, str(exc))
                continue
            if archive_kind(member.name) and not self._disguised(where, data):
                yield from self._nested(where, f"{ctx.key}{ARCHIVE_MARK}{member.name}", data, ctx)
            else:
                yield from self._member(where, f"{ctx.key}{ARCHIVE_MARK}{member.name}", data, ctx)

    def _skip_reason(self, name: str, ctx: WalkContext) -> str:
        parts = name.split("/")
        if parts[0] == "__MACOSX":
            return "macOS resource fork"
        if not self.limits.include_hidden and any(p.startswith(".") for p in parts):
            return "hidden"
        base = parts[-1]
        if base == IGNORE_FILE:
            return "ignore file (not applied inside archives yet)"
        reason = housekeeping_reason(base)
        if reason == "metadata manifest":  # never a document; a ZIP's are read first
            tar = archive_kind(ctx.display) == "tar"
            return f"{reason} (not applied inside a TAR yet)" if tar else reason
        if reason and self.limits.skip_housekeeping:
            return reason
        return ""

    def _disguised(self, where: str, data: bytes) -> bool:
        source = Source(path=Path(where), head=data[:HEAD_BYTES], size=len(data), _data=data)
        return not self.parser_name and self.document_parser(source) is not None

    def _nested(self, where: str, key: str, data: bytes, ctx: WalkContext) -> Iterator[Item]:
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
        inner = WalkContext(where, key, ctx.depth + 1, ctx.budget, ctx.current)
        try:
            yield from self._walk(io.BytesIO(data), inner)
        except SourcebookError as exc:
            yield from _to(ctx, where, PARSER_NAME)
            yield BadRecord(where, str(exc))

    def _member(self, where: str, key: str, data: bytes, ctx: WalkContext) -> Iterator[Item]:
        name = where.rpartition("/")[2]
        sub = Source(
            path=Path(where),
            media_type=mimetypes.guess_type(name)[0] or "",
            head=data[:HEAD_BYTES],
            size=len(data),
            max_bytes=self.limits.member_max_bytes,
            ocr=self._ocr,
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
        row = _row_for(ctx, where[len(ctx.display) + len(ARCHIVE_MARK) :])
        yield from _keyed(key, where, describe_documents(self.registry.parse(sub, parser), row))


def _row_for(ctx: WalkContext, name: str) -> ManifestRow | None:
    """The row of the archive's manifests that describes member ``name``: by its path from the
    manifest's folder, else its file name, else (for a row naming no file) its id = the name
    without extension; the nearest manifest first."""
    base = name.rpartition("/")[2]
    for folder, manifest in ctx.manifests:
        if folder and not name.startswith(folder + "/"):
            continue
        for row in manifest.rows:
            for ref in row.files:
                ref = ref.replace("\\", "/")
                if posixpath.normpath(posixpath.join(folder, ref)).lstrip("/") == name:
                    return row
                if "/" not in ref and ref == base:
                    return row
            if not row.files and row.row_id and row.row_id == base.rpartition(".")[0]:
                return row
    return None


def _to(ctx: WalkContext, where: str, parser: str, index: int = 0) -> Iterator[MemberStart]:
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
