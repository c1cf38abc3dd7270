"""The labelled reprint pairs behind ``benchmarks/eval_dedup.py --pairs``: building and reading.

    python benchmarks/dedup_pairs.py --shared ../shared/data [--out benchmarks/dedup_pairs.tsv]
    python benchmarks/dedup_pairs.py --shared ../shared/data --show 20   # read a sample

``benchmarks/dedup_pairs.tsv`` holds references only, never text: ``corpus``, ``id_a``, ``id_b``,
``label`` (1 reprint, 0 not), ``why`` (the rule that labelled it). Ids are the corpora's own:
Reuters ``NEWID``, BBC ``category/number``, State Department report file stems. An id ending in
``~EDIT`` is a made reprint: the document after the named reprint-like edit, made here by
:func:`reprint` (deterministic, seeded by the id):

* ``~case``: the headline in upper case (or title case when it was upper case);
* ``~tail``: the last 10-25% of the sentences cut (a page that ends early);
* ``~dateline``: a dateline and a source line added ("LONDON (Sourcebook wire) - ");
* ``~footer``: a boilerplate footer and a "Share this article" header added;
* ``~all``: all four, and the text re-wrapped at 60 columns.

Pairs and the labelling rules (exact word 3-shingle sets of title and body; "numbers" are the
runs of digits; a Reuters dateline's day counts only when the two datelines are more than a day
apart: a story re-sent the next day is a reprint, the same statement a fortnight later is not):

* **made reprints** (label 1, ``made``): a BBC or Reuters story and one edit of it.
* **candidate pairs** (Reuters, BBC): pairs the MinHash grouping of version 1 (word 3-shingles,
  estimated Jaccard >= 0.3) put in one group, labelled by these rules in order:

  1. ``title-numbers`` (0): both titles carry numbers and they differ ("APRIL 7" / "APRIL 8",
     "1100" / "12:00"): another edition of a report or another day's figures;
  2. ``another-day`` (0): Reuters stories dated more than two days apart: on a wire the same
     words days later report another day's event (the Fed's "customer repurchase" flash);
  3. ``numbers`` (0): a number of the shorter text (after its dateline) is missing from the
     longer one: another price, amount or date (a template story: debentures, price rises, money supply);
  4. ``different`` (0): the longer text holds less than half of the shorter one's shingles;
  5. ``same-text`` (1): the longer text holds at least 90% of the shorter one's shingles and
     the shorter is at least 60% of the longer (in words);
  6. otherwise ambiguous (a rewrite of the same story): left out of the sample.

* **editions** (0, ``edition``): the State Department's 2023 and 2024 Eritrea reports.

Spot-checked by reading (``--show``): see docs/enrichment.md for what the reading found.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import textwrap
import zlib
from collections.abc import Iterator
from datetime import date
from itertools import combinations
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE))

from sourcebook.enrich.dedup import DedupIndex, DedupOptions, ReprintRule, shingles  # noqa: E402

PAIRS = _HERE / "dedup_pairs.tsv"
SEED = 2026
EDITS = ("case", "tail", "dateline", "footer", "all")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_DIGITS = re.compile(r"\d+")


def read_reuters(data: Path) -> dict[str, tuple[str, str]]:
    return {key: (title, body) for key, (title, body, _) in read_reuters_dated(data).items()}


def read_reuters_dated(data: Path) -> dict[str, tuple[str, str, date | None]]:
    from _common import parse_reuters, reuters_files

    docs = parse_reuters(reuters_files(data / "reuters21578"))
    return {d.source_id: (d.title, d.body, d.publication_date) for d in docs}


def read_bbc(data: Path) -> dict[str, tuple[str, str]]:
    root = data / "bbc-news"
    root = root / "bbc" if (root / "bbc").is_dir() else root
    out = {}
    for path in sorted(root.rglob("*.txt")):
        if path.name.upper() == "README.TXT":
            continue
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        title, _, body = text.strip().partition("\n")
        out[f"{path.parent.name}/{path.stem}"] = (title.strip(), body.strip())
    return out


def read_hrr(data: Path) -> dict[str, tuple[str, str]]:
    folder = data / "us-state-dept-hrr"
    out = {}
    for line in (folder / "metadata.jsonl").read_text(encoding="utf-8").splitlines():
        meta = json.loads(line)
        path = folder / meta["path"]
        out[path.stem] = (meta["title"], path.read_text(encoding="utf-8"))
    return out


READERS = {"reuters": read_reuters, "bbc": read_bbc, "hrr": read_hrr}


def reprint(title: str, body: str, edit: str, seed: str) -> tuple[str, str]:
    """A reprint-like edit of a story (see the module docstring)."""
    rng = random.Random(zlib.crc32(seed.encode()))
    if edit in ("case", "all"):
        title = title.title() if title.isupper() else title.upper()
    if edit in ("tail", "all"):
        sentences = _SENTENCE.split(" ".join(body.split()))
        cut = max(1, round(len(sentences) * rng.uniform(0.1, 0.25)))
        body = " ".join(sentences[: max(1, len(sentences) - cut)])
    if edit in ("dateline", "all"):
        city = rng.choice(("LONDON", "NAIROBI", "GENEVA", "NEW YORK"))
        body = f"{city} (Sourcebook wire) - {body}"
    if edit in ("footer", "all"):
        body = f"Share this article\n\n{body}\n\nCopyright Sourcebook wire. All rights reserved."
    if edit == "all":
        body = "\n\n".join(textwrap.fill(p, 60) for p in body.split("\n\n"))
    return title, body


class Corpora:
    """Texts by (corpus, id), made reprints included; corpora are read on first use."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self._texts: dict[str, dict[str, tuple[str, str]]] = {}
        self._dates: dict[str, date | None] = {}

    def corpus(self, name: str) -> dict[str, tuple[str, str]]:
        if name not in self._texts:
            if name == "reuters":  # the one corpus with publication dates
                dated = read_reuters_dated(self.data)
                self._texts[name] = {k: (t, b) for k, (t, b, _) in dated.items()}
                self._dates.update({f"reuters:{k}": d for k, (_, _, d) in dated.items()})
            else:
                self._texts[name] = READERS[name](self.data)
        return self._texts[name]

    def date(self, corpus: str, docid: str) -> date | None:
        """The publication date (a made reprint has its original's), when the corpus has one."""
        self.corpus(corpus)
        return self._dates.get(f"{corpus}:{docid.partition('~')[0]}")

    def text(self, corpus: str, docid: str) -> tuple[str, str]:
        base, _, edit = docid.partition("~")
        title, body = self.corpus(corpus)[base]
        return reprint(title, body, edit, f"{corpus}:{docid}") if edit else (title, body)


