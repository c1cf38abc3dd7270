"""A small writer of Compound File Binary files ([MS-CFB], version 3) and Outlook messages.

No Python library writes ``.msg`` files (extract-msg and python-oxmsg only read them, olefile can
only overwrite streams in place), so the tests build their messages here, following [MS-CFB] and
[MS-OXMSG]: 512-byte sectors, a FAT, a directory, streams under 4,096 bytes in the mini stream,
and the message's properties in ``__properties_version1.0`` streams with variable-length values
in ``__substg1.0_PPPPTTTT`` streams. A file Outlook wrote would carry more properties (named
properties, recipients, RTF bodies); the parser is tested on what this writer produces.
"""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime

import compressed_rtf

SECTOR = 512
MINI_SECTOR = 64
CUTOFF = 4096
FREESECT, ENDOFCHAIN, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
STORAGE, STREAM, ROOT = 1, 2, 5

PT_LONG, PT_SYSTIME, PT_UNICODE, PT_BINARY = 0x0003, 0x0040, 0x001F, 0x0102


@dataclass
class Storage:
    """A folder of the compound file: streams (name -> bytes) and sub-storages."""

    streams: dict[str, bytes] = field(default_factory=dict)
    storages: dict[str, Storage] = field(default_factory=dict)


@dataclass
class _Entry:
    name: str
    kind: int
    data: bytes = b""
    children: list[int] = field(default_factory=list)
    start: int = ENDOFCHAIN
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM


def _sort_key(name: str) -> tuple[int, str]:
    return (len(name), name.upper())


def _flatten(root: Storage) -> list[_Entry]:
    entries = [_Entry("Root Entry", ROOT)]

    def add(storage: Storage, parent: int) -> None:
        for name, data in storage.streams.items():
            entries.append(_Entry(name, STREAM, data))
            entries[parent].children.append(len(entries) - 1)
        for name, sub in storage.storages.items():
            entries.append(_Entry(name, STORAGE))
            index = len(entries) - 1
            entries[parent].children.append(index)
            add(sub, index)

    add(root, 0)
    for entry in entries:
        # siblings as a right-leaning chain in sort order: a valid (all-black) search tree
        kids = sorted(entry.children, key=lambda i: _sort_key(entries[i].name))
        if kids:
            entry.child = kids[0]
            for a, b in itertools.pairwise(kids):
                entries[a].right = b
    return entries


def _chain(fat: list[int], start: int, count: int) -> None:
    for i in range(count):
        fat[start + i] = start + i + 1 if i < count - 1 else ENDOFCHAIN


