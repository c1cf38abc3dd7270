"""Docids: short, URL-safe, stable for the same source, never reused, collision-checked.

A docid is the first 10 characters of the base32 (lowercase, no padding) SHA-256 of the document's
source key (``scheme:identifier``). Ingesting the same source again yields the same docid. If the
store already holds that docid for a different source key (a collision), the next 10 characters
of a re-hash are tried (``salt`` counts up), so two sources never share a docid. The store keeps
every docid it ever issued, so a deleted document's docid is never handed out again.
"""

from __future__ import annotations

import base64
import hashlib
import re

DOCID_LENGTH = 10
_DOCID_RE = re.compile(r"^[a-z2-7]{6,32}$")


def make_docid(source_key: str, salt: int = 0) -> str:
    """The candidate docid for ``source_key``; ``salt`` > 0 gives the alternatives on collision."""
    material = source_key if salt == 0 else f"{source_key}\x00{salt}"
    digest = hashlib.sha256(material.encode("utf-8")).digest()
    return base64.b32encode(digest).decode("ascii").lower().rstrip("=")[:DOCID_LENGTH]


def is_valid_docid(value: str) -> bool:
    """True when ``value`` has the shape of a docid (letters a-z and digits 2-7)."""
    return bool(_DOCID_RE.match(value))


def group_name(anchor: str) -> str:
    """The public name of the near-duplicate group whose first member is ``anchor``.

    The name is what ``group:`` searches for and what hits, records and "N similar" links show.
    It is a one-way hash of the first member's docid, not the docid itself, so a reader shown a
    reprint never learns the docid of an original they may not read (docs/security.md).
    """
    digest = hashlib.sha256(f"sourcebook-group\x00{anchor}".encode()).digest()
    return "g" + base64.b32encode(digest).decode("ascii").lower().rstrip("=")[:DOCID_LENGTH]


def id_number(value: str) -> int:
    """A 63-bit number for a docid or group id: the search index's columnar fields hold numbers
    (``doc_key``, ``dup_key``), read in bulk without fetching stored documents."""
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "big") >> 1
