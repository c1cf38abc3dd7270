"""Bodies and responses of the workspace API (``sourcebook.api.workspace``): folders, their
items and shares, and saved searches. The bounds are the services' own (``sourcebook.folders``,
``sourcebook.saved``), so a body the schema allows is one the services take."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from sourcebook.folders import MAX_NOTE_CHARS, MAX_QUOTE_CHARS, MAX_TITLE_CHARS
from sourcebook.saved import MAX_NAME_CHARS, MAX_QUERY_CHARS

#: No NUL character (PostgreSQL's text cannot hold one)...
NO_NUL = r"^[^\x00]*$"
#: ...and something besides white space (a title or a name is stripped, and must not end up
#: empty; \x1c-\x1f are white space to Python's strip but not to every regex engine).
NOT_BLANK = r"^[^\x00]*[^\s\x00\x1c-\x1f][^\x00]*$"
#: User and group names (``services.accounts.NAME_PATTERN``).
ACCOUNT_NAME = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"
#: Values one saved-search filter may hold, and the longest value (as on the search page).
MAX_FILTER_VALUES = 50
MAX_FILTER_CHARS = 300
#: A docid: 10 characters a-z and 2-7 today (the pattern of ``/api/records/{docid}``).
DOCID_PATTERN = r"^\s*[a-z2-7]{6,32}\s*$"
#: The largest offset or passage number a quote may name.
MAX_OFFSET = 1_000_000_000

Mode = Literal["owner", "edit", "read"]
Digest = Literal["none", "daily", "weekly"]

Title = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_TITLE_CHARS,
        pattern=NOT_BLANK,
        description=f"1 to {MAX_TITLE_CHARS} characters (spaces around it are dropped).",
    ),
]
Note = Annotated[
    str,
    Field(max_length=MAX_NOTE_CHARS, pattern=NO_NUL, description="The caseworker's note."),
]
Docid = Annotated[
    str,
    Field(pattern=DOCID_PATTERN, description="The document's docid (10 characters a-z and 2-7)."),
]
FilterValues = Annotated[
    list[Annotated[str, Field(max_length=MAX_FILTER_CHARS, pattern=NO_NUL)]],
    Field(max_length=MAX_FILTER_VALUES),
]


class _Body(BaseModel):
    """A request body: unknown fields are refused (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid")


class FolderIn(_Body):
    title: Title


class NoteIn(_Body):
    note: Note


class DocumentIn(_Body):
    docid: Docid
    note: Note = ""


class PassageQuoteIn(_Body):
    """A whole passage."""

    docid: Docid
    passage: int = Field(
        ge=1,
        le=MAX_OFFSET,
        description="The passage's number counted from 1, as in a pinpoint citation "
        "(\"para. N\"): the `seq` of a hit's or a record's passage plus one.",
    )
    note: Note = ""


class SpanQuoteIn(_Body):
    """A span of the body: its characters from `start` up to, not including, `end`."""

    docid: Docid
    start: int = Field(ge=0, le=MAX_OFFSET, description="The first character (from 0).")
    end: int = Field(
        ge=1,
        le=MAX_OFFSET,
        description=f"The character after the last (a quote is at most {MAX_QUOTE_CHARS:,} "
        "characters).",
    )
    note: Note = ""


class ShareIn(_Body):
    target: Literal["user", "group"] = Field(description="Share with a user or with a group.")
    name: str = Field(pattern=ACCOUNT_NAME, description="The user's or the group's name.")
    mode: Literal["read", "edit", "none"] = Field(
        default="read",
        description="read: see the folder; edit: also add, annotate and remove items; none: "
        "stop sharing with this user or group.",
    )


class ShareOut(BaseModel):
    target: Literal["user", "group"]
    name: str
    mode: Literal["read", "edit"]


class SharesOut(BaseModel):
    folder: int
    shares: list[ShareOut]


class FolderSummary(BaseModel):
    id: int
    title: str
    owner: str = Field(description="The owner's user name (empty for the operator's folders).")
    created_at: datetime | None
    mode: Mode = Field(
        description="Your standing: owner (also for admins), edit or read (a folder shared "
        "with you or one of your groups)."
    )
    url: str = Field(description="The folder's path in this API.")


class FoldersOut(BaseModel):
    folders: list[FolderSummary]


class ItemOut(BaseModel):
    """A document or quote in a folder, with the document as it stands now."""

    id: int
    kind: Literal["document", "quote"]
    docid: str
    title: str = Field(description="The document's title now.")
    citation: str = Field(
        description="The document's Refworld citation now (a quote's is followed by "
        '", para. N" in exports).'
    )
    start: int = Field(description="For a quote: its first character in the body (else 0).")
    end: int = Field(description="For a quote: the character after its last (else 0).")
    revision: int = Field(description="The document's revision when it was added or quoted.")
    passage: int = Field(
        description='For a quote: the number (from 1) of the passage it starts in ("para. N"); '
        "0 otherwise."
    )
    text: str = Field(description="For a quote: the text as it was read (else empty).")
    note: str
    added_at: datetime | None
    changed: bool = Field(
        description="The document has a later revision than the one this item was added in."
    )
    current_text: str | None = Field(
        description="For a quote of a changed document: what the same place says now (the "
        "quoted text where it still occurs, else the passage of the same number; empty when "
        "it is gone). Null otherwise."
    )


class FolderOut(FolderSummary):
    can_edit: bool = Field(description="Whether you may add, annotate and remove items.")
    items: list[ItemOut] = Field(description="In the order they were added.")
    hidden: int = Field(
        description="Items left out: their documents are ones you may not read (or were deleted)."
    )
    shares: list[ShareOut] = Field(
        description="Whom the folder is shared with (only its owner sees them; else empty)."
    )


class ItemCreated(BaseModel):
    folder: int
    item: ItemOut


class Filters(_Body):
    """A saved search's filters, named as the search's URL parameters; each value list is ORed,
    the fields ANDed."""

    country: FilterValues = Field(default=[], description="ISO 3166-1 alpha-2 codes.")
    publisher: FilterValues = []
    type: FilterValues = Field(default=[], description="Document types.")
    language: FilterValues = Field(default=[], description="ISO 639-1 codes.")
    collection: FilterValues = []


class SavedSearchIn(_Body):
    name: str = Field(
        min_length=1,
        max_length=MAX_NAME_CHARS,
        pattern=NOT_BLANK,
        description="Unique among your saved searches (spaces around it are dropped).",
    )
    q: str = Field(
        default="",
        max_length=MAX_QUERY_CHARS,
        pattern=NO_NUL,
        description="The query (docs/query-language.md); empty for every document.",
    )
    filters: Filters = Field(default_factory=Filters)
    digest: Digest = Field(
        default="none",
        description="How often to e-mail the documents new to the archive that match: none, "
        "daily or weekly (docs/alerts.md).",
    )
    email: str = Field(
        default="",
        max_length=320,
        pattern=NO_NUL,
        description="Where to send the digest; default: your account's e-mail address.",
    )


class SavedSearchOut(BaseModel):
    name: str
    q: str
    filters: dict[str, list[str]] = Field(description="As in the body: `country`, `type`...")
    digest: Digest
    email: str
    created_at: datetime | None
    last_sent_at: datetime | None = Field(description="When the last digest was sent.")
    search_url: str = Field(description="The search page with this search.")
    feed_url: str = Field(
        description="The Atom feed of this search, newest first, for a feed reader (it shows "
        "what an anonymous visitor may read)."
    )


class SavedSearchesOut(BaseModel):
    saved_searches: list[SavedSearchOut]


class Deleted(BaseModel):
    deleted: bool = True
