"""The command line. It parses arguments, calls the services and shows results; nothing more.

Exit codes: 0 success; 1 when some inputs failed (ingest, import) or a check found drift, or
the output was closed early (``| head``); 2 for a usage error, a bad query, a missing, unusable
or read-only archive, a file that cannot be written; 3 for a missing document; 4 when another
writer holds the archive; 130 after Ctrl+C, 143 after SIGTERM (an ingest keeps what it stored).
Whatever goes wrong, the user sees one line, never a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys

from rich.markup import escape

from sourcebook.api.schemas import result_to_json
from sourcebook.cli.base import app, err
from sourcebook.errors import SourcebookError

__all__ = ["app", "main", "result_to_json"]

for _module in (
    "ingest",
    "reading",
    "admin",
    "collections",
    "alerts",
    "folders",
    "sources",
    "users",
):  # each registers its commands, in --help's order
    importlib.import_module(f"sourcebook.cli.{_module}")
importlib.import_module("sourcebook.cli.jobs")  # worker, jobs (the queue of organisation mode)


def main() -> None:
    """The ``sourcebook`` program: whatever goes wrong, one line and an exit code."""
    try:
        app()
    except SourcebookError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        sys.exit(2)
    except BrokenPipeError:
        # The reader went away (`sourcebook export | head -1`): stop quietly with 1, as click
        # does when it sees this first.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/yellow]")
        sys.exit(130)
    except OSError as exc:  # a file that cannot be read or written, a full disk...
        where = f"{exc.filename}: " if exc.filename else ""
        err.print(f"[red]error:[/red] {escape(where + (exc.strerror or str(exc)))}")
        sys.exit(2)
