"""Which document each row of the vector index belongs to.

An index of passages holds several rows per document (ids ``docid#seq``). Search pools them per
document and can be kept to some documents (those passing a search's filters, named by their
``id_number``, the search index's ``doc_key``): both need, per row, the document's number, and
per document its id and ``id_number``, as arrays, so a search takes no Python step per row.
The table is extended as rows are appended (the index never reorders rows before a reload).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from sourcebook.ids import id_number


@dataclass(frozen=True)
class Owners:
    """The documents of the matrix rows (a value: extending makes a new one)."""

    #: per row: its document's number (a position in ``names``)
    of_row: NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, np.intp))
    #: per row: its passage number (``docid#seq``), -1 for a row that is a whole document
    seqs: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    #: the documents' ids, by number
    names: tuple[str, ...] = ()
    #: the documents' ``id_number``, by number (the search index's ``doc_key``)
    keys: NDArray[np.uint64] = field(default_factory=lambda: np.zeros(0, np.uint64))
    #: the numbers that sort ``keys``, and ``keys`` sorted (numbers are looked up by bisection)
    key_order: NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, np.intp))
    sorted_keys: NDArray[np.uint64] = field(default_factory=lambda: np.zeros(0, np.uint64))
    #: document id -> number
    number: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return int(self.of_row.shape[0])

    def extended(self, ids: Sequence[str]) -> Owners:
        """The table for ``ids``, the index's row ids, of which the first ``rows`` are known."""
        if len(ids) == self.rows:
            return self
        number = dict(self.number)
        names = list(self.names)
        new_owners: list[int] = []
        new_seqs: list[int] = []
        for item in ids[self.rows :]:
            doc, _, seq = item.partition("#")
            code = number.get(doc)
            if code is None:
                code = number[doc] = len(names)
                names.append(doc)
            new_owners.append(code)
            new_seqs.append(int(seq) if seq.isdigit() else -1)
        added = [id_number(doc) for doc in names[len(self.names) :]]
        keys = np.concatenate([self.keys, np.asarray(added, dtype=np.uint64)])
        order = np.argsort(keys, kind="stable")
        return Owners(
            of_row=np.concatenate([self.of_row, np.asarray(new_owners, dtype=np.intp)]),
            seqs=np.concatenate([self.seqs, np.asarray(new_seqs, dtype=np.int64)]),
            names=tuple(names),
            keys=keys,
            key_order=order,
            sorted_keys=keys[order],
            number=number,
        )

    def kept(self, only: NDArray[np.uint64]) -> NDArray[np.bool_]:
        """Per document: whether its ``id_number`` is in ``only`` (numbers of documents without
        a row are ignored)."""
        allowed = np.zeros(len(self.names), dtype=bool)
        if self.sorted_keys.shape[0] and only.shape[0]:
            spot = np.searchsorted(self.sorted_keys, only)
            spot = np.minimum(spot, self.sorted_keys.shape[0] - 1)
            found = self.sorted_keys[spot] == only
            allowed[self.key_order[spot[found]]] = True
        return allowed


__all__ = ["Owners"]
