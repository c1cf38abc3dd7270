"""Collections with visibility, and the one access filter every read path applies.

A collection is **public** (anyone, anonymous visitors included unless the archive says
otherwise), **internal** (any signed-in user) or **restricted** (members of the groups it names).
A document takes the visibility of its collection; a collection the archive has no policy for is
public, so an archive made before collections had visibility reads as it did.

:func:`access_for` turns a :class:`~sourcebook.viewer.Viewer` and the archive's policies into one
:class:`AccessFilter`: the collections this viewer may not see. The search engine adds it to
every query (hits, totals, facets, near-duplicate counts, similar documents, ``group:``), the
store applies it to harvests, set counts, statistics and group sizes, and the services check it
on every read by docid (a hidden document is "not found", never "forbidden", so its existence is
not revealed). It is computed at read time from the store's policies, so a change of visibility
takes effect at once, without reindexing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sourcebook.errors import ConfigError
from sourcebook.viewer import Viewer

Visibility = Literal["public", "internal", "restricted"]
VISIBILITIES: tuple[Visibility, ...] = ("public", "internal", "restricted")
#: What anonymous visitors may read: public collections, or nothing.
AnonymousAccess = Literal["public", "none"]


@dataclass(frozen=True)
class CollectionPolicy:
    """Who may read a collection's documents."""

    name: str
    visibility: Visibility = "public"
    #: For a restricted collection: the groups whose members may read it.
    groups: tuple[str, ...] = ()
    title: str = ""

    def __post_init__(self) -> None:
        if self.visibility not in VISIBILITIES:
            raise ConfigError(
                f"unknown visibility {self.visibility!r}: use one of {', '.join(VISIBILITIES)}"
            )
        if not self.name:
            raise ConfigError("a collection policy needs a collection name")

    def readable_by(self, viewer: Viewer) -> bool:
        if viewer.operator or viewer.has_role("admin"):
            return True
        if self.visibility == "public":
            return True
        if self.visibility == "internal":
            return viewer.signed_in
        return viewer.signed_in and bool(viewer.groups & set(self.groups))


@dataclass(frozen=True)
class AccessFilter:
    """The collections a viewer may not see (``nothing``: not a single document)."""

    hidden: frozenset[str] = frozenset()
    nothing: bool = False

    @property
    def unrestricted(self) -> bool:
        return not self.hidden and not self.nothing

    def allows(self, collection: str) -> bool:
        return not self.nothing and collection not in self.hidden

    @property
    def excluded(self) -> tuple[str, ...]:
        """The hidden collections in a stable order (for SQL parameters and index queries)."""
        return tuple(sorted(self.hidden))


#: The filter of the archive's operator and of admins: everything.
EVERYTHING = AccessFilter()


def access_for(
    viewer: Viewer, policies: Iterable[CollectionPolicy], anonymous_access: AnonymousAccess
) -> AccessFilter:
    """The one access filter: what ``viewer`` may not read, given the collections' policies."""
    if viewer.operator or viewer.has_role("admin"):
        return EVERYTHING
    if not viewer.signed_in and anonymous_access == "none":
        return AccessFilter(nothing=True)
    hidden = frozenset(p.name for p in policies if not p.readable_by(viewer))
    return AccessFilter(hidden=hidden)
