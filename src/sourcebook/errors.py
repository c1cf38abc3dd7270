"""The one error tree of Sourcebook.

::

    SourcebookError
     ├── ConfigError            bad settings or archive location
     │    └── ArchiveOutdated   read-only opening found a store or index to upgrade first
     ├── ParseError             a file or record could not be read (kept on the ingest report)
     │    └── UnsupportedFormat no parser takes this file
     ├── InputTooLarge          an input exceeds a configured bound
     ├── NotFound               no such document, revision or resource
     ├── Conflict               an identifier clash (docid collision, concurrent writer)
     ├── QuerySyntaxError       a malformed search query (says what and where), or one past a limit
     ├── SearchTimeout          a search ran past its time budget (or too many already have)
     ├── AccessDenied           the caller may not read or change this
     │    └── NotAuthenticated  ... and has not said who they are (sign in or send a token)
     ├── RateLimited            too many attempts (failed sign-ins); ``retry_after`` seconds
     ├── FetchError             a source could not be fetched (HTTP error, time or size limit)
     │    └── FetchRefused      a fetch the rules forbid (private address, robots.txt, type)
     ├── StorageError           the store or index failed (chains the cause)
     └── MailError              the SMTP server could not be reached or refused a message

Third-party exceptions are converted at the boundary with ``raise ... from exc`` so the cause
stays visible in logs while users see one readable message.
"""

from __future__ import annotations


class SourcebookError(Exception):
    """Base class of every error Sourcebook raises on purpose."""


class ConfigError(SourcebookError):
    """The settings or the archive location are unusable."""


class InvalidInput(SourcebookError):
    """A value the user gave is not acceptable: a blank title, a note too long, a quote past the
    end of its document, an unknown filter or format (HTTP 422; the message says which)."""


class ArchiveOutdated(ConfigError):
    """An archive opened read-only needs migrating or re-indexing, which only a writer does."""


class ParseError(SourcebookError):
    """A file or one record in it could not be parsed."""


class UnsupportedFormat(ParseError):
    """No registered parser accepts this input."""


class InputTooLarge(SourcebookError):
    """An input is larger than the configured bound."""


class NotFound(SourcebookError):
    """The requested document or resource does not exist."""


class Conflict(SourcebookError):
    """Two things claim the same identity, or a writer is already active."""


class QuerySyntaxError(SourcebookError):
    """A search query is malformed.

    ``position`` is the 0-based character offset in the query where the problem was found.
    """

    def __init__(self, message: str, query: str = "", position: int | None = None) -> None:
        self.message = message
        self.query = query
        self.position = position
        super().__init__(self.describe())

    def describe(self) -> str:
        if self.position is None or not self.query:
            return self.message
        caret = " " * self.position + "^"
        return f"{self.message} (at character {self.position + 1})\n  {self.query}\n  {caret}"


class SearchTimeout(SourcebookError):
    """A search ran past its time budget, or too many over-budget searches are still running."""


class AccessDenied(SourcebookError):
    """The caller may not perform this action."""


class NotAuthenticated(AccessDenied):
    """The action needs a signed-in user or an API token, and the request carried neither (or
    carried one that is unknown, expired or revoked)."""


class RateLimited(SourcebookError):
    """Too many attempts in a while (failed sign-ins); ``retry_after``: seconds to wait."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class StorageError(SourcebookError):
    """The store or the index failed."""


class MailError(SourcebookError):
    """The SMTP server could not be reached or refused a message (alerts)."""


class FetchError(SourcebookError):
    """A source could not be fetched: network or HTTP error, past its time or size limit."""


class FetchRefused(FetchError):
    """A fetch the safety rules forbid: a private or loopback address, a URL robots.txt
    disallows, a content type the source does not take, credentials in the URL."""
