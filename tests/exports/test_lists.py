"""Result lists in every format, read back with the readers people use (rispy, bibtexparser,
json, csv)."""

from __future__ import annotations

import csv
import io
import json

import bibtexparser
import pytest
import rispy

from sourcebook.cite import cite_refworld
from sourcebook.errors import NotFound
from sourcebook.exports import LIST_FORMATS, export_documents
from sourcebook.exports.lists import CSV_COLUMNS
from tests.exports.samples import ACCESSED, ARABIC, DOCS, RUSSIAN, SEED, TRICKY

BASE = "https://coi.example.org"


def test_ris_reads_back_one_record_per_document_in_order() -> None:
    out = export_documents(DOCS, "ris", accessed=ACCESSED)
    assert out.media_type == "application/x-research-info-systems" and out.extension == "ris"
    records = rispy.loads(out.data.decode())
    assert [r["id"] for r in records] == [d.docid for d in DOCS]
    assert records[1]["title"] == RUSSIAN.title and records[1]["authors"] == ["Petrova, Anna"]
    assert records[0]["type_of_reference"] == "NEWS"
    assert records[2]["urls"] == ["https://example.org/ar"]


def test_bibtex_reads_back_with_unique_keys() -> None:
    out = export_documents(DOCS, "bibtex", accessed=ACCESSED)
    library = bibtexparser.parse_string(out.data.decode())
    assert not library.failed_blocks
    keys = [entry.key for entry in library.entries]
    assert keys == [f"sb_{d.docid}" for d in DOCS]
    tricky = library.entries[3]
    title = tricky.fields_dict["title"].value
    assert r"50\% of \textbraceleft{}cases\textbraceright{} \& <b>more</b> \#1" in title
    assert (
        tricky.fields_dict["author"].value == "Smith, Jane and {Ministry of Justice and Security}"
    )


def test_csl_json_is_an_array_of_items() -> None:
    out = export_documents(DOCS, "csl-json", accessed=ACCESSED)
    items = json.loads(out.data)
    assert [i["id"] for i in items] == [d.docid for d in DOCS]
    assert items[0]["issued"] == {"date-parts": [[2017, 2, 27]]}
    assert "issued" not in items[2]  # no date: the key is absent, never invented


def test_csv_columns_empty_cells_and_formula_guard() -> None:
    out = export_documents(DOCS, "csv", accessed=ACCESSED, base_url=BASE)
    assert out.data.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 with a byte-order mark
    rows = list(csv.DictReader(io.StringIO(out.data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    seed = rows[0]
    assert seed["countries"] == "TJ; AF; RU" and seed["publication_date"] == "2017-02-27"
    assert seed["record_url"] == f"{BASE}/record/{SEED.docid}"
    assert seed["refworld_citation"] == cite_refworld(SEED, ACCESSED, BASE)
    arabic = rows[2]
    assert arabic["title"] == ARABIC.title
    assert arabic["publication_date"] == "" and arabic["authors"] == ""  # unknown: empty cell
    assert "no date" in arabic["refworld_citation"]
    tricky = rows[3]
    assert tricky["title"] == "'" + TRICKY.title  # never a formula in a spreadsheet
    assert tricky["authors"] == "Smith, Jane; Ministry of Justice and Security"


@pytest.mark.parametrize("fmt", LIST_FORMATS)
def test_an_empty_list_is_a_valid_empty_file(fmt: str) -> None:
    out = export_documents([], fmt)
    if fmt == "csl-json":
        assert json.loads(out.data) == []
    elif fmt == "csv":
        assert out.data.decode("utf-8-sig").strip() == ",".join(CSV_COLUMNS)
    else:
        assert out.data == b""


def test_unknown_format_names_the_choices() -> None:
    with pytest.raises(NotFound, match="ris, bibtex, csl-json, csv"):
        export_documents(DOCS, "xlsx")
