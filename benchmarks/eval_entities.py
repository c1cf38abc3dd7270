"""PER / ORG / LOC F1 by exact span on CoNLL-2003 (eng.testa), for each spaCy entity model.

    python benchmarks/eval_entities.py --conll ../shared/data/conll2003/eng.testa
        [--heldout ../shared/data/conll2003/eng.train] [--model small|large|all] [--docs N]
        [--spacy-only] [--ablate] [--gate] [--floors benchmarks/entities_floors.json]

The layout rules of ``enrich/entity_context.py`` (datelines, sports results) were designed by
reading the errors on eng.testa; ``--heldout`` scores a second file nobody read for that
(eng.train, 946 documents) the same way, as ``heldout_*`` figures. ``--spacy-only`` scores
spaCy without those rules (the "before" of docs/enrichment.md). The run ends with a table of
both models. ``--ablate`` parses each file once and scores it again with each rule switched off
(``LayoutRules``), printing micro / ORG F1 per rule: what each rule is worth, on both files.

Each CoNLL document (between ``-DOCSTART-`` lines) is rebuilt as text: tokens joined by single
spaces, one sentence a line; gold spans are character offsets of the IOB1 chunks. spaCy runs on
the whole document (``EntityExtractor.spans``: the span of the name Sourcebook stores, without
"the" before an organisation or place, a possessive "'s", a title before a person or a score
after it; OntoNotes, which the models learnt, puts "the" and "'s" inside its spans and CoNLL
does not). Labels map PERSON -> PER, ORG -> ORG, GPE/LOC/FAC -> LOC; MISC is not scored
(spaCy's NORP/EVENT/PRODUCT/... do not line up with it). A predicted span counts when start,
end and label all match. One figure per line: ``entities small PER_f1 0.75``.

The same run is also scored without the sports reports (``nonsport_*``: 119 of the 216
documents, told by their headline, "SOCCER - ..."): they hold 59% of the gold organisations,
mostly clubs named by their city ("SEATTLE", "Leicestershire") in results tables, which
OntoNotes models call places. The headline figures stay those of all 216 documents.

Speed is documents per second on one core: spaCy's CNN pipelines run on one thread (thinc's
blis), texts go through ``nlp.pipe`` as ``sourcebook enrich --entities`` sends them, and the
figure is documents over the process's CPU seconds (``docs_per_cpu_s``), which other work on
the machine does not lower as it lowers the wall-clock rate (``docs_per_s``, printed too).

``--gate`` checks every model named in the floors file (F1 figures; speed is reported, not
gated): a figure below its floor fails (exit 1); a model that is not installed is skipped with a
message, and fails under ``CI=true``. ``heldout_*`` floors are checked when ``--heldout`` is
given.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from sourcebook.enrich.entities import ENTITY_MODELS, EntityExtractor, name_spans
from sourcebook.enrich.entity_context import ALL_RULES, LayoutRules

LABELS = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC"}
SCORED = ("PER", "ORG", "LOC")
FLOORS = Path(__file__).resolve().parent / "entities_floors.json"


@dataclass
class Speed:
    docs_per_s: float
    docs_per_cpu_s: float


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


def evaluate(docs: list[ConllDoc], extractor: EntityExtractor) -> tuple[dict[str, float], Speed]:
    """F1 per type and micro over the three, and documents per second (wall, CPU)."""
    scores, speed, _ = evaluate_parts(docs, extractor)
    return scores, speed


def evaluate_parts(
    docs: list[ConllDoc], extractor: EntityExtractor
) -> tuple[dict[str, float], Speed, dict[str, float]]:
    """Like :func:`evaluate`, plus the scores of the documents that are not sports reports
    (``nonsport_micro_f1``...), from the same run."""
    start, cpu = time.perf_counter(), time.process_time()
    predicted = extractor.spans(d.text for d in docs)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    speed = Speed(
        len(docs) / seconds if seconds else 0.0, len(docs) / cpu_seconds if cpu_seconds else 0.0
    )
    pairs = list(zip(docs, predicted, strict=True))
    others = [(d, p) for d, p in pairs if not is_sports_report(d)]
    nonsport = {f"nonsport_{k}": v for k, v in score(others).items()}
    nonsport["nonsport_documents"] = len(others)
    return score(pairs), speed, nonsport


#: CoNLL-2003 headlines of sports reports start with the sport in capitals ("SOCCER - ...").
SPORTS = re.compile(
    r"^(?:SOCCER|CRICKET|BASEBALL|TENNIS|GOLF|ATHLETICS|RUGBY(?: UNION| LEAGUE)?|BOXING|"
    r"CYCLING|MOTOR RACING|MOTORCYCLING|NFL|NHL|NBA|AMERICAN FOOTBALL|HORSE RACING|BADMINTON|"
    r"SQUASH|SWIMMING|ROWING|YACHTING|OLYMPICS|SPORT|ALPINE SKIING|SKIING|BASKETBALL|"
    r"(?:ICE )?HOCKEY|FORMULA ONE|TRIATHLON|AUSTRALIAN RULES|VOLLEYBALL|JUDO|WRESTLING|"
    r"SNOOKER|DARTS)\b",
    re.MULTILINE,
)


def is_sports_report(doc: ConllDoc) -> bool:
    """Whether a CoNLL document is a sports report (results tables, clubs named by city)."""
    return bool(SPORTS.search(doc.text[:200]))


def score(pairs: list[tuple[ConllDoc, list[tuple[int, int, str]]]]) -> dict[str, float]:
    """Precision, recall and F1 per type and micro of predicted spans against the gold."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for doc, spans in pairs:
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
    return scores


