"""Outlook messages (``.msg``, [MS-OXMSG]) through python-oxmsg.

The same record as an ``.eml`` (see :mod:`sourcebook.ingest.email`): the subject is the title,
the sender's name (else address) the author, the date of the message's ``Date`` transport header
(the sender's own time zone) or else of its submit time (UTC) the publication date, the
plain-text body or else the HTML body reduced to text the body. The identity is the internet
``Message-ID`` when the message has one. Attachments stored in the message are parsed as
documents of their own, linked back to it (see :mod:`sourcebook.ingest.attachments`); an Outlook
item embedded in the message (attach method 5, a forwarded message) has no bytes to hand to the
auction, so it is read here as the message it is, with its own attachments, and linked the same
way. Without a sender address, the sender's display name is the author.

python-oxmsg (MIT) is used rather than extract-msg, which is GPL-licensed. A message whose only
body is compressed RTF (``PidTagRtfCompressed``) has it decompressed (compressed-rtf, MIT) and
read like an RTF file.

A file that is not an OLE compound file, or one too damaged to read, is a ParseError.
"""

from __future__ import annotations

import logging
import re
import struct
from collections.abc import Iterator
from functools import partial

from compressed_rtf import decompress
from olefile.olefile import DEFECT_FATAL, DEFECT_INCORRECT, OleFileError, OleFileIO
from oxmsg import Message
from oxmsg.attachment import Attachment as OxAttachment
from oxmsg.domain import constants as oxmsg_constants
from oxmsg.properties import Properties
from oxmsg.storage import Storage

from sourcebook.errors import ParseError
from sourcebook.ingest.attachments import Attachment, RegistryBinding, parse_attachments
from sourcebook.ingest.email import message_authors, message_date, message_key, message_paragraphs
from sourcebook.ingest.registry import BY_CONTENT, BY_EXTENSION, NO_MATCH, Source, decode_text
from sourcebook.ingest.rtf import rtf_paragraphs
from sourcebook.ingest.text import clean_inline, join_paragraphs
from sourcebook.model import BadRecord, Document, EmptyRecord

log = logging.getLogger(__name__)

__all__ = ["MsgParser"]

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: Names only an Outlook message has in its OLE directory (UTF-16, as the directory stores them)
_MSG_NAMES = tuple(
    name.encode("utf-16-le")
    for name in ("__substg1.0_", "__properties_version1.0", "__nameid_version1.0")
)
_DIRECTORY_PEEK = 8192
_ATTACH_EMBEDDED_MSG = 5
_EMBEDDED_STORAGE = "__substg1.0_3701000D"
_EMBEDDED_HDR_OFFSET = 24
#: olefile defects that mean sectors are missing: the file is truncated or its tables damaged
_TRUNCATION = re.compile(r"incomplete|out of range|less than declared|too large|not enough", re.I)
_READ_ERRORS = (
    ValueError,
    KeyError,
    IndexError,
    OSError,
    OleFileError,
    struct.error,
    AssertionError,
    UnicodeDecodeError,
    LookupError,
)


class MsgParser(RegistryBinding):
    """Outlook ``.msg`` messages (python-oxmsg)."""

    name = "msg"
    media_types: tuple[str, ...] = ("application/vnd.ms-outlook",)
    extensions: tuple[str, ...] = ("msg",)

    def match(self, source: Source) -> int:
        if source.head.startswith(OLE_MAGIC) and _has_msg_streams(source):
            return BY_CONTENT
        if source.extension in self.extensions or source.media_type in self.media_types:
            return BY_EXTENSION
        return NO_MATCH

    def parse(self, source: Source) -> Iterator[Document | BadRecord | EmptyRecord]:
        name = source.path.name
        data = source.read_bytes()
        if not data.strip(b"\x00 \t\r\n"):
            raise ParseError(f"{name} is empty")
        if not data.startswith(OLE_MAGIC):
            raise ParseError(f"{name} is not an Outlook message (not an OLE compound file)")
        try:
            msg = Message(_storage(data, source))
        except _READ_ERRORS as exc:
            raise ParseError(f"{name} is a damaged or truncated Outlook message: {exc}") from exc
        yield from self._parse_message(msg, source)

    def _parse_message(
        self, msg: Message, source: Source
    ) -> Iterator[Document | BadRecord | EmptyRecord]:
        """The message's document, then its attachments' (an embedded item recursively)."""
        try:
            doc = _message_document(msg, source)
            attachments = list(self._attachments(msg, source))
        except ParseError:
            raise
        except _READ_ERRORS as exc:
            raise ParseError(
                f"{source.path.name} is a damaged or truncated Outlook message: {exc}"
            ) from exc
        yield doc
        yield from parse_attachments(doc, attachments, source, self.registry)

    def _attachments(self, msg: Message, source: Source) -> Iterator[Attachment]:
        for n, attachment in enumerate(msg.attachments, start=1):
            props = attachment.properties
            filename = attachment.file_name or props.str_prop_value(
                oxmsg_constants.PID_ATTACH_FILENAME
            )
            media_type = props.str_prop_value(oxmsg_constants.PID_ATTACH_MIME_TAG) or ""
            method = props.int_prop_value(oxmsg_constants.PID_ATTACH_METHOD)
            if method == _ATTACH_EMBEDDED_MSG:
                embedded = _embedded_message(attachment)
                yield Attachment(
                    filename=filename or f"item-{n}.msg",
                    data=b"",
                    unreadable="" if embedded else "an embedded Outlook item without its message",
                    reader=partial(self._parse_message, embedded) if embedded else None,
                )
                continue
            yield Attachment(
                filename=filename or f"attachment-{n}",
                data=attachment.file_bytes or b"",
                media_type=media_type,
            )


