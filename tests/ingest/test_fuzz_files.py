"""The parser fuzz corpus (tests/ingest/fuzz_corpus.py) in one batch: every file is either
ingested or recorded with a human-readable reason, within the per-file limits, and the batch
finishes. The big version (30 MB lines, nesting 200,000 deep) runs with ``-m slow``."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sourcebook.config import Settings
from sourcebook.ingest.report import FileOutcome
from sourcebook.services import Archive
from tests.ingest.fuzz_corpus import write_corpus

#: Per-file limits of the run: tighter than the defaults, so a runaway parse shows.
PARSE_SECONDS = 20
PARSE_MEMORY_MB = 1024


def _problems(outcome: FileOutcome, limits_may_stop: bool) -> list[str]:
    """What is wrong with one file's outcome (nothing, when it went in or says why not).

    In the big corpus a parser may be stopped by a per-file limit (feedparser on a 30 MB line,
    pypdf searching 30 MB of junk): that is the limit working, and the reason is recorded."""
    name = Path(outcome.path).name
    if not (outcome.documents or outcome.errors or outcome.notes):
        return [f"{name}: neither ingested nor recorded with a reason ({outcome.status})"]
    problems = []
    for message in outcome.errors:
        if "internal error" in message or "Traceback" in message or not message.strip():
            problems.append(f"{name}: {message[:300]}")
        limited = "took more than" in message or "needed more than" in message
        if limited and not limits_may_stop:
            problems.append(f"{name}: over a per-file limit: {message[:300]}")
    return problems


def _run(tmp_path: Path, big: bool) -> None:
    corpus = tmp_path / "corpus"
    names = write_corpus(corpus, big=big)
    settings = Settings(
        home=tmp_path / "archive", parse_seconds=PARSE_SECONDS, parse_memory_mb=PARSE_MEMORY_MB
    )
    started = time.perf_counter()
    with Archive(settings) as archive:
        report = archive.ingest([corpus])
    seconds = time.perf_counter() - started
    reported = {Path(f.path).name for f in report.files}
    # every file and special entry has an outcome (the folder named like a file is walked)
    assert set(names) <= reported, sorted(set(names) - reported)
    assert "inside.txt" in reported
    problems = [p for outcome in report.files for p in _problems(outcome, big)]
    failed = sum(1 for f in report.files if f.status == "failed")
    print(
        f"fuzz corpus: {len(report.files)} cases, {failed} refused with a reason, "
        f"{len(problems)} problems, {seconds:.1f} s"
    )
    assert not problems, "\n".join(problems)
    # the originals go in; the special files are refused without blocking
    for seed in ("records.jsonl", "wire.rss", "feed.atom", "stories.sgm", "page.html"):
        assert next(f for f in report.files if f.path.endswith("/" + seed)).documents >= 1
    for special in ("pipe.txt", "pipe-link.txt", "loop-a.txt", "dangling.txt"):
        outcome = next(f for f in report.files if f.path.endswith("/" + special))
        assert outcome.status == "failed" and outcome.errors, special


def test_every_damaged_file_is_ingested_or_refused_with_a_reason(tmp_path: Path) -> None:
    _run(tmp_path, big=False)


@pytest.mark.slow
def test_the_big_fuzz_corpus(tmp_path: Path) -> None:
    _run(tmp_path, big=True)
