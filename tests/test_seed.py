"""The seed round trip: the real Refworld record in, every field exact, cited exactly, found first.

Skips when ../shared is absent.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from typer.testing import CliRunner

from sourcebook.cli import app
from sourcebook.config import Settings
from sourcebook.search.request import SearchRequest
from sourcebook.services import Archive

REPO = Path(__file__).resolve().parents[1]
CITE_LINE = (
    "Radio Free Europe/Radio Liberty, Putin and Rahmon agree to bolster Tajik-Afghan border "
    "security, 27 February 2017, available at: https://www.refworld.org/docid/5975a5b29.html "
    "[accessed 19 May 2023]"
)


def test_seed_round_trip(seed_record: Path, tmp_path: Path) -> None:
    with Archive(Settings(home=tmp_path / "archive")) as archive:
        report = archive.ingest([seed_record, REPO / "examples"])
        assert report.total("failed") == 0, [f.errors for f in report.files]
        result = archive.search(SearchRequest(query="Tajik-Afghan border"))
        top = result.hits[0]
        doc = archive.get(top.docid)
        assert doc.source_id == "5975a5b29"
        assert doc.title == "Putin and Rahmon agree to bolster Tajik-Afghan border security"
        assert doc.publisher == "Radio Free Europe/Radio Liberty"
        assert doc.publication_date == date(2017, 2, 27)
        assert doc.last_updated == datetime(2023, 5, 17, 15, 20, tzinfo=UTC)
        assert doc.source_url == "https://www.refworld.org/docid/5975a5b29.html"
        assert doc.accessed_date == date(2023, 5, 19)
        assert doc.cite_as == CITE_LINE
        assert doc.disclaimer.startswith("This is not a UNHCR publication.")
        assert doc.copyright.startswith("Copyright (c) 2007-2009. RFE/RL, Inc.")
        assert doc.language == "en"
        assert "last_updated" not in doc.derived
        assert doc.body.count("following their talks in Dushanbe on February 27.") == 0
        assert "Search Refworld" not in doc.body
        assert "Link to original story" not in doc.body
        assert doc.body.rstrip().endswith("With reporting by TASS, Interfax and RIA")
        assert all(doc.body[p.start : p.end] == p.text for p in doc.passages)
        assert top.passages and any(p.highlights for p in top.passages)
        assert archive.cite(top.docid, "refworld", accessed=date(2023, 5, 19)) == CITE_LINE
        # ingesting it again changes nothing
        again = archive.ingest([seed_record])
        assert again.total("unchanged") == 1 and again.total("added") == 0
        docid = top.docid

    runner = CliRunner()
    out = runner.invoke(
        app,
        [
            "--archive",
            str(tmp_path / "archive"),
            "cite",
            docid,
            "--style",
            "refworld",
            "--accessed",
            "2023-05-19",
        ],
    ).output
    assert out == CITE_LINE + "\n"
    out = runner.invoke(
        app, ["--archive", str(tmp_path / "archive"), "search", "Tajik-Afghan border", "--json"]
    ).output
    assert json.loads(out)["hits"][0]["docid"] == docid


def test_seed_enrichment(seed_record: Path, tmp_path: Path) -> None:
    """The seed comes out with countries TJ, AF, RU, KZ, KG, SY (Tajikistan first) and places."""
    with Archive(Settings(home=tmp_path / "archive")) as archive:
        archive.ingest([seed_record])
        doc = next(archive.store.iter_documents())
    assert doc.countries[0] == "TJ"
    assert set(doc.countries) == {"TJ", "AF", "RU", "KZ", "KG", "SY"}
    assert "countries" in doc.derived
    assert {"Dushanbe", "Kulob", "Almaty", "Astana", "Bishkek"} <= {p.name for p in doc.places}
