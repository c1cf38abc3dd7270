"""E-mail messages (``.eml``, RFC 5322 / MIME) through the standard library's ``email`` package.

A message maps onto the record as its headers state it: ``Subject`` is the title, the names in
``From`` (the address where no name is given) are the authors, the calendar date of ``Date`` (in
the sender's own time zone, as written) is the publication date, ``Content-Language`` the
language. Nothing else is filled in: a mail has no publisher, and its ``Received`` or file dates
are not publication dates.

The body is the message's ``text/plain`` part, or its ``text/html`` part reduced to text when
there is no plain one. Attachments become documents of their own, linked back to the message
(see :mod:`sourcebook.ingest.attachments`). A message's identity is its ``Message-ID``
(``email:<id>``), so the same mail saved twice is one record; without one, the file path.

A file is taken for a mail when it opens with a header block naming a sender (``From`` or
``Received``) and at least one more mail header; a message attached to a message (declared
``message/rfc822`` by it) needs only to open with a header. A file with no header block, or a
message with neither subject nor text, is a ParseError.
"""

from __future__ import annotations

import email
import email.policy
import logging
import mimetypes
import re
from collections.abc import Iterator
from datetime import date
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

from sourcebook.countries import resolve_language
from sourcebook.errors import ParseError
from sourcebook.ingest.attachments import Attachment, RegistryBinding, parse_attachments
from sourcebook.ingest.html import html_to_paragraphs
from sourcebook.ingest.registry import BY_CONTENT, BY_EXTENSION, NO_MATCH, Source, decode_text
from sourcebook.ingest.text import clean_inline, join_paragraphs, plain_paragraphs
from sourcebook.model import BadRecord, Document, EmptyRecord

log = logging.getLogger(__name__)

__all__ = [
    "EmailParser",
    "message_authors",
    "message_date",
    "message_key",
    "message_paragraphs",
]

#: Header names that, together, mark the start of a mail (any two, with From or Received).
_MAIL_HEADERS = frozenset(
    [
        "from",
        "to",
        "cc",
        "date",
        "subject",
        "message-id",
        "received",
        "return-path",
        "mime-version",
        "delivered-to",
        "reply-to",
        "sender",
        "in-reply-to",
        "references",
        "content-type",
        "x-mailer",
    ]
)
_HEADER_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9-]*):[ \t]*\S?")
_MBOX_FROM = re.compile(r"^From \S+")


def _looks_like_mail(head: bytes) -> bool:
    """The file opens with a header block naming a sender (From or Received) and more."""
    text = head[:8192].decode("latin-1")
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and _MBOX_FROM.match(lines[0]):
        lines = lines[1:]  # the envelope line some programs put before the headers
    seen: set[str] = set()
    for line in lines:
        if not line.strip():
            break
        if line[0] in " \t":
            continue  # a folded header's continuation
        match = _HEADER_LINE.match(line)
        if not match:
            if not seen:
                return False
            break  # the body starts without the blank line (a defect the parser tolerates)
        seen.add(match.group(1).lower())
    known = seen & _MAIL_HEADERS
    return len(known) >= 2 and bool(known & {"from", "received"})


def message_authors(value: str) -> list[str]:
    """The people in a From header: display names, or the bare address where none is given."""
    if "@" not in value and "<" not in value:
        name = clean_inline(value).strip('"')  # a bare name (Outlook's sender without address)
        return [name] if name else []
    authors: list[str] = []
    for name, address in getaddresses([value]):
        author = clean_inline(name) or clean_inline(address)
        if author and author not in authors:
            authors.append(author)
    return authors


def message_date(value: str) -> date | None:
    """The calendar date of a Date header, in the sender's own time zone (as written)."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).date()
    except (TypeError, ValueError, IndexError, OverflowError):
        log.info("unreadable Date header %r", value)
        return None


def message_key(message_id: str, source: Source) -> str:
    """``email:<Message-ID>`` (without angle brackets), else the file's path."""
    message_id = clean_inline(message_id).strip("<>")
    return f"email:{message_id}" if message_id else f"file:{source.path.resolve()}"


