"""Near-duplicate documents: reprints of one text, found by MinHash LSH and a reprint rule.

COI archives hold the same report many times: a wire story re-run by three outlets, a report
re-posted with a new header, a page cut short. Search should show one and say "2 similar". A
new annual edition of a report, or another story in the same boilerplate (a debenture notice, a
price rise, a daily market table), is *not* a reprint: folding it under another would hide it.

Choices, measured by ``benchmarks/eval_dedup.py --pairs`` (363 labelled pairs of Reuters, BBC
and State Department texts; docs/enrichment.md "Near-duplicates"):

* **Shingles**: ``SHINGLE_WORDS`` (3) consecutive words, lower-cased, letters and digits only, so
  re-wrapping, punctuation and case changes do not count.
* **Signature**: ``NUM_PERM`` (128) MinHash values of 32 bits. Words hash with CRC-32 (cached),
  shingle hashes combine them in numpy with MurmurHash3's finaliser, then 128 affine
  permutations mod 2^32 with odd multipliers (bijective). The permutations come from a fixed
  seed, so signatures stored today compare with signatures computed later, in another process.
* **Candidates**: LSH banding with the bands and rows datasketch's ``MinHashLSH`` chooses for
  ``THRESHOLD`` (estimated Jaccard 0.5; its own insert and query cost ~0.8 ms a document, so the
  bands are plain dicts here).
* **Verification**: a candidate joins only when :class:`ReprintRule` says the two are one text:
  the :class:`Fingerprint` beside the signature holds the number of distinct shingles (for the
  length ratio and the containment of the shorter text in the longer), a bottom-k sketch of the
  document's numbers (a template story differs in its figures and dates), the hash of its
  title's numbers (a new edition: "2023" / "2024"), a wire dateline's date and the publication
  date. About 0.4 ms a Reuters story in all. Version 1 (Jaccard 0.3, no verification) scored
  precision 0.59 on the labelled pairs; this one 1.000 at recall 0.948.

The index is incremental: :meth:`DedupIndex.add` returns the group a document joins, whose id is
the docid of its earliest member (the first document added is its own group). A document joins
the group of its most similar earlier reprint; groups are never merged afterwards, so a group
id once returned stays true. Persistence: :meth:`DedupIndex.to_bytes` / :meth:`from_bytes`
(one blob), or per document :meth:`Fingerprint.to_bytes` (784 bytes) stored next to the record
(a SQLite BLOB) and :meth:`DedupIndex.from_signatures` to rebuild on start-up. A bare 512-byte
MinHash stored by version 1 still loads (as a legacy fingerprint: joined only at an estimated
Jaccard of 0.9); ``sourcebook enrich --dedup`` (``enrich/regroup.py``) recomputes everything.
"""

from __future__ import annotations

import functools
import json
import re
import struct
import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "DedupIndex",
    "DedupOptions",
    "Fingerprint",
    "ReprintRule",
    "fingerprint",
    "minhash_signature",
    "shingles",
]

SHINGLE_WORDS = 3
NUM_PERM = 128
#: LSH finds candidates from this estimated Jaccard up; :func:`same_text` then decides.
THRESHOLD = 0.5
SEED = 20240519
#: How many of a document's key tokens (its numbers) its fingerprint keeps (a bottom-k
#: sketch: exact for documents with fewer keys).
KEY_SKETCH = 64
_FORMAT = b"SBDEDUP2"
_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d+")
_DATELINE = re.compile(r"^\s*[^-\n]{0,60}?,\s+([A-Z][a-z]+)\.?\s+(\d{1,2})\s+-\s")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}


def dateline_day(body: str) -> int:
    """A wire dateline's date ("LONDON, March 3 - ") as month * 32 + day; 0 without one."""
    found = _DATELINE.match(body[:200])
    month = _MONTHS.get(found.group(1)[:3].lower(), 0) if found else 0
    return month * 32 + int(found.group(2)) if found and month else 0


_NO_KEY = 0xFFFFFFFF
_EPOCH = date(1900, 1, 1)

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
#: Shingles permuted at a time by :func:`minhash_signature` (4 MB of work memory).
MINHASH_BLOCK = 8192
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
    perms = _perms if _perms is not None else _permutations(options.num_perm, options.seed)
    return _minhash_of(_shingle_hashes(text, options.shingle_words), options, perms)


