"""MiniLM on ONNX Runtime: the graph exported from the packaged weights gives torch's vectors.

The equivalence test exports the graph (seconds) and loads both runtimes: it is slow, and skips
where torch, transformers, onnx or onnxruntime are missing.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from sourcebook.config import Settings
from sourcebook.enrich.embeddings import (
    MiniLMEmbedder,
    available,
    embedder_unavailable,
    make_embedder,
)
from sourcebook.enrich.onnx_minilm import (
    OnnxMiniLMEmbedder,
    default_model_cache,
    onnx_file_name,
    onnx_unavailable_reason,
)
from sourcebook.errors import ConfigError
from sourcebook.search.hybrid import VectorSearch

SAMPLES = [
    "heavy rain flooded the capital",
    "Storm water inundated the city, leaving thousands of homes under water. " * 20,
    "a",
    "",
    "Asylum seekers from Eritrea face detention in Libya before crossing to Italy.",
    "Ökonomie und Flüchtlinge: Bericht über die Lage in Syrien, 2023.",
    "Журналистов задерживают за критику правительства.",
    "What is the situation of women in Afghanistan?",
]

can_export = available() and not any(
    importlib.util.find_spec(m) is None for m in ("onnx", "onnxruntime", "tokenizers")
)


def test_the_runtime_is_chosen_without_loading_anything(tmp_path: Path) -> None:
    onnx = make_embedder("minilm", runtime="onnx", cache_dir=tmp_path, threads=1)
    assert isinstance(onnx, OnnxMiniLMEmbedder) and onnx.threads == 1
    assert onnx._session is None and onnx.name == MiniLMEmbedder.name  # same vectors, same name
    assert isinstance(make_embedder("minilm-torch"), MiniLMEmbedder)
    assert isinstance(make_embedder("minilm-onnx"), OnnxMiniLMEmbedder)
    assert make_embedder("minilm", runtime="onnx-int8").quantized  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="semantic runtime"):
        make_embedder("minilm", runtime="tensorflow")
    assert "semantic runtime" in (embedder_unavailable("minilm", runtime="jax") or "")
    # search takes the runtime and the cache from the settings
    settings = Settings(home=tmp_path / "a", semantic_runtime="onnx", model_cache_dir=tmp_path)
    embedder = VectorSearch(settings).embedder
    assert isinstance(embedder, OnnxMiniLMEmbedder) and embedder.cache_dir == tmp_path
    torch = VectorSearch(Settings(home=tmp_path / "b", semantic_runtime="torch")).embedder
    assert isinstance(torch, MiniLMEmbedder)


def test_the_cached_graph_is_named_by_the_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"x" * 10)
    first = onnx_file_name(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"x" * 11)
    assert onnx_file_name(tmp_path) != first and first.endswith(".onnx")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_model_cache() == tmp_path / "xdg" / "sourcebook" / "models"
    # no tokenizer in a folder that is not a model: a reason, never a crash
    reason = onnx_unavailable_reason(tmp_path, tmp_path / "cache")
    assert reason and ("tokenizer" in reason or "not installed" in reason)


@pytest.mark.slow
@pytest.mark.skipif(not can_export, reason="needs torch, transformers, onnx and onnxruntime")
def test_onnx_vectors_match_torch(tmp_path: Path) -> None:
    onnx = OnnxMiniLMEmbedder(cache_dir=tmp_path, batch_size=3)
    fast = onnx.embed_documents(SAMPLES)
    assert onnx.graph_path().is_file() and onnx.graph_path().parent == tmp_path
    slow = MiniLMEmbedder().embed_documents(SAMPLES)
    assert fast.shape == slow.shape == (len(SAMPLES), 384) and fast.dtype == np.float32
    cosines = (fast * slow).sum(axis=1)
    assert cosines.min() >= 0.99, cosines
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    # batches sorted by length give each text the vector it has alone
    alone = np.vstack([onnx.embed_queries([t]) for t in SAMPLES])
    assert (alone * fast).sum(axis=1).min() >= 0.9999
    # a second embedder reuses the cached graph (no second export)
    stamp = onnx.graph_path().stat().st_mtime_ns
    OnnxMiniLMEmbedder(cache_dir=tmp_path).embed_queries(["again"])
    assert onnx.graph_path().stat().st_mtime_ns == stamp
    assert onnx.embed_documents([]).shape == (0, 384)


@pytest.mark.slow
@pytest.mark.skipif(not can_export, reason="needs torch, transformers, onnx and onnxruntime")
def test_a_damaged_graph_is_a_clear_error(tmp_path: Path) -> None:
    onnx = OnnxMiniLMEmbedder(cache_dir=tmp_path)
    onnx.graph_path().parent.mkdir(parents=True, exist_ok=True)
    onnx.graph_path().write_bytes(b"not a graph")
    with pytest.raises(ConfigError, match="delete it to export again"):
        onnx.embed_queries(["x"])


@pytest.mark.slow
@pytest.mark.skipif(not can_export, reason="needs torch, transformers, onnx and onnxruntime")
def test_the_int8_graph_stays_close_to_fp32(tmp_path: Path) -> None:
    """``semantic_runtime = onnx-int8``: quantised once from the fp32 graph, vectors close to it
    (the nDCG it keeps is measured by benchmarks/ranking.py --model minilm-onnx-int8)."""
    settings = Settings(home=tmp_path / "a", semantic_runtime="onnx-int8", model_cache_dir=tmp_path)
    int8 = VectorSearch(settings).embedder
    assert isinstance(int8, OnnxMiniLMEmbedder) and int8.quantized
    assert int8.name == MiniLMEmbedder.name  # it reads and writes the same vector index
    fast = int8.embed_documents(SAMPLES)
    assert int8.graph_path().name.endswith("-int8.onnx") and int8.graph_path().is_file()
    fp32 = OnnxMiniLMEmbedder(cache_dir=tmp_path)
    assert fp32.graph_path().is_file() and fp32.graph_path() != int8.graph_path()
    cosines = (fast * fp32.embed_documents(SAMPLES)).sum(axis=1)
    assert cosines.min() >= 0.95 and cosines.mean() >= 0.98, cosines
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
