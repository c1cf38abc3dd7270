"""Near-duplicate documents: MinHash signatures over word shingles, LSH to find candidates.

COI archives hold the same report many times: a wire story re-run by three outlets, a report
re-posted with a new header, a PDF and its HTML. Search should show one and say "3 copies".

Choices, measured by ``benchmarks/eval_dedup.py`` (BBC news with injected edited copies):

* **Shingles**: ``SHINGLE_WORDS`` (3) consecutive words, lower-cased, letters and digits only, so
  re-wrapping, punctuation and case changes do not count. Shorter shingles survive word
  substitutions better; longer ones separate articles on the same topic better.
* **Threshold**: estimated Jaccard similarity of at least ``THRESHOLD`` (0.3). On BBC news with
  injected copies (10-20% of sentences dropped, 4-8% of words changed, boilerplate added,
  re-wrapped) k=3 at 0.3 scored pair precision 0.997 and recall 0.972 (F1 0.984); k=4 at 0.3
  gave 1.000 / 0.944, k=5 at 0.5 1.000 / 0.502 (see ``--sweep``). An edited copy keeps 0.4-0.9
  of its 3-shingles; two different articles on the same event rarely share 0.2.
* **Signature**: ``NUM_PERM`` (128) MinHash values of 32 bits (512 bytes a document). Words
  hash with CRC-32 (cached), shingle hashes combine them in numpy with MurmurHash3's finaliser,
  then 128 affine permutations mod 2^32 with odd multipliers (bijective): about 60 µs for a
  Reuters story. The permutations come from a fixed seed, so signatures stored today compare
  with signatures computed later, in another process.
* **Candidates and verification**: LSH banding with the bands and rows datasketch's
  ``MinHashLSH`` chooses for the threshold (its own insert and query cost ~0.8 ms a document, so
  the bands are plain dicts here); a candidate joins when its estimated similarity reaches the
  threshold.

The index is incremental: :meth:`DedupIndex.add` returns the group a document joins, whose id is
the docid of its earliest member (the first document added is its own group). A document joins
the group of its most similar earlier document; groups are never merged afterwards, so a group
id once returned stays true. Persistence: :meth:`DedupIndex.to_bytes` / :meth:`from_bytes`
(one blob), or per document :meth:`DedupIndex.signature_bytes` stored next to the record (a
SQLite BLOB) and :meth:`DedupIndex.from_signatures` to rebuild on start-up (15,000 documents in
about a second).
"""

from __future__ import annotations

import json
import re
import struct
import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["DedupIndex", "DedupOptions", "minhash_signature", "shingles"]

SHINGLE_WORDS = 3
NUM_PERM = 128
THRESHOLD = 0.3
SEED = 20240519
_FORMAT = b"SBDEDUP1"
_WORD = re.compile(r"\w+")

Signature = npt.NDArray[np.uint32]


@dataclass(frozen=True)
class DedupOptions:
    shingle_words: int = SHINGLE_WORDS
    num_perm: int = NUM_PERM
    threshold: float = THRESHOLD
    seed: int = SEED


def shingles(text: str, k: int = SHINGLE_WORDS) -> list[str]:
    """Word k-shingles of ``text`` (a text shorter than k words is one shingle); for reading."""
    words = _WORD.findall(text.lower())
    if len(words) <= k:
        return [" ".join(words)] if words else []
    return [" ".join(words[i : i + k]) for i in range(len(words) - k + 1)]


def _permutations(num_perm: int, seed: int) -> tuple[Signature, Signature]:
    rng = np.random.default_rng(seed)
    a = (rng.integers(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)).astype(
        np.uint32
    )
    b = rng.integers(0, 1 << 32, num_perm, dtype=np.uint64).astype(np.uint32)
    return a, b


def _fmix32(h: Signature) -> Signature:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


class _WordHashes(dict[str, int]):
    """Word -> mixed CRC-32, filled on first sight: news reuses its vocabulary."""

    def __missing__(self, word: str) -> int:
        value = zlib.crc32(word.encode("utf-8"))
        value ^= value >> 16
        value = (value * 0x85EBCA6B) & 0xFFFFFFFF
        value ^= value >> 13
        value = (value * 0xC2B2AE35) & 0xFFFFFFFF
        value ^= value >> 16
        if len(self) < _WORD_CACHE_LIMIT:
            self[word] = value
        return value