def _minhash_of(hashed: Signature, options: DedupOptions, perms: Any) -> Signature:
    """The MinHash signature of a text's shingle hashes (see :func:`minhash_signature`)."""
    a, b = perms
    if not len(hashed):
        return np.full(options.num_perm, 0xFFFFFFFF, dtype=np.uint32)
    # shingles x permutations in blocks: a whole 3 MB text at once would take 800 MB
    signature: Signature = np.full(options.num_perm, 0xFFFFFFFF, dtype=np.uint32)
    for start in range(0, len(hashed), MINHASH_BLOCK):
        part = hashed[start : start + MINHASH_BLOCK]
        np.minimum(signature, (part[:, None] * a[None, :] + b[None, :]).min(axis=0), out=signature)
    return signature


def key_tokens(body: str) -> set[str]:
    """The tokens that tell one story of a template from another: the numbers (runs of digits:
    dates, amounts, prices, rates). Stories of one template (a debenture notice, a price rise, a
    daily market report) share their words and differ in exactly these; a reprint's header,
    dateline or footer rarely adds any. A wire dateline's day ("LONDON, March 3 - ") is left out:
    a story re-sent the next day carries the next day's."""
    return set(_DIGITS.findall(_DATELINE.sub("", body[:200], count=1) + body[200:]))


def title_numbers(title: str) -> int:
    """A hash of the numbers in a title ("2024", "April 7", "12:00"), 0 when it has none: two
    titles with different numbers are different editions or different reports."""
    numbers = sorted(set(_DIGITS.findall(title)))
    return zlib.crc32(" ".join(numbers).encode("utf-8")) | 1 if numbers else 0


def split_title(text: str) -> tuple[str, str]:
    """``"title\nbody"`` (how documents are fingerprinted) -> (title, body)."""
    title, sep, body = text.partition("\n")
    return (title, body) if sep else ("", title)


@dataclass(frozen=True)
class Fingerprint:
    """What decides whether two documents are reprints of one text: the MinHash signature of
    the word shingles, how many distinct shingles there are, a bottom-k sketch of the key tokens
    and their number, and the hash of the title's numbers. Stored as :meth:`to_bytes`."""

    signature: Signature
    shingles: int
    keys: Signature  # the KEY_SKETCH smallest key hashes, ascending, padded with 0xFFFFFFFF
    key_count: int
    title_numbers: int
    legacy: bool = False  # a signature stored before fingerprints: nothing but the MinHash
    dateline: int = 0  # :func:`dateline_day`
    published: int = 0  # publication date as days since 1900-01-01 (0: unknown)

    @property
    def _flags(self) -> int:
        """Bit 0: a fingerprint (not a legacy signature); 1-9: the dateline; 10-31: the date."""
        if self.legacy:
            return 0
        return 1 | (self.dateline & 0x1FF) << 1 | (self.published & 0x3FFFFF) << 10

    def to_bytes(self) -> bytes:
        meta = np.array(
            [self.shingles, self.key_count, self.title_numbers, self._flags],
            dtype=np.uint32,
        )
        if self.legacy:
            return self.signature.astype("<u4").tobytes()
        return np.concatenate([self.signature, self.keys, meta]).astype("<u4").tobytes()

    @classmethod
    def from_bytes(cls, blob: bytes, num_perm: int = NUM_PERM) -> Fingerprint:
        values = np.frombuffer(blob, dtype="<u4").astype(np.uint32)
        if len(values) == num_perm:  # stored by a version without fingerprints
            return cls(values, 0, np.full(KEY_SKETCH, _NO_KEY, np.uint32), 0, 0, legacy=True)
        if len(values) != num_perm + KEY_SKETCH + 4:
            raise ValueError(f"a dedup fingerprint of {len(blob)} bytes")
        meta = values[num_perm + KEY_SKETCH :]
        return cls(
            values[:num_perm],
            int(meta[0]),
            values[num_perm : num_perm + KEY_SKETCH],
            int(meta[1]),
            int(meta[2]),
            legacy=not int(meta[3]),
            dateline=int(meta[3]) >> 1 & 0x1FF,
            published=int(meta[3]) >> 10,
        )


def _days(value: date | None) -> int:
    return (value - _EPOCH).days if value is not None and value > _EPOCH else 0