def read_pairs(path: Path = PAIRS) -> list[tuple[str, str, str, int, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.reader(f, delimiter="\t") if r and not r[0].startswith("#")]
    return [(c, a, b, int(label), why) for c, a, b, label, why in rows[1:]]


_DATELINE = re.compile(r"^[^-]{0,60}?,\s+([A-Z][a-z]+)\.?\s+(\d{1,2})\s+-\s")


def _numbers(text: str) -> set[str]:
    return set(_DIGITS.findall(text))


def _dateline(text: str) -> tuple[str, int] | None:
    found = _DATELINE.match(text)
    return (found.group(1), int(found.group(2))) if found else None


def _body_numbers(a: str, b: str) -> tuple[set[str], set[str]]:
    """The numbers of two bodies; a dateline's day is left out when the two datelines are at
    most a day apart (a story re-sent the next day), kept when further apart (a new report)."""
    da, db = _dateline(a), _dateline(b)
    if da and db and da[0] == db[0] and abs(da[1] - db[1]) <= 1:
        a, b = _DATELINE.sub("", a, count=1), _DATELINE.sub("", b, count=1)
    return _numbers(a), _numbers(b)


def label(
    a: tuple[str, str], b: tuple[str, str], dates: tuple[date | None, date | None] = (None, None)
) -> tuple[int | None, str]:
    """(label, rule) for a candidate pair by the rules of the module docstring."""
    ta, tb = _numbers(a[0]), _numbers(b[0])
    if ta and tb and ta != tb:
        return 0, "title-numbers"
    if dates[0] and dates[1] and abs((dates[0] - dates[1]).days) > 2:
        return 0, "another-day"
    wa, wb = len(f"{a[0]} {a[1]}".split()), len(f"{b[0]} {b[1]}".split())
    short, long_ = (a, b) if wa <= wb else (b, a)
    short_numbers, long_numbers = _body_numbers(short[1], long_[1])
    if short_numbers - long_numbers:
        return 0, "numbers"
    sa = set(shingles(f"{short[0]}\n{short[1]}"))
    sb = set(shingles(f"{long_[0]}\n{long_[1]}"))
    held = len(sa & sb) / len(sa) if sa else 0.0
    if held < 0.5:
        return 0, "different"
    if held >= 0.9 and min(wa, wb) >= 0.6 * max(wa, wb):
        return 1, "same-text"
    return None, "ambiguous"


def candidate_pairs(texts: dict[str, tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """Pairs the version-1 grouping joined (word 3-shingles, estimated Jaccard >= 0.3, no
    verification): bare MinHash signatures are what version 1 stored, judged by Jaccard alone."""
    index = DedupIndex(DedupOptions(threshold=0.3), ReprintRule(legacy_jaccard=0.3))
    for docid, (title, body) in texts.items():
        index.add_signature(docid, index.signature(f"{title}\n{body}"))
    for members in index.groups().values():
        yield from combinations(members, 2)


def build(data: Path, rng: random.Random) -> list[tuple[str, str, str, int, str]]:
    corpora = Corpora(data)
    rows: list[tuple[str, str, str, int, str]] = []
    for corpus, zeros, ones in (("reuters", 160, 90), ("bbc", 30, 30)):
        texts = corpora.corpus(corpus)
        labelled: dict[int, list[tuple[str, str, str, int, str]]] = {0: [], 1: []}
        for a, b in candidate_pairs(texts):
            value, why = label(
                texts[a], texts[b], (corpora.date(corpus, a), corpora.date(corpus, b))
            )
            if value is not None:
                labelled[value].append((corpus, a, b, value, why))
        for value, wanted in ((0, zeros), (1, ones)):
            found = sorted(labelled[value])
            rows += rng.sample(found, min(wanted, len(found)))
        made = rng.sample(sorted(texts), 45 if corpus == "bbc" else 25)
        for n, docid in enumerate(made):
            rows.append((corpus, docid, f"{docid}~{EDITS[n % len(EDITS)]}", 1, "made"))
    rows.append(("hrr", "eritrea-2023", "eritrea", 0, "edition"))
    for stem in ("eritrea", "syria"):
        rows.append(("hrr", stem, f"{stem}~tail", 1, "made"))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--shared", type=Path, required=True, help="the shared data folder")
    ap.add_argument("--out", type=Path, default=None, help="write a new pairs file here")
    ap.add_argument("--show", type=int, default=0, help="print this many labelled pairs to read")
    args = ap.parse_args(argv)
    if args.out:
        rows = build(args.shared, random.Random(SEED))
        with args.out.open("w", encoding="utf-8", newline="") as f:
            out = csv.writer(f, delimiter="\t", lineterminator="\n")
            out.writerow(("corpus", "id_a", "id_b", "label", "why"))
            out.writerows(rows)
        ones = sum(r[3] for r in rows)
        print(f"{len(rows)} pairs ({ones} reprints, {len(rows) - ones} not) -> {args.out}")
    if args.show:
        corpora = Corpora(args.shared)
        rows = read_pairs(args.out or PAIRS)
        for corpus, a, b, value, why in random.Random(1).sample(rows, min(args.show, len(rows))):
            print(f"== {corpus} {a} | {b}: {value} ({why})")
            for docid in (a, b):
                title, body = corpora.text(corpus, docid)
                print(f"   {title} | {' '.join(body.split())[:240]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
