"""Enrichment speed on Reuters-21578: docs/s for the fast enrichers, and for entities apart.

    python benchmarks/enrich_speed.py --reuters ../shared/data/reuters21578 [--files N]
        [--entities-docs N]

Times, on the parsed stories (parsing not included), each enricher alone and all four together
as :class:`sourcebook.enrich.base.Enricher` runs them: language (document and passages),
countries, places, near-duplicate grouping. The budget: ingest must stay at 500 docs/s or more
with enrichment on, so the fast enrichers together should cost about 1 ms a story or less
(``enrich ms_per_doc``). Entities (spaCy, optional) are timed on ``--entities-docs`` stories in
batches, as the background job runs them, for each entity model installed. CPU time is printed beside wall time: on a shared
machine the wall clock measures the neighbours too.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from _common import parse_reuters, reuters_files
from sourcebook.enrich.base import Enricher
from sourcebook.enrich.countries import CountryTagger
from sourcebook.enrich.dedup import DedupIndex
from sourcebook.enrich.entities import ENTITY_MODELS, EntityExtractor
from sourcebook.enrich.language import detect_language, detect_passage_languages
from sourcebook.enrich.places import places
from sourcebook.ids import make_docid
from sourcebook.model import Document
from sourcebook.passages import split_passages


def timed(label: str, docs: list[Document], fn: Callable[[Document], object]) -> float:
    wall, cpu = time.perf_counter(), time.process_time()
    for doc in docs:
        fn(doc)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label} docs_per_s {len(docs) / wall:.0f}")
    print(f"{label} ms_per_doc {1000 * wall / len(docs):.3f}")
    print(f"{label} cpu_ms_per_doc {1000 * cpu / len(docs):.3f}")
    return wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reuters", type=Path, required=True, help="folder with reut2-*.sgm")
    ap.add_argument("--files", type=int, default=0, help="use only the first N files")
    ap.add_argument(
        "--entities-docs", type=int, default=1000, help="stories for entities (0: skip)"
    )
    args = ap.parse_args(argv)
    files = reuters_files(args.reuters)
    if args.files:
        files = files[: args.files]
    docs = parse_reuters(files)
    for doc in docs:
        doc.docid = make_docid(doc.source_key)
        doc.passages = split_passages(doc.body, 1200)
    print(f"stories {len(docs)}")
    tagger = CountryTagger()
    tagger.countries(docs[0])  # load the gazetteer and the language model outside the timing
    detect_language("warm up the language model with a sentence")
    timed("language", docs, lambda d: detect_language(d.body or d.title))
    timed("passage_languages", docs, lambda d: detect_passage_languages(d.passages))
    timed("countries", docs, tagger.countries)
    timed("places", docs, lambda d: places(d, tagger))
    index = DedupIndex()
    timed("dedup", docs, lambda d: index.add(d.docid, f"{d.title}\n{d.body}"))
    enricher = Enricher(tagger, DedupIndex())
    timed("enrich", docs, enricher.enrich)
    if args.entities_docs:
        sample = docs[: args.entities_docs]
        texts = [f"{d.title}\n\n{d.body}" for d in sample]
        for model in ENTITY_MODELS:  # small (the default) and large, each where installed
            extractor = EntityExtractor(model)
            if not extractor.available(model):
                print(f"entities {model} skipped: not installed ({ENTITY_MODELS[model].install})")
                continue
            extractor.load()
            wall, cpu = time.perf_counter(), time.process_time()
            extractor.extract_batch(texts)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"entities {model} docs_per_s {len(sample) / wall:.0f}")
            print(f"entities {model} docs_per_cpu_s {len(sample) / cpu:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
