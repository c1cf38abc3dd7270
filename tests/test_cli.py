"""The command line through typer's runner, on a temporary archive."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from sourcebook import cli_progress
from sourcebook.cli import app
from sourcebook.enrich.embeddings import available, unavailable_reason
from sourcebook.store.sqlite import SQLiteStore

runner = CliRunner()
SRC = Path(__file__).resolve().parents[1] / "src"

STORY = """Border security talks in Dushanbe

Russian and Tajik officials agreed to bolster security along the Tajik-Afghan border.
"""


def sb(archive: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--archive", str(archive), *args])
    return result.exit_code, result.output


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    (src / "story.txt").write_text(STORY, encoding="utf-8")
    code, out = sb(tmp_path / "archive", "ingest", str(src))
    assert code == 0, out
    assert "1 added" in out
    return tmp_path / "archive"


def test_ingest_reports_and_is_idempotent(archive: Path, tmp_path: Path) -> None:
    code, out = sb(archive, "ingest", str(tmp_path / "in"))
    assert code == 0
    assert "0 added" in out and "1 unchanged" in out and "docs/s" in out


def test_ingest_exits_non_zero_when_an_input_fails(archive: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x00\x01\x02" * 100)
    code, out = sb(archive, "ingest", str(bad), str(tmp_path / "in"))
    assert code == 1
    assert "failed" in out and "bad.bin" in out


def test_search_text_and_json(archive: Path) -> None:
    code, out = sb(archive, "search", "Tajik-Afghan border")
    assert code == 0 and "Border security talks in Dushanbe" in out
    code, out = sb(archive, "search", "Tajik-Afghan border", "--json")
    data = json.loads(out)
    assert data["total"] == 1
    hit = data["hits"][0]
    assert hit["passages"][0]["highlights"]
    assert set(data["facets"]) >= {"country", "publisher", "type", "language", "year"}


def test_search_explain(archive: Path) -> None:
    code, out = sb(archive, "search", "border security", "--explain")
    assert code == 0 and "why: bm25 " in out and "secur in body" in out
    code, out = sb(archive, "search", "border security", "--explain", "--json")
    why = json.loads(out)["hits"][0]["explanation"]
    assert why["ranking"] == "bm25" and {t["term"] for t in why["terms"]} == {"border", "secur"}
    code, out = sb(archive, "search", "border security")
    assert "why:" not in out


def test_search_syntax_error_is_a_message_not_a_trace(archive: Path) -> None:
    code, out = sb(archive, "search", '"border', "--mode", "syntax")
    assert code == 2
    assert "query error" in out and "Traceback" not in out


def test_show_cite_export_import_stats(archive: Path, tmp_path: Path) -> None:
    code, out = sb(archive, "search", "Dushanbe", "--json")
    docid = json.loads(out)["hits"][0]["docid"]
    code, out = sb(archive, "show", docid)
    assert code == 0 and "Border security talks in Dushanbe" in out
    code, out = sb(archive, "show", docid, "--json")
    assert json.loads(out)["docid"] == docid
    code, out = sb(archive, "cite", docid, "--style", "ris")
    assert code == 0 and "TI  - Border security talks in Dushanbe" in out
    code, out = sb(archive, "cite", docid, "--style", "nonsense")
    assert code == 2
    export = tmp_path / "export.jsonl"
    code, _ = sb(archive, "export", "-o", str(export))
    assert code == 0 and json.loads(export.read_text().splitlines()[0])["docid"] == docid
    code, out = sb(tmp_path / "copy", "import", str(export))
    assert code == 0, out
    code, out = sb(tmp_path / "copy", "show", docid, "--json")
    assert json.loads(out)["title"] == "Border security talks in Dushanbe"
    code, out = sb(archive, "stats", "--json")
    assert json.loads(out)["documents"] == 1


def test_show_unknown_docid(archive: Path) -> None:
    code, out = sb(archive, "show", "aaaaaaaaaa")
    assert code == 3 and "no document" in out


def test_check_and_reindex(archive: Path) -> None:
    code, out = sb(archive, "check")
    assert code == 0 and "agree" in out
    code, out = sb(archive, "reindex")
    assert code == 0 and "reindexed 1 documents" in out


def test_archive_from_environment(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCEBOOK_HOME", str(archive))
    result = runner.invoke(app, ["stats", "--json"])
    assert json.loads(result.output)["documents"] == 1


def test_eval_retrieval_on_a_tiny_collection(tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    (folder / "qrels").mkdir(parents=True)
    corpus = [
        {"_id": "d1", "title": "Border security", "text": "Troops guard the Tajik-Afghan border."},
        {"_id": "d2", "title": "Floods", "text": "Heavy rain flooded the Kulob region."},
        {"_id": "d3", "title": "Elections", "text": "Voters went to the polls in Bishkek."},
    ]
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(c) for c in corpus) + "\n")
    queries = [{"_id": "q1", "text": "Who guards the border?"}, {"_id": "q2", "text": "floods"}]
    (folder / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")
    result = runner.invoke(app, ["eval", "retrieval", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["ndcg@10"] == 1.0 and figures["queries"] == 2 and figures["documents"] == 3


def test_enrich_needs_to_be_told_what(archive: Path) -> None:
    code, out = sb(archive, "enrich")
    assert code == 2 and "--entities" in out


def test_enrich_embeddings_with_an_unknown_model_is_a_usage_error(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCEBOOK_SEMANTIC_MODEL", "word2vec")
    code, out = sb(archive, "enrich", "--embeddings")
    assert code == 2 and "unknown embedding model" in out and "Traceback" not in out


@pytest.mark.skipif(available(), reason="the semantic extra is installed")
def test_enrich_embeddings_without_the_extra_says_what_to_install(archive: Path) -> None:
    code, out = sb(archive, "enrich", "--embeddings")
    out = " ".join(out.split())
    assert code == 2 and "pip install" in out and "sourcebook[semantic]" in out


@pytest.mark.slow
@pytest.mark.skipif(not available(), reason=unavailable_reason() or "")
def test_enrich_embeddings_then_hybrid_search(archive: Path, tmp_path: Path) -> None:
    code, out = sb(archive, "enrich", "--embeddings")
    assert code == 0, out
    out = " ".join(out.split())
    assert ": 1 documents (1 vectors" in out and "1 of 1 documents embedded, 0 pending" in out
    code, out = sb(archive, "enrich", "--embeddings")
    assert code == 0 and ": 0 documents" in " ".join(out.split())  # nothing left to do
    code, out = sb(archive, "stats", "--json")
    assert json.loads(out)["embedded_documents"] == 1
    code, out = sb(archive, "search", "soldiers watching the frontier", "--hybrid", "--json")
    data = json.loads(out)
    assert data["ranking"] == "hybrid" and data["hits"][0]["title"].startswith("Border security")
    code, out = sb(archive, "search", "soldiers watching the frontier", "--hybrid")
    assert code == 0 and "hybrid" in out
    code, out = sb(archive, "search", "Tajik border")  # the command line's default: BM25
    assert code == 0 and "add --hybrid" in " ".join(out.split())
    code, out = sb(archive, "search", "Tajik border", "--no-hybrid", "--json")
    assert json.loads(out)["ranking"] == "bm25"

    folder = tmp_path / "tiny"
    (folder / "qrels").mkdir(parents=True)
    corpus = [
        {"_id": "d1", "title": "Floods", "text": "Storm water inundated the city."},
        {"_id": "d2", "title": "Elections", "text": "Voters went to the polls in Bishkek."},
    ]
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(c) for c in corpus) + "\n")
    query = {"_id": "q1", "text": "heavy rain flooded the capital"}
    (folder / "queries.jsonl").write_text(json.dumps(query) + "\n")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    cache = tmp_path / "cache"
    args = ["eval", "retrieval", str(folder), "--mode", "hybrid", "--cache", str(cache), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ndcg@10"] == 1.0
    assert any(cache.glob("*-live/manifest.json"))  # the embeddings are kept for the next run


def test_operator_export_round_trips_beside_the_original_files(
    archive: Path, tmp_path: Path
) -> None:
    """The CLI's export keeps source keys as stored (the API's hides server folders), so the
    export re-imported, and the original folder ingested again, leave one record per file."""
    export = tmp_path / "export.jsonl"
    assert sb(archive, "export", "-o", str(export))[0] == 0
    assert json.loads(export.read_text())["source_key"].startswith(f"file:{tmp_path}")
    code, out = sb(archive, "import", str(export))
    assert code == 0 and "1 unchanged" in out, out
    copy = tmp_path / "copy"
    assert sb(copy, "import", str(export))[0] == 0
    code, out = sb(copy, "ingest", str(tmp_path / "in"))
    assert code == 0 and "1 unchanged" in out, out
    assert json.loads(sb(copy, "stats", "--json")[1])["documents"] == 1


# --- opening an archive: reads never create, read-only archives can be read ------------------

READ_COMMANDS = [
    ["search", "border"],
    ["show", "aaaaaaaaaa"],
    ["cite", "aaaaaaaaaa"],
    ["export"],
    ["stats"],
    ["check"],
]


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: c[0])
def test_read_commands_say_there_is_no_archive_and_create_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    missing = tmp_path / "typo"
    code, out = sb(missing, *command)
    assert code == 2, out
    assert f"no archive at {missing}" in " ".join(out.split())
    assert "sourcebook ingest" in out
    assert not missing.exists()


def test_an_archive_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("not an archive\n")
    for command in (["search", "border"], ["ingest", str(file)], ["stats"]):
        result = runner.invoke(app, ["--archive", str(file), *command])
        assert result.exit_code == 2, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "is a file, not an archive folder" in result.output
        assert len(result.output.strip().splitlines()) == 1


def test_export_into_a_missing_folder_is_one_line(archive: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["--archive", str(archive), "export", "-o", str(tmp_path / "no" / "x.jsonl")]
    )
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    assert "cannot write" in result.output and "No such file or directory" in result.output


def test_a_bad_setting_is_one_line(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCEBOOK_PAGE_SIZE_MAX", "many")
    result = runner.invoke(app, ["--archive", str(archive), "stats"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "SOURCEBOOK_PAGE_SIZE_MAX" in result.output


def test_a_read_opens_the_database_read_only_and_never_switches_it_to_wal(archive: Path) -> None:
    db = archive / "sourcebook.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()
    for command in (["search", "border"], ["stats"], ["check"], ["export"]):
        code, out = sb(archive, *command)
        assert code == 0, out
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()
    store = SQLiteStore(db, read_only=True)
    try:
        assert store._conn().execute("PRAGMA query_only").fetchone()[0] == 1
        assert store.pending_migrations() == []
    finally:
        store.close()
    code, out = sb(archive, "ingest", str(archive.parent / "in"))  # a writer switches it back
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


# Runs the real program as a user who may only read the archive. As root (who ignores file
# permissions), the program loads first and then gives up its rights (uid 65534, "nobody").
_AS_READER = """
import os, sys
import sourcebook.cli, sourcebook.cite, encodings.idna
if os.geteuid() == 0:
    os.setgid(65534)
    os.setuid(65534)
