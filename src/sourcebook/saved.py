"""Saved searches and their alert schedule (docs/alerts.md).

A saved search keeps a query with its filters (the page's URL parameters), who owns it, and how
often its owner wants an e-mail of what is **new to the archive** since the last one: by the
position in the store's change log at which each document was first added, not by its
publication date, so a report published years ago and archived today is in today's digest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sourcebook.errors import InvalidInput

Schedule = Literal["none", "daily", "weekly"]
SCHEDULES: tuple[Schedule, ...] = ("none", "daily", "weekly")
#: How long after the last digest the next one is due.
INTERVALS: dict[str, timedelta] = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
#: Longest name and query a saved search may have.
MAX_NAME_CHARS = 200
MAX_QUERY_CHARS = 2000


@dataclass
class SavedSearch:
    """A search someone keeps, with its alert."""

    name: str
    query: str
    #: The search's filters as the search page's URL parameters (country=TJ, type=report...).
    filters: dict[str, list[str]] = field(default_factory=dict)
    #: The owner's user name; "" for the archive's operator (the command line).
    owner: str = ""
    schedule: Schedule = "none"
    email: str = ""
    #: The change-log position up to which documents were considered (the last digest, or the
    #: moment the search was saved).
    last_position: int = 0
    last_sent_at: datetime | None = None
    created_at: datetime | None = None
    id: int = 0

    def __post_init__(self) -> None:
        self.name = self.name.strip()
        if not self.name or len(self.name) > MAX_NAME_CHARS:
            raise InvalidInput(f"a saved search needs a name of 1 to {MAX_NAME_CHARS} characters")
        if len(self.query) > MAX_QUERY_CHARS:
            raise InvalidInput(f"a saved query is at most {MAX_QUERY_CHARS} characters")
        if self.schedule not in SCHEDULES:
            raise InvalidInput(f"unknown schedule {self.schedule!r}: use one of {SCHEDULES}")
        if self.schedule != "none" and "@" not in self.email:
            raise InvalidInput("an alert needs the e-mail address to send it to")

    def due(self, now: datetime) -> bool:
        """Whether its digest is due at ``now``."""
        if self.schedule == "none":
            return False
        since = self.last_sent_at or self.created_at
        return since is None or now - since >= INTERVALS[self.schedule] - timedelta(minutes=5)
