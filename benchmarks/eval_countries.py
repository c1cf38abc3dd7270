"""Document countries against Reuters-21578 PLACES, beside geotext on the same stories.

    python benchmarks/eval_countries.py --reuters ../shared/data/reuters21578 [--files N]

Gold: each story's PLACES codes (``usa``, ``west-germany``, ``ussr``), mapped to ISO 3166-1
alpha-2 by ``REUTERS_TO_ISO`` (historical states to their successors, as the tagger does).
Only stories with at least one PLACES code are scored (12,924 of the 14,999 stories that parse
from reut2-000..014): a story without PLACES has no gold, not an empty one (the indexers left
PLACES out of many stories about markets). How many countries we tag on the others is printed as
``countries unscored_stories_tagged``. Scores are micro (over all story-country pairs) and macro
(the mean over countries of per-country F1, countries with gold support only).

geotext (the installed package) runs on the same title + body: its ``country_mentions`` (country
names and cities it knows) are its document countries.

One figure per line, ``countries micro_f1 0.912``; ``--split`` adds the figures of the stories
in reut2-010..014 alone, which the tagger's weights were not tuned on.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from _common import parse_reuters, reuters_files
from sourcebook.countries import resolve_country
from sourcebook.enrich.countries import CountryTagger
from sourcebook.model import Document

#: Reuters PLACES codes whose ISO code is not found by name ("usa" -> "US").
REUTERS_TO_ISO: dict[str, str] = {
    "usa": "US",
    "uk": "GB",
    "ussr": "RU",
    "west-germany": "DE",
    "east-germany": "DE",
    "czechoslovakia": "CZ",
    "yugoslavia": "RS",
    "zaire": "CD",
    "kampuchea": "KH",
    "burma": "MM",
    "netherlands-antilles": "CW",
    "yemen-arab-republic": "YE",
    "yemen-demo-republic": "YE",
    "uae": "AE",
    "ivory-coast": "CI",
    "south-korea": "KR",
    "north-korea": "KP",
    "taiwan": "TW",
    "vatican": "VA",
    "western-samoa": "WS",
    "trinidad-tobago": "TT",
    "hong-kong": "HK",
    "macao": "MO",
    "congo": "CG",
    "swaziland": "SZ",
    "cape-verde": "CV",
    "us-virgin-islands": "VI",
    "british-virgin-islands": "VG",
    "antigua": "AG",
    "guinea-bissau": "GW",
}


def reuters_to_iso(code: str) -> str | None:
    return REUTERS_TO_ISO.get(code) or resolve_country(code.replace("-", " "))


@dataclass
class Scores:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    per_country: dict[str, list[int]] = field(default_factory=dict)  # code -> [tp, fp, fn]
    stories: int = 0

    def add(self, gold: set[str], predicted: set[str]) -> None:
        self.stories += 1
        for code in gold | predicted:
            row = self.per_country.setdefault(code, [0, 0, 0])
            if code in gold and code in predicted:
                self.tp += 1
                row[0] += 1
            elif code in predicted:
                self.fp += 1
                row[1] += 1
            else:
                self.fn += 1
                row[2] += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def macro(self) -> tuple[float, float, float]:
        ps, rs, fs = [], [], []
        for tp, fp, fn in self.per_country.values():
            if tp + fn == 0:
                continue  # no gold support: only false positives, counted in micro
            p = tp / (tp + fp) if tp + fp else 0.0
            r = tp / (tp + fn)
            ps.append(p)
            rs.append(r)
            fs.append(2 * p * r / (p + r) if p + r else 0.0)
        n = len(fs) or 1
        return sum(ps) / n, sum(rs) / n, sum(fs) / n


def gold_countries(doc: Document) -> set[str]:
    codes = (reuters_to_iso(p) for p in doc.source_tags.get("places", []))
    return {c for c in codes if c}


def score(docs: Iterable[Document], predict: Callable[[Document], Iterable[str]]) -> Scores:
    scores = Scores()
    for doc in docs:
        gold = gold_countries(doc)
        if gold:
            scores.add(gold, set(predict(doc)))
    return scores


def geotext_predictor() -> Callable[[Document], list[str]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from geotext import GeoText

    def predict(doc: Document) -> list[str]:
        return list(GeoText(f"{doc.title}\n{doc.body}").country_mentions)

    return predict


def report(name: str, scores: Scores, prefix: str = "") -> None:
    mp, mr, mf = scores.macro()
    print(f"{name} {prefix}stories {scores.stories}")
    print(f"{name} {prefix}micro_precision {scores.precision:.3f}")
    print(f"{name} {prefix}micro_recall {scores.recall:.3f}")
    print(f"{name} {prefix}micro_f1 {scores.f1:.3f}")
    print(f"{name} {prefix}macro_precision {mp:.3f}")
    print(f"{name} {prefix}macro_recall {mr:.3f}")
    print(f"{name} {prefix}macro_f1 {mf:.3f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reuters", type=Path, required=True, help="folder with reut2-*.sgm")
    ap.add_argument("--files", type=int, default=0, help="use only the first N files")
    ap.add_argument("--no-geotext", action="store_true", help="skip the geotext comparison")
    ap.add_argument("--split", action="store_true", help="also report reut2-010..014 alone")
    ap.add_argument("--errors", type=int, default=0, help="print the N most frequent errors")
    args = ap.parse_args(argv)
    files = reuters_files(args.reuters)
    if args.files:
        files = files[: args.files]
    docs = parse_reuters(files)
    tagger = CountryTagger()
    tagger.countries(docs[0])  # load the gazetteer outside the timing
    start = time.perf_counter()
    predictions = {id(d): tagger.countries(d) for d in docs}
    seconds = time.perf_counter() - start
    ours = score(docs, lambda d: predictions[id(d)])
    report("countries", ours)
    unscored = [d for d in docs if not gold_countries(d)]
    tagged = sum(1 for d in unscored if predictions[id(d)])
    print(f"countries unscored_stories {len(unscored)}")
    print(f"countries unscored_stories_tagged {tagged}")
    print(f"countries docs_per_s {len(docs) / seconds:.0f}")
    if args.split:
        held_out = [d for d in docs if any(f"reut2-01{i}" in d.origin for i in range(5))]
        report("countries", score(held_out, lambda d: predictions[id(d)]), "heldout_")
    if not args.no_geotext:
        report("geotext", score(docs, geotext_predictor()))
    if args.errors:
        missed: Counter[str] = Counter()
        extra: Counter[str] = Counter()
        for d in docs:
            gold = gold_countries(d)
            if not gold:
                continue
            predicted = set(predictions[id(d)])
            missed.update(gold - predicted)
            extra.update(predicted - gold)
        print("missed", missed.most_common(args.errors))
        print("extra", extra.most_common(args.errors))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
