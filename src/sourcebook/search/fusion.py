"""Fusion of ranked lists: BM25 and vector search each rank the archive; one list comes out.

Two families, both over the top of each list (the harness fuses the top 100 of each):

* reciprocal rank fusion (RRF, Cormack et al. 2009): ``sum_i w_i / (k + rank_i)``. It reads ranks
  only, so it needs no calibration between a BM25 score (unbounded) and a cosine (-1..1);
* normalised-score fusion: each list's scores are mapped to a common scale (min-max to 0..1, or
  z-scores) and summed with weights (a convex combination when the weights add to 1). It keeps
  how far apart two hits are, which ranks carry only as order.

A hit missing from one list gets that list's floor there (0 after min-max, the list's lowest
z-score, nothing under RRF), so a document found by one retriever only is not lost.
Which method and weights Sourcebook uses was chosen on SciFact's train queries
(``benchmarks/tune_fusion.py``, docs/semantic.md); :data:`DEFAULT_FUSION` records the choice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Ranked = Sequence[tuple[str, float]]

METHODS = ("rrf", "minmax", "zscore")


@dataclass(frozen=True)
class Fusion:
    """How to fuse: ``method`` in :data:`METHODS`, one weight per list, RRF's ``k``."""

    method: str = "rrf"
    weights: tuple[float, ...] = (1.0, 1.0)
    k: float = 60.0
    #: How many of each list's top hits take part (0: all).
    depth: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown fusion method {self.method!r}; use one of {METHODS}")

    def fuse(self, runs: Sequence[Ranked], limit: int = 0) -> list[tuple[str, float]]:
        """The fused list, best first (``limit`` > 0 keeps that many)."""
        lists = [run[: self.depth] if self.depth else run for run in runs]
        if self.method == "rrf":
            fused = reciprocal_rank_fusion(lists, self.weights, self.k)
        else:
            fused = score_fusion(lists, self.weights, self.method)
        return fused[:limit] if limit else fused


#: The configuration chosen on SciFact's 809 train queries (BM25 first, vectors second):
#: z-scores, 0.6 BM25 + 0.4 vectors, over each list's top 100. nDCG@10 .731 there, against .692
#: for BM25 alone, .660 for MiniLM alone, .730 for min-max at the same weights and .723 for the
#: best RRF (k = 5); ``benchmarks/tune_fusion.py`` prints the grid.
DEFAULT_FUSION = Fusion(method="zscore", weights=(0.6, 0.4), depth=100)


def _weights(weights: Sequence[float] | None, n: int) -> list[float]:
    if weights is None:
        return [1.0] * n
    if len(weights) != n:
        raise ValueError(f"{len(weights)} weights for {n} ranked lists")
    return [float(w) for w in weights]


def _ordered(scores: dict[str, float], first_seen: dict[str, int]) -> list[tuple[str, float]]:
    # ties keep the order in which the lists first named the ids (deterministic)
    return sorted(scores.items(), key=lambda item: (-item[1], first_seen[item[0]]))


def reciprocal_rank_fusion(
    runs: Sequence[Ranked | Sequence[str]],
    weights: Sequence[float] | None = None,
    k: float = 60.0,
) -> list[tuple[str, float]]:
    """RRF: each id scores ``sum w_i / (k + rank_i)`` with ranks from 1; best first.

    Lists may be ids or (id, score) pairs; only the order counts.
    """
    w = _weights(weights, len(runs))
    scores: dict[str, float] = {}
    first_seen: dict[str, int] = {}
    for weight, run in zip(w, runs, strict=True):
        for rank, entry in enumerate(run, start=1):
            item = entry if isinstance(entry, str) else str(entry[0])
            first_seen.setdefault(item, len(first_seen))
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return _ordered(scores, first_seen)


def normalise(run: Ranked, method: str = "minmax") -> dict[str, float]:
    """Scores of one list on a common scale: min-max to [0, 1], or z-scores."""
    if not run:
        return {}
    values = [score for _, score in run]
    if method == "minmax":
        low, high = min(values), max(values)
        span = high - low
        return {item: (score - low) / span if span else 1.0 for item, score in run}
    if method == "zscore":
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
        return {item: (score - mean) / std if std else 0.0 for item, score in run}
    raise ValueError(f"unknown normalisation {method!r}; use minmax or zscore")


def score_fusion(
    runs: Sequence[Ranked],
    weights: Sequence[float] | None = None,
    method: str = "minmax",
) -> list[tuple[str, float]]:
    """Weighted sum of normalised scores; an id missing from a list gets that list's floor."""
    w = _weights(weights, len(runs))
    normalised = [normalise(run, method) for run in runs]
    first_seen: dict[str, int] = {}
    for run in runs:
        for item, _ in run:
            first_seen.setdefault(item, len(first_seen))
    floors = [min(n.values(), default=0.0) if method == "zscore" else 0.0 for n in normalised]
    scores = {
        item: sum(
            weight * scaled.get(item, floor)
            for weight, scaled, floor in zip(w, normalised, floors, strict=True)
        )
        for item in first_seen
    }
    return _ordered(scores, first_seen)


__all__ = [
    "DEFAULT_FUSION",
    "METHODS",
    "Fusion",
    "normalise",
    "reciprocal_rank_fusion",
    "score_fusion",
]
