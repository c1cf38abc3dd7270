"""A fast first pass for exact vector search: int8 codes scanned by ONNX Runtime, bounded error.

The exact search reads every float32 vector for every query (150 MB at 100,000 vectors of 384
dimensions): a memory-bound matrix-vector product of 5-15 ms on these cores, more under load.
This pass reads a quarter of that: each vector is kept a second time as int8 codes with one
scale per row, and ONNX Runtime's int8 GEMM (VNNI/AMX kernels, the matrix packed once when the
session is made) scores the query's own int8 codes against all of them in about 1 ms.

The int8 score is not the result. Each row also keeps two numbers, the norm of its rounding
error ``|v - v̂|`` and the norm of its codes ``|v̂|``, so the error of an approximate score is
bounded (Cauchy-Schwarz): ``|q·v - q̂·v̂| <= |q|·|v - v̂| + |q - q̂|·|v̂|``. A row whose upper bound
falls below the ``k``-th best lower bound cannot be in the top ``k``; every other row (a few
hundred to a few thousand of 100,000) is scored again in float32, exactly as the full scan
scores it. So the top ``k`` is the exact search's, ids and scores, not an approximation: recall
is 1 by construction, and tests/index/test_vector_scan.py checks it against the full scan.

Used by :class:`sourcebook.index.vectors.VectorIndex` for indexes of at least
:data:`SCAN_MIN_ROWS` vectors and searches of at most :data:`SCAN_MAX_K` hits, when
``onnxruntime`` and ``onnx`` are installed (the semantic extras); otherwise, and until the codes
are built (seconds at 100,000 vectors, on a background thread), the index scans float32 as
before.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: Below this many vectors the float32 scan is already a millisecond or two: no second copy.
SCAN_MIN_ROWS = 20_000
#: Rows quantised at a time while building (bounds the temporary float copies to a few MB).
BUILD_CHUNK = 8_192
#: Added to every bound: the float32 rounding of the exact score itself (384 products).
SLACK = 1e-4
#: When more than this share of the rows survives the bounds, the full scan is cheaper.
MAX_CANDIDATE_SHARE = 0.25
#: Above this many hits asked for, the rows to rescore cost about what the full scan saves
#: (at 100,000 passages a top 5,000, what a filtered hybrid search of passages asks for, was
#: 0.96-2x the full scan's speed by the load, and slower in the full path on a quiet
#: machine; docs/semantic.md), so those scan in full.
SCAN_MAX_K = 1_000
#: Searches a process makes before the first pass is built for it in the background: a
#: one-shot command (``sourcebook search --hybrid``) never pays for building it; a server
#: builds it when it warms up (``VectorIndex.prepare_fast_scan``).
BUILD_AFTER_SEARCHES = 2


def scan_available() -> bool:
    """Whether the int8 pass can be built here (onnxruntime and onnx importable)."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))


class Int8Scan:
    """int8 codes of a float32 matrix and the bounds that make a first pass exact."""

    def __init__(self, matrix: NDArray[np.float32], threads: int = 0) -> None:
        rows, dimension = matrix.shape
        self.rows = rows
        self.dimension = dimension
        codes = np.empty((rows, dimension), np.int8)
        # float32 throughout: the approximate scores' own rounding (1e-7 relative) is far
        # inside SLACK, and each pass over 100,000 rows costs half of float64's
        self.scale = np.empty(rows, np.float32)
        self.error = np.empty(rows, np.float32)  # |v - v̂|
        self.norm = np.empty(rows, np.float32)  # |v̂|
        for start in range(0, rows, BUILD_CHUNK):
            # float32 is exact for the codes (integers to 127); the norms' rounding (1e-7
            # relative) is far inside SLACK
            block = matrix[start : start + BUILD_CHUNK]
            scale = np.abs(block).max(axis=1) / np.float32(127.0)
            scale[scale == 0] = 1.0
            quantised = np.rint(block / scale[:, None])
            restored = quantised * scale[:, None]
            stop = start + block.shape[0]
            codes[start:stop] = quantised.astype(np.int8)
            self.scale[start:stop] = scale
            self.error[start:stop] = np.linalg.norm(block - restored, axis=1)
            self.norm[start:stop] = np.linalg.norm(restored, axis=1)
        # the query is sent as uint8 (codes + 128), the form ONNX Runtime's kernels take best:
        # (c + 128)·v = c·v + 128·sum(v), so each row's code sum is taken back out
        self.offset = (128 * codes.sum(axis=1, dtype=np.int64)).astype(np.int32)
        self._session = _session(np.ascontiguousarray(codes.T), threads)

    def approximate(
        self, queries: NDArray[np.float32]
    ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """(scores, error bounds), each (queries x rows): ``|exact - score| <= bound``."""
        q = queries.astype(np.float64)
        q_scale = np.abs(q).max(axis=1) / 127.0
        q_scale[q_scale == 0] = 1.0
        q_codes = np.rint(q / q_scale[:, None])
        q_error = np.linalg.norm(q - q_codes * q_scale[:, None], axis=1).astype(np.float32)
        q_norm = np.linalg.norm(q, axis=1).astype(np.float32)
        feed = (q_codes + 128).astype(np.uint8)
        products: NDArray[np.int32] = self._session.run(None, {"q": feed})[0]
        products -= self.offset  # |c·v| <= 384 x 127 x 127: int32 holds it
        scores = products.astype(np.float32)
        scores *= q_scale.astype(np.float32)[:, None]
        scores *= self.scale[None, :]
        bounds = q_norm[:, None] * self.error[None, :]
        bounds += q_error[:, None] * self.norm[None, :]
        bounds += np.float32(SLACK)
        return scores, bounds

    def candidates(
        self,
        scores: NDArray[np.float32],
        bounds: NDArray[np.float32],
        live: NDArray[np.bool_],
        k: int,
    ) -> NDArray[np.intp] | None:
        """Rows that may be in the top ``k`` of one query (None: too many, scan everything)."""
        lower = scores - bounds
        alive = self.rows if live.all() else int(live.sum())
        if alive < self.rows:
            lower[~live] = -np.inf
        if alive <= k:
            return np.flatnonzero(live)
        # the k-th best lower bound: every row of the true top k scores at least this much
        threshold = np.partition(lower, lower.shape[0] - k)[lower.shape[0] - k]
        upper = scores + bounds
        rows = np.flatnonzero(upper >= threshold)
        if alive < self.rows:
            rows = rows[live[rows]]
        if rows.shape[0] > MAX_CANDIDATE_SHARE * self.rows:
            return None
        return rows


def _session(codes_t: NDArray[np.int8], threads: int) -> Any:
    """An ONNX Runtime session computing ``q (uint8, b x d) · codes_t (int8, d x n)`` as int32."""
    onnx: Any = importlib.import_module("onnx")
    ort: Any = importlib.import_module("onnxruntime")
    helper, numpy_helper = onnx.helper, onnx.numpy_helper
    dimension, rows = codes_t.shape
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["q", "codes"], ["products"])],
        "int8_scan",
        [helper.make_tensor_value_info("q", onnx.TensorProto.UINT8, ["batch", dimension])],
        [helper.make_tensor_value_info("products", onnx.TensorProto.INT32, ["batch", rows])],
        initializer=[numpy_helper.from_array(codes_t, "codes")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or 0
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # idle worker threads must not spin: the query's model runs next, on the same cores
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


__all__ = ["BUILD_AFTER_SEARCHES", "SCAN_MAX_K", "SCAN_MIN_ROWS", "Int8Scan", "scan_available"]