def check(results: dict[str, dict[str, float]], floors: dict[str, dict[str, float]]) -> list[str]:
    """Messages for every figure below its floor, per model (empty: the gate passes)."""
    failures = []
    for model, figures in floors.items():
        if model not in results:
            continue
        heldout = any(key.startswith("heldout_") for key in results[model])
        for key, floor in figures.items():
            if key.startswith("heldout_") and not heldout:
                continue  # no --heldout file given
            value = results[model].get(key)
            if value is None:
                failures.append(f"entities {model} {key}: not computed (floor {floor})")
            elif value + 1e-9 < floor:
                failures.append(f"entities {model} {key}: {value:.4f} is below the floor {floor}")
    return failures


def ablation(
    files: list[tuple[str, list[ConllDoc]]], extractor: EntityExtractor
) -> list[tuple[str, list[str]]]:
    """Micro / ORG F1 per file with every layout rule, with none, and with each one off."""
    parsed = [(docs, extractor.spacy_spans(d.text for d in docs)) for _, docs in files]
    variants: list[tuple[str, LayoutRules | None]] = [("none off (all rules)", ALL_RULES)]
    variants.append(("all off (spaCy alone)", None))
    variants += [(name, replace(ALL_RULES, **{name: False})) for name in LayoutRules.names()]
    rows = []
    for name, rules in variants:
        cells = []
        for docs, raw in parsed:
            predicted = [name_spans(d.text, r, rules) for d, r in zip(docs, raw, strict=True)]
            scores = score(list(zip(docs, predicted, strict=True)))
            cells.append(f"{scores['micro_f1']:.3f} / {scores['ORG_f1']:.3f}")
        rows.append((name, cells))
    return rows