def _fingerprint(
    text: str, options: DedupOptions, perms: Any, published: date | None = None
) -> Fingerprint:
    title, body = split_title(text)
    hashed = _shingle_hashes(text, options.shingle_words)  # once: the signature and the count
    signature = _minhash_of(hashed, options, perms)
    distinct = len(np.unique(hashed))
    hashes = sorted({_word_hashes[k] for k in key_tokens(body)})
    keys = np.full(KEY_SKETCH, _NO_KEY, dtype=np.uint32)
    keys[: min(len(hashes), KEY_SKETCH)] = hashes[:KEY_SKETCH]
    return Fingerprint(
        signature,
        distinct,
        keys,
        len(hashes),
        title_numbers(title),
        dateline=dateline_day(body),
        published=_days(published),
    )


def fingerprint(
    text: str, options: DedupOptions = DedupOptions(), published: date | None = None
) -> Fingerprint:
    """The :class:`Fingerprint` of ``"title\nbody"`` published on ``published``."""
    return _fingerprint(text, options, _permutations(options.num_perm, options.seed), published)


def _containment(jaccard: float, a: int, b: int) -> float:
    """How much of the smaller set the larger holds, from their Jaccard similarity and sizes."""
    if not a or not b:
        return 0.0
    return min(1.0, jaccard * (a + b) / ((1.0 + jaccard) * min(a, b)))


def key_containment(a: Fingerprint, b: Fingerprint) -> float:
    """How many of the key tokens of the document with fewer keys the other has (exact when
    both have at most KEY_SKETCH keys, else estimated from the bottom-k sketches)."""
    sa = {int(v) for v in a.keys if v != _NO_KEY}
    sb = {int(v) for v in b.keys if v != _NO_KEY}
    if not sa or not sb:
        return 0.0
    if a.key_count <= KEY_SKETCH and b.key_count <= KEY_SKETCH:
        return len(sa & sb) / min(len(sa), len(sb))
    union = sorted(sa | sb)[:KEY_SKETCH]
    jaccard = sum(1 for v in union if v in sa and v in sb) / len(union)
    return _containment(jaccard, a.key_count, b.key_count)


@dataclass(frozen=True)
class ReprintRule:
    """When two documents are reprints of one text (see docs/enrichment.md, "Near-duplicates").

    A candidate pair (estimated Jaccard of word 3-shingles of at least ``DedupOptions.threshold``)
    is a reprint when all of these hold:

    * the titles do not carry different numbers ("2023" / "2024", "April 7" / "April 8"), and
      wire datelines ("LONDON, March 3 - ") are at most ``dateline_days`` apart (the same
      statement a fortnight later is a new report; a story re-sent the next day is a reprint);
    * the shorter text is at least ``length_ratio`` of the longer one and the longer one holds
      at least ``containment`` of its shingles (a trimmed tail, a dateline, a footer pass; a
      story with new paragraphs does not);
    * the text with fewer numbers has at least ``key_containment`` of them in the other one
      (:func:`key_tokens`): stories of one template (a debenture notice, a price rise, a daily
      market report) share their boilerplate and differ in exactly these;
    * short texts (fewer than ``short_shingles`` shingles: mostly boilerplate) need an estimated
      Jaccard of ``short_jaccard`` and publication dates at most ``short_days`` apart (the
      Fed's "customer repurchase" flash in the same words on four days is four events);
    * a signature stored before fingerprints (no lengths, no keys) needs ``legacy_jaccard``.
    """

    length_ratio: float = 0.6
    containment: float = 0.9
    key_containment: float = 0.95
    dateline_days: int = 1
    short_days: int = 2
    short_shingles: int = 50
    short_jaccard: float = 0.8
    legacy_jaccard: float = 0.9

    def same_text(self, a: Fingerprint, b: Fingerprint, jaccard: float | None = None) -> bool:
        if jaccard is None:
            jaccard = float((a.signature == b.signature).mean())
        if a.legacy or b.legacy:
            return jaccard >= self.legacy_jaccard
        if a.title_numbers and b.title_numbers and a.title_numbers != b.title_numbers:
            return False
        if a.dateline and b.dateline:
            (ma, da), (mb, db) = divmod(a.dateline, 32), divmod(b.dateline, 32)
            if ma != mb or abs(da - db) > self.dateline_days:
                return False
        small, large = sorted((a.shingles, b.shingles))
        if not small or small < self.length_ratio * large:
            return False
        if _containment(jaccard, a.shingles, b.shingles) < self.containment:
            return False
        if small < self.short_shingles:
            if jaccard < self.short_jaccard:
                return False
            if a.published and b.published and abs(a.published - b.published) > self.short_days:
                return False  # a flash in the same words on another day reports another event
        # numbers: a template story with other figures is another story
        return not a.key_count or not b.key_count or key_containment(a, b) >= self.key_containment


