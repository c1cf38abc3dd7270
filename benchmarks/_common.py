"""Helpers shared by the benchmarks: timing, percentiles, and a raw-Tantivy peer index."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import tantivy

from sourcebook.ingest.registry import Source
from sourcebook.ingest.reuters import ReutersParser
from sourcebook.model import Document


def reuters_files(folder: Path) -> list[Path]:
    files = sorted(folder.glob("reut2-*.sgm"))
    if not files:
        raise SystemExit(f"no reut2-*.sgm files in {folder}")
    return files


def parse_reuters(files: Iterable[Path]) -> list[Document]:
    parser = ReutersParser()
    docs: list[Document] = []
    for path in files:
        docs.extend(d for d in parser.parse(Source.from_path(path)) if isinstance(d, Document))
    return docs


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def summarise(times_ms: list[float]) -> str:
    return (
        f"p50 {percentile(times_ms, 50):.2f} ms  p99 {percentile(times_ms, 99):.2f} ms  "
        f"mean {statistics.fmean(times_ms):.2f} ms"
    )


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


class RawTantivy:
    """The peer: plain Tantivy with the stock English stemmer on title and body, stored fields."""

    def __init__(self, path: Path) -> None:
        sb = tantivy.SchemaBuilder()
        sb.add_text_field("docid", stored=True, tokenizer_name="raw")
        sb.add_text_field("title", stored=True, tokenizer_name="en_stem")
        sb.add_text_field("body", stored=True, tokenizer_name="en_stem")
        sb.add_date_field("date", indexed=True, fast=True)
        self.schema = sb.build()
        path.mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(self.schema, path=str(path))

    def add(self, docs: Iterable[Document]) -> int:
        import datetime as dt

        writer = self.index.writer(heap_size=128_000_000, num_threads=1)
        n = 0
        for i, d in enumerate(docs):
            doc = tantivy.Document()
            doc.add_text("docid", str(i))
            doc.add_text("title", d.title)
            doc.add_text("body", d.body)
            if d.publication_date:
                p = d.publication_date
                doc.add_date("date", dt.datetime(p.year, p.month, p.day, tzinfo=dt.UTC))
            writer.add_document(doc)
            n += 1
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        return n

    def search(self, query: str, limit: int = 10) -> list[str]:
        searcher = self.index.searcher()
        parsed, _errors = self.index.parse_query_lenient(query, ["title", "body"])
        result = searcher.search(parsed, limit)
        return [searcher.doc(address).get_first("title") for _score, address in result.hits]
