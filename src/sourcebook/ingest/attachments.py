"""Attachments of a message, each parsed as a document of its own and linked to its message.

E-mail (``.eml``) and Outlook (``.msg``) messages carry files. Each attachment is handed, as
bytes, to the same parser auction a file on disk goes through, so a PDF attached to a mail is
read exactly like a PDF in a folder, and a forwarded message inside a message is a message
again. Nothing here knows a format.

The link back to the message is the attachment's ``source_key``:
``<message source_key>#attachment/<n>/<file name>`` (``n`` counts from 1 in the message's own
order; a second record read from the same attachment adds ``#<k>``). Its ``origin`` is the
message's path with the same suffix, so an error on the ingest report names the attachment.
:func:`parent_source_key` gives the message's key back.

Bounds: at most :data:`MAX_ATTACHMENTS` attachments of a message are read (the rest are
reported), each within the file-size limit of the message itself (``SOURCEBOOK_MAX_FILE_BYTES``),
and messages nest at most :data:`MAX_DEPTH` deep. An attachment no parser reads (a logo, a
spreadsheet) is skipped with a note, not an error; one that a parser fails on is a bad record on
the report, and the message and its other attachments still go in.
"""

from __future__ import annotations

import logging
import mimetypes
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sourcebook.errors import SourcebookError, UnsupportedFormat
from sourcebook.ingest.registry import HEAD_BYTES, Source
from sourcebook.model import BadRecord, Document, EmptyRecord

if TYPE_CHECKING:
    from sourcebook.ingest.registry import ParserRegistry

log = logging.getLogger(__name__)

__all__ = [
    "ATTACHMENT_MARK",
    "MAX_ATTACHMENTS",
    "MAX_DEPTH",
    "Attachment",
    "RegistryBinding",
    "parent_source_key",
    "parse_attachments",
]

ATTACHMENT_MARK = "#attachment/"
#: Attachments read from one message; a message with more is reported, not read past this.
MAX_ATTACHMENTS = 50
#: How deep messages attached to messages are followed.
MAX_DEPTH = 3

_UNSAFE = re.compile(r"[\x00-\x1f/\\#]+")


@dataclass
class Attachment:
    """One attached file: its name as the message gives it, its bytes and declared type."""

    filename: str
    data: bytes
    media_type: str = ""
    #: Why the attachment cannot be read at all, noted on the report.
    unreadable: str = ""
    #: Reads an attachment that is structure rather than bytes (an Outlook item embedded in a
    #: message) from a Source naming it; None: the bytes go to the auction.
    reader: Callable[[Source], Iterator[Document | BadRecord | EmptyRecord]] | None = None


def parent_source_key(source_key: str) -> str:
    """The ``source_key`` of the message an attachment came from ("" for a non-attachment)."""
    head, mark, _ = source_key.rpartition(ATTACHMENT_MARK)
    return head if mark else ""


def _safe_name(filename: str, n: int) -> str:
    name = _UNSAFE.sub("_", filename).strip(" .")
    return name or f"attachment-{n}"


class RegistryBinding:
    """Mixin for parsers of messages: remembers the registry that holds them.

    :meth:`ParserRegistry.register` calls :meth:`bind_registry`; a parser used on its own
    (outside any registry) falls back to the registry of installed parsers.
    """

    _registry: ParserRegistry | None = None

    def bind_registry(self, registry: ParserRegistry) -> None:
        self._registry = registry

    @property
    def registry(self) -> ParserRegistry:
        if self._registry is None:
            from sourcebook.ingest.registry import ParserRegistry

            self._registry = ParserRegistry.from_entry_points()
        return self._registry


def parse_attachments(
    message: Document,
    attachments: Iterable[Attachment],
    source: Source,
    registry: ParserRegistry,
) -> Iterator[Document | BadRecord | EmptyRecord]:
    """Parse each attachment through ``registry``'s auction and link it to ``message``."""
    depth = str(source.path).count(ATTACHMENT_MARK)
    for n, attachment in enumerate(attachments, start=1):
        name = _safe_name(attachment.filename, n)
        suffix = f"{ATTACHMENT_MARK}{n}/{name}"
        where = f"{source.path}{suffix}"
        if n > MAX_ATTACHMENTS:
            yield BadRecord(
                str(source.path),
                f"the message has more than {MAX_ATTACHMENTS} attachments; "
                f"attachment {n} ({attachment.filename}) and later ones were not read",
            )
            return
        if depth >= MAX_DEPTH:
            yield EmptyRecord(where, f"attachment nested more than {MAX_DEPTH} deep; not read")
            continue
        if attachment.unreadable:
            yield EmptyRecord(where, attachment.unreadable)
            continue
        if attachment.reader is not None:
            yield from _linked(
                message,
                suffix,
                where,
                attachment.reader(Source(path=Path(where), max_bytes=source.max_bytes)),
                "message",
            )
            continue
        if len(attachment.data) > source.max_bytes:
            yield BadRecord(
                where,
                f"attachment is {len(attachment.data):,} bytes; the limit is "
                f"{source.max_bytes:,} (setting SOURCEBOOK_MAX_FILE_BYTES)",
            )
            continue
        if not attachment.data:
            yield EmptyRecord(where, "empty attachment")
            continue
        sub = Source(
            # the message's path with the attachment's name: extension and error messages work
            path=Path(where),
            media_type=attachment.media_type or mimetypes.guess_type(name)[0] or "",
            head=attachment.data[:HEAD_BYTES],
            size=len(attachment.data),
            max_bytes=source.max_bytes,
            ocr=source.ocr,
            _data=attachment.data,
        )
        try:
            parser = registry.auction(sub)
        except UnsupportedFormat:
            yield EmptyRecord(
                where, f"no parser reads this attachment ({sub.media_type or 'unknown type'})"
            )
            continue
        yield from _linked(message, suffix, where, registry.parse(sub), parser.name)


def _linked(
    message: Document,
    suffix: str,
    where: str,
    items: Iterator[Document | BadRecord | EmptyRecord],
    parser: str,
) -> Iterator[Document | BadRecord | EmptyRecord]:
    """The records read from one attachment, keyed and located under their message."""
    base_key = f"{message.source_key}{suffix}"
    first_key = ""
    k = 0  # documents read from this attachment so far
    try:
        for item in items:
            if isinstance(item, Document):
                k += 1
                if k == 1:
                    first_key = item.source_key
                item.source_key = _linked_key(base_key, first_key, item.source_key, k)
                if k == 1 or ATTACHMENT_MARK not in item.origin:
                    item.origin = where if k == 1 else f"{where}#{k}"
            yield item
    except SourcebookError as exc:
        yield BadRecord(where, str(exc))
    except Exception as exc:  # a parser bug in one attachment must not lose the message
        log.exception("unexpected error parsing %s with %s", where, parser)
        yield BadRecord(where, f"internal error ({type(exc).__name__}): {exc}")


def _linked_key(base_key: str, first_key: str, own_key: str, k: int) -> str:
    """The key of the k-th record read from an attachment.

    The first record is the attachment itself. When the attachment is a message, the records
    after it are its own attachments, keyed under the message's key: they are re-keyed under
    ``base_key`` so the chain of links back to the outermost message stays whole.
    """
    if k == 1:
        return base_key
    if own_key.startswith(base_key + ATTACHMENT_MARK):
        return own_key  # the message parser keyed it under its (already re-keyed) document
    if first_key and own_key.startswith(first_key + ATTACHMENT_MARK):
        return base_key + own_key[len(first_key) :]
    return f"{base_key}#{k}"
