""" "Similar documents", measured: topic agreement of the top 5 on BBC news, before and after.

    python benchmarks/eval_similar.py [--shared ../shared/data] [--sample 400] [--check]

BBC news (2,225 articles in five topics: business, entertainment, politics, sport, tech; the
topic is the article's folder) goes into a fresh archive (real SQLite and Tantivy, enrichment
on: countries and near-duplicate groups as at any ingest). For ``--sample`` articles (seeded)
the archive's "similar documents" are asked for 5; ``agreement@5`` is the share of the returned
documents in the same topic as the article (a document with fewer than 5 counts the missing ones
as disagreeing), ``filled`` the share of the 5 slots filled, ``short`` the share of returned
records with fewer than 15 words. ``v1`` is the more-like-this of version 1 (no bound on common
terms, no countries, reprints and empty records allowed), ``v2`` the current default.
The same on the first four Reuters-21578 files (4,000 stories, 1987), for stories with a TOPICS
tag and some text: ``reuters_…_agreement@5`` counts returned stories sharing a TOPICS tag, and
``reuters_…_short`` the empty records (title-only "BRIEF" stories) that version 1 returned.
``--check`` exits 1 when v2 falls below ``benchmarks/similar_floors.json``.
One figure per line: ``similar v2_agreement@5 0.93``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE))

from dedup_pairs import read_bbc  # noqa: E402
from sourcebook.config import Settings  # noqa: E402
from sourcebook.model import Document  # noqa: E402
from sourcebook.search.similar import SIMILAR_V1, SimilarOptions  # noqa: E402
from sourcebook.services import Archive  # noqa: E402

FLOORS = _HERE / "similar_floors.json"
SEED = 5
K = 5
REUTERS_FILES = 4


def _topics(doc: Document) -> set[str]:
    return (
        set(doc.source_tags.get("topics", [])) if doc.collection == "reuters" else {doc.collection}
    )


def _score(archive: Archive, keys: list[Document], prefix: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, options in (("v1", SIMILAR_V1), ("v2", SimilarOptions())):
        agree = filled = short = 0
        started = time.perf_counter()
        for doc in keys:
            hits = archive.engine.similar(doc, K, options)
            found = archive.store.get_many([h.docid for h in hits])
            agree += sum(1 for d in found.values() if _topics(d) & _topics(doc))
            filled += len(hits)
            short += sum(1 for d in found.values() if len(d.body.split()) < 15)
        seconds = time.perf_counter() - started
        out[f"{prefix}{name}_agreement@5"] = agree / (K * len(keys))
        out[f"{prefix}{name}_filled"] = filled / (K * len(keys))
        out[f"{prefix}{name}_short"] = short / filled if filled else 0.0
        out[f"{prefix}{name}_ms"] = 1000 * seconds / len(keys)
    return out


def evaluate(data: Path, sample: int, home: Path) -> dict[str, float]:
    """BBC: topic agreement. Reuters (the first REUTERS_FILES files): agreement on a TOPICS
    tag, for stories that have one and some text; and how many empty records come back."""
    from _common import parse_reuters, reuters_files

    docs = [
        Document(
            source_key=f"bbc:{key}",
            source_id=key,
            title=title,
            body=body,
            collection=key.split("/")[0],
        )
        for key, (title, body) in read_bbc(data).items()
    ]
    wire = parse_reuters(reuters_files(data / "reuters21578")[:REUTERS_FILES])
    for doc in wire:
        doc.collection = "reuters"
    out: dict[str, float] = {}
    rng = random.Random(SEED)
    with Archive(Settings(home=home / "bbc")) as archive:  # one archive per corpus
        archive.add_documents(docs)
        bbc = sorted(archive.store.iter_documents(), key=lambda d: d.docid)
        out.update(_score(archive, rng.sample(bbc, min(sample, len(bbc))), ""))
    with Archive(Settings(home=home / "reuters")) as archive:
        archive.add_documents(wire)
        tagged = sorted(
            (d for d in archive.store.iter_documents() if _topics(d) and len(d.body.split()) >= 15),
            key=lambda d: d.docid,
        )
        out.update(_score(archive, rng.sample(tagged, min(sample, len(tagged))), "reuters_"))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--shared", type=Path, default=_HERE.parent.parent / "shared" / "data")
    ap.add_argument("--sample", type=int, default=400, help="articles asked for similar ones")
    ap.add_argument("--check", action="store_true", help="fail below similar_floors.json")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sourcebook-similar-") as tmp:
        scores = evaluate(args.shared, args.sample, Path(tmp))
    for name, value in scores.items():
        print(f"similar {name} {value:.3f}")
    if args.check:
        floors = json.loads(FLOORS.read_text())
        low = [f"{k} {scores[k]:.3f} < {v}" for k, v in floors.items() if scores[k] + 1e-9 < v]
        for line in low:
            print(f"below the floor: {line}")
        return 1 if low else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
