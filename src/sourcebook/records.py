"""A document as JSON (export, API, ``show --json``) and the text clean-up applied at ingest."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from sourcebook.ids import group_name
from sourcebook.model import Document
from sourcebook.store.codec import iso_date, iso_datetime


def clean_text(text: str) -> str:
    # Lone surrogates (from broken decoders) cannot be stored as UTF-8: mark them U+FFFD.
    if text.isascii():
        return text
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def clean_strings(doc: Document) -> None:
    """Make every text field valid Unicode, so one bad character never fails a batch."""
    for name, value in vars(doc).items():
        if isinstance(value, str):
            setattr(doc, name, clean_text(value))
        elif isinstance(value, list) and value and isinstance(value[0], str):
            setattr(doc, name, [clean_text(v) for v in value])
    doc.source_tags = {
        clean_text(k): [clean_text(v) for v in vs] for k, vs in doc.source_tags.items()
    }


#: A line that states where the text comes from: "Source PDF: https://…", "Source: https://…",
#: "Original: https://…". Only a line that holds nothing else counts.
_SOURCE_LINE = re.compile(
    r"^[ \t]*(?:source(?: pdf| url| link)?|original(?: url| link| pdf)?)[ \t]*:[ \t]*"
    r"<?(https?://[^\s<>]+)>?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
#: How far into the body (from either end) a source line is looked for.
_SOURCE_LINE_REACH = 2000


def stated_original_url(body: str) -> str:
    """The URL a source line at the start or end of ``body`` states, else "".

    Taken only where the text says so (a line such as ``Source PDF: https://…`` on its own, among
    the first or last 2,000 characters); nothing is built or guessed.
    """
    for part in (body[:_SOURCE_LINE_REACH], body[-_SOURCE_LINE_REACH:]):
        found = _SOURCE_LINE.search(part)
        if found:
            return found.group(1).rstrip(".,;)")
    return ""


#: A path of this machine: POSIX (``/srv/...``) or Windows (``C:\\...``, ``\\\\server\\...``).
_SERVER_PATH = re.compile(r"^(?:/|[A-Za-z]:[\\/]|\\\\)")
#: What follows a file's name in an origin: ``#3`` (record 3 of a feed), ``:12`` (line 12).
_POSITION = re.compile(r"(?:#|:)\d+$")


def file_name(path: str) -> str:
    """The last part of a path (either kind of slash)."""
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def public_origin(origin: str) -> str:
    """Where a record was read, without the server's folders: ``/srv/in/a.xml#3`` -> ``a.xml#3``.

    Origins are stored as read (``sourcebook show`` on the server's own command line names the
    whole path); whatever leaves the machine (API, export, pages, OAI) names the file only.
    """
    if not _SERVER_PATH.match(origin):
        return origin
    match = _POSITION.search(origin)
    position = match.group(0) if match else ""
    return file_name(origin[: len(origin) - len(position)]) + position


def public_source_key(source_key: str) -> str:
    """A ``file:`` source key without the server's folders, still one key per file:
    ``file:/srv/in/a.txt`` -> ``file:5d41402abc4b2a76/a.txt`` (a hash of the whole path)."""
    path = source_key.removeprefix("file:")
    if path == source_key or not _SERVER_PATH.match(path):
        return source_key
    digest = hashlib.sha256(path.encode("utf-8")).hexdigest()[:16]
    return f"file:{digest}/{file_name(path)}"


def document_to_json(doc: Document, public: bool = True) -> dict[str, Any]:
    """A document as exported: every field, dates in ISO 8601, countries as ISO alpha-2.

    ``public`` (the API, pages): no folder of the server in ``origin`` or a ``file:`` source
    key. The archive's own operator (the CLI's ``export`` and ``show --json``) gets them as
    stored, so an export re-imported beside the original files keeps one record per file.
    """
    return {
        "docid": doc.docid,
        "source_key": public_source_key(doc.source_key) if public else doc.source_key,
        "source_id": doc.source_id,
        "title": doc.title,
        "publisher": doc.publisher,
        "authors": doc.authors,
        "publication_date": iso_date(doc.publication_date),
        "last_updated": iso_datetime(doc.last_updated),
        "source_url": doc.source_url,
        "original_url": doc.original_url,
        "accessed_date": iso_date(doc.accessed_date),
        "cite_as": doc.cite_as,
        "disclaimer": doc.disclaimer,
        "copyright": doc.copyright,
        "body": doc.body,
        "document_type": doc.document_type,
        "language": doc.language,
        "countries": doc.countries,
        "collection": doc.collection,
        "source_tags": doc.source_tags,
        "derived": doc.derived,
        "origin": public_origin(doc.origin) if public else doc.origin,
        "places": [vars(p) for p in doc.places],
        "people": doc.people,
        "organisations": doc.organisations,
        "dup_group": group_name(doc.dup_group) if public and doc.dup_group else doc.dup_group,
        "ocr_confidence": doc.ocr_confidence,
        "passages": [
            {"seq": p.seq, "start": p.start, "end": p.end, "language": p.language}
            for p in doc.passages
        ],
        "revisions": [
            {
                "number": r.number,
                "content_hash": r.content_hash,
                "recorded_at": iso_datetime(r.recorded_at),
                "changed_fields": r.changed_fields,
            }
            for r in doc.revisions
        ],
    }
