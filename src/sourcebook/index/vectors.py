"""The vector index: exact nearest neighbours by dot product, persisted beside the Tantivy index.

Why exact: an archive of Sourcebook's size (thousands to a few hundred thousand documents) fits
in one float32 matrix (384 dimensions: 1.5 kB a vector, 150 MB for 100,000), and a top-100 search
over it is one matrix-vector product and a partial sort (28 ms for 100,000 vectors on this
2-core machine), with perfect recall and no index to build or tune. Past roughly 500,000 vectors
(0.75 GB of RAM and 126 ms a query here) an approximate graph index (HNSW: ``usearch``,
``faiss-cpu`` or ``hnswlib`` from PyPI) becomes worth its build time and recall loss; the API
below (add, search, has, save/load) is what such a backend would implement (docs/semantic.md).
From 20,000 vectors a first pass over int8 codes (``index/vector_scan.py``) narrows the scan to
a few hundred rows without changing the result (up to 3-7x faster at 100,000 vectors when other
processes share the memory bus; no faster on a quiet machine: docs/semantic.md).

On disk (a folder, e.g. ``<home>/vectors/``), append-only so a long embedding job can stop and
resume, and a reader never sees half a write:

* ``seg-NNNNNN.npy``: float32 rows of one save; ``seg-NNNNNN.ids.json``: their ids, in order;
  ``seg-NNNNNN.tags.json`` (when the rows have tags): one string per row, e.g. the content hash
  of the document a vector was computed from, so a job can tell which vectors are outdated;
* ``manifest.json``: model name, dimension and the ordered segments, each with the ids removed
  before its rows were added. It is replaced atomically after the segment files are written,
  so the manifest only ever names complete segments.

Ids are strings (a docid, or ``docid#seq`` for a passage). Adding an id again replaces its
vector (an updated document); :meth:`VectorIndex.has` tells an embedding job what is done, and
search can fall back to BM25 for what is not.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sourcebook.errors import ConfigError, Conflict, StorageError
from sourcebook.index import VECTORS_MANIFEST
from sourcebook.index.vector_owners import Owners
from sourcebook.index.vector_scan import (
    BUILD_AFTER_SEARCHES,
    SCAN_MAX_K,
    SCAN_MIN_ROWS,
    Int8Scan,
    scan_available,
)

MANIFEST = VECTORS_MANIFEST
LOCK = ".writer.lock"
log = logging.getLogger(__name__)
FORMAT = 1
#: Above this many vectors exact search is slow enough (126 ms a query measured on 2 cores) that
#: an HNSW backend should replace it; the index keeps working, it just gets slower.
EXACT_SEARCH_LIMIT = 500_000

Vectors = NDArray[np.float32]
#: A search kept to some documents gathers their rows when they are at most this share of the
#: matrix, and otherwise scores every row and drops the rest (without the int8 first pass).
GATHER_MAX_SHARE = 0.1


class VectorIndex:
    """Id-addressed float32 vectors with exact top-k search by dot product."""

    def __init__(self, dimension: int, model: str = "", path: Path | None = None) -> None:
        if dimension <= 0:
            raise ConfigError("a vector index needs a positive dimension")
        self.dimension = dimension
        self.model = model
        self.path = path
        self._blocks: list[Vectors] = []
        self._matrix: Vectors | None = np.zeros((0, dimension), np.float32)
        self._ids: list[str] = []
        self._tags: list[str] = []  # one per row of _ids ("" when none was given)
        self._row: dict[str, int] = {}
        self._dead: set[int] = set()
        self._saved_rows = 0
        self._removed: list[str] = []  # saved ids removed since the last save
        self._segments: list[dict[str, Any]] = []
        self._manifest_stamp: tuple[int, int, int] = (0, 0, 0)
        self._live: NDArray[np.bool_] | None = None  # rows not dead (built on search)
        self._scan: Int8Scan | None = None  # the int8 first pass (built on search)
        self._scan_lock = threading.Lock()
        self._building = threading.Event()  # a background build of the first pass is running
        self._searches = 0
        self._owner_rows = Owners()  # which document each row belongs to (``_owners``)
        self._owner_lock = threading.Lock()
        #: Whether large indexes take the int8 first pass (off: always the full float32 scan).
        self.fast_scan = True

    # --- reading ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._row)

    def __contains__(self, item: object) -> bool:
        return item in self._row

    def has(self, item: str) -> bool:
        """Whether ``item`` has a vector (an embedding job skips it)."""
        return item in self._row

    @property
    def segments(self) -> int:
        """How many segments the saved index has (``compact`` makes it one)."""
        return len(self._segments)

    def ids(self) -> list[str]:
        """Ids with a vector, in insertion order."""
        return sorted(self._row, key=self._row.__getitem__)

    def tag(self, item: str) -> str:
        """The tag ``item`` was added with ("" when none, or when it has no vector)."""
        row = self._row.get(item)
        return self._tags[row] if row is not None else ""

    def entries(self) -> dict[str, str]:
        """Every id with a vector and its tag."""
        return {item: self._tags[row] for item, row in self._row.items()}

    def vector(self, item: str) -> Vectors:
        """The stored vector of ``item`` (KeyError when absent)."""
        row: Vectors = self._all()[self._row[item]]
        return row

    def _all(self) -> Vectors:
        if self._matrix is None:
            self._matrix = (
                np.concatenate(self._blocks)
                if self._blocks
                else np.zeros((0, self.dimension), np.float32)
            )
            self._blocks = [self._matrix]
        return self._matrix

    def _query(self, vector: ArrayLike) -> Vectors:
        query = np.asarray(vector, dtype=np.float32)
        if query.ndim == 1:
            query = query[None, :]
        if query.ndim != 2 or query.shape[1] != self.dimension:
            raise ConfigError(
                f"query vectors have shape {query.shape}; this index holds {self.dimension} dimensions"
            )
        return query

    def search(self, vector: ArrayLike, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` ids whose vectors have the largest dot product with ``vector``, best first."""
        return self.search_many(vector, k)[0]

    def search_many(self, vectors: ArrayLike, k: int = 10) -> list[list[tuple[str, float]]]:
        """:meth:`search` for each row of ``vectors`` (exact; large indexes take a first pass
        over int8 codes that leaves the result unchanged, ``index/vector_scan.py``)."""
        ids = self._ids
        return [
            list(zip([ids[r] for r in rows.tolist()], scores.tolist(), strict=True))
            for rows, scores in self._search_rows(self._query(vectors), k)
        ]

    def search_documents(
        self,
        vector: ArrayLike,
        depth: int,
        per_document: int,
        only: ArrayLike | None = None,
    ) -> tuple[list[tuple[str, float]], dict[str, int]]:
        """The ``depth`` best documents, with passages (ids ``docid#seq``) pooled per document.

        The top ``depth * per_document`` vectors are read and each document scores its best
        one among them (max-pooling), best first; also each document's best passage number.
        The same as walking :meth:`search`'s list and keeping each document's first passage,
        without a Python step per passage (a filtered hybrid search reads 5,000 of them).

        ``only``: the numbers (:func:`sourcebook.ids.id_number`) of the documents that may be
        found, e.g. those passing a search's filters; then only their vectors are scored, the
        same result as searching everything and dropping the others, at a fraction of the cost
        when they are few.
        """
        query = self._query(vector)[0]
        owners = self._owners()
        k = depth * per_document
        if only is None:
            rows, scores = self._search_rows(query[None, :], k)[0]
        else:
            rows, scores = self._search_kept(query, k, owners, only)
        owner = owners.of_row[rows]
        _, first = np.unique(owner, return_index=True)  # each document's best (first) passage
        first = np.sort(first)[:depth]
        best = [owners.names[o] for o in owner[first].tolist()]
        passage = owners.seqs[rows[first]].tolist()
        return (
            list(zip(best, scores[first].tolist(), strict=True)),
            {doc: seq for doc, seq in zip(best, passage, strict=True) if seq >= 0},
        )

    def _search_kept(
        self, query: Vectors, k: int, owners: Owners, only: ArrayLike
    ) -> tuple[NDArray[np.intp], NDArray[np.float32]]:
        """The ``k`` best rows of the documents numbered in ``only``: the others never compete.

        A few kept rows (:data:`GATHER_MAX_SHARE`) are gathered and scored: 3,000 of 100,000
        in about a millisecond, less than the int8 first pass over all of them. More are bounded
        by the int8 first pass, with only the kept rows as candidates, or, without it, every
        row is scored and the others dropped (gathering a quarter of 100,000 rows costs more
        than the full product).
        """
        allowed = owners.kept(np.asarray(only, dtype=np.uint64))
        mask = allowed[owners.of_row] & self._live_rows()
        kept = int(mask.sum())
        k = min(k, kept)
        if k <= 0:
            return np.zeros(0, np.intp), np.zeros(0, np.float32)
        self._searches += 1
        matrix = self._all()
        if kept <= GATHER_MAX_SHARE * mask.shape[0]:
            rows = np.flatnonzero(mask)
            return _top(rows, matrix[rows] @ query, k)
        scan = self._int8_scan() if k <= SCAN_MAX_K else None
        if scan is not None:
            scores, bounds = scan.approximate(query[None, :])
            candidates = scan.candidates(scores[0], bounds[0], mask, k)
            if candidates is not None:
                return _top(candidates, matrix[candidates] @ query, k)
        exact = matrix @ query
        exact[~mask] = -np.inf
        return _top(np.arange(mask.shape[0]), exact, k)

    def _owners(self) -> Owners:
        """Which document each matrix row belongs to (rows are only ever appended, so the
        table is extended, never rebuilt)."""
        owners = self._owner_rows
        if owners.rows == len(self._ids):
            return owners
        with self._owner_lock:  # readers share the index: one of them extends the table
            self._owner_rows = self._owner_rows.extended(self._ids)
            return self._owner_rows

    def _search_rows(
        self, queries: Vectors, k: int
    ) -> list[tuple[NDArray[np.intp], NDArray[np.float32]]]:
        """For each query, the ``k`` best matrix rows and their scores, best first."""
        matrix = self._all()
        if k <= 0 or not self._row:
            empty = (np.zeros(0, np.intp), np.zeros(0, np.float32))
            return [empty for _ in range(queries.shape[0])]
        k = min(k, len(self._row))
        live = self._live_rows()
        self._searches += 1
        scan = self._int8_scan() if k <= SCAN_MAX_K else None
        if scan is not None:
            scores, bounds = scan.approximate(queries)
            out: list[tuple[NDArray[np.intp], NDArray[np.float32]]] = []
            for query, approx, bound in zip(queries, scores, bounds, strict=True):
                rows = scan.candidates(approx, bound, live, k)
                if rows is None:  # a query the bounds cannot narrow: the full scan
                    out += self._exact(query[None, :], matrix, live, k)
                else:
                    out.append(_top(rows, matrix[rows] @ query, k))
            return out
        return self._exact(queries, matrix, live, k)

    def _exact(
        self, queries: Vectors, matrix: Vectors, live: NDArray[np.bool_], k: int
    ) -> list[tuple[NDArray[np.intp], NDArray[np.float32]]]:
        """The full float32 scan: every row scored."""
        scores = queries @ matrix.T
        if self._dead:
            scores[:, ~live] = -np.inf
        everything = np.arange(matrix.shape[0])
        return [_top(everything, row, k) for row in scores]

    def _live_rows(self) -> NDArray[np.bool_]:
        """A mask of the matrix rows that hold a current vector (not replaced or removed)."""
        if self._live is None or self._live.shape[0] != len(self._ids):
            live = np.ones(len(self._ids), dtype=bool)
            if self._dead:
                live[np.fromiter(self._dead, dtype=np.intp, count=len(self._dead))] = False
            self._live = live
        return self._live

    def _int8_scan(self) -> Int8Scan | None:
        """The int8 first pass over the matrix, when it is built for the current rows (None:
        the full scan). Once the process has searched a few times, it is built on a
        background thread; :meth:`prepare_fast_scan` builds it at once."""
        if len(self._ids) < SCAN_MIN_ROWS or not self.fast_scan:
            return None
        scan = self._scan
        if scan is not None and scan.rows == len(self._ids):
            return scan
        if self._searches >= BUILD_AFTER_SEARCHES and not self._building.is_set():
            self._building.set()
            threading.Thread(target=self._build_scan, name="sb-vector-int8", daemon=True).start()
        return None

    def prepare_fast_scan(self) -> bool:
        """Build the int8 first pass now (a server's warm-up), and the table of which document
        each row belongs to; False when the first pass does not apply."""
        self._owners()
        if len(self._ids) < SCAN_MIN_ROWS or not self.fast_scan:
            return False
        self._build_scan()
        return self._scan is not None

    def _build_scan(self) -> None:
        try:
            with self._scan_lock:
                rows = len(self._ids)
                if (self._scan is None or self._scan.rows != rows) and scan_available():
                    self._scan = Int8Scan(self._all())
        except Exception:  # the full scan still answers; say why the fast one is missing
            log.exception("building the int8 first pass of the vector index failed")
        finally:
            self._building.clear()

    def scores(self, vector: ArrayLike, items: Iterable[str]) -> dict[str, float]:
        """Dot products of ``vector`` with the given ids' vectors (ids without one are left out)."""
        query = self._query(vector)[0]
        rows = [(item, self._row[item]) for item in items if item in self._row]
        if not rows:
            return {}
        matrix = self._all()[[r for _, r in rows]]
        values = matrix @ query
        return {item: float(v) for (item, _), v in zip(rows, values, strict=True)}

    # --- writing ------------------------------------------------------------------------
    def add(
        self, ids: Sequence[str], vectors: ArrayLike, tags: Sequence[str] | None = None
    ) -> None:
        """Add (or replace) vectors; rows of ``vectors`` match ``ids``. Kept in memory until save.

        ``tags`` (one string per id, e.g. a content hash) are saved with the vectors.
        """
        block = np.asarray(vectors, dtype=np.float32)
        if block.ndim != 2 or block.shape != (len(ids), self.dimension):
            raise ConfigError(
                f"expected {len(ids)} vectors of {self.dimension} dimensions, got shape {block.shape}"
            )
        if tags is not None and len(tags) != len(ids):
            raise ConfigError(f"{len(tags)} tags for {len(ids)} vectors")
        if not ids:
            return
        block = np.ascontiguousarray(block)
        start = len(self._ids)
        for offset, item in enumerate(ids):
            old = self._row.get(item)
            if old is not None:
                self._dead.add(old)
                self._live = None
            self._row[item] = start + offset
        self._ids.extend(ids)
        self._tags.extend(tags if tags is not None else [""] * len(ids))
        self._blocks.append(block)
        self._matrix = None

    def remove(self, ids: Iterable[str]) -> int:
        """Forget these ids' vectors (deleted documents); returns how many were there."""
        removed = 0
        for item in ids:
            row = self._row.pop(item, None)
            if row is None:
                continue
            self._dead.add(row)
            self._live = None
            removed += 1
            # recorded even for a row added since the last save: an older, saved vector of the
            # same id may lie in an earlier segment (loading skips ids that are not there)
            self._removed.append(item)
        return removed

    # --- persistence --------------------------------------------------------------------
    def _manifest(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "model": self.model,
            "dimension": self.dimension,
            "segments": self._segments,
        }

    def _next_segment_name(self) -> str:
        numbers = [int(str(s["name"]).rsplit("-", 1)[1]) for s in self._segments]
        return f"seg-{max(numbers, default=0) + 1:06d}"

    def _write_segment(self, folder: Path, name: str, rows: list[int]) -> dict[str, Any]:
        """Write these rows as segment ``name``; returns its manifest entry (without removals)."""
        matrix = self._all()[rows]
        _atomic_write(folder / f"{name}.npy", lambda fh: np.save(fh, matrix))
        data = json.dumps([self._ids[r] for r in rows]).encode()
        _atomic_write(folder / f"{name}.ids.json", lambda fh: fh.write(data))
        entry: dict[str, Any] = {"name": name, "rows": len(rows)}
        tags = [self._tags[r] for r in rows]
        if any(tags):
            tag_data = json.dumps(tags).encode()
            _atomic_write(folder / f"{name}.tags.json", lambda fh: fh.write(tag_data))
            entry["tags"] = True
        return entry

    def _write_manifest(self, folder: Path) -> None:
        data = json.dumps(self._manifest(), indent=1).encode()
        _atomic_write(folder / MANIFEST, lambda fh: fh.write(data))
        self._manifest_stamp = _stamp(folder / MANIFEST)

    def save(self, path: Path | None = None) -> None:
        """Append what was added or removed since the last save as one new segment."""
        folder = path or self.path
        if folder is None:
            raise ConfigError("this vector index has no folder to save to")
        if self.path is None:
            self.path = folder
        pending = [
            i for i in range(self._saved_rows, len(self._ids)) if self._row.get(self._ids[i]) == i
        ]
        if not pending and not self._removed and (folder / MANIFEST).exists():
            return
        name = self._next_segment_name()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            entry: dict[str, Any] = {"name": name, "rows": 0}
            if pending:
                entry = self._write_segment(folder, name, pending)
            entry["removed"] = self._removed
            self._segments.append(entry)
            self._write_manifest(folder)
        except OSError as exc:
            raise StorageError(f"could not save the vector index in {folder}: {exc}") from exc
        self._saved_rows = len(self._ids)
        self._removed = []

    @staticmethod
    def _read_manifest(path: Path, model: str | None) -> dict[str, Any]:
        try:
            manifest: dict[str, Any] = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StorageError(f"no readable vector index in {path}: {exc}") from exc
        if manifest.get("format") != FORMAT:
            raise StorageError(f"{path}: vector index format {manifest.get('format')} is unknown")
        if model is not None and manifest.get("model") != model:
            raise ConfigError(
                f"{path} holds vectors of {manifest.get('model')!r}, not {model!r}: "
                "rebuild it (delete the folder) or use that model"
            )
        return manifest

    @staticmethod
    def _read_ids(path: Path, segment: dict[str, Any]) -> tuple[list[str], list[str]]:
        """A segment's ids and tags (empty tags when it has none)."""
        name = segment["name"]
        try:
            ids: list[str] = json.loads((path / f"{name}.ids.json").read_text(encoding="utf-8"))
            tags: list[str] = (
                json.loads((path / f"{name}.tags.json").read_text(encoding="utf-8"))
                if segment.get("tags")
                else [""] * len(ids)
            )
        except (OSError, ValueError) as exc:
            raise StorageError(f"{path}: segment {name} is unreadable: {exc}") from exc
        return ids, tags

    @classmethod
    def read_entries(cls, path: Path, model: str | None = None) -> dict[str, str]:
        """The ids saved in ``path`` with their tags, without reading a vector (for counts)."""
        manifest = cls._read_manifest(path, model)
        entries: dict[str, str] = {}
        for segment in manifest["segments"]:
            for item in segment.get("removed", []):
                entries.pop(item, None)
            if segment["rows"]:
                ids, tags = cls._read_ids(path, segment)
                entries.update(zip(ids, tags, strict=True))
        return entries

    @classmethod
    def load(cls, path: Path, model: str | None = None) -> VectorIndex:
        """Read a saved index; ``model`` (when given) must match the one it was built with."""
        manifest = cls._read_manifest(path, model)
        index = cls(int(manifest["dimension"]), str(manifest.get("model", "")), path)
        for segment in manifest["segments"]:
            index.remove(segment.get("removed", []))
            if segment["rows"]:
                ids, tags = cls._read_ids(path, segment)
                try:
                    rows = np.load(path / f"{segment['name']}.npy")
                except (OSError, ValueError) as exc:
                    raise StorageError(
                        f"{path}: segment {segment['name']} is unreadable: {exc}"
                    ) from exc
                index.add(ids, rows, tags)
        index._segments = list(manifest["segments"])
        index._saved_rows = len(index._ids)
        index._removed = []
        index._manifest_stamp = _stamp(path / MANIFEST)
        return index

    @classmethod
    def open(cls, path: Path, dimension: int, model: str) -> VectorIndex:
        """The index saved in ``path``, or a new empty one that will save there."""
        if (path / MANIFEST).exists():
            index = cls.load(path, model)
            if index.dimension != dimension:
                raise ConfigError(
                    f"{path} holds {index.dimension}-dimensional vectors, not {dimension}"
                )
            return index
        return cls(dimension, model, path)

    def changed_on_disk(self) -> bool:
        """Whether another process saved since this index was loaded (a reader then reloads)."""
        if self.path is None:
            return False
        try:
            return _stamp(self.path / MANIFEST) != self._manifest_stamp
        except OSError:
            return False

    def compact(self) -> None:
        """Rewrite the live vectors as one segment (after many updates or removals)."""
        folder = self.path
        if folder is None:
            raise ConfigError("this vector index has no folder to compact")
        live = self.ids()
        old = list(self._segments)
        # named past every old segment, so no file a reader may be loading is overwritten
        name = self._next_segment_name()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            entry: dict[str, Any] = {"name": name, "rows": 0}
            if live:
                entry = self._write_segment(folder, name, [self._row[i] for i in live])
            entry["removed"] = []
            self._segments = [entry]
            self._write_manifest(folder)
        except OSError as exc:
            self._segments = old
            raise StorageError(f"could not compact the vector index in {folder}: {exc}") from exc
        for segment in old:
            for suffix in (".npy", ".ids.json", ".tags.json"):
                (folder / f"{segment['name']}{suffix}").unlink(missing_ok=True)
        loaded = VectorIndex.load(folder)
        self.__dict__.update(loaded.__dict__)


