"""Helpers shared by the office-document parsers (DOCX, ODT, RTF, EPUB).

What a word processor stores about a file is not always what its author stated:

* a *title* or *author* property may be a program's placeholder ("Word Document",
  "python-docx", "Microsoft Office User"); those are dropped;
* *created* and *modified* times record when a file was made or saved (often a template's date,
  or the day someone re-saved a copy), not when the text was published, so, as for PDF, they
  never fill ``publication_date``. A paragraph near the top that is nothing but a date
  ("12 March 2024", "Updated 1 May 2024") is the author's own dating and does.

Zip-based formats (DOCX, ODT, EPUB) are recognised by their first member names, which the
first bytes of the file hold.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from datetime import date

from sourcebook.dates import parse_date
from sourcebook.errors import ParseError
from sourcebook.ingest.text import clean_inline, split_names

__all__ = [
    "EXPANSION_LIMIT",
    "ZIP_MAGIC",
    "open_zip",
    "stated_authors",
    "stated_date",
    "stated_title",
    "zip_mimetype",
]

ZIP_MAGIC = b"PK\x03\x04"

_PLACEHOLDER_TITLE = re.compile(
    r"^(?:untitled|document\d*|word document|new document|title|"
    r"microsoft (?:word|powerpoint) - .*|.*\.(?:docx?|pdf|rtf|odt|epub|dotx?))$",
    re.I,
)
_PLACEHOLDER_AUTHOR = re.compile(
    r"^(?:python-docx|unknown|user|admin|administrator|author|owner|"
    r"microsoft office user|windows user|[a-z]?:?\\.*)$",
    re.I,
)
_DATE_LINE = re.compile(r"^(?:(?:updated|published|revised|dated|as of)\s*:?\s+)?(.+)$", re.I)


def stated_title(value: str | None) -> str:
    """A title property, or "" when it is empty or a program's placeholder."""
    title = clean_inline(value or "")
    return "" if _PLACEHOLDER_TITLE.match(title) else title


def stated_authors(value: str | None) -> list[str]:
    """Author names from a property, without program placeholders."""
    return [name for name in split_names(value or "") if not _PLACEHOLDER_AUTHOR.match(name)]


def stated_date(paragraphs: list[str], within: int = 5) -> date | None:
    """The date of a paragraph near the top that is nothing but a date (the author's dating)."""
    for paragraph in paragraphs[:within]:
        if len(paragraph) > 40:
            continue
        match = _DATE_LINE.match(paragraph)
        found = parse_date(match.group(1)) if match else None
        if found:
            return found
    return None


def zip_mimetype(head: bytes) -> str:
    """The media type an OpenDocument or EPUB file stores as its first, uncompressed member."""
    if len(head) < 30 or not head.startswith(ZIP_MAGIC):
        return ""
    method, size, name_length, extra_length = struct.unpack_from("<8xH8xI4xHH", head)
    start = 30 + name_length + extra_length
    if method != 0 or head[30 : 30 + name_length] != b"mimetype" or size > 200:
        return ""
    return head[start : start + size].decode("ascii", errors="replace").strip()


#: A container may expand to at most this many times the file-size limit when unpacked.
EXPANSION_LIMIT = 5


def open_zip(data: bytes, name: str, kind: str, max_bytes: int) -> zipfile.ZipFile:
    """The zip container of a DOCX, ODT or EPUB, or a ParseError saying what is wrong.

    Every member is checked (CRC) up front, so a truncated or corrupt file fails here with one
    clear message; a zip bomb (members larger in total than ``EXPANSION_LIMIT`` times the
    file-size limit) is refused before anything is unpacked.
    """
    if not data:
        raise ParseError(f"{name} is empty")
    if not data.startswith(ZIP_MAGIC):
        raise ParseError(f"{name} is not a {kind} file (a {kind} file is a zip archive)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > EXPANSION_LIMIT * max_bytes:
            raise ParseError(
                f"{name} unpacks to {unpacked:,} bytes, more than {EXPANSION_LIMIT} times the "
                f"file-size limit of {max_bytes:,} (setting SOURCEBOOK_MAX_FILE_BYTES)"
            )
        bad = archive.testzip()
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        OSError,
        EOFError,
        ValueError,
    ) as exc:
        raise ParseError(f"{name} is a damaged or truncated {kind} file: {exc}") from exc
    if bad is not None:
        raise ParseError(f"{name} is a damaged {kind} file: member {bad} fails its checksum")
    return archive
