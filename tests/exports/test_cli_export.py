"""``sourcebook export --format ris|bibtex|csl-json|csv --query Q`` through typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import rispy

from tests.test_cli import archive, sb

__all__ = ["archive"]  # the fixture, re-used


def test_export_a_search_as_a_reference_list(archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "found.ris"
    code, text = sb(archive, "export", "--format", "ris", "--query", "Dushanbe", "-o", str(out))
    assert code == 0, text
    assert "exported 1 of 1 matching documents as ris" in text
    records = rispy.loads(out.read_text())
    assert [r["title"] for r in records] == ["Border security talks in Dushanbe"]
    code, text = sb(archive, "export", "--format", "csl-json", "--query", "nowhere-at-all")
    assert code == 0 and json.loads(text.split("exported")[0]) == []


def test_export_refuses_what_it_cannot_do(archive: Path) -> None:
    code, text = sb(archive, "export", "--format", "xlsx", "--query", "x")
    assert code == 2 and "ris, bibtex, csl-json, csv" in text
    code, text = sb(archive, "export", "--query", "Dushanbe")
    assert code == 2 and "--format" in text
    code, text = sb(archive, "export", "--format", "ris", "--limit", "0")
    assert code == 2 and "from 1 to 1,000" in text
    code, text = sb(archive, "export", "--format", "ris", "--query", 'a AND ("b')
    assert code == 2 and "query error" in text