_WORD_CACHE_LIMIT = 500_000
_word_hashes = _WordHashes()
_ASCII_WORDS = bytes(c if chr(c).isalnum() else 32 for c in range(128)) + bytes(range(128, 256))


def _words(text: str) -> list[str]:
    lowered = text.lower()
    if lowered.isascii():  # most news: a C-speed path (a regular expression is 5 times slower)
        return lowered.encode("ascii").translate(_ASCII_WORDS).decode("ascii").split()
    return [w for w in _WORD.findall(lowered) if w != "_"]


def _shingle_hashes(text: str, k: int) -> Signature:
    """One 32-bit hash per word k-shingle, combined from the words' hashes in numpy."""
    words = _words(text)
    if not words:
        return np.empty(0, dtype=np.uint32)
    hashes = np.fromiter(map(_word_hashes.__getitem__, words), dtype=np.uint32, count=len(words))
    k = min(k, len(words))
    n = len(words) - k + 1
    # (uint32 array arithmetic wraps silently, as hashing wants; np.errstate costs 10 µs a call)
    combined = hashes[0:n].copy()
    for j in range(1, k):
        # a polynomial in the words' hashes: "a b" and "b a" differ
        combined = combined * np.uint32(0x01000193) + hashes[j : j + n]
    return _fmix32(combined)  # repeated shingles change no minimum: no need to deduplicate


def minhash_signature(
    text: str, options: DedupOptions = DedupOptions(), _perms: Any = None
) -> Signature:
    """The MinHash signature of ``text`` (all 0xFFFFFFFF for a text without words)."""
    a, b = _perms if _perms is not None else _permutations(options.num_perm, options.seed)
    hashed = _shingle_hashes(text, options.shingle_words)
    if not len(hashed):
        return np.full(options.num_perm, 0xFFFFFFFF, dtype=np.uint32)
    permuted: Signature = hashed[:, None] * a[None, :] + b[None, :]
    signature: Signature = permuted.min(axis=0).astype(np.uint32)
    return signature


