"""The int8 first pass of the vector index: the top k equals the full float32 scan's, exactly."""

from __future__ import annotations

import time

import numpy as np
import pytest

from sourcebook.index.vector_scan import SCAN_MAX_K, SCAN_MIN_ROWS, Int8Scan, scan_available
from sourcebook.index.vectors import VectorIndex

pytestmark = pytest.mark.skipif(not scan_available(), reason="onnxruntime and onnx not installed")

DIM = 384


def clustered(n: int, seed: int = 0) -> np.ndarray:
    """Unit vectors around 200 topics, as sentence embeddings cluster (not uniform noise)."""
    rng = np.random.default_rng(seed)
    topics = rng.standard_normal((200, DIM))
    v = topics[rng.integers(0, 200, n)] + 0.9 * rng.standard_normal((n, DIM))
    v = v.astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def pair(vectors: np.ndarray) -> tuple[VectorIndex, VectorIndex]:
    ids = [f"d{i}#{i % 3}" for i in range(len(vectors))]
    fast, full = VectorIndex(DIM, "test"), VectorIndex(DIM, "test")
    full.fast_scan = False
    for index in (fast, full):
        index.add(ids, vectors)
    assert fast.prepare_fast_scan() and not full.prepare_fast_scan()
    return fast, full


def assert_same_top(got: list[tuple[str, float]], want: list[tuple[str, float]]) -> None:
    """The same hits with the same scores; two hits whose float32 scores differ by a rounding
    step (the full scan and the rescoring sum in different orders) may trade places."""
    assert [s for _, s in got] == pytest.approx([s for _, s in want], abs=1e-6)
    for (a, sa), (b, sb) in zip(got, want, strict=True):
        assert a == b or abs(sa - sb) <= 1e-6
    last = want[-1][1]
    for item in {i for i, _ in got} ^ {i for i, _ in want}:
        score = dict(got + want)[item]
        assert abs(score - last) <= 1e-6, "only a tie at the cut may differ"


def test_the_first_pass_gives_the_full_scans_top_k() -> None:
    vectors = clustered(SCAN_MIN_ROWS + 500)
    fast, full = pair(vectors)
    rng = np.random.default_rng(3)
    queries = vectors[rng.integers(0, len(vectors), 12)] + 0.3 * rng.standard_normal((12, DIM))
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    for k in (1, 10, 100, 500):
        got, want = fast.search_many(queries, k), full.search_many(queries, k)
        for a, b in zip(got, want, strict=True):
            assert_same_top(a, b)
    assert fast._scan is not None and full._scan is None


def test_the_bounds_hold_and_narrow_the_candidates() -> None:
    vectors = clustered(SCAN_MIN_ROWS)
    scan = Int8Scan(vectors)
    query = vectors[:1] * 0.8 + vectors[1:2] * 0.2
    query = (query / np.linalg.norm(query)).astype(np.float32)
    scores, bounds = scan.approximate(query)
    exact = (vectors @ query[0]).astype(np.float64)
    assert np.all(np.abs(exact - scores[0]) <= bounds[0])
    assert float(bounds[0].max()) < 0.05  # int8 codes of unit vectors: a tight bound
    rows = scan.candidates(scores[0], bounds[0], np.ones(len(vectors), bool), 100)
    assert rows is not None and 100 <= len(rows) < len(vectors) // 10
    assert set(np.argsort(-exact)[:100]) <= set(rows.tolist())


def test_replaced_and_removed_vectors_are_never_returned() -> None:
    vectors = clustered(SCAN_MIN_ROWS + 10, seed=1)
    fast, full = pair(vectors)
    query = vectors[7]
    best = [item for item, _ in full.search(query, 5)]
    replacement = clustered(1, seed=9)
    for index in (fast, full):
        index.search(query, 5)  # the first pass is used, then the index changes
        index.remove(best[:2])
        index.add([best[2]], replacement)
    fast.prepare_fast_scan()  # rebuilt for the new row
    got, want = fast.search(query, 50), full.search(query, 50)
    assert_same_top(got, want)
    assert not {best[0], best[1]} & {i for i, _ in got}
    assert best[2] in fast and fast.vector(best[2]) == pytest.approx(replacement[0])


def test_a_one_shot_search_never_builds_it_and_a_busy_process_does_in_the_background() -> None:
    vectors = clustered(SCAN_MIN_ROWS, seed=2)
    index = VectorIndex(DIM, "test")
    index.add([f"d{i}" for i in range(len(vectors))], vectors)
    first = index.search(vectors[0], 10)  # the full scan: a CLI search pays nothing more
    assert index._scan is None and not index._building.is_set()
    index.search(vectors[1], 10)  # a second search: built on a thread, the full scan answers
    deadline = time.monotonic() + 60
    while index._scan is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert index._scan is not None and index._scan.rows == len(vectors)
    assert_same_top(index.search(vectors[0], 10), first)
    index.search(vectors[0], SCAN_MAX_K + 1)  # a long list: the full scan is cheaper
