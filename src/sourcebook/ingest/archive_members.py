"""Reading the members of a ZIP or TAR within bounds: names cleaned, bytes counted as they are
decompressed, bombs refused (see ``ingest/archives.py``, which walks them)."""

from __future__ import annotations

import io
import lzma
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO

from sourcebook.errors import ParseError, SourcebookError
from sourcebook.ingest.manifest import MANIFEST_NAMES, Manifest, manifest_from_text
from sourcebook.ingest.registry import decode_text

__all__ = [
    "RATIO_FLOOR",
    "ArchiveLimits",
    "Budget",
    "Member",
    "Refused",
    "Stop",
    "WalkContext",
    "read_member",
    "take_file",
    "tar_members",
    "zip_members",
]

#: Below this many unpacked bytes a member's compression ratio is not held against it (a page
#: of spaces compresses 100:1 and harms nobody).
RATIO_FLOOR = 1024 * 1024
_CHUNK = 1024 * 1024
#: What the standard library raises on a damaged archive or stream (a truncated gzip header
#: is a TypeError inside tarfile, a bad ZIP64 record a struct.error or ValueError).
_DAMAGE: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    tarfile.TarError,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    ValueError,
    TypeError,
    struct.error,
    NotImplementedError,  # a ZIP version or compression method zipfile lacks
)


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


@dataclass
class Budget:
    bytes_left: int
    files_left: int
    seen: int = 0  # members met so far


@dataclass
class WalkContext:
    display: str  # the archive as reported: "a.zip", "a.zip!/b.zip"
    key: str  # its source key: "file:/abs/a.zip"
    depth: int  # 1 for an archive named to ingest
    budget: Budget
    current: list[str] = field(default_factory=list)  # the member records now go to
    #: The archive's metadata manifests (a ZIP's: read before its members), with the folder
    #: inside the archive each describes ("" for the top).
    manifests: list[tuple[str, Manifest]] = field(default_factory=list)


@dataclass
class Member:
    name: str  # the name in the archive, cleaned
    size: int  # unpacked size as the header says
    compressed: int  # compressed size (-1: unknown, inside a compressed TAR stream)
    skip: str = ""  # why it is skipped (a note)
    error: str = ""  # why it fails (an error)
    opener: Callable[[], IO[bytes] | io.BufferedIOBase] | None = None
    read: bool = False  # its bytes were read (a TAR stream need not read through them)


class Refused(SourcebookError):
    """This member is not read; the next one is."""


class Stop(SourcebookError):
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


def read_member(member: Member, ctx: WalkContext, limits: ArchiveLimits) -> bytes:
    """The member's bytes, counted as they are decompressed against every bound."""
    budget = ctx.budget
    if member.size > budget.bytes_left:
        raise Stop(
            f"the archive unpacks to more than {_bytes_limit(limits)}; "
            f"{member.name} and later members were not read"
        )
    if member.size > limits.member_max_bytes:
        raise Refused(
            f"{member.name} is {member.size:,} bytes; the limit is "
            f"{limits.member_max_bytes:,} (setting SOURCEBOOK_MAX_FILE_BYTES)"
        )
    if (
        member.compressed >= 0
        and member.size > RATIO_FLOOR
        and member.size > limits.max_ratio * max(member.compressed, 1)
    ):
        raise Refused(_ratio_refusal(member.name, member.size, member.compressed, limits))
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
                    raise Stop(
                        f"the archive unpacks to more than {_bytes_limit(limits)}; "
                        f"{member.name} and later members were not read"
                    )
                if total > limits.member_max_bytes:
                    raise Refused(
                        f"{member.name} unpacks to more than {limits.member_max_bytes:,} bytes "
                        "(setting SOURCEBOOK_MAX_FILE_BYTES)"
                    )
                if (
                    member.compressed >= 0
                    and total > RATIO_FLOOR
                    and total > limits.max_ratio * max(member.compressed, 1)
                ):
                    raise Refused(_ratio_refusal(member.name, total, member.compressed, limits))
                chunks.append(chunk)
    except _DAMAGE as exc:
        if member.compressed < 0:  # a TAR stream is broken from here on
            raise Stop(f"the archive is damaged at {member.name} ({exc})") from exc
        raise Refused(f"{member.name} could not be read ({exc})") from exc
    return b"".join(chunks)


