"""How long a research bundle and a reference list take to render.

    python benchmarks/bundle_export.py --quotes 200

Builds ``--quotes`` quotes over a quarter as many synthetic documents (English, Russian and
Arabic quotes of about 400 characters, notes, one in five changed) and renders the bundle in
Markdown, DOCX and PDF with both citation styles, and the documents as RIS, BibTeX, CSL-JSON
and CSV. Prints seconds per run (best of ``--runs``), the output size, and each figure as a
ratio to the Markdown bundle in the same run (the peer: text only, no layout).
"""

from __future__ import annotations

import argparse
import functools
import time
from collections.abc import Callable
from datetime import date

from sourcebook.exports import BundleQuote, export_documents, render_bundle
from sourcebook.model import Document

TEXTS = (
    "Russian and Tajik officials agreed to bolster security along the Tajik-Afghan border. ",
    "Задержания продолжаются в Чечне, сообщают правозащитники из Мемориала. ",
    "يعيش اللاجئون في ظروف صعبة في المخيمات على الحدود. ",
)


def documents(n: int) -> list[Document]:
    return [
        Document(
            docid=f"doc{i:07d}",
            title=f"Country report {i}: security situation",
            publisher=("UNHCR", "Memorial", "Human Rights Watch")[i % 3],
            authors=["Petrova, Anna"] if i % 4 == 0 else [],
            publication_date=date(2015 + i % 10, 1 + i % 12, 1 + i % 28),
            source_url=f"https://www.refworld.org/docid/{i:09x}.html",
            document_type="Report",
        )
        for i in range(n)
    ]


def quotes(n: int) -> list[BundleQuote]:
    docs = documents(max(1, n // 4))
    out = []
    for i in range(n):
        text = TEXTS[i % 3] * 5
        out.append(
            BundleQuote(docs[i % len(docs)], text, 1 + i % 40, f"Note {i}", i % 5 == 0, TEXTS[0])
        )
    return out


def best(runs: int, fn: Callable[[], bytes]) -> tuple[float, int]:
    times = []
    size = 0
    for _ in range(runs):
        start = time.perf_counter()
        size = len(fn())
        times.append(time.perf_counter() - start)
    return min(times), size


def _bundle(qs: list[BundleQuote], style: str, fmt: str) -> bytes:
    return render_bundle("Bench", qs, style, fmt).data


def _list(docs: list[Document], fmt: str) -> bytes:
    return export_documents(docs, fmt).data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    qs = quotes(args.quotes)
    docs = list({q.document.docid: q.document for q in qs}.values())
    rows: list[tuple[str, float, int]] = []
    for style in ("refworld", "harvard"):
        for fmt in ("md", "docx", "pdf"):
            seconds, size = best(args.runs, functools.partial(_bundle, qs, style, fmt))
            rows.append((f"bundle {fmt} {style}", seconds, size))
    for fmt in ("ris", "bibtex", "csl-json", "csv"):
        seconds, size = best(args.runs, functools.partial(_list, docs, fmt))
        rows.append((f"list {fmt} ({len(docs)} docs)", seconds, size))
    peer = rows[0][1]
    print(f"{args.quotes} quotes from {len(docs)} documents, best of {args.runs}")
    print(f"{'what':32} {'seconds':>9} {'bytes':>10} {'x md':>7}")
    for name, seconds, size in rows:
        print(f"{name:32} {seconds:9.3f} {size:10,} {seconds / peer:7.1f}")


if __name__ == "__main__":
    main()
