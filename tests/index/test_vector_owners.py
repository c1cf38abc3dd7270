"""The table of which document each vector row belongs to."""

from __future__ import annotations

import numpy as np

from sourcebook.ids import id_number
from sourcebook.index.vector_owners import Owners


def test_rows_are_numbered_by_document_and_the_table_grows_with_the_rows() -> None:
    ids = ["a#0", "b#3", "a#1", "whole"]
    owners = Owners().extended(ids)
    assert owners.rows == 4 and owners.names == ("a", "b", "whole")
    assert owners.of_row.tolist() == [0, 1, 0, 2] and owners.seqs.tolist() == [0, 3, 1, -1]
    assert owners.extended(ids) is owners  # nothing new: the same table
    grown = owners.extended([*ids, "c#0", "b#4"])
    assert grown.names == ("a", "b", "whole", "c") and grown.of_row.tolist()[4:] == [3, 1]
    assert owners.names == ("a", "b", "whole")  # the old table is unchanged (readers hold it)
    assert grown.keys.tolist() == [id_number(d) for d in grown.names]


def test_kept_marks_the_documents_named_by_number() -> None:
    owners = Owners().extended([f"d{i}#0" for i in range(50)])
    only = np.asarray([id_number("d3"), id_number("d40"), id_number("nowhere")], np.uint64)
    assert np.flatnonzero(owners.kept(only)).tolist() == [3, 40]
    assert not owners.kept(np.zeros(0, np.uint64)).any()
    assert Owners().kept(only).shape == (0,)
