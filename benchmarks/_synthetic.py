"""A large synthetic archive made of real text: paragraphs of the corpora in ../shared/data,
recombined into new documents with plausible metadata.

The corpora (read-only, research licence: read in place, never copied into the repository):
Reuters-21578 and BBC News (English news), Wikinews (French and Russian news), the State
Department's human-rights reports and CRS reports (English reports), SciFact and the classic BEIR
collections CACM, CISI and MED (English research abstracts).

Each source text is cut into *units* of 200-1,600 characters at paragraph and sentence ends: that
is the range in which Sourcebook's passage splitter (target 800 characters) keeps a paragraph as
exactly one passage, so a generated document of k units has k passages and an archive of N
passages can be built without splitting anything twice. Half the units of a new document are used
as they are; the other half splice the first sentences of one unit onto the last sentences of
another from the same pool, so the archive holds far more distinct paragraphs than the sources
while its words, their frequencies and its sentence lengths stay those of real text.

Generation is deterministic for a seed: the same documents come out in the same order every time,
so the peers (raw Tantivy, bm25s) index exactly the texts the archive holds without keeping them
in memory.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path

from _common import parse_reuters, reuters_files
from sourcebook.countries import resolve_country
from sourcebook.model import Document

#: A unit must stay one passage: at least a quarter of the 800-character target, at most twice it.
UNIT_MIN = 200
UNIT_MAX = 1600
#: Long paragraphs are cut at sentence ends once a piece reaches this many characters.
UNIT_CUT = 700
#: Publication dates spread over twenty years.
FIRST_DAY = date(2005, 1, 1)
DAYS = (date(2024, 12, 31) - FIRST_DAY).days + 1

_BREAK = re.compile(r"\n[ \t]*\n\s*")
_SPACE = re.compile(r"\s+")
_SENTENCE = re.compile(r"(?<=[.!?»\"”])\s+(?=[\"«“(]?[A-ZÀ-ÖØ-ÞА-ЯЁ0-9])")
_MARKUP = re.compile(r"\]\(|https?://|^\s*[|#*\->\[]")

#: Countries COI archives hold most, most frequent first (a Zipf-like spread for the facets).
COI_COUNTRIES = (
    "AF", "SY", "IR", "IQ", "ER", "SO", "SD", "NG", "PK", "ET", "CD", "RU", "UA", "TR", "BD",
    "LK", "MM", "CN", "LY", "YE", "SS", "ML", "VE", "CO", "HT", "GN", "CM", "GM", "TJ", "UZ",
    "KG", "KZ", "TM", "AZ", "AM", "GE", "BY", "AL", "EG", "DZ", "MA", "TN", "LB", "PS", "JO",
    "SA", "VN", "KP", "CF", "BI", "RW", "UG", "KE", "SN", "CI", "SL", "LR", "GH", "TD", "NE",
)  # fmt: skip


@dataclass(frozen=True)
class Profile:
    """A kind of document: where its paragraphs come from and what its metadata look like."""

    name: str
    language: str
    collection: str
    publishers: tuple[str, ...]
    types: tuple[str, ...]
    #: (fewest, most) units per document; news and research draw near the low end.
    units: tuple[int, int]
    #: Share of the archive's passages.
    share: float
    #: Another pool this profile also draws from, and how often (reports quote the news).
    borrow: tuple[str, float] = ("", 0.0)

    @property
    def mean_units(self) -> float:
        low, high = self.units
        return (low + high) / 2 if self.name == "reports-en" else low + (high - low) / 4


NEWS_PUBLISHERS = (
    "Reuters", "BBC News", "Agence France-Presse", "Associated Press", "Al Jazeera",
    "The New Humanitarian", "Radio Free Europe/Radio Liberty", "Deutsche Welle",
    "The Guardian", "Voice of America", "Eurasianet", "Asia-Plus",
)  # fmt: skip
REPORT_PUBLISHERS = (
    "U.S. Department of State", "UN High Commissioner for Refugees", "Human Rights Watch",
    "Amnesty International", "European Union Agency for Asylum", "UK Home Office",
    "Freedom House", "International Crisis Group", "Congressional Research Service",
    "Immigration and Refugee Board of Canada", "ACCORD", "Landinfo",
)  # fmt: skip
RESEARCH_PUBLISHERS = (
    "World Health Organization", "The Lancet", "BMJ", "Journal of Refugee Studies",
    "Communications of the ACM", "Journal of Documentation", "Migration Policy Institute",
)  # fmt: skip

PROFILES = (
    Profile(
        "news-en",
        "en",
        "news",
        NEWS_PUBLISHERS,
        ("News",),
        (1, 12),
        0.45,
    ),
    Profile(
        "reports-en",
        "en",
        "reports",
        REPORT_PUBLISHERS,
        ("Country Report", "Annual Report", "Thematic Report", "Query Response", "Legal Analysis"),
        (6, 40),
        0.25,
        ("news-en", 0.6),
    ),
    Profile(
        "research-en",
        "en",
        "research",
        RESEARCH_PUBLISHERS,
        ("Research", "Article"),
        (1, 4),
        0.15,
    ),
    Profile(
        "news-fr",
        "fr",
        "news",
        ("Wikinews", "Radio France Internationale", "France 24", "Le Monde", "Jeune Afrique"),
        ("News",),
        (1, 10),
        0.03,
    ),
    Profile(
        "news-ru",
        "ru",
        "news",
        ("Wikinews", "Радио Свобода", "Интерфакс", "Фергана", "Новая газета"),
        ("News",),
        (1, 10),
        0.12,
    ),
)


@dataclass
class Pool:
    """The units and titles one profile draws from; ``countries[i]`` is unit i's source country."""

    units: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)

    def add_text(self, title: str, body: str, country: str = "") -> None:
        found = units_of(body)
        self.units.extend(found)
        self.countries.extend([country] * len(found))
        if title.strip():
            self.titles.append(_SPACE.sub(" ", title).strip())


