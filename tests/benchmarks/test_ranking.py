"""The ranking benchmark's runner: each peer (bm25s, FTS5, Tantivy defaults) and our bm25 mode on a
small BEIR-layout collection written here, its latency figures, tables and gate."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.append(str(BENCHMARKS))  # last: benchmarks/http.py must not shadow http

import ranking  # noqa: E402
from sourcebook.evaluation import Latency, load_dataset, percentile, run_timed  # noqa: E402

DOCS = {
    "d1": ("Border security", "Troops guard the border between the two countries."),
    "d2": ("Harvest", "The wheat harvest failed after the drought."),
    "d3": ("Elections", "Voters chose a new parliament amid reports of fraud."),
    "d4": ("Floods", "Heavy rain flooded the capital and washed away roads."),
    "d5": ("Refugees", "Refugees crossed the border fleeing the floods."),
}
QUERIES = {
    "q1": ("border troops", {"d1": 1, "d5": 1}),
    "q2": ("failed wheat harvest", {"d2": 1}),
    "q3": ("flooding rain in the capital", {"d4": 2, "d5": 1}),
}


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("beir") / "tiny"
    (folder / "qrels").mkdir(parents=True)
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for key, (title, text) in DOCS.items():
            fh.write(json.dumps({"_id": key, "title": title, "text": text}) + "\n")
    with (folder / "queries.jsonl").open("w", encoding="utf-8") as fh:
        for key, (text, _) in QUERIES.items():
            fh.write(json.dumps({"_id": key, "text": text}) + "\n")
    lines = ["query-id\tcorpus-id\tscore"]
    lines += [f"{q}\t{d}\t{g}" for q, (_, judged) in QUERIES.items() for d, g in judged.items()]
    (folder / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("name", list(ranking.PEERS))
def test_each_peer_ranks_the_obvious_document_first(collection: Path, name: str) -> None:
    if name == "bm25s":
        pytest.importorskip("bm25s", reason="the bm25s peer needs bm25s")
        pytest.importorskip("Stemmer", reason="the bm25s peer needs PyStemmer")
    search = ranking.PEERS[name](collection)
    assert search("failed wheat harvest")[0] == "d2"
    assert search("border troops")[0] == "d1"
    assert search("zzzz") == []
    dataset = load_dataset(collection)
    figures = ranking.run_peer(name, collection, dataset.queries, dataset.qrels)
    assert figures["ndcg@10"] > 0.8 and figures["recall@100"] == 1.0
    assert 0 < figures["p50_ms"] <= figures["p99_ms"]


def test_tantivy_defaults_do_not_stem(collection: Path) -> None:
    search = ranking.tantivy_peer(collection)
    assert search("flooded")[0] == "d4"
    assert "d5" not in search("flooded")  # "floods" is another term without a stemmer


def test_the_runner_puts_our_modes_beside_the_peers(collection: Path) -> None:
    peers = ["fts5", "tantivy"]
    row = ranking.evaluate_dataset(collection, ["bm25"], peers, ranking.RunOptions())
    assert row["dataset"] == "tiny" and row["queries"] == 3 and row["documents"] == 5
    ours = row["ours"]["bm25"]
    assert ours["ndcg@10"] > 0.8 and 0 < ours["p50_ms"] <= ours["p99_ms"]
    assert set(row["peers"]) == set(peers)
    name, best = ranking.best_peer(row)
    assert name in peers and best == max(row["peers"][p]["ndcg@10"] for p in peers)
    table = ranking.tables([row], ["bm25"], peers)
    assert "| dataset | ours bm25 | fts5 | tantivy | best peer | ours bm25 - best peer |" in table
    assert "p50 / p99 ms" in table
    assert ranking.gate([row], {"tiny": 0.5}) == []
    failed = ranking.gate([row], {"tiny": 1.01, "tiny:hybrid": 0.1})
    assert len(failed) == 1 and failed[0].startswith("tiny: nDCG@10")
    beaten = json.loads(json.dumps(row))
    beaten["peers"]["fts5"]["ndcg@10"] = ours["ndcg@10"] + 2 * ranking.PEER_TOLERANCE
    assert ranking.gate([beaten], {}) == [
        f"tiny: bm25 nDCG@10 {ours['ndcg@10']:.4f} < fts5 {beaten['peers']['fts5']['ndcg@10']:.4f}"
    ]


def test_every_mode_has_a_runner_and_floors_name_known_modes() -> None:
    assert next(iter(ranking.OUR_MODES)) == "bm25"
    assert set(ranking.OUR_MODES) >= ranking.EMBEDDING_MODES
    floors = json.loads((BENCHMARKS / "ranking_floors.json").read_text())
    for key in floors:
        dataset, _, mode = key.partition(":")
        assert dataset and (not mode or mode in ranking.OUR_MODES), key


def test_latency_percentiles() -> None:
    assert percentile([], 50) == 0.0
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0 and percentile(values, 99) == 99.0
    assert percentile([0.004], 99) == 0.004
    latency = Latency.of([0.002, 0.001, 0.003, 0.010])
    assert latency.p50_ms == pytest.approx(2.0) and latency.p99_ms == pytest.approx(10.0)
    assert latency.queries_per_second == pytest.approx(4 / 0.016)
    run, timed = run_timed(lambda text: [text], {"a": "x", "b": "y"})
    assert run == {"a": ["x"], "b": ["y"]} and timed.p50_ms >= 0
