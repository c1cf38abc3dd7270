"""What enrichment derives from one document, and one call that derives it.

:class:`Enrichment` is a plain record: the lead stores it beside the document (the store) and
indexes its facets (person, organisation, place, country, dup group). :class:`Enricher` runs the
fast enrichers together (language per passage, countries, places, near-duplicate group: well
under a millisecond for a Reuters story) and leaves entities to a batch job, because spaCy runs
at a few hundred stories a second and is an optional extra.

:meth:`Enrichment.apply` writes the derived fields a source did not give into the document
(``language``, ``countries``) and records them in ``doc.derived``; it never overwrites a value
the source gave.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sourcebook.enrich.countries import CountryMention, CountryTagger
from sourcebook.enrich.language import detect_language, detect_passage_languages
from sourcebook.enrich.places import Place, places_from_mentions
from sourcebook.model import Document

if TYPE_CHECKING:  # numpy (dedup) loads only when a caller builds a DedupIndex
    from sourcebook.enrich.dedup import DedupIndex
    from sourcebook.enrich.entities import Entities

__all__ = ["Enricher", "Enrichment"]

#: In bodies shorter than this, plain-ASCII passages take the document's language.
MIXED_LANGUAGE_MIN_CHARS = 3000
LATIN_SCRIPT = frozenset(
    [
        "en",
        "fr",
        "es",
        "de",
        "it",
        "pt",
        "nl",
        "sv",
        "da",
        "no",
        "nb",
        "fi",
        "tr",
        "pl",
        "cs",
        "sk",
        "ro",
        "hu",
        "id",
        "ms",
        "tl",
        "ca",
        "et",
        "lv",
        "lt",
        "sl",
        "hr",
    ]
)


@dataclass
class Enrichment:
    """Everything derived from one document."""

    language: str = ""
    passage_languages: list[str] = field(default_factory=list)
    #: Document countries (salient), most salient first: ISO 3166-1 alpha-2.
    countries: list[str] = field(default_factory=list)
    #: Every country mentioned, with scores (for display and for tuning).
    country_mentions: list[CountryMention] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)
    people: dict[str, int] = field(default_factory=dict)
    organisations: dict[str, int] = field(default_factory=dict)
    #: The docid of the earliest member of this document's near-duplicate group ("" if unset).
    dup_group: str = ""

    def apply(self, doc: Document) -> None:
        """Fill ``language`` and ``countries`` where the source left them empty."""
        if not doc.language and self.language:
            doc.language = self.language
            if "language" not in doc.derived:
                doc.derived.append("language")
        if not doc.countries and self.countries:
            doc.countries = list(self.countries)
            if "countries" not in doc.derived:
                doc.derived.append("countries")

    def add_entities(self, entities: Entities) -> None:
        self.people = dict(entities.people.most_common())
        self.organisations = dict(entities.organisations.most_common())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form (for a store column or an export)."""
        return {
            "language": self.language,
            "passage_languages": self.passage_languages,
            "countries": self.countries,
            "country_mentions": [
                {"country": c.country, "score": c.score, "count": c.count, "salient": c.salient}
                for c in self.country_mentions
            ],
            "places": [
                {
                    "name": p.name,
                    "canonical": p.canonical,
                    "country": p.country,
                    "lat": p.lat,
                    "lon": p.lon,
                    "count": p.count,
                    "kind": p.kind,
                }
                for p in self.places
            ],
            "people": self.people,
            "organisations": self.organisations,
            "dup_group": self.dup_group,
        }


class Enricher:
    """The fast enrichers in one call. Thread-safe; the models load on first use, once."""

    def __init__(
        self,
        tagger: CountryTagger | None = None,
        dedup: DedupIndex | None = None,
    ) -> None:
        self.tagger = tagger or CountryTagger()
        #: None: no near-duplicate grouping (``dup_group`` stays "").
        self.dedup = dedup

    def enrich(self, doc: Document, passages: Sequence[str] | None = None) -> Enrichment:
        """Language(s), countries, places and (with a dedup index) the duplicate group.

        ``passages`` default to ``doc.passages``; the document needs its ``docid`` for dedup.
        """
        out = Enrichment()
        out.language = doc.language or detect_language(doc.body or doc.title)
        texts = list(passages) if passages is not None else [p.text for p in doc.passages]
        if len(texts) == 1 and out.language:
            out.passage_languages = [out.language]  # one passage: the document's language
        elif texts and out.language in LATIN_SCRIPT and len(doc.body) < MIXED_LANGUAGE_MIN_CHARS:
            # A short story in a Latin-script language: its plain-ASCII paragraphs are in the
            # document's language (detecting every paragraph of a wire story costs a third of
            # the enrichment time and changes nothing); others (Cyrillic, accents) are detected.
            ascii_text = [t.isascii() for t in texts]
            detected = iter(
                detect_passage_languages(
                    [t for t, a in zip(texts, ascii_text, strict=True) if not a], out.language
                )
            )
            out.passage_languages = [
                out.language if a else next(detected, out.language) for a in ascii_text
            ]
        elif texts:
            out.passage_languages = detect_passage_languages(texts, out.language)
        mentions = self.tagger.mentions(doc)
        out.country_mentions = self.tagger.rank(mentions)
        out.countries = [c.country for c in out.country_mentions if c.salient]
        out.places = places_from_mentions(mentions)
        if self.dedup is not None and doc.docid:
            out.dup_group = self.dedup.add(doc.docid, f"{doc.title}\n{doc.body}")
        return out
