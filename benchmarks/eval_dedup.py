"""Near-duplicate groups: precision on labelled reprint pairs (the gate), and recall of BBC news
with injected edited copies.

    python benchmarks/eval_dedup.py --pairs [--shared ../shared/data] [--check]
    python benchmarks/eval_dedup.py --bbc ../shared/data/bbc-news [--sweep]

``--pairs`` reads ``benchmarks/dedup_pairs.tsv`` (ids only; how it was built and labelled:
``benchmarks/dedup_pairs.py``), puts each pair's two texts in a fresh ``DedupIndex`` (the first,
then the second, as ingest does) and counts the pair grouped when the second joins the first's
group: ``pairs precision``, ``pairs recall`` and both per corpus. ``--check`` exits 1 when
precision or recall falls below ``benchmarks/dedup_floors.json`` (precision >= 0.98).

The injected copies below are a harder edit model than a reprint (sentences dropped from the
middle, words substituted): the stricter grouping of version 2 leaves the heavy copies apart on
purpose, so their recall is reported, not gated at version 1's level.

The edit model (seeded, ``random.Random(SEED)``): ``COPIED`` articles of the 2,225 get one to
three copies each; a copy is the article after, in turn,

* **sentence drops**: each sentence goes with probability 0.1 (at least one stays);
* **word substitutions**: each word is replaced with probability 0.04 by a random word of the
  collection's vocabulary (typos, house style, translation variants);
* **boilerplate**: a header ("Share this article", a byline) and/or a footer ("Copyright ...
  BBC", "Related links", an advertisement line), each with probability 0.5;
* **re-wrapping**: the text hard-wrapped at a random width of 50-90 columns.

A "heavy" copy (one in four) uses twice the drop and substitution rates. Gold groups: each
original with its copies; articles that are already identical in the collection (BBC has
duplicates of its own) are one gold group too. Everything is added to one ``DedupIndex`` in a
shuffled order. Scores count *pairs*: a predicted pair is two documents in one predicted group.
BBC also re-ran stories with small changes ("Capriati to miss Melbourne" / "Capriati out of
Australian Open"); a predicted pair of two different articles whose originals share at least
``NATURAL`` of their word 3-shingles (exact Jaccard) is such a pair, has no gold, and is
counted apart (``natural_pairs``) rather than as a false positive.
``--sweep`` prints the scores for other shingle lengths and thresholds (how the defaults were
chosen). One figure per line: ``dedup pair_f1 0.97``.
"""

from __future__ import annotations

import argparse
import random
import re
import textwrap
import time
from collections import defaultdict
from datetime import date
from itertools import combinations
from pathlib import Path

from sourcebook.enrich.dedup import DedupIndex, DedupOptions, shingles

FLOORS = Path(__file__).resolve().parent / "dedup_floors.json"

SEED = 1987
COPIED = 400
#: Two different BBC articles this similar (exact word-3-shingle Jaccard) are near-duplicates
#: the collection brought itself (a story re-run with a new headline): not scored.
NATURAL = 0.3
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
HEADERS = ("Share this article", "By our business correspondent", "Page last updated at 10:31 GMT")
FOOTERS = (
    "Copyright 2005 BBC. All rights reserved.",
    "Related links: more business news, world news, weather.",
    "Advertisement: subscribe to our newsletter for daily updates.",
)


def read_bbc(folder: Path) -> list[tuple[str, str]]:
    root = folder / "bbc" if (folder / "bbc").is_dir() else folder
    out = []
    for path in sorted(root.rglob("*.txt")):
        if path.name.upper() == "README.TXT":
            continue
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        out.append((f"{path.parent.name}/{path.stem}", text))
    return out


def edit(text: str, rng: random.Random, vocabulary: list[str], heavy: bool) -> str:
    drop = 0.2 if heavy else 0.1
    substitute = 0.08 if heavy else 0.04
    sentences = _SENTENCE.split(" ".join(text.split()))
    kept = [s for s in sentences if rng.random() >= drop] or sentences[:1]
    words = " ".join(kept).split(" ")
    words = [rng.choice(vocabulary) if rng.random() < substitute else w for w in words]
    body = " ".join(words)
    if rng.random() < 0.5:
        body = f"{rng.choice(HEADERS)}\n\n{body}"
    if rng.random() < 0.5:
        body = f"{body}\n\n{rng.choice(FOOTERS)}"
    width = rng.randint(50, 90)
    return "\n".join(textwrap.fill(p, width) for p in body.split("\n\n"))


def build_corpus(
    articles: list[tuple[str, str]], seed: int = SEED
) -> tuple[list[tuple[str, str]], list[set[str]]]:
    """Documents (id, text) in a shuffled order, and the gold groups of two or more."""
    rng = random.Random(seed)
    vocabulary = sorted({w for _, t in articles[:300] for w in t.split() if w.isalpha()})
    docs = list(articles)
    groups: dict[str, set[str]] = defaultdict(set)
    by_text: dict[str, str] = {}
    for docid, text in articles:
        key = " ".join(text.split())
        first = by_text.setdefault(key, docid)
        groups[first].add(docid)
    for docid, _text in rng.sample(articles, min(COPIED, len(articles))):
        text = dict(articles)[docid]
        first = by_text[" ".join(text.split())]
        for n in range(rng.randint(1, 3)):
            copy_id = f"{docid}#copy{n}"
            docs.append((copy_id, edit(text, rng, vocabulary, heavy=rng.random() < 0.25)))
            groups[first].add(copy_id)
    rng.shuffle(docs)
    return docs, [g for g in groups.values() if len(g) > 1]


