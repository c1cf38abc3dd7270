"""Ingest throughput on Reuters-21578 (15 SGML files), beside raw Tantivy in the same run.

    python benchmarks/ingest.py --reuters ../shared/data/reuters21578

Prints documents/s for: parsing alone; Sourcebook's full ingest without enrichment (parse,
passages, docids, SQLite, Tantivy); the same with enrichment on; a second, idempotent
run (every story unchanged); and raw Tantivy indexing the already-parsed stories.
Target (issue 2): >= 1,000 docs/s without enrichment.

With --database URL, the ingest without enrichment also runs into PostgreSQL (a scratch schema,
dropped afterwards) on the same files, right after the SQLite one, with the ratio of the two
rates. Target (issue 14): PostgreSQL >= 70% of SQLite.

With --stages, the enriched run also prints the wall seconds spent in each stage (language,
countries, fingerprints, store, index...), timed around the functions that do them.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from _common import RawTantivy, parse_reuters, reuters_files, scratch_schema, timed
from sourcebook.config import Settings
from sourcebook.services import Archive, IngestOptions

TARGET_DOCS_PER_S = 1000
TARGET_ENRICHED_DOCS_PER_S = 500
TARGET_POSTGRES_RATIO = 0.7


@contextmanager
def stage_timer() -> Iterator[Counter[str]]:
    """Seconds per ingest stage, timed around the functions doing each (restored on exit)."""
    from sourcebook import ingest_run
    from sourcebook.enrich import base, dedup
    from sourcebook.enrich.countries import CountryTagger
    from sourcebook.index.tantivy_index import SearchIndex
    from sourcebook.store.sqlite import SQLiteStore

    spent: Counter[str] = Counter()
    stages: list[tuple[Any, str, str]] = [
        (Archive, "_enrich", "enrichment (all)"),
        (base, "detect_language", "  document language"),
        (base, "detect_passage_languages", "  passage languages"),
        (CountryTagger, "mentions_in", "  countries and places"),
        (ingest_run, "write_batch", "store + fingerprints + index (all)"),
        (dedup.DedupIndex, "fingerprint", "  near-duplicate fingerprint"),
        (dedup.DedupIndex, "add_signature", "  near-duplicate LSH"),
        (SQLiteStore, "write", "  store write"),
        (SearchIndex, "upsert", "  index documents"),
        (SearchIndex, "commit", "index commits"),
    ]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in stages]
    spent.update({label: 0.0 for _, _, label in stages})  # printed in this order

    def timed_call(function: Callable[..., Any], label: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - start

        return call

    for (owner, name, label), (_, _, function) in zip(stages, saved, strict=True):
        setattr(owner, name, timed_call(function, label))
    try:
        yield spent
    finally:
        for owner, name, function in saved:
            setattr(owner, name, function)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reuters", type=Path, required=True, help="folder with reut2-*.sgm")
    ap.add_argument("--files", type=int, default=0, help="use only the first N files")
    ap.add_argument("--stages", action="store_true", help="time the enriched run's stages")
    ap.add_argument("--database", help="PostgreSQL URL: also ingest into a scratch schema")
    args = ap.parse_args()
    files = reuters_files(args.reuters)
    if args.files:
        files = files[: args.files]

    seconds, docs = timed(lambda: parse_reuters(files))
    n = len(docs)
    print(f"stories: {n:,} in {len(files)} files")
    print(f"parse only: {n / seconds:,.0f} docs/s ({seconds:.2f} s)")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with Archive(Settings(home=root / "plain")) as archive:
            seconds, report = timed(
                lambda: archive.ingest(files, IngestOptions(detect_language=False, enrich=False))
            )
            ours = report.documents / seconds
            print(
                f"sourcebook ingest, no enrichment: {ours:,.0f} docs/s ({seconds:.2f} s, "
                f"{report.total('added'):,} added, {report.total('failed')} failed)"
            )
            seconds, again = timed(
                lambda: archive.ingest(files, IngestOptions(detect_language=False, enrich=False))
            )
            print(
                f"sourcebook re-ingest (idempotent): {again.documents / seconds:,.0f} docs/s "
                f"({again.total('unchanged'):,} unchanged, {again.total('added')} added)"
            )
            passages = archive.stats()["passages"]
        if args.database:
            with scratch_schema(args.database) as url:
                settings = Settings(home=root / "pg", database_url=url)
                with Archive(settings) as archive:
                    seconds, report = timed(
                        lambda: archive.ingest(
                            files, IngestOptions(detect_language=False, enrich=False)
                        )
                    )
                pg = report.documents / seconds
                print(
                    f"sourcebook ingest into PostgreSQL, no enrichment: {pg:,.0f} docs/s "
                    f"({seconds:.2f} s); ratio PostgreSQL/SQLite {pg / ours:.2f} "
                    f"({'meets' if pg / ours >= TARGET_POSTGRES_RATIO else 'MISSES'} "
                    f">= {TARGET_POSTGRES_RATIO:g})"
                )
        timer = stage_timer() if args.stages else nullcontext(Counter[str]())
        with Archive(Settings(home=root / "lang")) as archive, timer as spent:
            seconds, report = timed(lambda: archive.ingest(files, IngestOptions()))
            enriched = report.documents / seconds
            print(
                "sourcebook ingest, with enrichment (language, passage languages, countries, "
                f"places, near-duplicates): {enriched:,.0f} docs/s ({seconds:.2f} s)"
            )
            if args.stages:
                for label, spent_s in spent.items():
                    print(f"  {label}: {spent_s:.2f} s")
        peer = RawTantivy(root / "raw")
        seconds, count = timed(lambda: peer.add(docs))
        raw = count / seconds
        print(f"raw tantivy index (pre-parsed, no store): {raw:,.0f} docs/s ({seconds:.2f} s)")
    print(f"passages: {passages:,}")
    print(f"ratio sourcebook/raw tantivy: {ours / raw:.2f}")
    verdict = "meets" if ours >= TARGET_DOCS_PER_S else "MISSES"
    print(f"target >= {TARGET_DOCS_PER_S:,} docs/s without enrichment: {verdict}")
    verdict = "meets" if enriched >= TARGET_ENRICHED_DOCS_PER_S else "MISSES"
    print(f"target >= {TARGET_ENRICHED_DOCS_PER_S:,} docs/s with enrichment: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