def take_file(ctx: WalkContext, limits: ArchiveLimits, name: str) -> None:
    ctx.budget.files_left -= 1
    if ctx.budget.files_left < 0:
        raise Stop(
            f"the archive has more than {limits.max_files:,} members "
            f"(SOURCEBOOK_ARCHIVE_MAX_FILES); {name} and later members were not read"
        )


def zip_members(fh: BinaryIO, ctx: WalkContext, limits: ArchiveLimits) -> Iterator[Member]:
    try:
        archive = zipfile.ZipFile(fh)
        infos = archive.infolist()
    except _DAMAGE as exc:
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
        _read_manifests(archive, files, ctx, limits)
        for info in files:
            name, unsafe = _clean_name(info.filename)
            member = Member(name, info.file_size, info.compress_size, skip=unsafe)
            if info.flag_bits & 0x1:
                member.error = "encrypted member: Sourcebook cannot read encrypted archives"
            member.opener = _zip_opener(archive, info)
            yield member


def _read_manifests(
    archive: zipfile.ZipFile, files: list[zipfile.ZipInfo], ctx: WalkContext, limits: ArchiveLimits
) -> None:
    """Read the ``metadata.jsonl`` / ``.csv`` members of a ZIP first (within the same bounds):
    their rows describe the members read after them. One that cannot be read is left out."""
    for info in files:
        name, unsafe = _clean_name(info.filename)
        folder, _, base = name.rpartition("/")
        if unsafe or base.lower() not in MANIFEST_NAMES or info.flag_bits & 0x1:
            continue
        if any(part.startswith(".") for part in name.split("/")) and not limits.include_hidden:
            continue
        member = Member(name, info.file_size, info.compress_size, opener=_zip_opener(archive, info))
        try:
            text = decode_text(read_member(member, ctx, limits))
        except Refused:
            continue
        ctx.manifests.append((folder, manifest_from_text(text, Path(f"{ctx.display}!/{name}"))))
    ctx.manifests.sort(key=lambda pair: -len(pair[0]))  # the nearest folder first


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


def tar_members(fh: BinaryIO, ctx: WalkContext, limits: ArchiveLimits) -> Iterator[Member]:
    counting = _Counting(fh)
    try:
        archive = tarfile.open(fileobj=counting, mode="r|*")  # noqa: SIM115 (closed below)
    except _DAMAGE as exc:
        raise ParseError(f"{ctx.display} is not a readable TAR archive ({exc})") from exc
    # the stream's compression, read from its first bytes ("tar": none); the stream is read
    # from here on, no seek
    compressed = getattr(archive.fileobj, "comptype", "tar") != "tar"
    with archive:
        while True:
            try:
                info = archive.next()
            except _DAMAGE as exc:
                raise ParseError(
                    f"{ctx.display} is damaged ({exc}); later members not read"
                ) from exc
            if info is None:
                return
            if info.isdir():
                continue
            name, unsafe = _clean_name(info.name)
            member = Member(name, info.size if info.isreg() else 0, -1, skip=unsafe)
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


def _drain(member: Member, ctx: WalkContext, limits: ArchiveLimits) -> None:
    if member.size > ctx.budget.bytes_left:
        raise Stop(
            f"the archive unpacks to more than {_bytes_limit(limits)}; "
            f"members after {member.name} were not read"
        )
    assert member.opener is not None
    try:
        with member.opener() as fh:
            while chunk := fh.read(_CHUNK):  # a ZIP member: never past its declared size
                ctx.budget.bytes_left -= len(chunk)
    except _DAMAGE as exc:
        raise Stop(f"the archive is damaged at {member.name} ({exc})") from exc


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
            raise Refused(f"{info.name} is not a regular file")
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
                raise Stop(
                    f"the archive's stream unpacks to {unpacked:,} bytes from {packed:,} "
                    f"(more than {self.max_ratio:g} to 1, SOURCEBOOK_ARCHIVE_MAX_RATIO) at "
                    f"{self.info.name}: refused as a possible bomb; later members were not read"
                )
        return data
