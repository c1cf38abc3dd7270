"""The exact vector index with real numpy: search against brute force, persistence, resumption."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sourcebook.errors import ConfigError, StorageError
from sourcebook.index.vectors import MANIFEST, VectorIndex


def unit_vectors(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def same_hits(a: list[tuple[str, float]], b: list[tuple[str, float]]) -> bool:
    return [i for i, _ in a] == [i for i, _ in b] and np.allclose(
        [s for _, s in a], [s for _, s in b]
    )


def test_search_matches_brute_force() -> None:
    vectors = unit_vectors(200)
    ids = [f"d{i}" for i in range(200)]
    index = VectorIndex(16, "test")
    index.add(ids[:120], vectors[:120])
    index.add(ids[120:], vectors[120:])
    query = unit_vectors(1, seed=7)[0]
    expected = np.argsort(-(vectors @ query), kind="stable")[:10]
    hits = index.search(query, 10)
    assert [h[0] for h in hits] == [ids[i] for i in expected]
    assert [h[1] for h in hits] == pytest.approx([float(vectors[i] @ query) for i in expected])
    assert len(index) == 200 and index.has("d5") and "d5" in index and not index.has("x")


def test_search_many_and_small_k() -> None:
    vectors = unit_vectors(5)
    index = VectorIndex(16)
    index.add(list("abcde"), vectors)
    both = index.search_many(vectors[:2], 3)
    assert [hits[0][0] for hits in both] == ["a", "b"]  # a vector is nearest to itself
    assert len(index.search(vectors[0], 50)) == 5
    assert index.search(vectors[0], 0) == []
    assert VectorIndex(16).search(vectors[0], 5) == []


def pooled_by_walking(
    index: VectorIndex, query: np.ndarray, depth: int, per_document: int
) -> tuple[list[tuple[str, float]], dict[str, int]]:
    """The definition: walk the passage list best first, keep each document's first passage."""
    best: dict[str, float] = {}
    seqs: dict[str, int] = {}
    for item, score in index.search(query, depth * per_document):
        doc, _, seq = item.partition("#")
        if doc not in best:
            best[doc] = score
            if seq.isdigit():
                seqs[doc] = int(seq)
            if len(best) == depth:
                break
    return list(best.items()), seqs


def test_search_documents_pools_passages_like_walking_the_list() -> None:
    rng = np.random.default_rng(3)
    vectors = unit_vectors(600, seed=3)
    ids = [f"doc{rng.integers(0, 90)}#{i}" for i in range(600)]
    ids = list(dict.fromkeys(ids))  # one vector per passage id
    index = VectorIndex(16)
    index.add(ids[:300], vectors[:300])
    queries = unit_vectors(6, seed=11)
    for depth, per in ((5, 5), (20, 3), (200, 5)):
        got, want = (
            index.search_documents(queries[0], depth, per),
            pooled_by_walking(index, queries[0], depth, per),
        )
        assert same_hits(got[0], want[0]) and got[1] == want[1]
    # rows appended after the first pooled search, a replaced passage, a removed one, and a
    # document id without a passage number (no passage reported for it)
    index.add(ids[300:], vectors[300 : len(ids)])
    index.add([ids[10], "whole-document"], vectors[-2:])
    index.remove([ids[20]])
    for query in queries:
        got, want = index.search_documents(query, 30, 5), pooled_by_walking(index, query, 30, 5)
        assert same_hits(got[0], want[0]) and got[1] == want[1]
        assert len({doc for doc, _ in got[0]}) == len(got[0])
    hit = index.search_documents(vectors[-1], 1, 5)
    assert hit[0][0][0] == "whole-document" and hit[1] == {}
    assert VectorIndex(16).search_documents(queries[0], 5, 5) == ([], {})


def test_search_documents_kept_to_some_documents_equals_dropping_the_others() -> None:
    from sourcebook.ids import id_number

    vectors = unit_vectors(400, seed=5)
    ids = [f"doc{i % 70}#{i}" for i in range(400)]
    index = VectorIndex(16)
    index.add(ids, vectors)
    index.remove([ids[7]])
    kept_docs = {f"doc{i}" for i in range(0, 70, 3)}
    only = [id_number(d) for d in kept_docs] + [id_number("not-in-the-index")]
    for query in unit_vectors(5, seed=21):
        everything = pooled_by_walking(index, query, 70, 400)[0]  # every document, best first
        want = [(d, s) for d, s in everything if d in kept_docs][:8]
        got, passages = index.search_documents(query, 8, 400, only=only)
        assert same_hits(got, want)
        assert set(passages) == {d for d, _ in got}
    assert index.search_documents(unit_vectors(1)[0], 5, 5, only=[]) == ([], {})


def test_replace_and_remove() -> None:
    vectors = unit_vectors(3)
    index = VectorIndex(16)
    index.add(["a", "b", "c"], vectors)
    index.add(["a"], vectors[2:3])  # an updated document: the new vector replaces the old one
    assert len(index) == 3
    assert np.allclose(index.vector("a"), vectors[2])
    assert index.remove(["b", "zz"]) == 1
    found = dict(index.search(vectors[2], 10))
    assert set(found) == {"a", "c"}
    assert found["a"] == pytest.approx(1.0, abs=1e-5)
    assert index.scores(vectors[0], ["a", "b", "c"]).keys() == {"a", "c"}


