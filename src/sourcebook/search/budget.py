"""The time budget of a search: answer within it, or say "this search took too long: narrow it".

Tantivy cannot cancel a search once it runs, so each call into it runs on a thread of its own
while the caller waits at most until the search's deadline. Past the deadline the caller gets a
:class:`~sourcebook.errors.SearchTimeout` at once, and the call finishes in the background,
where it is counted as *overdue*. While ``max_overdue`` calls are overdue, new calls are refused
at once instead of piling more work onto a busy index: a burst of expensive queries costs at
most ``max_overdue`` searches' worth of CPU and memory beyond the searches being answered.

The cost model (``search/limits.py``) keeps over-budget searches rare; the budget is the
backstop for what the model does not foresee (a huge archive, a slow disk).

A thread per call costs about 70 µs (measured; a pooled thread 20 µs), little next to a search
of 1 to 5 ms, and it never queues behind an overdue search the way a fixed pool can.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, TypeVar

from sourcebook.errors import SearchTimeout

__all__ = ["Deadline", "SearchBudget"]

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Deadline:
    """When a search must have answered (``at`` on the ``time.monotonic`` clock; None: never)."""

    at: float | None = None

    def remaining(self) -> float | None:
        return None if self.at is None else self.at - time.monotonic()


class _Call:
    """One call into the index on its own thread."""

    def __init__(self, budget: SearchBudget, fn: Callable[..., Any], args: Any, kwargs: Any):
        self.budget = budget
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.done = threading.Event()
        self.overdue = False
        self.value: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        started = time.monotonic()
        try:
            self.value = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:  # handed to the caller, who re-raises it
            self.error = exc
        finally:
            with self.budget.lock:
                self.done.set()
                if self.overdue:
                    self.budget.overdue -= 1
                    log.warning(
                        "an over-budget search finished after %.1f s", time.monotonic() - started
                    )

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


class SearchBudget:
    """Runs the index calls of searches within ``seconds`` each (0: no budget)."""

    def __init__(self, seconds: float, max_overdue: int) -> None:
        self.seconds = seconds
        self.max_overdue = max(1, max_overdue)
        self.lock = threading.Lock()
        #: Calls past their deadline that are still running.
        self.overdue = 0

    def start(self) -> Deadline:
        """The deadline of a search starting now."""
        return Deadline(time.monotonic() + self.seconds if self.seconds > 0 else None)

    def too_long(self) -> SearchTimeout:
        return SearchTimeout(
            f"this search took too long (more than {self.seconds:g} s): narrow it, with fewer "
            "wildcards or OR-ed words, a shorter phrase or proximity, or a filter such as a "
            "country or a date"
        )

    def busy(self) -> SearchTimeout:
        return SearchTimeout(
            "the archive is still finishing searches that took too long: try again in a few "
            "seconds, or narrow the search"
        )

    def call(self, deadline: Deadline, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)``, or ``SearchTimeout`` when it has not returned by ``deadline``."""
        remaining = deadline.remaining()
        if remaining is None:
            return fn(*args, **kwargs)
        if remaining <= 0:
            raise self.too_long()
        with self.lock:
            if self.overdue >= self.max_overdue:
                raise self.busy()
        call = _Call(self, fn, args, kwargs)
        threading.Thread(target=call.run, name="sb-search", daemon=True).start()
        if not call.done.wait(remaining):
            with self.lock:
                if not call.done.is_set():
                    call.overdue = True
                    self.overdue += 1
            if call.overdue:
                raise self.too_long()
        result: T = call.result()
        return result

    def wait(self, future: Future[T], deadline: Deadline) -> T:
        """The result of work already submitted to a pool (facet counts), within ``deadline``."""
        remaining = deadline.remaining()
        if remaining is None:
            return future.result()
        try:
            return future.result(timeout=max(remaining, 0.0))
        except FutureTimeout:
            self.abandon([future])
            raise self.too_long() from None

    def abandon(self, futures: list[Future[Any]]) -> None:
        """Give up on pool work of a refused search: cancel what has not started, and count
        what is running as overdue until it finishes."""
        for future in futures:
            if future.done() or future.cancel():
                continue
            with self.lock:
                self.overdue += 1
            future.add_done_callback(self._finished)

    def _finished(self, _future: Future[Any]) -> None:
        with self.lock:
            self.overdue -= 1
