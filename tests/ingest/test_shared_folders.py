"""The shared collection folders ingest as exactly their documents, with their manifests' fields.

Expected counts come from each folder's own description (README.md / PROVENANCE.md in
../shared/data), not from what the code produces: 9 State Department reports (8 countries' 2024
edition plus Eritrea 2023); Wikinews French 100 and Russian 933; Reuters-21578 files
reut2-000 … reut2-014 at 1,000 stories each.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sourcebook.config import Settings
from sourcebook.ingest.inputs import plan_inputs
from sourcebook.model import Document
from sourcebook.search.request import SearchRequest
from sourcebook.services import Archive, IngestOptions, IngestReport
from tests.conftest import SHARED

STATE_DEPT_REPORTS = 9  # PROVENANCE.md: 8 reports of the 2024 edition + Eritrea 2023
WIKINEWS_FR, WIKINEWS_RU = 100, 933  # PROVENANCE.md "Counts"
REUTERS_FILES, REUTERS_STORIES_PER_FILE = 15, 1000  # README.md: reut2-000 … reut2-014


class Ingested:
    def __init__(self, archive: Archive, report: IngestReport) -> None:
        self.archive = archive
        self.report = report
        self.docs: list[Document] = list(archive.store.iter_documents())


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ingested]:
    """The State Department and Wikinews folders ingested once for the module (about 10 s)."""
    data = SHARED / "data"
    if not data.is_dir():  # the tests also take shared_data, which skips; this runs first
        pytest.skip("../shared/data is absent")
    home = tmp_path_factory.mktemp("shared-folders") / "archive"
    with Archive(Settings(home=home)) as archive:
        report = archive.ingest([data / "us-state-dept-hrr", data / "wikinews-fr-ru"])
        yield Ingested(archive, report)


def _in(doc: Document, folder: Path) -> bool:
    return Path(doc.origin).resolve().is_relative_to(folder.resolve())


def test_state_department_folder_is_exactly_its_reports(
    ingested: Ingested, shared_data: Path
) -> None:
    folder = shared_data / "us-state-dept-hrr"
    docs = [d for d in ingested.docs if _in(d, folder)]
    origins = sorted(Path(d.origin).relative_to(folder).as_posix() for d in docs)
    assert len(docs) == STATE_DEPT_REPORTS, origins
    assert all(o.startswith("reports/") and o.endswith(".md") for o in origins), origins
    assert not ingested.report.warnings


def test_every_state_department_report_has_publisher_date_and_url(
    ingested: Ingested, shared_data: Path
) -> None:
    folder = shared_data / "us-state-dept-hrr"
    rows = {
        row["path"]: row
        for row in map(json.loads, (folder / "metadata.jsonl").read_text().splitlines())
    }
    docs = [d for d in ingested.docs if _in(d, folder)]
    for doc in docs:
        row = rows[Path(doc.origin).relative_to(folder).as_posix()]
        assert doc.publisher.startswith("U.S. Department of State"), doc.origin
        assert doc.publication_date is not None
        assert doc.publication_date.isoformat() == row["release_date"]
        assert doc.original_url == row["page_url"]
        assert doc.title == row["title"]
        assert "publisher" not in doc.derived and "original_url" not in doc.derived


def test_wikinews_folder_is_exactly_its_articles(ingested: Ingested, shared_data: Path) -> None:
    folder = shared_data / "wikinews-fr-ru"
    french = [d for d in ingested.docs if _in(d, folder / "fr")]
    russian = [d for d in ingested.docs if _in(d, folder / "ru")]
    assert len(french) == WIKINEWS_FR and len(russian) == WIKINEWS_RU
    assert all(d.origin.endswith(".txt") for d in french + russian)
    assert {d.language for d in french} == {"fr"} and {d.language for d in russian} == {"ru"}
    assert all(d.publisher == "Wikinews (fr)" for d in french)
    # the manifest's URLs are built from titles ("url_derived"): not taken as the source's URL
    assert not any(d.original_url for d in french + russian)
    assert len(ingested.docs) == STATE_DEPT_REPORTS + WIKINEWS_FR + WIKINEWS_RU


def test_eritrea_national_service_lists_both_editions(
    shared_data: Path, ingested: Ingested
) -> None:
    result = ingested.archive.search(SearchRequest(query="Eritrea national service"))
    titles = [hit.title for hit in result.hits]
    assert "Eritrea 2024 Human Rights Report" in titles, titles
    assert "Eritrea 2023 Human Rights Report" in titles, titles


def test_reuters_folder_plan_is_exactly_the_sgml_files(shared_data: Path) -> None:
    folder = shared_data / "reuters21578"
    plan = plan_inputs([folder], IngestOptions())
    names = sorted(f.path.name for f in plan.files)
    assert names == [f"reut2-{n:03d}.sgm" for n in range(REUTERS_FILES)]
    skipped = {s.path.name for s in plan.skipped}
    assert {"PROVENANCE.md", "README.txt", "lewis.dtd", "all-places-strings.lc.txt"} <= skipped


@pytest.mark.slow
def test_reuters_folder_gives_exactly_its_stories(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "reuters21578"
    with Archive(Settings(home=tmp_path / "archive")) as archive:
        report = archive.ingest([folder], IngestOptions(enrich=False, detect_language=False))
    assert {Path(f.path).name for f in report.files} == {
        f"reut2-{n:03d}.sgm" for n in range(REUTERS_FILES)
    }
    stories = REUTERS_FILES * REUTERS_STORIES_PER_FILE
    # every story is a document, except the few that hold nothing (skipped, reported as empty)
    assert report.documents + report.total("skipped") == stories
    assert report.total("skipped") <= 5 and report.total("failed") == 0