class DedupIndex:
    """An incremental near-duplicate index; see the module docstring. Thread-safe."""

    def __init__(self, options: DedupOptions | None = None) -> None:
        from datasketch import MinHashLSH  # type: ignore[import-untyped,unused-ignore]

        self.options = options or DedupOptions()
        self._perms = _permutations(self.options.num_perm, self.options.seed)
        # datasketch chooses the banding (b bands of r rows) that balances false positives and
        # false negatives at the threshold; the bands themselves are plain dicts here, 50 times
        # faster than MinHashLSH.insert/query for one document at a time
        lsh = MinHashLSH(threshold=self.options.threshold, num_perm=self.options.num_perm)
        self._bands: list[tuple[int, int]] = [(i * lsh.r, (i + 1) * lsh.r) for i in range(lsh.b)]
        self._buckets: list[dict[bytes, list[int]]] = [{} for _ in self._bands]
        self._docids: list[str] = []
        self._position: dict[str, int] = {}
        # signatures as rows of one growing matrix: candidates verify in one numpy comparison
        self._matrix = np.empty((64, self.options.num_perm), dtype=np.uint32)
        self._group: list[int] = []  # position of the group's first member
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._docids)

    def __contains__(self, docid: object) -> bool:
        return docid in self._position

    def signature(self, text: str) -> Signature:
        return minhash_signature(text, self.options, self._perms)

    def signature_bytes(self, text: str) -> bytes:
        """A document's signature as bytes (``NUM_PERM`` * 4), to store beside its record."""
        return self.signature(text).astype("<u4").tobytes()

    def add(self, docid: str, text: str) -> str:
        """Add a document; return its group id (the docid of the group's earliest member)."""
        return self.add_signature(docid, self.signature(text))

    def add_signature(self, docid: str, signature: Signature | bytes, group: str = "") -> str:
        """Add a precomputed signature; ``group`` restores a stored group id as it was."""
        sig = (
            np.frombuffer(signature, dtype="<u4").astype(np.uint32)
            if isinstance(signature, bytes)
            else signature
        )
        with self._lock:
            if docid in self._position:
                return self._docids[self._group[self._position[docid]]]
            position = len(self._docids)
            if group and group in self._position:
                first = self._group[self._position[group]]
            else:
                first = self._best_match(sig)
                if first < 0:
                    first = position
            self._restore(docid, sig, first)
            return self._docids[first]

    def group_of(self, docid: str) -> str | None:
        position = self._position.get(docid)
        return None if position is None else self._docids[self._group[position]]

    def similar(self, text: str) -> list[tuple[str, float]]:
        """Documents whose estimated similarity to ``text`` reaches the threshold, best first."""
        sig = self.signature(text)
        with self._lock:
            return self._candidates(sig)

    def groups(self, min_size: int = 2) -> dict[str, list[str]]:
        """Group id -> member docids (in order of addition), for groups of ``min_size`` or more."""
        with self._lock:
            out: dict[str, list[str]] = {}
            for position, docid in enumerate(self._docids):
                out.setdefault(self._docids[self._group[position]], []).append(docid)
        return {g: members for g, members in out.items() if len(members) >= min_size}

    # -- persistence ---------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The whole index as one compressed blob (docids, groups, signatures, options)."""
        with self._lock:
            header = json.dumps(
                {
                    "options": self.options.__dict__,
                    "docids": self._docids,
                    "group": self._group,
                }
            ).encode()
            matrix = self._matrix[: len(self._docids)].astype("<u4").tobytes()
        payload = struct.pack("<I", len(header)) + header + matrix
        return _FORMAT + zlib.compress(payload, 6)

    @classmethod
    def from_bytes(cls, blob: bytes) -> DedupIndex:
        if not blob.startswith(_FORMAT):
            raise ValueError("not a Sourcebook dedup index")
        payload = zlib.decompress(blob[len(_FORMAT) :])
        (size,) = struct.unpack_from("<I", payload)
        header = json.loads(payload[4 : 4 + size])
        index = cls(DedupOptions(**header["options"]))
        num_perm = index.options.num_perm
        matrix = np.frombuffer(payload[4 + size :], dtype="<u4").reshape(-1, num_perm)
        for position, docid in enumerate(header["docids"]):
            sig = matrix[position].astype(np.uint32)
            first = int(header["group"][position])
            index._restore(docid, sig, first)
        return index

    @classmethod
    def from_signatures(
        cls, rows: Iterable[tuple[str, bytes, str]], options: DedupOptions | None = None
    ) -> DedupIndex:
        """Rebuild from stored ``(docid, signature_bytes, group_id)`` rows in ingest order."""
        index = cls(options)
        for docid, signature, group in rows:
            index.add_signature(docid, signature, group)
        return index

    # -- internals -----------------------------------------------------------------------------

    def _restore(self, docid: str, sig: Signature, first: int) -> None:
        position = len(self._docids)
        if position == len(self._matrix):
            grown = np.empty((2 * position, self.options.num_perm), dtype=np.uint32)
            grown[:position] = self._matrix
            self._matrix = grown
        self._matrix[position] = sig
        self._docids.append(docid)
        self._position[docid] = position
        self._group.append(first)
        self._insert(position, sig)

    def _insert(self, position: int, sig: Signature) -> None:
        if sig[0] == 0xFFFFFFFF and (sig == 0xFFFFFFFF).all():
            return  # no words: never a duplicate of anything
        raw = sig.tobytes()
        for buckets, (start, end) in zip(self._buckets, self._bands, strict=True):
            buckets.setdefault(raw[start * 4 : end * 4], []).append(position)

    def _candidates(self, sig: Signature) -> list[tuple[str, float]]:
        if len(self._docids) == 0 or (sig == 0xFFFFFFFF).all():
            return []
        raw = sig.tobytes()
        candidates: set[int] = set()
        for buckets, (start, end) in zip(self._buckets, self._bands, strict=True):
            hit = buckets.get(raw[start * 4 : end * 4])
            if hit:
                candidates.update(hit)
        if not candidates:
            return []
        rows = np.fromiter(candidates, dtype=np.int64, count=len(candidates))
        similarity = (self._matrix[rows] == sig).sum(axis=1) / len(sig)
        keep = similarity >= self.options.threshold
        found = sorted(
            zip(rows[keep].tolist(), similarity[keep].tolist(), strict=True),
            key=lambda pair: (-pair[1], pair[0]),
        )
        return [(self._docids[position], float(value)) for position, value in found]

    def _best_match(self, sig: Signature) -> int:
        found = self._candidates(sig)
        if not found:
            return -1
        return self._group[self._position[found[0][0]]]