def message_paragraphs(plain: str | None, html: str | None) -> list[str]:
    """Body paragraphs from the plain text, or from the HTML when there is no plain text."""
    if plain and plain.strip():
        return plain_paragraphs(plain)
    if html and html.strip():
        return html_to_paragraphs(html)
    return []


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except (ValueError, IndexError, TypeError) as exc:  # a malformed header the policy rejects
        log.info("unreadable %s header: %s", name, exc)
        raw = msg.get_all(name, failobj=[])
        return str(raw[0]) if raw else ""
    return str(value) if value is not None else ""


def _part_text(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):
        # an unknown charset or broken transfer encoding: decode the bytes ourselves
        payload = part.get_payload(decode=True)
        return decode_text(payload) if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def _body_part(msg: EmailMessage, subtype: str) -> EmailMessage | None:
    part = msg.get_body(preferencelist=(subtype,))
    return part if isinstance(part, EmailMessage) else None


def _language(msg: EmailMessage, *parts: EmailMessage | None) -> str:
    """``Content-Language`` of the message, else of its body part (MIME puts it on either)."""
    for holder in (msg, *parts):
        if holder is not None:
            value = _header(holder, "content-language").split(",")[0]
            if value.strip():
                return resolve_language(value) or ""
    return ""


def _attachments(msg: EmailMessage) -> Iterator[Attachment]:
    for n, part in enumerate(msg.iter_attachments(), start=1):
        if not isinstance(part, EmailMessage):
            continue
        media_type = part.get_content_type()
        filename = part.get_filename() or ""
        if media_type == "message/rfc822":
            inner = part.get_payload()
            inner_msg = inner[0] if isinstance(inner, list) and inner else None
            data = inner_msg.as_bytes() if isinstance(inner_msg, EmailMessage) else b""
            filename = filename or f"message-{n}.eml"
        else:
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
        if not filename:
            filename = f"attachment-{n}{mimetypes.guess_extension(media_type) or ''}"
        yield Attachment(filename=filename, data=data, media_type=media_type)


class EmailParser(RegistryBinding):
    """E-mail messages saved as ``.eml`` (standard library ``email``, ``policy.default``)."""

    name = "email"
    media_types: tuple[str, ...] = ("message/rfc822",)
    extensions: tuple[str, ...] = ("eml",)

    def match(self, source: Source) -> int:
        if _looks_like_mail(source.head):
            return BY_CONTENT
        if source.extension in self.extensions or source.media_type in self.media_types:
            return BY_EXTENSION
        return NO_MATCH

    def parse(self, source: Source) -> Iterator[Document | BadRecord | EmptyRecord]:
        msg = _read_message(source)
        doc = _message_document(msg, source)
        yield doc
        yield from parse_attachments(doc, _attachments(msg), source, self.registry)


def _read_message(source: Source) -> EmailMessage:
    name = source.path.name
    data = source.read_bytes()
    if not data.strip():
        raise ParseError(f"{name} is empty")
    # a part its message declares message/rfc822 is a message even with a single header
    declared = source.media_type in EmailParser.media_types and _HEADER_LINE.match(
        data[:1000].decode("latin-1")
    )
    if not declared and not _looks_like_mail(data[:8192]):
        raise ParseError(
            f"{name} is not an e-mail message: it does not open with mail headers "
            "(From or Received, and at least one more)"
        )
    msg = email.message_from_bytes(data, policy=email.policy.default)
    if not isinstance(msg, EmailMessage):  # pragma: no cover - policy.default always gives one
        raise ParseError(f"{name} could not be read as an e-mail message")
    return msg


def _message_document(msg: EmailMessage, source: Source) -> Document:
    name = source.path.name
    title = clean_inline(_header(msg, "subject"))
    plain, html = _body_part(msg, "plain"), _body_part(msg, "html")
    paragraphs = message_paragraphs(
        _part_text(plain) if plain is not None else None,
        _part_text(html) if html is not None else None,
    )
    if not title and not paragraphs:
        raise ParseError(f"{name}: the message has neither a subject nor any text")
    return Document(
        title=title,
        authors=message_authors(_header(msg, "from")),
        publication_date=message_date(_header(msg, "date")),
        body=join_paragraphs(paragraphs),
        language=_language(msg, plain, html),
        source_key=message_key(_header(msg, "message-id"), source),
        origin=str(source.path),
    )
