"""Progress of the command line's long jobs (ingest, import, reindex, enrich).

On a terminal, a rich bar. Anywhere else (a log file, a pipe, cron, CI) a bar would print nothing
useful, so a plain line goes to standard error every :data:`PLAIN_EVERY` seconds with the count,
the rate and the time left::

    ingest: 12,400 documents, 310/s, 41% of 18.2 MB, about 1 min 25 s left

The jobs report ``(advance, documents_done)``: ``advance`` is in the job's unit (bytes read for
ingest and import, documents for the others), so the fraction done, and from it the time left,
comes from the unit's total.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Literal

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

#: Seconds between two plain progress lines when standard error is not a terminal.
PLAIN_EVERY = 5.0

Unit = Literal["bytes", "documents"]


def format_duration(seconds: float) -> str:
    """``45 s``, ``3 min 05 s``, ``2 h 07 min``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} GB"  # pragma: no cover (the loop returns)


class JobProgress:
    """A rich bar on a terminal, else a plain line every :data:`PLAIN_EVERY` seconds."""

    def __init__(self, label: str, total: int | None, unit: Unit, console: Console) -> None:
        self.label = label
        self.total = total or None
        self.unit = unit
        self.console = console
        #: Documents done so far (reported by the job).
        self.documents = 0
        self.done = 0
        self._started = time.monotonic()
        self._last_line = self._started
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        if console.is_terminal:
            columns: list[ProgressColumn]
            if unit == "bytes":
                columns = [DownloadColumn(), TransferSpeedColumn()]
            else:
                columns = [MofNCompleteColumn(), TimeRemainingColumn()]
            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                *columns,
                TextColumn("{task.fields[docs]:,} docs"),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            )

    def __enter__(self) -> JobProgress:
        self._started = self._last_line = time.monotonic()
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=self.total, docs=0)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def advance(self, amount: int, documents: int) -> None:
        """The job's progress callback: ``amount`` more units done, ``documents`` in all."""
        self.done += amount
        self.documents = documents
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, advance=amount, docs=documents)
            return
        now = time.monotonic()
        if now - self._last_line >= PLAIN_EVERY:
            self._last_line = now
            self.console.print(self.line(now - self._started), soft_wrap=True, markup=False)

    def line(self, elapsed: float) -> str:
        """The plain progress line after ``elapsed`` seconds."""
        rate = self.documents / elapsed if elapsed > 0 else 0.0
        parts = [f"{self.label}: {self.documents:,} documents", f"{rate:,.1f}/s"]
        if self.total:
            fraction = min(self.done / self.total, 1.0)
            if self.unit == "bytes":
                parts.append(f"{fraction:.0%} of {format_bytes(self.total)}")
            else:
                parts[0] = f"{self.label}: {self.documents:,} of {self.total:,} documents"
            if fraction > 0:
                left = elapsed * (1 - fraction) / fraction
                parts.append(f"about {format_duration(left)} left")
        parts.append(f"{format_duration(elapsed)} so far")
        return ", ".join(parts)
