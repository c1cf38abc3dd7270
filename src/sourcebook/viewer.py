"""Who is reading: one object passed with every read (Aleph's ``Authz``).

A :class:`Viewer` is built once per request (from a session cookie or an API token) or per
command (the CLI's operator), and handed down with every read; one function turns it into the
filter that the search engine and the store apply (``docs/security.md``). No page, feed or
export filters on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: What a viewer may do, in increasing order: each role includes the ones before it.
Role = Literal["anonymous", "reader", "editor", "admin"]
ROLES: tuple[Role, ...] = ("anonymous", "reader", "editor", "admin")


@dataclass(frozen=True)
class Viewer:
    """A user (or nobody) with a role and the groups they belong to."""

    #: The user's name; empty for an anonymous visitor.
    user: str = ""
    role: Role = "anonymous"
    groups: frozenset[str] = field(default_factory=frozenset)
    #: True for the archive's operator (the CLI on the archive's own machine, jobs, the
    #: server's own maintenance): sees every collection, whatever its visibility.
    operator: bool = False

    @classmethod
    def anonymous(cls) -> Viewer:
        return cls()

    @classmethod
    def system(cls) -> Viewer:
        """The archive's operator: the CLI and background jobs acting for the archive itself."""
        return cls(user="", role="admin", operator=True)

    @property
    def signed_in(self) -> bool:
        return bool(self.user)

    def has_role(self, role: Role) -> bool:
        """True when this viewer's role is ``role`` or above it."""
        return ROLES.index(self.role) >= ROLES.index(role)