def _has_msg_streams(source: Source) -> bool:
    """Whether the first directory sectors of an OLE file name a message's streams.

    Only the header and a few kilobytes at the directory's start are read, so a large Word or
    Excel file (also OLE) is not loaded into memory to be turned down.
    """
    head = source.head
    if any(name in head for name in _MSG_NAMES):
        return True
    if len(head) < 52:
        return False
    sector_shift, first_directory = (
        struct.unpack_from("<H", head, 30)[0],
        struct.unpack_from("<I", head, 48)[0],
    )
    if not 9 <= sector_shift <= 12:
        return False
    offset = (first_directory + 1) << sector_shift
    try:
        with source.path.open("rb") as fh:
            fh.seek(offset)
            directory = fh.read(_DIRECTORY_PEEK)
    except OSError:  # an attachment: its bytes are in memory, not on disk
        directory = source.read_bytes()[offset : offset + _DIRECTORY_PEEK]
    return any(name in directory for name in _MSG_NAMES)


def _storage(data: bytes, source: Source) -> Storage:
    """The message's OLE storage, read strictly enough that missing sectors are an error.

    olefile's default pads a truncated file's missing sectors and carries on, which would lose
    the body or attachments without a word. Defects of other kinds (an odd header field) are
    tolerated, as Outlook's own files sometimes have them.
    """
    try:
        with OleFileIO(data, raise_defects=DEFECT_INCORRECT) as ole:
            return Storage.from_ole(ole)
    except OleFileError as exc:
        if _TRUNCATION.search(str(exc)):
            raise
        log.info("%s: tolerating an OLE defect: %s", source.path, exc)
    with OleFileIO(data, raise_defects=DEFECT_FATAL) as ole:
        return Storage.from_ole(ole)


def _message_document(msg: Message, source: Source) -> Document:
    headers = {key.lower(): str(value) for key, value in msg.message_headers.items()}
    props = msg.properties
    title = clean_inline(msg.subject)
    plain = msg.body
    paragraphs = message_paragraphs(plain, None if plain and plain.strip() else _html(msg, source))
    if not paragraphs:
        paragraphs = _rtf_body(msg, source)
    if not title and not paragraphs:
        raise ParseError(f"{source.path.name}: the message has neither a subject nor any text")
    sent = msg.sent_date
    published = message_date(headers.get("date", "")) or (sent.date() if sent else None)
    message_id = (
        props.str_prop_value(oxmsg_constants.PID_INTERNET_MESSAGE_ID)
        or headers.get("message-id")
        or ""
    )
    return Document(
        title=title,
        authors=message_authors(
            msg.sender or props.str_prop_value(oxmsg_constants.PID_SENDER_NAME) or ""
        ),
        publication_date=published,
        body=join_paragraphs(paragraphs),
        source_key=message_key(message_id, source),
        origin=str(source.path),
    )


def _html(msg: Message, source: Source) -> str | None:
    try:
        return msg.html_body
    except (LookupError, UnicodeDecodeError) as exc:  # an unknown or wrong code page
        log.warning("%s: the HTML body could not be decoded: %s", source.path, exc)
        return None


def _rtf_body(msg: Message, source: Source) -> list[str]:
    """Paragraphs of the compressed RTF body, for a message that has no plain or HTML body.

    An RTF body that encapsulates HTML (``\\fromhtml1``) is read as RTF: the HTML tags sit in
    groups the conversion skips, so the text comes out with its paragraph breaks.
    """
    compressed = msg.properties.binary_prop_value(oxmsg_constants.PID_RTF_COMPRESSED)
    if not compressed:
        return []
    try:
        rtf = decompress(compressed)
    except Exception as exc:  # compressed_rtf raises bare Exception on a bad header or CRC
        log.warning("%s: the RTF body could not be decompressed: %s", source.path, exc)
        return []
    try:
        return rtf_paragraphs(decode_text(rtf))
    except ParseError as exc:
        log.warning("%s: the RTF body could not be read: %s", source.path, exc)
        return []


class _EmbeddedMessage(Message):
    """An Outlook item inside a message: its properties stream has a 24-byte header, not 32."""

    @property
    def properties(self) -> Properties:
        return Properties(self._storage, properties_header_offset=_EMBEDDED_HDR_OFFSET)


def _embedded_message(attachment: OxAttachment) -> Message | None:
    """The message stored in an attachment's ``__substg1.0_3701000D`` storage, if any."""
    storage = attachment._storage
    if not isinstance(storage, Storage):
        return None
    for sub in storage.storages:
        if sub.name == _EMBEDDED_STORAGE:
            return _EmbeddedMessage(sub)
    return None
