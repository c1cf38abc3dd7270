"""JsonlParser: our records (round trip), bad lines, BEIR corpora."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from sourcebook.ingest.jsonl import JsonlParser
from sourcebook.ingest.registry import BY_CONTENT, BY_EXTENSION, NO_MATCH, Source
from sourcebook.model import BadRecord, Document, EmptyRecord, Passage


def parse_all(path: Path) -> list[Document | BadRecord | EmptyRecord]:
    return list(JsonlParser().parse(Source.from_path(path)))


@pytest.fixture
def jsonl_dir(fixtures_dir: Path) -> Path:
    return fixtures_dir / "ingest" / "jsonl"


def _export(doc: Document) -> dict[str, Any]:
    """What an export writes: the dataclass as JSON, dates in ISO form."""
    record = asdict(doc)
    for key, value in record.items():
        if isinstance(value, (date, datetime)):
            record[key] = value.isoformat()
    return record


def test_round_trip_keeps_docid_and_source_key(tmp_path: Path) -> None:
    original = Document(
        docid="sb-0001",
        source_id="ex-9",
        title="Illustrative round trip",
        publisher="Sourcebook Examples",
        authors=["Jane Example"],
        publication_date=date(2024, 1, 2),
        last_updated=datetime(2024, 1, 3, 4, 5, 6, tzinfo=UTC),
        source_url="https://example.org/9",
        original_url="https://example.org/original/9",
        accessed_date=date(2024, 1, 4),
        cite_as="Sourcebook Examples, Illustrative round trip, 2 January 2024",
        disclaimer="Illustrative.",
        copyright="None.",
        body="Paragraph one.\n\nParagraph two.",
        document_type="News",
        language="en",
        countries=["TJ", "AF"],
        collection="examples",
        source_tags={"topics": ["Borders"]},
        passages=[Passage(seq=0, start=0, end=14, text="Paragraph one.")],
        source_key="refworld:0a1b2c3d4",
        derived=["language"],
        origin="elsewhere",
    )
    path = tmp_path / "export.jsonl"
    path.write_text(json.dumps(_export(original), ensure_ascii=False) + "\n")
    [doc] = parse_all(path)
    assert isinstance(doc, Document)
    expected = Document(**{**asdict(original), "passages": [], "origin": f"{path}#1"})
    expected.publication_date = original.publication_date
    expected.last_updated = original.last_updated
    expected.accessed_date = original.accessed_date
    assert doc == expected


def test_fixture_good_and_bad_lines(jsonl_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = jsonl_dir / "records.jsonl"
    with caplog.at_level(logging.WARNING, logger="sourcebook.ingest.jsonl"):
        results = parse_all(path)
    assert "unexpected_key" in caplog.text
    docs = [r for r in results if isinstance(r, Document)]
    bad = [r for r in results if isinstance(r, BadRecord)]
    assert [d.title for d in docs] == [
        "Illustrative record one",
        "Illustrative record two",
        "Illustrative record three, without source_id",
        "Illustrative record four, after the bad lines",
    ]
    assert [(b.where, b.message.split(":")[0]) for b in bad] == [
        (f"{path}:5", "not valid JSON"),
        (f"{path}:6", "expected a JSON object, got list"),
        (f"{path}:7", "title must be a string, not int"),
        (f"{path}:8", "publication_date '2024-02-30' is not a valid date (expected YYYY-MM-DD)"),
        (f"{path}:9", "record has neither title nor body"),
        (f"{path}:10", "countries"),
        (f"{path}:12", "duplicate identity 'jsonl"),
    ]
    assert "Atlantis" in bad[-2].message
    assert bad[-1].message.endswith("(first on line 2)")


def test_fixture_fields_and_keys(jsonl_dir: Path) -> None:
    path = jsonl_dir / "records.jsonl"
    one, two, three, four = [r for r in parse_all(path) if isinstance(r, Document)]
    assert one.docid == "sb-illustrative-1"
    assert one.source_key == "example:one"  # carried through
    assert one.passages == [] and one.revisions == []
    assert one.origin == f"{path}#1"
    assert one.countries == ["TJ", "AF"]
    assert one.last_updated == datetime(2024, 1, 16, 8, 0, tzinfo=UTC)
    assert one.source_tags == {"topics": ["Border controls"]}
    assert one.derived == ["language"]
    assert two.source_key == "jsonl:examples:ex-2"
    assert two.publication_date == date(2024, 2, 1)
    assert three.source_key == f"jsonl:{path.resolve()}:4"
    assert three.origin == f"{path}#3"  # third record, on line 4 after a blank line
    assert four.source_key == "jsonl::ex-4"


def test_beir_corpus(jsonl_dir: Path) -> None:
    path = jsonl_dir / "beir-mini" / "corpus.jsonl"
    results = parse_all(path)
    docs = [r for r in results if isinstance(r, Document)]
    bad = [r for r in results if isinstance(r, BadRecord)]
    assert [d.source_key for d in docs] == [
        "beir:beir-mini:d1",
        "beir:beir-mini:d2",
        "beir:beir-mini:3",
    ]
    assert docs[0].title == "Illustrative BEIR document one"
    assert docs[0].source_id == "d1"
    assert docs[0].collection == "beir-mini"
    assert docs[1].title == "" and docs[1].body.startswith("A record with an empty title")
    assert [b.where for b in bad] == [f"{path}:4"]


def test_empty_file_has_no_records(jsonl_dir: Path) -> None:
    (only,) = parse_all(jsonl_dir / "empty.jsonl")
    assert isinstance(only, EmptyRecord) and only.message == "the file holds no records"


def test_match(jsonl_dir: Path, tmp_path: Path) -> None:
    parser = JsonlParser()
    assert parser.match(Source.from_path(jsonl_dir / "records.jsonl")) == BY_CONTENT
    assert parser.match(Source.from_path(jsonl_dir / "empty.jsonl")) == BY_EXTENSION
    other = tmp_path / "data.txt"
    other.write_text('{"title": "x"}\n')
    assert parser.match(Source.from_path(other)) == NO_MATCH


# -- real data -------------------------------------------------------------------------------


@pytest.mark.shared
@pytest.mark.parametrize(
    ("name", "count", "duplicates"),
    [("scifact", 5183, 0), ("cisi", 1460, 0), ("cacm", 3204, 1), ("med", 1033, 0)],
)
def test_real_beir_corpora(shared_data: Path, name: str, count: int, duplicates: int) -> None:
    path = shared_data / "beir" / name / "corpus.jsonl"
    results = parse_all(path)
    assert len(results) == count
    bad = [r for r in results if isinstance(r, BadRecord)]
    docs = [r for r in results if isinstance(r, Document)]
    assert len(bad) == duplicates
    assert all("duplicate identity" in b.message for b in bad)  # CACM repeats _id 28
    keys = {doc.source_key for doc in docs}
    assert len(keys) == len(docs) == count - duplicates
    assert all(key.startswith(f"beir:{name}:") for key in keys)
    assert all(doc.collection == name for doc in docs)


def test_every_model_field_is_read() -> None:
    """A field added to Document must be handled here too (or exports lose it on re-import)."""
    from sourcebook.ingest import jsonl

    handled = (
        jsonl._STRING_FIELDS
        | jsonl._LIST_FIELDS
        | jsonl._DATE_FIELDS
        | jsonl._OTHER_FIELDS
        | jsonl._DERIVED_ON_IMPORT
    )
    assert handled == {f.name for f in fields(Document)}
    str_fields = {f.name for f in fields(Document) if f.type == "str"}
    assert str_fields - {"origin", "dup_group"} == jsonl._STRING_FIELDS
