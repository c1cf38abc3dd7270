"""Quality gate for the enrichers: run the four evaluations, fail below the recorded floors.

    python benchmarks/quality_gate.py [--shared ../shared/data] [--only countries,dedup]
        [--update]

Like trafilatura's ``tests/eval_gate.py``: each evaluation computes its scores on pinned data
(``../shared/data``, or ``$SOURCEBOOK_SHARED/data``), and every figure listed in
``benchmarks/floors.json`` must reach its floor. An evaluation whose data is absent is skipped
with a message, and so is the entities evaluation when spaCy or its model is not installed.
Exit status 1 when any figure is below its floor, else 0.

``--update`` raises each floor that the run beat (to the new figure, rounded down to three
decimals) and never lowers one: a floor records the best the code has done, so a change that
makes an enricher worse fails the gate until it is fixed or the floor is argued down by hand.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from collections.abc import Callable
from pathlib import Path

_HERE = Path(__file__).resolve().parent

FLOORS = _HERE / "floors.json"
REPO = _HERE.parent


def default_shared() -> Path:
    env = os.environ.get("SOURCEBOOK_SHARED")
    return Path(env) / "data" if env else REPO.parent / "shared" / "data"


def run_countries(data: Path) -> dict[str, float] | str:
    folder = data / "reuters21578"
    if not any(folder.glob("reut2-*.sgm")):
        return f"no Reuters-21578 files in {folder}"
    import eval_countries as ev
    from _common import parse_reuters, reuters_files
    from sourcebook.enrich.countries import CountryTagger

    docs = parse_reuters(reuters_files(folder))
    tagger = CountryTagger()
    ours = ev.score(docs, tagger.countries)
    macro = ev.Scores.macro(ours)
    return {
        "micro_precision": ours.precision,
        "micro_recall": ours.recall,
        "micro_f1": ours.f1,
        "macro_f1": macro[2],
    }


def run_entities(data: Path) -> dict[str, float] | str:
    path = data / "conll2003" / "eng.testa"
    if not path.is_file():
        return f"no CoNLL-2003 file at {path}"
    from sourcebook.enrich.entities import INSTALL_HINT, EntityExtractor

    extractor = EntityExtractor()
    if not extractor.available():
        return f"spaCy or its English model is not installed: {INSTALL_HINT}"
    import eval_entities as ev

    scores, _speed = ev.evaluate(ev.read_conll(path), extractor)
    return {k: v for k, v in scores.items() if k.endswith("_f1")}


def run_language(data: Path) -> dict[str, float] | str:
    wikinews = data / "wikinews-fr-ru"
    english = data / "us-state-dept-hrr" / "reports"
    if not (wikinews / "fr").is_dir() or not (wikinews / "ru").is_dir() or not english.is_dir():
        return f"no Wikinews fr/ru in {wikinews} or no English reports in {english}"
    import eval_language as ev

    scores = ev.evaluate(
        {
            "fr": ev.load(wikinews / "fr", 0),
            "ru": ev.load(wikinews / "ru", 0),
            "en": ev.load(english, 0),
        }
    )
    out = {k: v for k, v in scores.items() if k.endswith("accuracy") and "baseline" not in k}
    reuters = data / "reuters21578"
    if any(reuters.glob("reut2-*.sgm")):
        stories = ev.evaluate_documents(ev.reuters_texts(reuters), "en")
        out["reuters_precision"] = stories["document_precision"]
        out["reuters_coverage"] = stories["document_coverage"]
    return out


def run_dedup(data: Path) -> dict[str, float] | str:
    """Precision and recall of reprint grouping on the labelled pairs (benchmarks/dedup_pairs.tsv)."""
    for name in ("bbc-news", "reuters21578", "us-state-dept-hrr"):
        if not (data / name).is_dir():
            return f"no {name} in {data}"
    import eval_dedup as ev

    scores = ev.evaluate_pairs(data)
    return {f"pairs_{k}": v for k, v in scores.items() if k in ("precision", "recall")}


EVALUATIONS: dict[str, Callable[[Path], dict[str, float] | str]] = {
    "countries": run_countries,
    "entities": run_entities,
    "language": run_language,
    "dedup": run_dedup,
}


def check(results: dict[str, dict[str, float]], floors: dict[str, dict[str, float]]) -> list[str]:
    """Messages for every figure below its floor (empty: the gate passes)."""
    failures = []
    for name, figures in results.items():
        for key, floor in floors.get(name, {}).items():
            value = figures.get(key)
            if value is None:
                failures.append(f"{name} {key}: not computed (floor {floor})")
            elif value + 1e-9 < floor:
                failures.append(f"{name} {key}: {value:.4f} is below the floor {floor}")
    return failures


def raised(
    results: dict[str, dict[str, float]], floors: dict[str, dict[str, float]]
) -> dict[str, dict[str, float]]:
    """Floors raised to what this run reached; never lowered."""
    out = {name: dict(values) for name, values in floors.items()}
    for name, figures in results.items():
        for key, value in figures.items():
            new = math.floor(value * 1000) / 1000
            if new > out.setdefault(name, {}).get(key, -1.0):
                out[name][key] = new
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--shared", type=Path, default=default_shared(), help="the shared data folder")
    ap.add_argument("--only", default="", help="comma-separated evaluations to run")
    ap.add_argument("--update", action="store_true", help="raise the floors this run beat")
    args = ap.parse_args(argv)
    floors: dict[str, dict[str, float]] = json.loads(FLOORS.read_text())
    chosen = [n for n in args.only.split(",") if n] or list(EVALUATIONS)
    results: dict[str, dict[str, float]] = {}
    for name in chosen:
        outcome = EVALUATIONS[name](args.shared)
        if isinstance(outcome, str):
            print(f"{name} skipped: {outcome}")
            continue
        results[name] = outcome
        for key, value in outcome.items():
            floor = floors.get(name, {}).get(key)
            shown = f" (floor {floor})" if floor is not None else ""
            print(f"{name} {key} {value:.4f}{shown}")
    failures = check(results, floors)
    for failure in failures:
        print(f"FAIL {failure}")
    if args.update:
        FLOORS.write_text(json.dumps(raised(results, floors), indent=2, sort_keys=True) + "\n")
    if failures:
        return 1
    print(f"quality gate passed ({len(results)} evaluation(s) run)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
