"""The enrichment evaluations on small subsets of ../shared/data (the full runs are benchmarks),
and the quality gate's floor logic."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.append(str(BENCHMARKS))  # last: benchmarks/http.py must not shadow http

import eval_countries  # noqa: E402
import eval_dedup  # noqa: E402
import eval_entities  # noqa: E402
import eval_language  # noqa: E402
import quality_gate  # noqa: E402
from _common import parse_reuters  # noqa: E402
from sourcebook.enrich.countries import CountryTagger  # noqa: E402
from sourcebook.enrich.dedup import DedupOptions  # noqa: E402
from sourcebook.enrich.entities import EntityExtractor  # noqa: E402


def test_reuters_codes_map_to_iso() -> None:
    for code, iso in [
        ("usa", "US"),
        ("west-germany", "DE"),
        ("ussr", "RU"),
        ("uk", "GB"),
        ("japan", "JP"),
        ("el-salvador", "SV"),
        ("hong-kong", "HK"),
    ]:
        assert eval_countries.reuters_to_iso(code) == iso


@pytest.mark.shared
def test_every_reuters_place_code_maps(shared_data: Path) -> None:
    codes = (shared_data / "reuters21578" / "all-places-strings.lc.txt").read_text().split()
    assert [c for c in codes if eval_countries.reuters_to_iso(c) is None] == []


@pytest.mark.shared
def test_countries_on_one_reuters_file(shared_data: Path) -> None:
    docs = parse_reuters([shared_data / "reuters21578" / "reut2-000.sgm"])
    ours = eval_countries.score(docs, CountryTagger().countries)
    assert ours.stories > 800
    assert ours.f1 >= 0.90
    theirs = eval_countries.score(docs[:300], eval_countries.geotext_predictor())
    assert ours.f1 > theirs.f1 + 0.2


@pytest.mark.shared
def test_language_on_paragraphs(shared_data: Path) -> None:
    wikinews = shared_data / "wikinews-fr-ru"
    sets = {
        "fr": eval_language.load(wikinews / "fr", 60),
        "ru": eval_language.load(wikinews / "ru", 60),
        "en": eval_language.load(shared_data / "us-state-dept-hrr" / "reports", 60),
    }
    assert all(len(texts) == 60 for texts in sets.values())
    assert eval_language.evaluate(sets)["accuracy"] >= 0.98


@pytest.mark.shared
def test_dedup_on_labelled_bbc_and_state_department_pairs(shared_data: Path) -> None:
    scores = eval_dedup.evaluate_pairs(shared_data, only=frozenset({"bbc", "hrr"}))
    assert scores["precision"] >= 0.98 and scores["recall"] >= 0.9
    # the 2023 and 2024 Eritrea reports are two editions, not one text
    assert scores["hrr_precision"] == 1.0


@pytest.mark.shared
def test_dedup_never_groups_different_bbc_articles(shared_data: Path) -> None:
    articles = eval_dedup.read_bbc(shared_data / "bbc-news")[::8]
    docs, gold = eval_dedup.build_corpus(articles)
    scores = eval_dedup.evaluate(docs, gold, DedupOptions())
    # heavily edited copies (words replaced at random) are not reprints: precision only
    assert scores["pair_precision"] >= 0.98


@pytest.mark.shared
@pytest.mark.skipif(not EntityExtractor.available(), reason="spaCy is not installed")
def test_entities_on_conll_subset(shared_data: Path) -> None:
    docs = eval_entities.read_conll(shared_data / "conll2003" / "eng.testa")
    assert len(docs) == 216
    scores, _ = eval_entities.evaluate(docs[:15], EntityExtractor())
    assert scores["PER_f1"] >= 0.6 and scores["LOC_f1"] >= 0.6


def test_conll_reader_iob1(tmp_path: Path) -> None:
    path = tmp_path / "mini.conll"
    path.write_text(
        "-DOCSTART- -X- O O\n\nEU NNP I-NP I-ORG\nrejects VBZ I-VP O\nGerman JJ I-NP I-MISC\n"
        "call NN I-NP O\nto TO I-VP O\nPeter NNP I-NP I-PER\nBlackburn NNP I-NP I-PER\n\n"
        "-DOCSTART- -X- O O\n\nLondon NNP I-NP I-LOC\nParis NNP I-NP B-LOC\n"
    )
    docs = eval_entities.read_conll(path)
    assert len(docs) == 2
    assert docs[0].text.startswith("EU rejects German call to Peter Blackburn")
    assert docs[0].spans == {(0, 2, "ORG"), (26, 41, "PER")}
    assert docs[1].spans == {(0, 6, "LOC"), (7, 12, "LOC")}


def test_entities_gate_fails_below_a_floor_per_model() -> None:
    floors = {"small": {"micro_f1": 0.6}, "large": {"micro_f1": 0.7, "ORG_f1": 0.4}}
    assert eval_entities.check({"small": {"micro_f1": 0.69}}, floors) == []  # large not run
    failures = eval_entities.check({"large": {"micro_f1": 0.65}}, floors)
    assert failures == [
        "entities large micro_f1: 0.6500 is below the floor 0.7",
        "entities large ORG_f1: not computed (floor 0.4)",
    ]


def test_entities_heldout_floors_are_checked_only_with_a_heldout_file() -> None:
    floors = {"small": {"micro_f1": 0.6, "heldout_micro_f1": 0.7}}
    assert eval_entities.check({"small": {"micro_f1": 0.69}}, floors) == []
    failures = eval_entities.check({"small": {"micro_f1": 0.69, "heldout_micro_f1": 0.5}}, floors)
    assert failures == ["entities small heldout_micro_f1: 0.5000 is below the floor 0.7"]


def _mini_conll(tmp_path: Path) -> Path:
    path = tmp_path / "mini.conll"
    lines = ["-DOCSTART- -X- O O", ""]
    for token, tag in [("Farida", "I-PER"), ("Karimova", "I-PER"), ("joined", "O")]:
        lines.append(f"{token} NNP I-NP {tag}")
    for token in ("Amnesty", "International"):
        lines.append(f"{token} NNP I-NP I-ORG")
    lines += ["in O O O", "London NNP I-NP I-LOC", ". . O O", ""]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.skipif(not EntityExtractor.available(), reason="spaCy is not installed")
def test_entities_gate_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conll = _mini_conll(tmp_path)
    floors = tmp_path / "floors.json"
    args = ["--conll", str(conll), "--model", "small", "--gate", "--floors", str(floors)]
    floors.write_text('{"small": {"PER_f1": 0.0}}')
    assert eval_entities.main(args) == 0
    out = capsys.readouterr().out
    assert "entities small docs_per_cpu_s" in out and "entities gate: passed" in out
    floors.write_text('{"small": {"PER_f1": 1.01}}')
    assert eval_entities.main(args) == 1
    assert "FAIL entities small PER_f1" in capsys.readouterr().out
    floors.write_text('{"small": {"PER_f1": 0.0, "heldout_PER_f1": 1.01}}')
    assert eval_entities.main([*args, "--heldout", str(conll), "--spacy-only", "--ablate"]) == 1
    out = capsys.readouterr().out
    assert "entities small heldout_micro_f1" in out
    assert "| small | mini.conll |" in out  # the table: one row per model and file
    assert "FAIL entities small heldout_PER_f1" in out
    assert "| rule off (small) | mini.conll | mini.conll |" in out
    assert "\n| teams | " in out and "\n| all off (spaCy alone) | " in out


def test_entities_gate_missing_model_fails_only_in_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    from sourcebook.enrich.entities import ENTITY_MODELS

    real, hidden = importlib.util.find_spec, ENTITY_MODELS["large"].modules
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name in hidden else real(name, *a)
    )
    floors = tmp_path / "floors.json"
    floors.write_text('{"large": {"micro_f1": 0.7}}')
    args = ["--conll", str(_mini_conll(tmp_path)), "--model", "large", "--gate"]
    args += ["--floors", str(floors)]
    monkeypatch.setenv("CI", "false")
    assert eval_entities.main(args) == 0
    assert "entities large skipped: not installed" in capsys.readouterr().out
    monkeypatch.setenv("CI", "true")
    assert eval_entities.main(args) == 1
    assert "FAIL entities large skipped" in capsys.readouterr().out


def test_entities_floors_name_known_models() -> None:
    import json

    from sourcebook.enrich.entities import ENTITY_MODELS

    floors = json.loads(eval_entities.FLOORS.read_text())
    assert set(floors) <= set(ENTITY_MODELS) and floors["large"]["micro_f1"] > 0


@pytest.mark.shared
def test_dedup_edit_model_is_seeded(shared_data: Path) -> None:
    articles = eval_dedup.read_bbc(shared_data / "bbc-news")[:50]
    assert eval_dedup.build_corpus(articles) == eval_dedup.build_corpus(articles)


def test_gate_fails_below_a_floor_and_only_raises_floors() -> None:
    floors = {"countries": {"micro_f1": 0.9}, "dedup": {"pair_f1": 0.95}}
    assert quality_gate.check({"countries": {"micro_f1": 0.93}}, floors) == []
    failures = quality_gate.check({"countries": {"micro_f1": 0.85}}, floors)
    assert failures and "below the floor" in failures[0]
    assert quality_gate.check({"dedup": {}}, floors) == ["dedup pair_f1: not computed (floor 0.95)"]
    raised = quality_gate.raised(
        {"countries": {"micro_f1": 0.9319}, "dedup": {"pair_f1": 0.9}}, floors
    )
    assert raised == {"countries": {"micro_f1": 0.931}, "dedup": {"pair_f1": 0.95}}


def test_gate_skips_absent_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert quality_gate.main(["--shared", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in ("countries", "entities", "language", "dedup"):
        assert f"{name} skipped" in out


def test_floors_file_covers_every_evaluation() -> None:
    import json

    floors = json.loads(quality_gate.FLOORS.read_text())
    assert set(floors) == set(quality_gate.EVALUATIONS)