sys.argv = ["sourcebook", *sys.argv[1:]]
sourcebook.cli.main()
"""


def _as_reader(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "HOME": "/tmp", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", _AS_READER, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _make_read_only(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        if os.geteuid() == 0:
            os.chown(path, 65534, 65534)
        path.chmod(path.stat().st_mode & ~0o222)


def _make_writable(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)


@pytest.fixture
def read_only_archive(archive: Path) -> Iterator[Path]:
    # The last writer to close removes -wal and -shm: a read-only folder has neither.
    conn = sqlite3.connect(archive / "sourcebook.db")
    conn.execute("SELECT count(*) FROM documents").fetchone()
    conn.close()
    assert not list(archive.glob("sourcebook.db-*"))
    # pytest's folders are private to their owner; "nobody" must be able to reach this one.
    outer = Path(tempfile.mkdtemp(prefix="sourcebook-test-"))
    outer.chmod(0o755)
    copy = outer / "archive"
    shutil.copytree(archive, copy)
    (outer / "in").mkdir()
    _make_read_only(copy)
    try:
        yield copy
    finally:
        _make_writable(copy)
        shutil.rmtree(outer)


def test_an_archive_the_user_may_only_read_can_be_searched(read_only_archive: Path) -> None:
    archive = str(read_only_archive)
    found = _as_reader("--archive", archive, "search", "Tajik-Afghan border", "--json")
    assert found.returncode == 0, found.stderr
    docid = json.loads(found.stdout)["hits"][0]["docid"]
    for command in (["stats"], ["show", docid], ["cite", docid], ["export"], ["check"]):
        done = _as_reader("--archive", archive, *command)
        assert done.returncode == 0, (command, done.stderr)
        assert "Traceback" not in done.stderr
    for command in (["ingest", str(read_only_archive.parent / "in")], ["reindex"]):
        refused = _as_reader("--archive", archive, *command)
        assert refused.returncode == 2, (command, refused.stdout, refused.stderr)
        assert f"the archive at {archive} is read-only" in refused.stderr
        assert "Traceback" not in refused.stderr
    assert not list(read_only_archive.glob("sourcebook.db-*"))  # nothing written beside it


def test_a_closed_output_ends_quietly(archive: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    program = "from sourcebook.cli import main; main()"
    with subprocess.Popen(
        [sys.executable, "-c", program, "--archive", str(archive), "export"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # like `| head -0`: the reader is gone before the first line
        stderr = proc.stderr.read().decode()
        code = proc.wait(timeout=60)
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    assert code == 1


# --- long jobs: progress off a terminal, Ctrl+C --------------------------------------------


def test_long_jobs_print_plain_progress_lines_off_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_progress, "PLAIN_EVERY", 0.0)
    monkeypatch.setenv("SOURCEBOOK_INGEST_BATCH_SIZE", "1")  # documents count once written
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        (src / f"story{i}.txt").write_text(f"Story {i}\n\n{STORY}", encoding="utf-8")
    code, out = sb(tmp_path / "a", "ingest", str(src))
    assert code == 0, out
    lines = [line for line in out.splitlines() if line.startswith("ingest: ")]
    assert len(lines) == 3
    assert re.fullmatch(
        r"ingest: 3 documents, [\d.,]+/s, 100% of \d+ B, about 0 s left, \d+ s so far",
        lines[-1],
    ), lines
    code, out = sb(tmp_path / "a", "reindex")
    assert re.search(r"^reindex: 3 of 3 documents, [\d.,]+/s, about 0 s left", out, re.M), out


def test_progress_lines_estimate_the_time_left() -> None:
    job = cli_progress.JobProgress("entities", 1000, "documents", Console(file=io.StringIO()))
    job.advance(250, 250)
    assert job.line(60.0) == (
        "entities: 250 of 1,000 documents, 4.2/s, about 3 min 00 s left, 1 min 00 s so far"
    )
    job = cli_progress.JobProgress("ingest", 4_000_000, "bytes", Console(file=io.StringIO()))
    job.advance(1_000_000, 120)
    assert job.line(10.0) == (
        "ingest: 120 documents, 12.0/s, 25% of 4.0 MB, about 30 s left, 10 s so far"
    )


def test_ctrl_c_during_a_long_job_says_what_was_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        (src / f"story{i}.txt").write_text(f"Story {i}\n\n{STORY}", encoding="utf-8")
    monkeypatch.setenv("SOURCEBOOK_INGEST_BATCH_SIZE", "1")
    real_advance = cli_progress.JobProgress.advance

    def interrupted_after_two(self: cli_progress.JobProgress, amount: int, docs: int) -> None:
        real_advance(self, amount, docs)
        if docs == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(cli_progress.JobProgress, "advance", interrupted_after_two)
    code, out = sb(tmp_path / "a", "ingest", str(src))
    assert code == 130
    assert "interrupted; 2 documents kept" in out and "Traceback" not in out
    code, out = sb(tmp_path / "a", "reindex")
    assert code == 130 and "interrupted; 2 documents kept" in out


# --- snippets -------------------------------------------------------------------------------

LONG_PARAGRAPH = (
    "Officials described the spring season in the valleys, the state of the roads, the price of "
    "flour and fuel, the schools that reopened after the winter break, the repairs to the "
    "irrigation canals, the new bus timetable between the district towns, the weather, the "
    "harvest outlook and the visits of delegations from the capital, none of which concerns "
    "this search at all, and then, at the very end of this long paragraph, the checkpoint "
    "closures at Panj that travellers complained about."
)


def test_hits_show_the_part_of_a_passage_around_the_match(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "long.txt").write_text(f"Valley report\n\n{LONG_PARAGRAPH}\n", encoding="utf-8")
    (src / "brackets.txt").write_text(
        "Markup report\n\nThe [bold]checkpoint[/bold] notice [red] was posted.\n", encoding="utf-8"
    )
    code, out = sb(tmp_path / "a", "ingest", str(src))
    assert code == 0, out
    result = runner.invoke(
        app, ["--archive", str(tmp_path / "a"), "search", "checkpoint"], env={"COLUMNS": "1000"}
    )
    assert result.exit_code == 0, result.output
    assert "closures at Panj that travellers complained about." in result.output
    assert "Officials described the spring season" not in result.output
    assert "…" in result.output
    assert "The [bold]checkpoint[/bold] notice [red] was posted." in result.output


def test_a_read_upgrades_an_outdated_archive_it_may_write(archive: Path) -> None:
    (archive / "index" / "sourcebook-schema-version").write_text("0")
    code, out = sb(archive, "search", "Tajik-Afghan border")
    assert code == 0 and "Border security talks in Dushanbe" in out
    code, out = sb(archive, "check")
    assert code == 0 and "agree" in out


def test_ctrl_c_during_a_real_ingest_keeps_what_it_says(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3000):
        (src / f"story{i:04d}.txt").write_text(f"Story {i}\n\n{STORY}", encoding="utf-8")
    archive = tmp_path / "a"
    env = {**os.environ, "PYTHONPATH": str(SRC), "SOURCEBOOK_INGEST_BATCH_SIZE": "20"}
    program = "from sourcebook.cli import main; main()"
    with subprocess.Popen(
        [sys.executable, "-c", program, "--archive", str(archive), "ingest", str(src)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # Background jobs may inherit SIGINT ignored; Ctrl+C reaches a foreground program.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    ) as proc:
        deadline = time.monotonic() + 120
        while _stored(archive) < 40:  # two batches written: the ingest is under way
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, errors = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, errors)
    assert "Traceback" not in errors
    match = re.search(r"interrupted; ([\d,]+) documents kept", errors)
    assert match, errors
    kept = int(match.group(1).replace(",", ""))
    assert 40 <= kept < 3000 and kept == _stored(archive)


def _stored(archive: Path) -> int:
    db = archive / "sourcebook.db"
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute("SELECT count(*) FROM documents").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.OperationalError:  # not created yet
        return 0


MODEL_MODULES = ("torch", "sentence_transformers", "onnxruntime", "tokenizers")


def test_a_plain_search_never_loads_the_embedding_model(archive: Path) -> None:
    """An archive with vectors: ``search`` ranks by BM25 and imports no model runtime."""
    import numpy as np

    from sourcebook.index.vectors import VectorIndex

    vectors = VectorIndex(384, "all-MiniLM-L6-v2")
    vectors.add(["any"], np.eye(1, 384, dtype=np.float32))
    vectors.save(archive / "vectors")
    script = (
        "import sys\n"
        "from sourcebook.cli import main\n"
        f"sys.argv = ['sourcebook', '--archive', {str(archive)!r}, 'search', 'Tajik border']\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        f"    print('LOADED', sorted(m for m in {MODEL_MODULES!r} if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert "Border security talks" in done.stdout, done.stdout + done.stderr
    assert "LOADED []" in done.stdout and "add --hybrid" in done.stdout
