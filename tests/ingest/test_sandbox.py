"""The parser worker: memory and time limits per file, a dead worker replaced, special files
refused before they are opened, parser log records passed on, the same results in-process."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sourcebook.config import Settings
from sourcebook.ingest.registry import BY_CONTENT, NO_MATCH, ParserRegistry, Source
from sourcebook.ingest.sandbox import ParseSandbox
from sourcebook.model import Document
from sourcebook.services import Archive
from tests.ingest.fuzz_corpus import STORY

REPO = Path(__file__).resolve().parents[2]


def _story(folder: Path, name: str = "story.txt") -> Path:
    path = folder / name
    path.write_text(f"Crossing reopens\n\n{STORY}\n")
    return path


def _big_page(path: Path, megabytes: float) -> Path:
    """A page of many small elements: slow to extract and large as a tree."""
    row = "<div><p>Paragraph with <b>bold</b> and <a href='#x'>a link</a> in it.</p></div>\n"
    count = int(megabytes * 1024 * 1024 / len(row))
    path.write_text(f"<html><head><title>Big</title></head><body>{row * count}</body></html>")
    return path


def test_a_file_over_the_time_limit_is_skipped_and_the_batch_goes_on(tmp_path: Path) -> None:
    slow = _big_page(tmp_path / "a-slow.html", 2)
    good = _story(tmp_path, "b-good.txt")
    settings = Settings(home=tmp_path / "archive", parse_seconds=0.5)
    with Archive(settings) as archive:
        report = archive.ingest([slow, good])
    first, second = report.files
    assert first.status == "failed"
    assert first.errors == [
        "parsing a-slow.html took more than 0.5 s; the file was skipped (SOURCEBOOK_PARSE_SECONDS)"
    ]
    assert second.status == "added"  # a fresh worker took the next file


def test_a_file_over_the_memory_limit_is_skipped_and_the_batch_goes_on(tmp_path: Path) -> None:
    heavy = _big_page(tmp_path / "a-heavy.html", 6)
    good = _story(tmp_path, "b-good.txt")
    settings = Settings(home=tmp_path / "archive", parse_memory_mb=250, parse_seconds=120)
    with Archive(settings) as archive:
        report = archive.ingest([heavy, good])
    first, second = report.files
    assert first.errors == [
        "parsing a-heavy.html needed more than 250 MB; the file was skipped "
        "(SOURCEBOOK_PARSE_MEMORY_MB)"
    ]
    assert second.status == "added"


class CrashingParser:
    """Takes ``.crash`` files and kills its own process, as a crash in C code would."""

    name = "crash"
    media_types: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ("crash",)

    def match(self, source: Source) -> int:
        return BY_CONTENT if source.extension == "crash" else NO_MATCH

    def parse(self, source: Source) -> Iterator[Document]:
        yield Document(title="before the crash", body=STORY, source_key="crash:1")
        os.kill(os.getpid(), signal.SIGSEGV)
        yield Document(title="never", body=STORY, source_key="crash:2")


def test_a_worker_that_dies_is_recorded_and_replaced(tmp_path: Path) -> None:
    registry = ParserRegistry.from_entry_points()
    registry.register(CrashingParser())
    crash = tmp_path / "a.crash"
    crash.write_text("boom")
    good = _story(tmp_path, "b-good.txt")
    with Archive(Settings(home=tmp_path / "archive"), registry=registry) as archive:
        report = archive.ingest([crash, good])
    first, second = report.files
    assert first.parser == "crash"
    assert first.errors == [
        f"the parser process stopped on a.crash (signal {int(signal.SIGSEGV)}); it was skipped"
    ]
    assert second.status == "added"


def _unblock_later(fifo: Path) -> threading.Timer:
    """Without the refusal, reading the pipe would block for ever: open it for writing after a
    while so a failing test fails instead of hanging."""

    def write() -> None:
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_RDWR))  # a writer appears and goes: the reader sees EOF

    timer = threading.Timer(15, write)
    timer.daemon = True
    timer.start()
    return timer


@pytest.mark.parametrize("through_link", [False, True])
def test_special_files_are_refused_before_opening(tmp_path: Path, through_link: bool) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    fifo = folder / "pipe.txt"
    os.mkfifo(fifo)
    if through_link:
        fifo.rename(tmp_path / "pipe.txt")
        fifo.symlink_to(tmp_path / "pipe.txt")
    good = _story(folder, "story.txt")
    timer = _unblock_later(tmp_path / "pipe.txt" if through_link else fifo)
    with Archive(Settings(home=tmp_path / "archive")) as archive:
        report = archive.ingest([folder])
    timer.cancel()
    outcomes = {Path(f.path).name: f for f in report.files}
    assert outcomes["pipe.txt"].errors == [
        f"{fifo} is not a regular file (a named pipe); it was skipped"
    ]
    assert outcomes["story.txt"].status == "added"
    assert good.exists()


def test_the_in_process_path_gives_the_same_results(tmp_path: Path, fixtures_dir: Path) -> None:
    inputs = [fixtures_dir / "ingest" / name for name in ("feed", "jsonl", "reuters", "text")]
    reports = []
    for sandbox in (True, False):
        settings = Settings(home=tmp_path / f"archive-{sandbox}", parse_sandbox=sandbox)
        with Archive(settings) as archive:
            report = archive.ingest(inputs)
            titles = sorted(d.title for d in archive.store.iter_documents())
        reports.append(
            ([(Path(f.path).name, f.parser, f.status, len(f.errors)) for f in report.files], titles)
        )
    assert reports[0] == reports[1]
    assert len(reports[0][1]) > 10


def test_parser_log_records_reach_the_archive_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text('{"title": "A", "body": "text", "colour": "blue"}\n')
    with caplog.at_level(logging.WARNING), Archive(Settings(home=tmp_path / "a")) as archive:
        assert archive.ingest([path]).total("added") == 1
    assert any(
        r.name == "sourcebook.ingest.jsonl" and "ignored keys" in r.getMessage()
        for r in caplog.records
    )


def test_a_script_without_a_main_guard_can_ingest(tmp_path: Path) -> None:
    """multiprocessing re-imports the caller's main module in a new process unless told not
    to; a plain script (no ``if __name__ == "__main__":``) must not run twice or fail."""
    story = _story(tmp_path)
    script = tmp_path / "script.py"
    script.write_text(
        "from pathlib import Path\n"
        "from sourcebook.config import Settings\n"
        "from sourcebook.services import Archive\n"
        f"with Archive(Settings(home=Path({str(tmp_path / 'a')!r}))) as archive:\n"
        f"    print('RESULT', archive.ingest([Path({str(story)!r})]).total('added'))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.stdout.splitlines() == ["RESULT 1"], done.stderr[-2000:]


def test_a_worker_killed_between_files_is_replaced(tmp_path: Path) -> None:
    first, second = _story(tmp_path, "a.txt"), _story(tmp_path, "b.md")
    with Archive(Settings(home=tmp_path / "archive")) as archive:
        assert archive.ingest([first]).total("added") == 1
        sandbox = archive._sandbox
        assert sandbox is not None and sandbox._process is not None
        os.kill(sandbox._process.pid, signal.SIGKILL)
        sandbox._process.join(5)
        assert archive.ingest([second]).total("added") == 1


def test_jsonl_is_read_a_line_at_a_time(tmp_path: Path) -> None:
    """A 50 MB export parses in a 200 MB worker: the parser never holds the whole file (as one
    string it would take 200 MB alone, four bytes a character because of one emoji)."""
    path = tmp_path / "export.jsonl"
    body = "word " * 2_000
    with path.open("w") as fh:
        for n in range(5_000):
            fh.write(f'{{"source_id": "x{n}", "title": "Record {n} 🌍", "body": "{body}"}}\n')
    sandbox = ParseSandbox(memory_mb=200, seconds=120)
    try:
        name, items = sandbox.parse(path, "", 100_000_000)
        assert (name, sum(1 for _ in items)) == ("jsonl", 5_000)
    finally:
        sandbox.close()


class BuggyParser:
    """Takes ``.bug`` files and fails as a parser bug would, after one good record."""

    name = "bug"
    media_types: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ("bug",)

    def match(self, source: Source) -> int:
        return BY_CONTENT if source.extension == "bug" else NO_MATCH

    def parse(self, source: Source) -> Iterator[Document]:
        yield Document(title="before the bug", body=STORY, source_key="bug:1")
        raise IndexError("list index out of range")


def test_a_parser_bug_is_logged_and_recorded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    registry = ParserRegistry.from_entry_points()
    registry.register(BuggyParser())
    buggy = tmp_path / "a.bug"
    buggy.write_text("x")
    good = _story(tmp_path, "b-good.txt")
    with Archive(Settings(home=tmp_path / "archive"), registry=registry) as archive:
        first, second = archive.ingest([buggy, good]).files
    assert (first.added, first.errors) == (
        1,
        ["internal error (IndexError: list index out of range)"],
    )
    assert second.status == "added"
    assert any("Traceback" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
