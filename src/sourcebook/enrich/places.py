"""The cities and regions a document mentions, with country and coordinates.

"Where" is the second question a COI reader asks, after the country. This module reads the same
resolved mentions as :mod:`sourcebook.enrich.countries` (one scan serves both; the trap rules
against person names, common words and the US state of Georgia apply here too) and keeps the
places: each distinct place once, with the name as first written, the gazetteer's canonical
name, its country, coordinates and how often the document names it (in any language or
declension: "Moscow", "Москва" and "Москве" count together).

Country names and demonyms are not places (they are the country facet); a capital is a place.
"""

from __future__ import annotations

from dataclasses import dataclass

from sourcebook.enrich.countries import CountryTagger, GeoMention
from sourcebook.enrich.gazetteer import gazetteer
from sourcebook.model import Document

__all__ = ["Place", "places", "places_from_mentions"]


@dataclass(frozen=True, slots=True)
class Place:
    """A place a document names. ``kind`` is "capital", "city" or "region"."""

    name: str  # as first written in the document
    canonical: str  # the gazetteer's name
    country: str  # ISO 3166-1 alpha-2
    lat: float | None
    lon: float | None
    count: int
    kind: str


_default_tagger: CountryTagger | None = None


def places(doc: Document, tagger: CountryTagger | None = None) -> list[Place]:
    """The places in ``doc``, most mentioned first (ties in order of first mention)."""
    global _default_tagger
    if tagger is None:
        if _default_tagger is None:
            _default_tagger = CountryTagger()
        tagger = _default_tagger
    return places_from_mentions(tagger.mentions(doc))


def places_from_mentions(mentions: list[GeoMention]) -> list[Place]:
    """Aggregate resolved mentions (from :meth:`CountryTagger.mentions`) into places."""
    gaz = gazetteer()
    first: dict[int, str] = {}
    counts: dict[int, int] = {}
    order: list[int] = []
    # title mentions come first in the list; order by zone position is the text order
    for m in mentions:
        if m.kind != "place" or m.place < 0:
            continue
        if m.place not in counts:
            counts[m.place] = 0
            first[m.place] = _display(m.text)
            order.append(m.place)
        counts[m.place] += 1
    ranked = sorted(order, key=lambda i: -counts[i])  # stable: ties keep first-mention order
    out: list[Place] = []
    for index in ranked:
        record = gaz.places[index]
        out.append(
            Place(
                name=first[index],
                canonical=record.name,
                country=record.country,
                lat=record.lat,
                lon=record.lon,
                count=counts[index],
                kind=record.kind,
            )
        )
    return out


def _display(text: str) -> str:
    """A dateline's "NEW YORK" reads better as "New York"; other spellings stay as written."""
    return text.title() if text.isupper() and len(text) > 3 else text