def print_table(results: dict[str, dict[str, float]], name: str, heldout: str) -> None:
    """Both models side by side, one row per model and file (Markdown)."""
    print(
        "| model | file | PER F1 | ORG F1 | LOC F1 | micro F1 | non-sports ORG / micro "
        "| docs/s per core |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for model, figures in results.items():
        for prefix, file in (("", name), ("heldout_", heldout)):
            if not file or f"{prefix}micro_f1" not in figures:
                continue
            f = {k.removeprefix(prefix): v for k, v in figures.items() if k.startswith(prefix)}
            print(
                f"| {model} | {file} | {f['PER_f1']:.3f} | {f['ORG_f1']:.3f} | {f['LOC_f1']:.3f} "
                f"| {f['micro_f1']:.3f} | {f['nonsport_ORG_f1']:.3f} / "
                f"{f['nonsport_micro_f1']:.3f} | {f['docs_per_cpu_s']:.1f} |"
            )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--conll", type=Path, required=True, help="CoNLL-2003 file (eng.testa)")
    ap.add_argument(
        "--heldout",
        type=Path,
        help="a second CoNLL-2003 file scored the same way (eng.train): heldout_* figures",
    )
    ap.add_argument("--docs", type=int, default=0, help="use only the first N documents")
    ap.add_argument(
        "--spacy-only", action="store_true", help="spaCy without the layout rules (the before)"
    )
    ap.add_argument(
        "--ablate", action="store_true", help="micro / ORG F1 with each layout rule switched off"
    )
    ap.add_argument(
        "--model",
        choices=[*ENTITY_MODELS, "all"],
        default="all",
        help="entity model to evaluate (default: every one that is installed)",
    )
    ap.add_argument("--gate", action="store_true", help="fail below the floors (exit 1)")
    ap.add_argument("--floors", type=Path, default=FLOORS, help="floors file of --gate")
    args = ap.parse_args(argv)
    models = list(ENTITY_MODELS) if args.model == "all" else [args.model]
    floors: dict[str, dict[str, float]] = (
        json.loads(args.floors.read_text(encoding="utf-8")) if args.gate else {}
    )
    docs = read_conll(args.conll)
    heldout = read_conll(args.heldout) if args.heldout else []
    if args.docs:
        docs, heldout = docs[: args.docs], heldout[: args.docs]
    print(f"entities documents {len(docs)}")
    if heldout:
        print(f"entities heldout_documents {len(heldout)}")
    results: dict[str, dict[str, float]] = {}
    failures: list[str] = []
    for model in models:
        if not EntityExtractor.available(model):
            message = f"entities {model} skipped: not installed ({ENTITY_MODELS[model].install})"
            print(message)
            if args.gate and model in floors and os.environ.get("CI") == "true":
                failures.append(message)
            continue
        extractor = EntityExtractor(model, layout_rules=None if args.spacy_only else ALL_RULES)
        extractor.load()
        results[model] = {}
        for prefix, part in (("", docs), ("heldout_", heldout)):
            if not part:
                continue
            scores, speed, nonsport = evaluate_parts(part, extractor)
            for name, value in scores.items():
                print(f"entities {model} {prefix}{name} {value:.3f}")
            for name, value in nonsport.items():
                if name.endswith(("_f1", "_documents")):
                    print(f"entities {model} {prefix}{name} {value:.3f}".removesuffix(".000"))
            scores.update(nonsport)
            scores["docs_per_cpu_s"] = speed.docs_per_cpu_s
            print(f"entities {model} {prefix}docs_per_cpu_s {speed.docs_per_cpu_s:.1f}")
            print(f"entities {model} {prefix}docs_per_s {speed.docs_per_s:.1f}")
            results[model].update({prefix + k: v for k, v in scores.items()})
    print_table(results, args.conll.name, args.heldout.name if args.heldout else "")
    if args.ablate:
        files = [(args.conll.name, docs)]
        if heldout and args.heldout:
            files.append((args.heldout.name, heldout))
        for model in results:
            print(f"\n| rule off ({model}) | " + " | ".join(n for n, _ in files) + " |")
            print("|---|" + "---|" * len(files))
            for name, cells in ablation(files, EntityExtractor(model)):
                print(f"| {name} | " + " | ".join(cells) + " |")
    if args.gate:
        failures += check(results, floors)
        for failure in failures:
            print(f"FAIL {failure}")
        print("entities gate: " + ("failed" if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