def _top(
    rows: NDArray[np.intp], scores: Vectors, k: int
) -> tuple[NDArray[np.intp], NDArray[np.float32]]:
    """The ``k`` best of ``rows`` (matrix row numbers) by ``scores``: (rows, scores), best first."""
    n = scores.shape[0]
    top = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
    top = top[np.argsort(-scores[top], kind="stable")]
    top = top[np.isfinite(scores[top])]
    return rows[top], scores[top]


@contextmanager
def writer_lock(folder: Path) -> Iterator[None]:
    """Hold the one-writer lock of the vector index in ``folder`` (Conflict when taken).

    Two writers would each replace the manifest with their own list of segments, so one
    writer's saves would be lost; readers need no lock.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = (folder / LOCK).open("a")
    except OSError as exc:
        raise StorageError(f"cannot open the vector index in {folder}: {exc}") from exc
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise Conflict(
                f"another process is writing the vector index in {folder} "
                "(an embedding job is running)"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


def _stamp(path: Path) -> tuple[int, int, int]:
    # every save replaces the manifest with a new file: a new inode even within one mtime tick
    st = path.stat()
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _atomic_write(target: Path, write: Any) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    with tmp.open("wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)


__all__ = ["EXACT_SEARCH_LIMIT", "MANIFEST", "VectorIndex", "writer_lock"]