def write_cfb(root: Storage) -> bytes:
    """The bytes of a compound file holding ``root``."""
    entries = _flatten(root)
    # the mini stream: small streams in 64-byte mini sectors
    mini_stream = bytearray()
    mini_fat: list[int] = []
    big: list[_Entry] = []
    for entry in entries:
        if entry.kind != STREAM:
            continue
        if len(entry.data) >= CUTOFF:
            big.append(entry)
        elif entry.data:
            sectors = -(-len(entry.data) // MINI_SECTOR)
            entry.start = len(mini_fat)
            mini_fat.extend(range(entry.start + 1, entry.start + sectors))
            mini_fat.append(ENDOFCHAIN)
            mini_stream += entry.data.ljust(sectors * MINI_SECTOR, b"\0")
    n_dir = -(-len(entries) // 4)
    n_minifat = -(-len(mini_fat) * 4 // SECTOR)
    n_mini = -(-len(mini_stream) // SECTOR)
    n_big = [-(-len(e.data) // SECTOR) for e in big]
    n_data = n_dir + n_minifat + n_mini + sum(n_big)
    n_fat = 1
    while n_fat * (SECTOR // 4) < n_fat + n_data:
        n_fat += 1
    assert n_fat <= 109, "no DIFAT sectors in this small writer"
    total = n_fat + n_data
    fat = [FREESECT] * (n_fat * SECTOR // 4)
    for i in range(n_fat):
        fat[i] = FATSECT
    at = n_fat
    dir_start = at
    _chain(fat, at, n_dir)
    at += n_dir
    minifat_start = at if n_minifat else ENDOFCHAIN
    _chain(fat, at, n_minifat)
    at += n_minifat
    entries[0].start = at if n_mini else ENDOFCHAIN
    entries[0].data = bytes(mini_stream)
    _chain(fat, at, n_mini)
    at += n_mini
    for entry, count in zip(big, n_big, strict=True):
        entry.start = at
        _chain(fat, at, count)
        at += count
    assert at == total

    header = bytearray(SECTOR)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x003E, 0x0003, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 40, 0, n_fat, dir_start, 0, CUTOFF, minifat_start,
                     n_minifat, ENDOFCHAIN, 0)  # fmt: skip
    difat = [*range(n_fat), *([FREESECT] * (109 - n_fat))]
    struct.pack_into("<109I", header, 76, *difat)

    directory = bytearray()
    for entry in entries:
        name = entry.name.encode("utf-16-le") + b"\0\0"
        assert len(name) <= 64, entry.name
        size = len(entry.data) if entry.kind != STORAGE else 0
        directory += struct.pack(
            "<64sHBBIII16sIQQIQ",
            name,
            len(name),
            entry.kind,
            1,  # black
            entry.left,
            entry.right,
            entry.child,
            b"\0" * 16,
            0,
            0,
            0,
            entry.start if (entry.kind == ROOT or entry.data) else ENDOFCHAIN,
            size,
        )
    empty = struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM,
                        b"\0" * 16, 0, 0, 0, 0, 0)  # fmt: skip
    directory += empty * (n_dir * 4 - len(entries))

    body = bytearray()
    body += struct.pack(f"<{len(fat)}I", *fat)
    body += directory
    minifat_bytes = struct.pack(f"<{len(mini_fat)}I", *mini_fat)
    body += minifat_bytes.ljust(n_minifat * SECTOR, b"\xff")
    body += bytes(mini_stream).ljust(n_mini * SECTOR, b"\0")
    for entry, count in zip(big, n_big, strict=True):
        body += entry.data.ljust(count * SECTOR, b"\0")
    return bytes(header + body)


# -- Outlook messages ---------------------------------------------------------------------------


def _filetime(moment: datetime) -> int:
    epoch = datetime(1601, 1, 1, tzinfo=UTC)
    return int((moment - epoch).total_seconds() * 10_000_000)


def _properties(storage: Storage, props: dict[tuple[int, int], object], header: bytes) -> None:
    """Fill a properties stream (and the value streams) of ``storage``."""
    stream = bytearray(header)
    for (pid, ptyp), value in props.items():
        tag = struct.pack("<HH", ptyp, pid)
        flags = struct.pack("<I", 0x6)  # readable, writable
        if ptyp == PT_LONG:
            assert isinstance(value, int)
            stream += tag + flags + struct.pack("<iI", value, 0)
        elif ptyp == PT_SYSTIME:
            assert isinstance(value, datetime)
            stream += tag + flags + struct.pack("<Q", _filetime(value))
        else:
            if ptyp == PT_UNICODE:
                assert isinstance(value, str)
                data = value.encode("utf-16-le") + b"\0\0"
            else:
                assert isinstance(value, bytes)
                data = value
            storage.streams[f"__substg1.0_{pid:04X}{ptyp:04X}"] = (
                data[:-2] if ptyp == PT_UNICODE else data
            )
            stream += tag + flags + struct.pack("<II", len(data), 0)
    storage.streams["__properties_version1.0"] = bytes(stream)


@dataclass
class MsgAttachment:
    filename: str
    data: bytes = b""
    mime_type: str = ""
    method: int = 1  # ATTACH_BY_VALUE; 5: an embedded message (``embedded``'s fields)
    embedded: dict[str, object] | None = None


def write_msg(**fields: object) -> bytes:
    """The bytes of an Outlook message ([MS-OXMSG]); see :func:`message_storage`."""
    root = message_storage(top_level=True, **fields)  # type: ignore[arg-type]
    return write_cfb(root)


def message_storage(
    *,
    top_level: bool,
    subject: str,
    body: str = "",
    html: bytes = b"",
    codepage: int = 65001,
    rtf: bytes = b"",
    sender_name: str = "",
    sender_email: str = "",
    submitted: datetime | None = None,
    message_id: str = "",
    transport_headers: str = "",
    attachments: tuple[MsgAttachment, ...] = (),
) -> Storage:
    """A message's storage: the root of a .msg file, or an embedded message (24-byte header)."""
    storage = Storage()
    props: dict[tuple[int, int], object] = {
        (0x001A, PT_UNICODE): "IPM.Note",
        (0x0037, PT_UNICODE): subject,
        (0x340D, PT_LONG): 0x00040000,  # STORE_UNICODE_OK: string properties are UTF-16
    }
    if body:
        props[(0x1000, PT_UNICODE)] = body
    if html:
        props[(0x1013, PT_BINARY)] = html
        props[(0x3FDE, PT_LONG)] = codepage  # PidTagInternetCodepage (65001: UTF-8)
    if rtf:
        props[(0x1009, PT_BINARY)] = compressed_rtf.compress(rtf)  # PidTagRtfCompressed
    if sender_name:
        props[(0x0C1A, PT_UNICODE)] = sender_name
    if sender_email:
        props[(0x0C1F, PT_UNICODE)] = sender_email
    if submitted:
        props[(0x0039, PT_SYSTIME)] = submitted
    if message_id:
        props[(0x1035, PT_UNICODE)] = message_id
    if transport_headers:
        props[(0x007D, PT_UNICODE)] = transport_headers
    n = len(attachments)
    header = struct.pack("<8xIIII", 0, n, 0, n) + (b"\0" * 8 if top_level else b"")
    _properties(storage, props, header)
    if top_level:
        storage.storages["__nameid_version1.0"] = Storage(
            streams={
                name: b""
                for name in ("__substg1.0_00020102", "__substg1.0_00030102", "__substg1.0_00040102")
            }
        )
    for i, attachment in enumerate(attachments):
        attach = Storage()
        aprops: dict[tuple[int, int], object] = {
            (0x3705, PT_LONG): attachment.method,
            (0x3707, PT_UNICODE): attachment.filename,
            (0x0E21, PT_LONG): i,  # PidTagAttachNumber
        }
        if attachment.embedded is not None:
            attach.storages["__substg1.0_3701000D"] = message_storage(
                top_level=False,
                **attachment.embedded,  # type: ignore[arg-type]
            )
        else:
            aprops[(0x3701, PT_BINARY)] = attachment.data
        if attachment.mime_type:
            aprops[(0x370E, PT_UNICODE)] = attachment.mime_type
        _properties(attach, aprops, b"\0" * 8)
        storage.storages[f"__attach_version1.0_#{i:08X}"] = attach
    return storage