@functools.lru_cache(maxsize=8)
def _banding(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) that datasketch chooses; worked out by numerical integration
    (a quarter of a second), so once per process."""
    from datasketch import MinHashLSH  # type: ignore[import-untyped,unused-ignore]

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return int(lsh.b), int(lsh.r)


class DedupIndex:
    """An incremental near-duplicate index; see the module docstring. Thread-safe."""

    def __init__(
        self, options: DedupOptions | None = None, rule: ReprintRule | None = None
    ) -> None:
        self.options = options or DedupOptions()
        self.rule = rule or ReprintRule()
        self._perms = _permutations(self.options.num_perm, self.options.seed)
        # datasketch chooses the banding (b bands of r rows) that balances false positives and
        # false negatives at the threshold; the bands themselves are plain dicts here, 50 times
        # faster than MinHashLSH.insert/query for one document at a time
        bands, rows = _banding(self.options.threshold, self.options.num_perm)
        self._bands: list[tuple[int, int]] = [(i * rows, (i + 1) * rows) for i in range(bands)]
        self._buckets: list[dict[bytes, list[int]]] = [{} for _ in self._bands]
        self._docids: list[str] = []
        self._position: dict[str, int] = {}
        # fingerprints as rows of one growing matrix: candidates compare in one numpy operation
        self._width = self.options.num_perm + KEY_SKETCH + 4
        self._matrix = np.empty((64, self._width), dtype=np.uint32)
        self._group: list[int] = []  # position of the group's first member
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._docids)

    def __contains__(self, docid: object) -> bool:
        return docid in self._position

    def signature(self, text: str) -> Signature:
        return minhash_signature(text, self.options, self._perms)

    def fingerprint(self, text: str, published: date | None = None) -> Fingerprint:
        """The fingerprint of ``"title\nbody"`` published on ``published`` (see
        :class:`Fingerprint`)."""
        return _fingerprint(text, self.options, self._perms, published)

    def signature_bytes(self, text: str) -> bytes:
        """A document's fingerprint as bytes, to store beside its record."""
        return self.fingerprint(text).to_bytes()

    def add(self, docid: str, text: str, published: date | None = None) -> str:
        """Add ``"title\nbody"``; return its group id (the docid of the group's earliest
        member)."""
        return self.add_signature(docid, self.fingerprint(text, published))

    def add_signature(
        self, docid: str, signature: Fingerprint | Signature | bytes, group: str = ""
    ) -> str:
        """Add a precomputed fingerprint (or its bytes; a bare MinHash signature counts as one
        stored before fingerprints); ``group`` restores a stored group id as it was."""
        fp = self._as_fingerprint(signature)
        with self._lock:
            if docid in self._position:
                return self._docids[self._group[self._position[docid]]]
            position = len(self._docids)
            if group and group in self._position:
                first = self._group[self._position[group]]
            elif group == docid:
                first = position  # stored as the first of its own group: stays so
            else:
                first = self._best_match(fp)
                if first < 0:
                    first = position
            self._restore(docid, self._row(fp), first)
            return self._docids[first]

    def group_of(self, docid: str) -> str | None:
        position = self._position.get(docid)
        return None if position is None else self._docids[self._group[position]]

    def similar(self, text: str) -> list[tuple[str, float]]:
        """Documents that are reprints of ``text`` (by :class:`ReprintRule`) with their
        estimated similarity, best first."""
        fp = self.fingerprint(text)
        with self._lock:
            return self._candidates(fp)

    def groups(self, min_size: int = 2) -> dict[str, list[str]]:
        """Group id -> member docids (in order of addition), for groups of ``min_size`` or more."""
        with self._lock:
            out: dict[str, list[str]] = {}
            for position, docid in enumerate(self._docids):
                out.setdefault(self._docids[self._group[position]], []).append(docid)
        return {g: members for g, members in out.items() if len(members) >= min_size}

    # -- persistence ---------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The whole index as one compressed blob (docids, groups, fingerprints, options)."""
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
            raise ValueError("not a Sourcebook dedup index (or one of an older version)")
        payload = zlib.decompress(blob[len(_FORMAT) :])
        (size,) = struct.unpack_from("<I", payload)
        header = json.loads(payload[4 : 4 + size])
        index = cls(DedupOptions(**header["options"]))
        matrix = np.frombuffer(payload[4 + size :], dtype="<u4").reshape(-1, index._width)
        for position, docid in enumerate(header["docids"]):
            index._restore(
                docid, matrix[position].astype(np.uint32), int(header["group"][position])
            )
        return index

    @classmethod
    def from_signatures(
        cls,
        rows: Iterable[tuple[str, bytes, str]],
        options: DedupOptions | None = None,
        rule: ReprintRule | None = None,
    ) -> DedupIndex:
        """Rebuild from stored ``(docid, fingerprint_bytes, group_id)`` rows in ingest order."""
        index = cls(options, rule)
        for docid, signature, group in rows:
            index.add_signature(docid, signature, group)
        return index

    # -- internals -----------------------------------------------------------------------------

    def _as_fingerprint(self, value: Fingerprint | Signature | bytes) -> Fingerprint:
        if isinstance(value, Fingerprint):
            return value
        if isinstance(value, bytes):
            return Fingerprint.from_bytes(value, self.options.num_perm)
        return Fingerprint.from_bytes(value.astype("<u4").tobytes(), self.options.num_perm)

    def _row(self, fp: Fingerprint) -> Signature:
        meta = np.array([fp.shingles, fp.key_count, fp.title_numbers, fp._flags], dtype=np.uint32)
        return np.concatenate([fp.signature, fp.keys, meta]).astype(np.uint32)

    def _fingerprint_at(self, position: int) -> Fingerprint:
        n = self.options.num_perm
        row = self._matrix[position]
        meta = row[n + KEY_SKETCH :]
        return Fingerprint(
            row[:n],
            int(meta[0]),
            row[n : n + KEY_SKETCH],
            int(meta[1]),
            int(meta[2]),
            legacy=not int(meta[3]),
            dateline=int(meta[3]) >> 1 & 0x1FF,
            published=int(meta[3]) >> 10,
        )

    def _restore(self, docid: str, row: Signature, first: int) -> None:
        position = len(self._docids)
        if position == len(self._matrix):
            grown = np.empty((2 * position, self._width), dtype=np.uint32)
            grown[:position] = self._matrix
            self._matrix = grown
        self._matrix[position] = row
        self._docids.append(docid)
        self._position[docid] = position
        self._group.append(first)
        self._insert(position, row[: self.options.num_perm])

    def _insert(self, position: int, sig: Signature) -> None:
        if sig[0] == 0xFFFFFFFF and (sig == 0xFFFFFFFF).all():
            return  # no words: never a duplicate of anything
        raw = sig.tobytes()
        for buckets, (start, end) in zip(self._buckets, self._bands, strict=True):
            buckets.setdefault(raw[start * 4 : end * 4], []).append(position)

    def _candidates(self, fp: Fingerprint) -> list[tuple[str, float]]:
        sig = fp.signature
        if len(self._docids) == 0 or (sig == 0xFFFFFFFF).all():
            return []
        raw = sig.astype(np.uint32).tobytes()
        candidates: set[int] = set()
        for buckets, (start, end) in zip(self._buckets, self._bands, strict=True):
            hit = buckets.get(raw[start * 4 : end * 4])
            if hit:
                candidates.update(hit)
        if not candidates:
            return []
        rows = np.fromiter(candidates, dtype=np.int64, count=len(candidates))
        n = self.options.num_perm
        similarity = (self._matrix[rows, :n] == sig).sum(axis=1) / n
        keep = similarity >= self.options.threshold
        found = sorted(
            zip(rows[keep].tolist(), similarity[keep].tolist(), strict=True),
            key=lambda pair: (-pair[1], pair[0]),
        )
        return [
            (self._docids[position], float(value))
            for position, value in found
            if self.rule.same_text(fp, self._fingerprint_at(position), float(value))
        ]

    def _best_match(self, fp: Fingerprint) -> int:
        found = self._candidates(fp)
        if not found:
            return -1
        return self._group[self._position[found[0][0]]]
