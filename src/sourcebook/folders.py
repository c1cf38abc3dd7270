"""Folders (case files): documents and quoted passages kept together, shared with colleagues.

A folder belongs to its owner (a user name) and may be shared with users or groups, to read or
to edit. An item is a whole document or a **quote**: a span of a document's body kept with its
docid, character offsets, the revision it was read in and the text as it was read, and a note.
When the document changes later, the quote still shows what was read, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

ItemKind = Literal["document", "quote"]
ShareMode = Literal["read", "edit"]
ShareTarget = Literal["user", "group"]
#: Longest folder title, note and quote.
MAX_TITLE_CHARS = 300
MAX_NOTE_CHARS = 20_000
MAX_QUOTE_CHARS = 20_000


@dataclass
class Folder:
    id: int
    owner: str
    title: str
    created_at: datetime | None = None


@dataclass
class FolderItem:
    folder_id: int
    docid: str
    kind: ItemKind = "document"
    #: For a quote: character offsets into the body of revision ``revision``, and the text.
    start: int = 0
    end: int = 0
    revision: int = 0
    text: str = ""
    note: str = ""
    #: The number (from 1) of the passage the quote starts in, for "para. N" pinpoint
    #: citations; 0: none.
    passage: int = 0
    id: int = 0
    added_at: datetime | None = None


@dataclass(frozen=True)
class Share:
    target: ShareTarget
    name: str
    mode: ShareMode = "read"
