"""Crash consistency: kill ingests at random points, then check that nothing is unsearchable.

    python benchmarks/faults.py --reuters ../shared/data/reuters21578 --files 3

Builds an archive from the first ``--files`` Reuters-21578 SGML files with ``sourcebook ingest``
run in subprocesses. Each round ingests every file under a new collection name (so every story
is written again: the first round adds, later rounds update) and is stopped at a seeded random
point (after a random number of the round's documents are stored, plus up to 0.4 s), with the index committing every batch, every second or only at the end:
``--kills`` rounds by SIGKILL, ``--terms`` by SIGTERM. After each stop the archive is
opened again (no repair command): the store and the index must agree, every stored document must
be found by a ``docid:`` search, and no ingest run may be left "running". A final ingest runs to
the end. Then two ingests are started together on different files, once with a writer that
waits (both must finish and their reports add up to what the store holds) and once with one
that may not wait (the second is refused, having written nothing).

Prints kills, documents unsearchable after restart (goal 0), runs closed as interrupted and the
time taken; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sourcebook.config import Settings
from sourcebook.search.request import SearchRequest
from sourcebook.services import Archive

_REPORT = re.compile(r"(\d[\d,]*) added, (\d[\d,]*) updated, (\d[\d,]*) unchanged")


@dataclass
class Figures:
    kills: int = 0
    terms: int = 0
    missed: int = 0  # stops that came after the ingest had already finished (retried)
    unsearchable: int = 0
    behind: list[int] = field(default_factory=list)  # changes the index missed at each stop
    interrupted_runs: int = 0
    failures: list[str] = field(default_factory=list)


def sourcebook(
    home: Path, *args: str, wait: float = 60.0, commit_seconds: float = 1.0
) -> subprocess.Popen[str]:
    env = dict(
        os.environ,
        SOURCEBOOK_WRITER_WAIT_SECONDS=str(wait),
        SOURCEBOOK_INDEX_COMMIT_SECONDS=str(commit_seconds),
    )
    run = "from sourcebook.cli import main; main()"
    command = [sys.executable, "-c", run, "--archive", str(home), *args]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def totals(output: str) -> tuple[int, int, int]:
    found = _REPORT.findall(output)
    if not found:
        return (0, 0, 0)
    added, updated, unchanged = (int(x.replace(",", "")) for x in found[-1])
    return added, updated, unchanged


def positions(home: Path) -> tuple[int, int]:
    """(the store's last change, the last change the index holds)."""
    try:
        position = int((home / "index" / "sourcebook-position").read_text())
    except (OSError, ValueError):
        position = 0
    try:
        with sqlite3.connect(home / "sourcebook.db") as conn:
            last = conn.execute("SELECT coalesce(max(position), 0) FROM changes").fetchone()[0]
    except sqlite3.Error:  # no archive yet
        return 0, position
    return int(last), position


def verify(home: Path, figures: Figures, label: str) -> None:
    """Open the archive (a restart: it replays what the index missed) and compare."""
    with Archive(Settings(home=home)) as archive:
        report = archive.check()
        lost = set(report.missing) | set(report.stale)
        searcher = archive.index.searcher()
        for entry in archive.store.iter_index_entries():
            request = SearchRequest(query=f"docid:{entry.docid}", facets=False, passages=0)
            query = archive.engine.build_query(request, searcher)[0]
            if searcher.search(query, limit=1, count=True).count != 1:
                lost.add(entry.docid)
        running = [r for r, s in archive.store.run_statuses().items() if s == "running"]
        if lost:
            figures.unsearchable += len(lost)
            figures.failures.append(f"{label}: {len(lost)} stored documents not searchable")
        if not report.ok:
            figures.failures.append(
                f"{label}: store {report.store_documents} != index {report.index_documents}"
            )
        if running:
            figures.failures.append(f"{label}: runs {running} left running")


def kill_rounds(home: Path, files: list[Path], args: argparse.Namespace, fig: Figures) -> None:
    rng = random.Random(args.seed)
    stops = [signal.SIGKILL] * args.kills + [signal.SIGTERM] * args.terms
    rng.shuffle(stops)
    stories = sum(f.read_bytes().count(b"<REUTERS ") for f in files)
    for number, stop in enumerate(stops, 1):
        # how often the index commits: every batch, every second (the default), or only at the
        # end (a kill then leaves every document of the round stored but not indexed)
        commit_seconds = rng.choice([0.0, 1.0, 3600.0])
        # the point: after this many documents of the round are stored, then a little later,
        # so that it falls anywhere between (or inside) two batches
        target = rng.randrange(1, stories)
        jitter = rng.uniform(0.0, 0.4)
        codes: list[int] = []
        for attempt in range(5):
            before = positions(home)[0]
            started = time.perf_counter()
            proc = sourcebook(
                home,
                *("ingest", *map(str, files), "-c", f"round-{number}.{attempt}", "-q"),
                commit_seconds=commit_seconds,
            )
            while proc.poll() is None and positions(home)[0] - before < target:
                time.sleep(0.02)
            time.sleep(jitter)
            alive = proc.poll() is None
            if alive:
                proc.send_signal(stop)
            delay = time.perf_counter() - started
            _out, err = proc.communicate(timeout=120)
            codes.append(proc.returncode)
            if alive and proc.returncode not in (0, -signal.SIGTERM):
                break
            # it finished first (a SIGTERM during the last batch lets it finish): try again,
            # earlier, under another collection name (so that every story changes again)
            fig.missed += 1
            target //= 2
        else:
            fig.failures.append(
                f"round {number}: the ingest always finished before the stop (exits {codes})"
            )
            continue
        name = "SIGKILL" if stop == signal.SIGKILL else "SIGTERM"
        if stop == signal.SIGKILL:
            fig.kills += 1
            expected = -signal.SIGKILL
        else:
            fig.terms += 1
            expected = 128 + signal.SIGTERM
            if "interrupted;" not in err:
                fig.failures.append(f"round {number}: SIGTERM did not say 'interrupted': {err!r}")
        if proc.returncode != expected:
            fig.failures.append(f"round {number}: {name} exit {proc.returncode}, not {expected}")
        last, indexed = positions(home)
        fig.behind.append(last - indexed)
        print(
            f"round {number:2}: {name} after {delay:.2f} s (exit {proc.returncode}, index commit "
            f"every {commit_seconds:g} s): {last - before:,} documents written, the index "
            f"{last - indexed:,} behind"
        )
        verify(home, fig, f"after round {number} ({name})")


def overlap(root: Path, files: list[Path], fig: Figures, wait: float) -> str:
    """Two ingests started together on different files of a new archive."""
    home = root / f"overlap-{wait:g}"
    first = sourcebook(home, "ingest", str(files[0]), "-q", wait=wait)
    second = sourcebook(home, "ingest", str(files[1]), "-q", wait=wait)
    outputs = [p.communicate(timeout=300) for p in (first, second)]
    codes = [first.returncode, second.returncode]
    added = [totals(out)[0] for out, _ in outputs]
    with Archive(Settings(home=home)) as archive:
        stored = archive.store.count()
    verify(home, fig, f"overlap (wait {wait:g} s)")
    if wait > 0:
        if codes != [0, 0] or sum(added) != stored:
            fig.failures.append(
                f"overlap with waiting: exits {codes}, reports {added} added, store {stored}"
            )
        return f"both finished, {added[0]:,} + {added[1]:,} added = {stored:,} stored"
    refused = [i for i, code in enumerate(codes) if code == 4]
    message = " ".join(outputs[refused[0]][1].split()) if refused else ""
    done = [i for i, code in enumerate(codes) if code == 0]
    if (
        len(refused) != 1
        or len(done) != 1
        or added[done[0]] != stored
        or "is writing to this archive" not in message
    ):
        fig.failures.append(f"overlap without waiting: exits {codes}, added {added}, {stored}")
        return f"exits {codes}"
    return f"one finished ({stored:,} stored), one refused: {message[:130]}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reuters", type=Path, required=True, help="folder with reut2-*.sgm")
    ap.add_argument(
        "--files", type=int, default=3, help="SGML files to ingest (1,000 stories each)"
    )
    ap.add_argument("--kills", type=int, default=10, help="rounds stopped by SIGKILL")
    ap.add_argument("--terms", type=int, default=2, help="rounds stopped by SIGTERM")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="    (log) %(message)s")
    files = sorted(args.reuters.glob("reut2-*.sgm"))[: args.files]
    if len(files) < 2:
        print("need at least 2 Reuters SGML files", file=sys.stderr)
        return 2
    started = time.perf_counter()
    fig = Figures()
    with tempfile.TemporaryDirectory(prefix="sourcebook-faults-") as tmp:
        root = Path(tmp)
        home = root / "archive"
        kill_rounds(home, files, args, fig)
        final = sourcebook(home, "ingest", *map(str, files), "-c", "final", "-q")
        _out, err = final.communicate(timeout=300)
        if final.returncode != 0:
            fig.failures.append(f"final ingest exit {final.returncode}: {err[-300:]}")
        verify(home, fig, "after the final ingest")
        with Archive(Settings(home=home)) as archive:
            statuses = archive.store.run_statuses()
            documents = archive.store.count()
        # (a kill that lands after the run was closed, as the process exits, leaves it finished)
        fig.interrupted_runs = sum(1 for s in statuses.values() if s == "interrupted")
        waited = overlap(root, files, fig, wait=120.0)
        refused = overlap(root, files, fig, wait=0.0)
    seconds = time.perf_counter() - started
    print(f"documents: {documents:,} from {len(files)} files")
    print(f"kills: {fig.kills} SIGKILL + {fig.terms} SIGTERM ({fig.missed} stops came too late)")
    print(
        f"changes the index missed at a stop, replayed on restart: {sum(fig.behind):,} in all, "
        f"up to {max(fig.behind, default=0):,} at once"
    )
    print(f"documents unsearchable after restart: {fig.unsearchable} (goal 0)")
    print(
        f"runs closed as interrupted: {fig.interrupted_runs} of {len(statuses)} (none left running)"
    )
    print(f"overlapping ingests, second waits: {waited}")
    print(f"overlapping ingests, no waiting: {refused}")
    print(f"time: {seconds:.0f} s")
    for failure in fig.failures:
        print(f"FAIL {failure}", file=sys.stderr)
    return 1 if fig.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