def pairs(groups: list[set[str]] | list[list[str]]) -> set[frozenset[str]]:
    return {frozenset(p) for g in groups for p in combinations(sorted(g), 2)}


def _original(docid: str) -> str:
    return docid.split("#", 1)[0]


def exact_jaccard(a: str, b: str, k: int = 3) -> float:
    sa, sb = set(shingles(a, k)), set(shingles(b, k))
    return len(sa & sb) / len(sa | sb) if sa and sb else 0.0


def evaluate(
    docs: list[tuple[str, str]], gold: list[set[str]], options: DedupOptions
) -> dict[str, float]:
    index = DedupIndex(options)
    start = time.perf_counter()
    for docid, text in docs:
        index.add(docid, text)
    seconds = time.perf_counter() - start
    originals = {docid: text for docid, text in docs if "#" not in docid}
    predicted = pairs(list(index.groups().values()))
    truth = pairs(gold)
    natural = set()
    for pair in predicted - truth:
        a, b = sorted(pair)
        if exact_jaccard(originals[_original(a)], originals[_original(b)]) >= NATURAL:
            natural.add(pair)  # BBC's own near-duplicates: no gold either way
    scored = predicted - natural
    tp = len(scored & truth)
    precision = tp / len(scored) if scored else 0.0
    recall = tp / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    found = {frozenset(g) for g in index.groups().values()}
    exact = sum(1 for g in gold if frozenset(g) in found) / len(gold) if gold else 0.0
    return {
        "documents": len(docs),
        "gold_groups": len(gold),
        "natural_pairs": len(natural),
        "pair_precision": precision,
        "pair_recall": recall,
        "pair_f1": f1,
        "groups_exact": exact,
        "docs_per_s": len(docs) / seconds if seconds else 0.0,
    }


def grouped(
    a: tuple[str, str],
    b: tuple[str, str],
    options: DedupOptions,
    dates: tuple[date | None, date | None] = (None, None),
) -> bool:
    """Whether ``b``, added after ``a``, joins ``a``'s group (with their publication dates)."""
    index = DedupIndex(options)
    index.add("a", f"{a[0]}\n{a[1]}", dates[0])
    return index.add("b", f"{b[0]}\n{b[1]}", dates[1]) == "a"


def evaluate_pairs(
    data: Path, options: DedupOptions | None = None, only: frozenset[str] | None = None
) -> dict[str, float]:
    """Precision and recall of the grouping on the labelled pairs, overall and per corpus
    (``only``: these corpora's pairs)."""
    from dedup_pairs import Corpora, read_pairs

    corpora = Corpora(data)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # tp, fp, fn
    for corpus, a, b, label, _why in read_pairs():
        if only is not None and corpus not in only:
            continue
        predicted = grouped(
            corpora.text(corpus, a),
            corpora.text(corpus, b),
            options or DedupOptions(),
            (corpora.date(corpus, a), corpora.date(corpus, b)),
        )
        for key in ("all", corpus):
            if predicted and label:
                counts[key][0] += 1
            elif predicted:
                counts[key][1] += 1
            elif label:
                counts[key][2] += 1
    out: dict[str, float] = {}
    for key, (tp, fp, fn) in sorted(counts.items()):
        prefix = "" if key == "all" else f"{key}_"
        out[f"{prefix}precision"] = tp / (tp + fp) if tp + fp else 1.0
        out[f"{prefix}recall"] = tp / (tp + fn) if tp + fn else 1.0
    out["pairs"] = float(len(read_pairs()))
    return out


def _default_shared() -> Path:
    return Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--bbc", type=Path, help="the bbc-news folder (injected copies)")
    ap.add_argument("--sweep", action="store_true", help="also try other k and thresholds")
    ap.add_argument("--pairs", action="store_true", help="score the labelled reprint pairs")
    ap.add_argument("--shared", type=Path, default=_default_shared(), help="shared data folder")
    ap.add_argument("--check", action="store_true", help="fail below dedup_floors.json")
    args = ap.parse_args(argv)
    if args.pairs:
        import json

        scores = evaluate_pairs(args.shared)
        for name, value in scores.items():
            print(f"dedup pairs_{name} {value:.3f}")
        if args.check:
            floors = json.loads(FLOORS.read_text())
            low = [f"{k} {scores[k]:.3f} < {v}" for k, v in floors.items() if scores[k] + 1e-9 < v]
            for line in low:
                print(f"below the floor: {line}")
            return 1 if low else 0
        return 0
    if args.bbc is None:
        ap.error("say --pairs or --bbc FOLDER")
    docs, gold = build_corpus(read_bbc(args.bbc))
    for name, value in evaluate(docs, gold, DedupOptions()).items():
        shown = (
            f"{value:.0f}"
            if name in ("documents", "gold_groups", "natural_pairs", "docs_per_s")
            else f"{value:.3f}"
        )
        print(f"dedup {name} {shown}")
    if args.sweep:
        for k in (2, 3, 4, 5):
            for threshold in (0.2, 0.25, 0.3, 0.35, 0.4, 0.5):
                s = evaluate(docs, gold, DedupOptions(shingle_words=k, threshold=threshold))
                print(
                    f"sweep k={k} threshold={threshold}: precision {s['pair_precision']:.3f} "
                    f"recall {s['pair_recall']:.3f} f1 {s['pair_f1']:.3f}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