def test_shape_is_checked() -> None:
    index = VectorIndex(16)
    with pytest.raises(ConfigError):
        index.add(["a", "b"], unit_vectors(3))
    with pytest.raises(ConfigError):
        index.search(np.zeros(8, np.float32), 1)


def test_persistence_round_trip(tmp_path: Path) -> None:
    folder = tmp_path / "vectors"
    vectors = unit_vectors(50)
    index = VectorIndex(16, "test-model", folder)
    index.add([f"d{i}" for i in range(30)], vectors[:30])
    index.save()
    index.add([f"d{i}" for i in range(30, 50)], vectors[30:])
    index.remove(["d3"])
    index.add(["d4"], vectors[49:50])
    index.save()
    manifest = json.loads((folder / MANIFEST).read_text())
    assert [s["rows"] for s in manifest["segments"]] == [30, 21]
    assert manifest["segments"][1]["removed"] == ["d3"]

    loaded = VectorIndex.load(folder, "test-model")
    assert len(loaded) == len(index) == 49
    assert not loaded.has("d3")
    assert np.allclose(loaded.vector("d4"), vectors[49])
    query = vectors[10]
    assert same_hits(loaded.search(query, 5), index.search(query, 5))

    loaded.compact()
    assert [s["rows"] for s in json.loads((folder / MANIFEST).read_text())["segments"]] == [49]
    assert sorted(p.name for p in folder.glob("seg-*")) == ["seg-000003.ids.json", "seg-000003.npy"]
    again = VectorIndex.load(folder)
    assert same_hits(again.search(query, 5), index.search(query, 5))
    again.add(["new"], vectors[:1])
    again.save()  # the next segment is named past the compacted one
    assert len(VectorIndex.load(folder)) == 50


def test_a_saved_index_is_resumable(tmp_path: Path) -> None:
    """An interrupted job saved what it embedded; the next run embeds only the rest."""
    folder = tmp_path / "vectors"
    vectors = unit_vectors(10)
    ids = [f"d{i}" for i in range(10)]
    first = VectorIndex.open(folder, 16, "m")
    first.add(ids[:4], vectors[:4])
    first.save()
    first.add(ids[4:6], vectors[4:6])  # never saved: lost with the process

    second = VectorIndex.open(folder, 16, "m")
    todo = [i for i in ids if not second.has(i)]
    assert todo == ids[4:]
    second.add(todo, vectors[4:])
    second.save()
    assert len(VectorIndex.open(folder, 16, "m")) == 10


def test_model_and_dimension_must_match(tmp_path: Path) -> None:
    folder = tmp_path / "vectors"
    index = VectorIndex(16, "model-a", folder)
    index.add(["a"], unit_vectors(1))
    index.save()
    with pytest.raises(ConfigError, match="model-a"):
        VectorIndex.load(folder, "model-b")
    with pytest.raises(ConfigError):
        VectorIndex.open(folder, 32, "model-a")
    with pytest.raises(StorageError):
        VectorIndex.load(tmp_path / "nowhere")


def test_a_reader_sees_another_writers_save(tmp_path: Path) -> None:
    folder = tmp_path / "vectors"
    writer = VectorIndex(16, "m", folder)
    writer.add(["a"], unit_vectors(1))
    writer.save()
    reader = VectorIndex.load(folder)
    assert not reader.changed_on_disk()
    writer.add(["b"], unit_vectors(1, seed=1))
    writer.save()
    assert reader.changed_on_disk()


def test_tags_are_saved_with_their_vectors(tmp_path: Path) -> None:
    folder = tmp_path / "vectors"
    vectors = unit_vectors(4)
    index = VectorIndex(16, "m", folder)
    index.add(["a", "b"], vectors[:2], ["h1/1", "h2/1"])
    index.add(["c"], vectors[2:3])  # untagged
    index.save()
    assert VectorIndex.read_entries(folder) == {"a": "h1/1", "b": "h2/1", "c": ""}
    index.add(["a"], vectors[3:4], ["h9/1"])  # re-embedded after a change...
    index.remove(["a"])  # ...then deleted before the save: the saved vector must go too
    index.save()
    loaded = VectorIndex.load(folder)
    assert loaded.entries() == {"b": "h2/1", "c": ""} == VectorIndex.read_entries(folder)
    assert loaded.tag("b") == "h2/1" and loaded.tag("zz") == ""
    loaded.add(["d"], vectors[3:4], ["h4/1"])
    loaded.save()
    loaded.compact()
    assert VectorIndex.load(folder).entries() == {"b": "h2/1", "c": "", "d": "h4/1"}
    assert sorted(p.name for p in folder.glob("seg-*")) == [
        "seg-000004.ids.json",
        "seg-000004.npy",
        "seg-000004.tags.json",
    ]
    with pytest.raises(ConfigError):
        loaded.add(["e"], vectors[:1], ["x", "y"])
