"""Ingest throughput on Reuters-21578 (15 SGML files), beside raw Tantivy in the same run.

    python benchmarks/ingest.py --reuters ../shared/data/reuters21578

Prints documents/s for: parsing alone; Sourcebook's full ingest without enrichment (parse,
passages, docids, SQLite, Tantivy); the same with enrichment on; a second, idempotent
run (every story unchanged); and raw Tantivy indexing the already-parsed stories.
Target (issue 2): >= 1,000 docs/s without enrichment.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import RawTantivy, parse_reuters, reuters_files, timed
from sourcebook.config import Settings
from sourcebook.services import Archive, IngestOptions

TARGET_DOCS_PER_S = 1000
TARGET_ENRICHED_DOCS_PER_S = 500


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reuters", type=Path, required=True, help="folder with reut2-*.sgm")
    ap.add_argument("--files", type=int, default=0, help="use only the first N files")
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
        with Archive(Settings(home=root / "lang")) as archive:
            seconds, report = timed(lambda: archive.ingest(files, IngestOptions()))
            enriched = report.documents / seconds
            print(
                "sourcebook ingest, with enrichment (language, passage languages, countries, "
                f"places, near-duplicates): {enriched:,.0f} docs/s ({seconds:.2f} s)"
            )
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
