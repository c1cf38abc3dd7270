"""Reciprocal rank fusion and normalised-score fusion, by hand-computed examples."""

from __future__ import annotations

import pytest

from sourcebook.search.fusion import (
    DEFAULT_FUSION,
    Fusion,
    normalise,
    reciprocal_rank_fusion,
    score_fusion,
)

BM25 = [("a", 12.0), ("b", 9.0), ("c", 3.0)]
VECTOR = [("c", 0.9), ("d", 0.8), ("a", 0.5)]


def test_rrf_sums_reciprocal_ranks() -> None:
    fused = dict(reciprocal_rank_fusion([BM25, VECTOR], k=60))
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 63)
    assert fused["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert fused["b"] == pytest.approx(1 / 62)
    assert fused["d"] == pytest.approx(1 / 62)


def test_rrf_order_weights_and_ties() -> None:
    # a and c tie: the id the lists named first comes first
    assert [i for i, _ in reciprocal_rank_fusion([BM25, VECTOR])] == ["a", "c", "b", "d"]
    weighted = reciprocal_rank_fusion([BM25, VECTOR], weights=[1.0, 2.0], k=1)
    assert weighted[0] == ("c", pytest.approx(1 / 4 + 2 / 2))
    assert reciprocal_rank_fusion([["x", "y"], ["y"]], k=0) == [("y", 1.5), ("x", 1.0)]


def test_minmax_and_zscore() -> None:
    assert normalise(BM25, "minmax") == {"a": 1.0, "b": pytest.approx(6 / 9), "c": 0.0}
    assert normalise([("only", 5.0)], "minmax") == {"only": 1.0}
    z = normalise(BM25, "zscore")
    assert sum(z.values()) == pytest.approx(0.0, abs=1e-9)
    assert z["a"] > z["b"] > z["c"]
    assert normalise([], "zscore") == {}
    with pytest.raises(ValueError):
        normalise(BM25, "rank")


def test_score_fusion_missing_items_get_the_floor() -> None:
    fused = dict(score_fusion([BM25, VECTOR], weights=[0.5, 0.5], method="minmax"))
    # vector min-max: c 1.0, d 0.75, a 0.0
    assert fused["a"] == pytest.approx(0.5 * 1.0 + 0.5 * 0.0)
    assert fused["b"] == pytest.approx(0.5 * 6 / 9)  # missing from the vector list: 0 there
    assert fused["c"] == pytest.approx(0.5 * 0.0 + 0.5 * 1.0)
    assert fused["d"] == pytest.approx(0.5 * 0.75)
    z = dict(score_fusion([BM25, VECTOR], method="zscore"))
    floor = min(normalise(VECTOR, "zscore").values())
    assert z["b"] == pytest.approx(normalise(BM25, "zscore")["b"] + floor)


def test_fusion_config() -> None:
    assert (
        Fusion("rrf", (1.0, 1.0), k=60).fuse([BM25, VECTOR], limit=2)
        == reciprocal_rank_fusion([BM25, VECTOR])[:2]
    )
    shallow = Fusion("minmax", (1.0, 1.0), depth=1).fuse([BM25, VECTOR])
    assert [i for i, _ in shallow] == ["a", "c"]
    assert DEFAULT_FUSION.method in ("rrf", "minmax", "zscore")
    with pytest.raises(ValueError):
        Fusion("borda")
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([BM25, VECTOR], weights=[1.0])