def units_of(body: str, skip_markup: bool = False) -> list[str]:
    """Units of 200-1,600 characters: paragraphs, short ones joined, long ones cut at sentences."""
    out: list[str] = []
    pending = ""
    for raw in _BREAK.split(body):
        if skip_markup and _MARKUP.search(raw):
            continue
        text = _SPACE.sub(" ", raw).strip()
        if not text or text in ("Reuter", "REUTER"):
            continue
        text = f"{pending} {text}" if pending else text
        pending = ""
        if len(text) < UNIT_MIN:
            pending = text
            continue
        out.extend(_cut(text))
    if pending and out and len(out[-1]) + len(pending) + 1 <= UNIT_MAX:
        out[-1] = f"{out[-1]} {pending}"
    return out


def _cut(text: str) -> list[str]:
    if len(text) <= UNIT_MAX:
        return [text]
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE.split(text):
        current = f"{current} {sentence}" if current else sentence
        if len(current) >= UNIT_CUT:
            pieces.append(current)
            current = ""
    if current:
        if pieces and len(current) < UNIT_MIN:
            pieces[-1] = f"{pieces[-1]} {current}"
        else:
            pieces.append(current)
    return [p for p in pieces if UNIT_MIN <= len(p) <= UNIT_MAX]


def _read_jsonl(path: Path) -> Iterator[dict[str, object]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def load_pools(data: Path) -> dict[str, Pool]:
    """Read every corpus once into per-profile pools of units (about 60 MB of text)."""
    pools = {p.name: Pool() for p in PROFILES}
    news, reports, research = pools["news-en"], pools["reports-en"], pools["research-en"]
    for doc in parse_reuters(reuters_files(data / "reuters21578")):
        news.add_text(doc.title.title(), doc.body)
    for path in sorted((data / "bbc-news" / "bbc").glob("*/*.txt")):
        title, _, body = path.read_text(encoding="utf-8", errors="replace").partition("\n")
        news.add_text(title, body)
    for lang in ("fr", "ru"):
        folder = data / "wikinews-fr-ru" / lang
        pool = pools[f"news-{lang}"]
        for record in _read_jsonl(folder / "metadata.jsonl"):
            text = (folder.parent / str(record["path"])).read_text(encoding="utf-8")
            pool.add_text(str(record.get("title") or ""), text)
    hrr = data / "us-state-dept-hrr"
    for record in _read_jsonl(hrr / "metadata.jsonl"):
        text = (hrr / str(record["path"])).read_text(encoding="utf-8")
        found = units_of(text, skip_markup=True)
        reports.units.extend(found)
        reports.countries.extend([resolve_country(str(record["country"])) or ""] * len(found))
        reports.titles.append(str(record["title"]))
    crs = data / "crs-reports"
    for record in _read_jsonl(crs / "metadata.jsonl"):
        path = crs / str(record["markdown"])
        if path.is_file():
            found = units_of(path.read_text(encoding="utf-8"), skip_markup=True)
            reports.units.extend(found)
            reports.countries.extend([""] * len(found))
            reports.titles.append(str(record["title"]))
    for name in ("scifact", "cacm", "cisi", "med"):
        for record in _read_jsonl(data / "beir" / name / "corpus.jsonl"):
            research.add_text(str(record.get("title") or ""), str(record.get("text") or ""))
    for name, pool in pools.items():
        if not pool.units or not pool.titles:
            raise SystemExit(f"no text for {name} under {data}")
    return pools


class Generator:
    """Deterministic documents of recombined units, until the archive holds N passages."""

    def __init__(self, pools: dict[str, Pool], seed: int = 2024) -> None:
        self.pools = pools
        self.seed = seed
        self.profiles = PROFILES
        # documents per profile so that each holds its share of the passages
        weights = [p.share / p.mean_units for p in self.profiles]
        self.cum_weights = list(accumulate(weights))
        self.country_weights = list(accumulate(1 / (i + 1) for i in range(len(COI_COUNTRIES))))

    def documents(self, passages: int) -> Iterator[Document]:
        """Documents holding ``passages`` passages in all (the last one is cut to fit)."""
        rng = random.Random(self.seed)
        left = passages
        n = 0
        while left > 0:
            profile = rng.choices(self.profiles, cum_weights=self.cum_weights)[0]
            low, high = profile.units
            if profile.name == "reports-en":
                k = rng.randint(low, high)
            else:  # mostly short, a long tail
                k = min(high, low + int(rng.expovariate(1 / max(1.0, (high - low) / 4))))
            k = min(k, left)
            yield self._document(rng, n, profile, k)
            left -= k
            n += 1

    def _document(self, rng: random.Random, n: int, profile: Profile, k: int) -> Document:
        own = self.pools[profile.name]
        other, often = profile.borrow
        picks: list[tuple[Pool, int]] = []
        for _ in range(k):
            pool = self.pools[other] if other and rng.random() < often else own
            picks.append((pool, rng.randrange(len(pool.units))))
        paragraphs = [self._paragraph(rng, pool, i) for pool, i in picks]
        countries: list[str] = []
        source = next((pool.countries[i] for pool, i in picks if pool.countries[i]), "")
        if source:
            countries.append(source)
        while not countries or (len(countries) < 3 and rng.random() < 0.3):
            code = rng.choices(COI_COUNTRIES, cum_weights=self.country_weights)[0]
            if code not in countries:
                countries.append(code)
        publisher = profile.publishers[min(int(rng.expovariate(0.5)), len(profile.publishers) - 1)]
        return Document(
            source_key=f"scale:{n:09d}",
            source_id=f"scale-{n}",
            title=rng.choice(own.titles),
            publisher=publisher,
            publication_date=FIRST_DAY + timedelta(days=rng.randrange(DAYS)),
            source_url=f"https://example.org/scale/{n}",
            body="\n\n".join(paragraphs),
            document_type=rng.choice(profile.types),
            language=profile.language,
            countries=countries,
            collection=profile.collection,
            origin=f"scale#{n}",
        )

    @staticmethod
    def _paragraph(rng: random.Random, pool: Pool, i: int) -> str:
        text = pool.units[i]
        if rng.random() < 0.5:
            return text
        other = pool.units[rng.randrange(len(pool.units))]
        head = _SENTENCE.split(text)
        tail = _SENTENCE.split(other)
        if len(head) < 2 or len(tail) < 2:
            return text
        spliced = " ".join(
            head[: rng.randrange(1, len(head))] + tail[rng.randrange(1, len(tail)) :]
        )
        return spliced if UNIT_MIN <= len(spliced) <= UNIT_MAX else text


def sample(docs: Iterator[Document], n: int) -> list[Document]:
    """The first ``n`` documents (for the query vocabulary)."""
    out: list[Document] = []
    for doc in docs:
        out.append(doc)
        if len(out) >= n:
            break
    return out


def passage_count(docs: Sequence[Document]) -> int:
    return sum(len(_BREAK.split(d.body)) for d in docs)
