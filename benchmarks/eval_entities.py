"""PER / ORG / LOC F1 by exact span on CoNLL-2003 (eng.testa), with spaCy en_core_web_sm.

    python benchmarks/eval_entities.py --conll ../shared/data/conll2003/eng.testa [--docs N]

Each CoNLL document (between ``-DOCSTART-`` lines) is rebuilt as text: tokens joined by single
spaces, one sentence a line; gold spans are character offsets of the IOB1 chunks. spaCy runs on
the whole document (``EntityExtractor.spans``). Labels map PERSON -> PER, ORG -> ORG,
GPE/LOC/FAC -> LOC; MISC is not scored (spaCy's NORP/EVENT/PRODUCT/... do not line up with it).
A predicted span counts when start, end and label all match. One figure per line:
``entities PER_f1 0.84``; plus ``entities docs_per_s``.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sourcebook.enrich.entities import EntityExtractor

LABELS = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC"}
SCORED = ("PER", "ORG", "LOC")


@dataclass
class ConllDoc:
    text: str
    spans: set[tuple[int, int, str]]


def read_conll(path: Path) -> list[ConllDoc]:
    """Documents of a CoNLL-2003 file: text and gold (start, end, type) spans (IOB1)."""
    docs: list[ConllDoc] = []
    sentences: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []

    def flush_doc() -> None:
        if current:
            sentences.append(list(current))
            current.clear()
        if sentences:
            docs.append(_build(sentences))
            sentences.clear()

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("-DOCSTART-"):
            flush_doc()
            continue
        if not line.strip():
            if current:
                sentences.append(list(current))
                current.clear()
            continue
        parts = line.split()
        current.append((parts[0], parts[-1]))
    flush_doc()
    return docs


def _build(sentences: list[list[tuple[str, str]]]) -> ConllDoc:
    pieces: list[str] = []
    spans: set[tuple[int, int, str]] = set()
    offset = 0
    for sentence in sentences:
        chunk_start = -1
        chunk_type = ""
        chunk_end = 0
        for i, (token, tag) in enumerate(sentence):
            if i:
                pieces.append(" ")
                offset += 1
            start, end = offset, offset + len(token)
            pieces.append(token)
            offset = end
            kind = tag[2:] if tag != "O" else ""
            begins = tag.startswith("B-") or (kind and kind != chunk_type)
            if chunk_type and (not kind or begins):
                spans.add((chunk_start, chunk_end, chunk_type))
                chunk_type = ""
            if kind and not chunk_type:
                chunk_start, chunk_type = start, kind
            if kind:
                chunk_end = end
        if chunk_type:
            spans.add((chunk_start, chunk_end, chunk_type))
        pieces.append("\n")
        offset += 1
    return ConllDoc("".join(pieces), {s for s in spans if s[2] in SCORED})


def evaluate(docs: list[ConllDoc], extractor: EntityExtractor) -> tuple[dict[str, float], float]:
    """F1 per type and micro over the three, and documents per second."""
    start = time.perf_counter()
    predicted = extractor.spans(d.text for d in docs)
    seconds = time.perf_counter() - start
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for doc, spans in zip(docs, predicted, strict=True):
        mapped = {(s, e, LABELS[label]) for s, e, label in spans if label in LABELS}
        for span in mapped:
            (tp if span in doc.spans else fp)[span[2]] += 1
        for span in doc.spans - mapped:
            fn[span[2]] += 1
    scores: dict[str, float] = {}
    for kind in (*SCORED, "micro"):
        t = sum(tp.values()) if kind == "micro" else tp[kind]
        p_den = t + (sum(fp.values()) if kind == "micro" else fp[kind])
        r_den = t + (sum(fn.values()) if kind == "micro" else fn[kind])
        precision = t / p_den if p_den else 0.0
        recall = t / r_den if r_den else 0.0
        scores[f"{kind}_precision"] = precision
        scores[f"{kind}_recall"] = recall
        scores[f"{kind}_f1"] = 2 * precision * recall / (precision + recall) if t else 0.0
    return scores, len(docs) / seconds if seconds else 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--conll", type=Path, required=True, help="CoNLL-2003 file (eng.testa)")
    ap.add_argument("--docs", type=int, default=0, help="use only the first N documents")
    args = ap.parse_args(argv)
    extractor = EntityExtractor()
    if not extractor.available():
        print("entities skipped: spaCy or its English model is not installed")
        return 0
    docs = read_conll(args.conll)
    if args.docs:
        docs = docs[: args.docs]
    extractor.load()
    scores, speed = evaluate(docs, extractor)
    print(f"entities documents {len(docs)}")
    for name, value in scores.items():
        print(f"entities {name} {value:.3f}")
    print(f"entities docs_per_s {speed:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
