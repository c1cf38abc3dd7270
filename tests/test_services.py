"""The archive's use cases end to end on a temporary archive: real parsers, SQLite and Tantivy."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sourcebook.config import Settings
from sourcebook.errors import NotFound
from sourcebook.search.request import SearchRequest
from sourcebook.services import Archive, IngestOptions

STORY_A = """Border security talks in Dushanbe

Russian and Tajik officials agreed to bolster security along the Tajik-Afghan border.

Troops from the 201st Motor Rifle Division are stationed at three facilities in Tajikistan.
"""

STORY_B = """Floods in the Kulob region

Heavy rain caused floods that destroyed homes in the south of the country.

Aid agencies said returnees from Iran were among those affected.
"""


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    with Archive(Settings(home=tmp_path / "archive")) as arch:
        yield arch


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_ingest_is_idempotent_and_changes_make_revisions(archive: Archive, tmp_path: Path) -> None:
    src = tmp_path / "in"
    a = write(src, "a.txt", STORY_A)
    write(src, "b.txt", STORY_B)
    first = archive.ingest([src])
    assert (first.total("added"), first.total("failed")) == (2, 0)
    again = archive.ingest([src])
    assert (again.total("added"), again.total("unchanged")) == (0, 2)
    assert archive.store.count() == 2

    hits = archive.search(SearchRequest(query="Tajik-Afghan border")).hits
    docid = hits[0].docid
    before = archive.get(docid)
    a.write_text(STORY_A.replace("three facilities", "four facilities"), encoding="utf-8")
    third = archive.ingest([src])
    assert (third.total("updated"), third.total("unchanged")) == (1, 1)
    after = archive.get(docid)
    assert after.docid == before.docid
    assert [r.number for r in after.revisions] == [1, 2]
    assert after.revisions[1].changed_fields == ["body"]
    assert after.last_updated is not None and before.last_updated is not None
    assert after.last_updated >= before.last_updated
    assert (
        "four facilities"
        in archive.search(SearchRequest(query='"four facilities"')).hits[0].passages[0].text
    )
    assert archive.search(SearchRequest(query='"three facilities"')).total == 0
    assert archive.check().ok


def test_a_bad_file_is_recorded_and_does_not_abort(archive: Archive, tmp_path: Path) -> None:
    src = tmp_path / "in"
    write(src, "a.txt", STORY_A)
    (src / "junk.bin").write_bytes(bytes(range(256)) * 10)
    write(src, "z.txt", STORY_B)
    report = archive.ingest([src, tmp_path / "does-not-exist.txt"])
    by_name = {Path(f.path).name: f for f in report.files}
    assert by_name["a.txt"].added == 1 and by_name["z.txt"].added == 1
    assert by_name["junk.bin"].status == "failed"
    assert by_name["junk.bin"].errors and "junk.bin" in by_name["junk.bin"].errors[0]
    assert by_name["does-not-exist.txt"].errors == [
        f"{tmp_path / 'does-not-exist.txt'}: no such file or directory"
    ]
    assert report.failed_files == 2
    errors = archive.store.recent_errors()
    assert len(errors) == 2


def test_too_large_files_fail_cleanly(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "archive", max_file_bytes=100)
    src = write(tmp_path, "big.txt", STORY_A)
    with Archive(settings) as arch:
        report = arch.ingest([src])
    assert report.files[0].status == "failed"
    assert "limit is 100" in report.files[0].errors[0]


def test_language_is_detected_and_marked_derived(archive: Archive, tmp_path: Path) -> None:
    write(
        tmp_path / "in",
        "fr.txt",
        "Inondations au Tadjikistan\n\nLes pluies ont détruit des "
        "maisons dans le sud du pays et les agences humanitaires sont sur place.",
    )
    archive.ingest([tmp_path / "in"])
    doc = next(archive.store.iter_documents())
    assert doc.language == "fr"
    assert "language" in doc.derived
    # French stemming: the plural finds the singular
    assert archive.search(SearchRequest(query="inondation")).total == 1
    assert archive.search(SearchRequest(query="language:fr")).total == 1


def test_collection_option_and_forced_parser(archive: Archive, tmp_path: Path) -> None:
    path = write(tmp_path, "notes.dat", STORY_A)
    report = archive.ingest([path], IngestOptions(collection="field-notes", parser="text"))
    assert report.total("added") == 1
    doc = next(archive.store.iter_documents())
    assert doc.collection == "field-notes"
    result = archive.search(SearchRequest(collections=["field-notes"]))
    assert result.total == 1


def test_export_import_round_trip(archive: Archive, tmp_path: Path) -> None:
    src = tmp_path / "in"
    write(src, "a.txt", STORY_A)
    write(src, "b.txt", STORY_B)
    archive.ingest([src])
    out = io.StringIO()
    assert archive.export_jsonl(out) == 2
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {"docid", "countries", "passages", "revisions", "cite_as"} <= set(lines[0])
    export_file = write(tmp_path, "export.jsonl", out.getvalue())
    with Archive(Settings(home=tmp_path / "other")) as other:
        report = other.import_jsonl([export_file])
        assert report.total("added") == 2, report.files[0].errors
        for record in lines:
            doc = other.get(record["docid"])
            assert doc.title == record["title"]
            assert doc.body == record["body"]
            assert doc.source_key == record["source_key"]
            assert doc.language == record["language"]
        again = io.StringIO()
        other.export_jsonl(again)
    strip = ("origin", "revisions")
    first = [{k: v for k, v in r.items() if k not in strip} for r in lines]
    second = [
        {k: v for k, v in json.loads(x).items() if k not in strip}
        for x in again.getvalue().splitlines()
    ]
    assert first == second


def test_check_finds_and_repairs_drift(archive: Archive, tmp_path: Path) -> None:
    write(tmp_path / "in", "a.txt", STORY_A)
    write(tmp_path / "in", "b.txt", STORY_B)
    archive.ingest([tmp_path / "in"])
    docids = [d.docid for d in archive.store.iter_documents()]
    archive.index.delete([docids[0]])
    archive.index.commit()
    report = archive.check()
    assert report.missing == [docids[0]] and not report.ok
    repaired = archive.check(repair=True)
    assert repaired.repaired
    assert archive.check().ok
    assert archive.search(SearchRequest(query="Dushanbe")).total == 1


def test_reindex_rebuilds_from_the_store(archive: Archive, tmp_path: Path) -> None:
    write(tmp_path / "in", "a.txt", STORY_A)
    archive.ingest([tmp_path / "in"])
    archive.index.delete_all()
    archive.index.commit()
    assert archive.search(SearchRequest(query="Dushanbe")).total == 0
    assert archive.reindex() == 1
    assert archive.search(SearchRequest(query="Dushanbe")).total == 1
    assert archive.check().ok


def test_get_unknown_docid(archive: Archive) -> None:
    with pytest.raises(NotFound):
        archive.get("aaaaaaaaaa")


def test_stats(archive: Archive, tmp_path: Path) -> None:
    write(tmp_path / "in", "a.txt", STORY_A)
    archive.ingest([tmp_path / "in"])
    stats = archive.stats()
    assert stats["documents"] == 1 and stats["indexed_documents"] == 1
    assert stats["embedded_documents"] == 0  # no vectors until `enrich --embeddings`
    assert int(str(stats["passages"])) >= 1


def test_empty_records_are_skipped_not_failed(archive: Archive, tmp_path: Path) -> None:
    sgm = tmp_path / "mini.sgm"
    sgm.write_text(
        '<REUTERS TOPICS="NO" NEWID="1"><DATE>26-FEB-1987 15:01:01.79</DATE>'
        "<TEXT><TITLE>COCOA TALKS</TITLE><BODY>Cocoa talks resumed in London.</BODY></TEXT>"
        "</REUTERS>\n"
        '<REUTERS TOPICS="NO" NEWID="2"><DATE>26-FEB-1987 15:02:01.79</DATE>'
        '<TEXT TYPE="UNPROC">\x05\x05\x1e</TEXT></REUTERS>\n',
        encoding="latin-1",
    )
    report = archive.ingest([sgm])
    outcome = report.files[0]
    assert (outcome.added, outcome.skipped, outcome.failed) == (1, 1, 0)
    assert "NEWID=2" in outcome.notes[0]
    assert report.failed_files == 0


def test_lone_surrogates_are_replaced_not_fatal(archive: Archive) -> None:
    from sourcebook.model import Document

    bad = Document(source_key="test:s", title="Broken \udc80 title", body="Text \ud800 here.")
    report = archive.add_documents([bad])
    assert report.total("added") == 1
    doc = next(archive.store.iter_documents())
    assert "\ufffd" in doc.title and doc.title.startswith("Broken ")


def test_an_outdated_index_is_rebuilt_from_the_store(tmp_path: Path) -> None:
    src = tmp_path / "in"
    write(src, "a.txt", STORY_A)
    settings = Settings(home=tmp_path / "archive")
    with Archive(settings) as arch:
        arch.ingest([src])
    (settings.index_path / "sourcebook-schema-version").write_text("0")
    with Archive(settings) as arch:
        assert arch.index.recreated
        assert arch.search(SearchRequest(query="Dushanbe")).total == 1
        assert arch.check().ok
