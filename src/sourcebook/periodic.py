"""A daemon thread that calls ``poll()`` every ``interval`` seconds until stopped (the server's
background work: due sources, queued vectors). A failing poll is logged and tried again at the
next turn; stopping waits for the poll under way."""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger(__name__)


class Periodic:
    #: The thread's name; whether the first poll runs at once or after one interval.
    thread_name = "sb-periodic"
    poll_at_start = True

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self) -> Any:
        raise NotImplementedError

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def stopping(self) -> bool:
        return self._stop.is_set()

    def _run(self) -> None:
        if not self.poll_at_start and self._stop.wait(self.interval):
            return
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:  # a database restart, a full disk: try again next time
                log.exception("%s failed; trying again in %g s", self.thread_name, self.interval)
            if self._stop.wait(self.interval):
                break
