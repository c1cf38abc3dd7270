"""Where a record was found inside another: the message an attachment came from, the archive a
member was read from. Read from the record's ``source_key`` (no field of its own, no migration):
``<message key>#attachment/<n>/<name>`` (``ingest/attachments.py``) and
``file:<archive path>!/<member path>`` (``ingest/archives.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sourcebook.errors import NotFound
from sourcebook.ingest.archives import ARCHIVE_MARK, archive_of
from sourcebook.ingest.attachments import ATTACHMENT_MARK, parent_source_key
from sourcebook.store.base import Store

__all__ = ["ParentLink", "parent_link"]


@dataclass
class ParentLink:
    """ "Attachment 2 of <message>" or "In archive <name>"."""

    label: str
    #: The message's title, or the archive's name (``a.zip``, ``outer.tar.gz!/inner.zip``).
    title: str
    #: The message's docid when the archive holds it ("" for an archive, or a message not
    #: stored).
    docid: str = ""
    #: The archive's full path, for a tooltip.
    path: str = ""


def parent_link(source_key: str, store: Store) -> ParentLink | None:
    """The container a record with this key was read from (None: a record of its own)."""
    message_key = parent_source_key(source_key)
    if message_key:
        number = source_key.rpartition(ATTACHMENT_MARK)[2].split("/", 1)[0]
        label = f"Attachment {number} of" if number.isdigit() else "Attachment of"
        stored = store.lookup_sources([message_key]).get(message_key)
        if stored is None:
            return ParentLink(label, "a message not in this archive")
        try:
            title = store.get(stored.docid).title or "(untitled)"
        except NotFound:
            title = "(untitled)"
        return ParentLink(label, title, stored.docid)
    archive = archive_of(source_key)
    if archive:
        outer, mark, inner = archive.partition(ARCHIVE_MARK)
        return ParentLink("In archive", Path(outer).name + mark + inner, path=archive)
    return None
