"""Metadata manifests, housekeeping files and ignore files, through the real ingest path."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sourcebook.cli import app
from sourcebook.config import Settings
from sourcebook.ingest.inputs import housekeeping_reason, plan_inputs
from sourcebook.ingest.manifest import read_manifest
from sourcebook.model import Document
from sourcebook.records import stated_original_url
from sourcebook.services import Archive, IngestOptions, IngestReport

REPORT_MD = """# Narnia — Country Reports on Human Rights Practices

Editions included: 2024

## Narnia — 2024 Human Rights Report

Source PDF: https://example.org/uploads/NARNIA-2024.pdf

### Executive Summary

The government of Narnia restricted freedom of movement and detained critics.
"""

NOTE_TXT = """Talks in Dushanbe

Officials met in Dushanbe on Tuesday to discuss border security along the river.
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    return write(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def ingest(tmp_path: Path, *paths: Path, **options: object) -> tuple[IngestReport, list[Document]]:
    with Archive(Settings(home=tmp_path / "archive")) as archive:
        report = archive.ingest(list(paths), IngestOptions(enrich=False, **options))  # type: ignore[arg-type]
        docs = list(archive.store.iter_documents())
    return report, docs


@pytest.fixture
def collection(tmp_path: Path) -> Path:
    """A folder like the State Department one: reports, a manifest and housekeeping files."""
    root = tmp_path / "hrr"
    write(root / "reports" / "narnia.md", REPORT_MD)
    jsonl(
        root / "metadata.jsonl",
        [
            {
                "id": "hrr-2024-narnia",
                "country": "Tajikistan",
                "title": "Narnia 2024 Human Rights Report",
                "publisher": "U.S. Department of State",
                "release_date": "2025-08-12",
                "language": "en",
                "page_url": "https://example.org/reports/2024/narnia/",
                "url_derived": "https://example.org/made-up-from-title",
                "path": "reports/narnia.md",
            }
        ],
    )
    write(root / "PROVENANCE.md", "# Where this came from\n\nCopied from a repository.\n")
    write(root / "README.txt", "Read me first.\n")
    write(root / "lewis.dtd", "<!ELEMENT REUTERS (DATE, TEXT)>\n")
    write(root / "all-places-strings.lc.txt", "afghanistan\nalbania\n")
    write(root / "catalog" / "2026-04-09.csv", "IF1,Some title,https://x/IF1,04/09/2026\n")
    return root


def test_folder_gives_exactly_its_documents_with_manifest_fields(
    tmp_path: Path, collection: Path
) -> None:
    report, docs = ingest(tmp_path, collection)
    assert report.documents == 1 and len(docs) == 1, [f.path for f in report.files]
    doc = docs[0]
    assert doc.title == "Narnia 2024 Human Rights Report"  # the manifest wins over the heading
    assert doc.publisher == "U.S. Department of State"
    assert doc.publication_date == date(2025, 8, 12)
    assert doc.original_url == "https://example.org/reports/2024/narnia/"
    assert doc.source_id == "hrr-2024-narnia"
    assert doc.language == "en" and doc.countries == ["TJ"]
    # stated by the source's manifest, so not derived
    assert not {"title", "publisher", "language", "countries", "original_url"} & set(doc.derived)
    skipped = {Path(s.path).name: s.reason for s in report.skipped_files}
    assert skipped == {
        "metadata.jsonl": "metadata manifest",
        "PROVENANCE.md": "housekeeping: provenance notes",
        "README.txt": "housekeeping: read-me",
        "lewis.dtd": "housekeeping: document type definition",
        "all-places-strings.lc.txt": "housekeeping: Reuters-21578 category list",
        "2026-04-09.csv": "housekeeping: table (catalogue or index)",
    }
    assert report.warnings == []


def test_manifest_fields_are_content_and_reingest_is_unchanged(
    tmp_path: Path, collection: Path
) -> None:
    ingest(tmp_path, collection)
    report, _ = ingest(tmp_path, collection)
    assert report.total("unchanged") == 1 and report.total("added") == 0


def test_housekeeping_can_be_kept_and_named_files_are_always_taken(
    tmp_path: Path, collection: Path
) -> None:
    report, docs = ingest(tmp_path, collection / "README.txt")
    assert report.documents == 1 and docs[0].title == "Read me first."
    report, _ = ingest(tmp_path / "b", collection, skip_housekeeping=False)
    names = {Path(f.path).name for f in report.files}
    assert {"PROVENANCE.md", "README.txt", "lewis.dtd"} <= names
    assert "metadata.jsonl" not in names  # a manifest is never a document


def test_a_manifest_named_on_the_command_line_is_not_a_document(
    tmp_path: Path, collection: Path
) -> None:
    report, docs = ingest(tmp_path, collection / "metadata.jsonl")
    assert report.documents == 0 and docs == []
    assert [s.reason for s in report.skipped_files] == ["metadata manifest"]


def test_a_named_file_gets_the_row_of_the_manifest_beside_it(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write(folder / "note.txt", NOTE_TXT)
    jsonl(folder / "metadata.jsonl", [{"file": "note.txt", "publisher": "Asia-Plus"}])
    _, docs = ingest(tmp_path, folder / "note.txt")
    assert docs[0].publisher == "Asia-Plus"


def test_csv_manifest_with_file_names_and_a_country_list(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write(folder / "note.txt", NOTE_TXT)
    write(
        folder / "metadata.csv",
        "filename,publisher,date,countries,type,authors\n"
        'note.txt,Asia-Plus,27 February 2017,"Kyrgyz Republic; Tajikistan",News,'
        '"Rahimov, Aziz; Karimova, Lola"\n',
    )
    _, docs = ingest(tmp_path, folder)
    assert len(docs) == 1
    doc = docs[0]
    assert doc.publisher == "Asia-Plus" and doc.publication_date == date(2017, 2, 27)
    assert doc.countries == ["KG", "TJ"] and doc.document_type == "News"
    assert doc.authors == ["Rahimov, Aziz", "Karimova, Lola"]


def test_paths_relative_to_a_folder_above_and_ids_matching_file_names(tmp_path: Path) -> None:
    # the Wikinews layout: fr/metadata.jsonl names "fr/docs/<id>.txt"
    root = tmp_path / "wikinews"
    write(root / "fr" / "docs" / "43971.txt", NOTE_TXT)
    write(root / "fr" / "docs" / "44046.txt", "Autre titre\n\nUn autre texte en français.\n")
    jsonl(
        root / "fr" / "metadata.jsonl",
        [
            {"id": "43971", "path": "fr/docs/43971.txt", "lang": "fr", "date": "2012-05-22"},
            {"id": "44046", "publisher": "Wikinews (fr)", "date": None},
        ],
    )
    report, docs = ingest(tmp_path, root)
    by_id = {d.source_id: d for d in docs}
    assert set(by_id) == {"43971", "44046"} and report.warnings == []
    assert by_id["43971"].language == "fr"
    assert by_id["43971"].publication_date == date(2012, 5, 22)
    assert by_id["44046"].publisher == "Wikinews (fr)"
    assert by_id["44046"].publication_date is None  # a null is no value, not a date


def test_rows_that_name_no_file_are_warnings_not_documents(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write(folder / "note.txt", NOTE_TXT)
    jsonl(
        folder / "metadata.jsonl",
        [
            {"path": "reports/missing.md", "title": "Gone"},
            {"title": "No file at all", "publisher": "Nobody"},
            {"id": "no-such-file", "title": "Unmatched id"},
            {"file": "note.txt", "date": "sometime in spring", "country": "Atlantis"},
        ],
    )
    write(folder / "metadata.jsonl", (folder / "metadata.jsonl").read_text() + "{not json\n")
    report, docs = ingest(tmp_path, folder)
    assert len(docs) == 1 and docs[0].publication_date is None and docs[0].countries == []
    text = "\n".join(report.warnings)
    assert "metadata.jsonl:1: names 'reports/missing.md', which does not exist" in text
    assert "metadata.jsonl:2: the row names no file" in text
    assert "metadata.jsonl:3: no file matches id 'no-such-file'" in text
    assert "'sometime in spring' is not a date" in text
    assert "unknown country 'Atlantis'" in text
    assert "metadata.jsonl:5: not JSON" in text


def test_metadata_option_names_a_manifest_elsewhere(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write(folder / "note.txt", NOTE_TXT)
    manifest = jsonl(
        tmp_path / "elsewhere" / "meta.jsonl",
        [{"file": "note.txt", "publisher": "Radio Ozodi", "url": "https://ozodi.org/a/1.html"}],
    )
    jsonl(folder / "metadata.jsonl", [{"file": "note.txt", "publisher": "Found beside"}])
    report, docs = ingest(tmp_path, folder, manifest, metadata=[manifest])
    assert len(docs) == 1 and report.documents == 1  # the --metadata file is not a document
    assert Path(report.skipped_files[-1].path) == manifest
    assert docs[0].publisher == "Radio Ozodi"  # named manifests are asked first
    assert docs[0].original_url == "https://ozodi.org/a/1.html"


def test_sourcebookignore_uses_gitignore_syntax(tmp_path: Path) -> None:
    root = tmp_path / "in"
    write(root / "keep.txt", NOTE_TXT)
    write(root / "draft.bak.txt", NOTE_TXT.replace("Talks", "Draft"))
    write(root / "scratch" / "a.txt", NOTE_TXT.replace("Talks", "Scratch"))
    write(root / "README.md", "# Read me\n\nThis folder's README is a real document here.\n")
    write(root / "sub" / "inner.txt", NOTE_TXT.replace("Talks", "Inner"))
    write(root / "sub" / "other.txt", NOTE_TXT.replace("Talks", "Other"))
    write(root / ".sourcebookignore", "# drafts\n*.bak.txt\nscratch/\n!README.md\nsub/*.txt\n")
    write(root / "sub" / ".sourcebookignore", "!inner.txt\n")  # a deeper file wins
    plan = plan_inputs([root], IngestOptions())
    taken = sorted(p.path.relative_to(root).as_posix() for p in plan.files)
    assert taken == ["README.md", "keep.txt", "sub/inner.txt"]
    hidden_too = plan_inputs([root], IngestOptions(include_hidden=True))
    assert len(hidden_too.files) == 3  # the ignore file itself is never a document
    reasons = {s.path.relative_to(root).as_posix(): s.reason for s in plan.skipped}
    assert reasons["draft.bak.txt"] == ".sourcebookignore"
    assert reasons["scratch"] == ".sourcebookignore (folder)"
    assert reasons["sub/other.txt"] == ".sourcebookignore"


def test_housekeeping_names_are_matched_without_case() -> None:
    assert housekeeping_reason("README.TXT") == "housekeeping: read-me"
    assert housekeeping_reason("Metadata.JSONL") == "metadata manifest"
    assert housekeeping_reason("cat-descriptions_120396.txt")
    assert housekeeping_reason("readings.txt") == ""
    assert housekeeping_reason("reut2-000.sgm") == ""


def test_source_line_gives_the_original_url_only_where_stated(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write(folder / "narnia.md", REPORT_MD)
    write(folder / "mention.txt", "Title\n\nThe report (Source: https://example.org/x) said so.\n")
    _, docs = ingest(tmp_path, folder)
    by_title = {d.title: d for d in docs}
    assert (
        by_title["Narnia — Country Reports on Human Rights Practices"].original_url
        == "https://example.org/uploads/NARNIA-2024.pdf"
    )
    assert by_title["Title"].original_url == ""  # a mention inside a sentence is not a line
    assert stated_original_url("Body text.\n\nOriginal: https://e.org/p") == "https://e.org/p"
    assert stated_original_url("Source PDF: not a link") == ""


def test_read_manifest_normalises_column_names(tmp_path: Path) -> None:
    manifest = jsonl(tmp_path / "metadata.jsonl", [{"Path": "a.txt", "Publisher": " UNHCR "}])
    row = read_manifest(manifest).rows[0]
    assert row.files == ["a.txt"] and row.fields == {"publisher": "UNHCR"}
    # a spreadsheet saved as Windows-1252 is read too
    legacy = tmp_path / "metadata.csv"
    legacy.write_bytes("file,publisher\nb.txt,Le Monde diplomatique — Éditions\n".encode("cp1252"))
    assert read_manifest(legacy).rows[0].fields["publisher"] == "Le Monde diplomatique — Éditions"


def test_cli_dry_run_lists_parsers_fields_and_skips_writing_nothing(
    tmp_path: Path, collection: Path
) -> None:
    archive = tmp_path / "never-created"
    result = CliRunner().invoke(
        app, ["--archive", str(archive), "ingest", "--dry-run", str(collection)]
    )
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())  # rich wraps long lines
    assert "text " + str(collection / "reports" / "narnia.md") in out
    assert "title: Narnia 2024 Human Rights Report" in out
    assert "publisher: U.S. Department of State" in out
    assert "skipped " + str(collection / "lewis.dtd") in out
    assert "(housekeeping: document type definition)" in out
    assert "1 files would be ingested, 6 skipped" in out
    assert not archive.exists()


def test_cli_ingest_reports_warnings_and_passed_over_files(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write(folder / "note.txt", NOTE_TXT)
    write(folder / "README.md", "# Read me\n")
    jsonl(folder / "metadata.jsonl", [{"path": "gone/x.md", "title": "Gone"}])
    result = CliRunner().invoke(app, ["--archive", str(tmp_path / "a"), "ingest", str(folder)])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "warning:" in out and "names 'gone/x.md', which does not exist" in out
    assert "2 files passed over" in out
    assert "1 files: 1 added" in out


def test_an_export_round_trips_untouched_by_source_lines_and_manifests(tmp_path: Path) -> None:
    with Archive(Settings(home=tmp_path / "first")) as archive:
        doc = Document(
            source_key="test:api",
            title="Statement",
            body="A statement.\n\nSource: https://example.org/statement",
        )
        archive.add_documents([doc], IngestOptions(enrich=False))
        out = io.StringIO()
        archive.export_jsonl(out)
    exported = json.loads(out.getvalue())
    assert exported["original_url"] == ""  # added through the API, not from a file
    folder = tmp_path / "export"
    write(folder / "export.jsonl", out.getvalue())
    jsonl(folder / "metadata.jsonl", [{"file": "export.jsonl", "publisher": "Someone"}])
    with Archive(Settings(home=tmp_path / "second")) as other:
        report = other.import_jsonl([folder])
        assert report.total("added") == 1
        again = other.get(exported["docid"])
    assert again.original_url == "" and again.publisher == ""


def test_a_row_for_a_file_of_many_documents_gives_them_no_common_title(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    lines = [
        {"id": "s1", "title": "First story", "text": "Officials met in Dushanbe on Monday."},
        {"id": "s2", "title": "Second story", "text": "Talks continued in Kabul on Tuesday."},
    ]
    jsonl(folder / "stories.jsonl", lines)
    jsonl(
        folder / "metadata.jsonl",
        [{"file": "stories.jsonl", "title": "A bundle", "id": "bundle", "publisher": "Asia-Plus"}],
    )
    _, docs = ingest(tmp_path, folder)
    assert sorted(d.title for d in docs) == ["First story", "Second story"]
    assert {d.publisher for d in docs} == {"Asia-Plus"}
    assert "bundle" not in {d.source_id for d in docs}
