"""``sourcebook saved``, ``alerts`` and ``folder`` through typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sourcebook.cli import app
from sourcebook.config import Settings
from sourcebook.services import Archive

runner = CliRunner()


def run(archive: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--archive", str(archive), *args])
    return result.exit_code, result.output


def test_save_list_run_and_delete(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    story = tmp_path / "story.txt"
    story.write_text("Title: Kulob floods\n\nFloods in Kulob district.", encoding="utf-8")
    assert run(archive, "ingest", str(story))[0] == 0
    code, out = run(archive, "saved", "add", "kulob", "Kulob floods", "--country", "TJ")
    assert code == 0 and "saved 'kulob'" in out
    code, out = run(archive, "saved", "add", "bad", "floods", "--daily")
    assert code == 2 and "e-mail address" in out
    code, out = run(archive, "saved", "list", "--json")
    [record] = [json.loads(line) for line in out.splitlines()]
    assert record["query"] == "Kulob floods" and record["filters"] == {"countries": ["TJ"]}
    code, out = run(archive, "alerts", "run", "--dry-run")
    assert code == 0 and "0 digests would send, 0 with nothing new, 0 failed" in out
    assert run(archive, "saved", "delete", "kulob")[0] == 0
    code, out = run(archive, "saved", "delete", "kulob")
    assert code == 2 and "no saved search named 'kulob'" in out


def test_folders_from_the_command_line(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    story = tmp_path / "story.txt"
    story.write_text(
        "Title: Kulob detentions\n\nThe ferry stopped.\n\nGuards detained twelve people.",
        encoding="utf-8",
    )
    assert run(archive, "ingest", str(story))[0] == 0
    with Archive(Settings(home=archive), read_only=True) as opened:
        [docid] = [d.docid for d in opened.store.iter_documents()]
    code, out = run(archive, "folder", "create", "Case 14")
    assert code == 0 and "folder 1: Case 14" in out
    code, out = run(archive, "folder", "quote", "1", docid, "--passage", "1", "--note", "key")
    assert code == 0 and "quoted para. 1" in out
    code, out = run(archive, "folder", "show", "1")
    assert "The ferry stopped." in out and "note: key" in out
    code, out = run(archive, "folder", "quote", "1", docid)
    assert code == 2 and "--passage" in out
    assert run(archive, "folder", "show", "9")[0] == 2
