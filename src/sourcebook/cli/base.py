"""The command line's shared parts: the typer app, the global options, opening the archive,
one-line errors, progress and interruption. Commands live in ``ingest``, ``reading`` and
``admin``; ``sourcebook.cli`` registers them in that order."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from sourcebook import __version__
from sourcebook.cli_progress import JobProgress, Unit
from sourcebook.config import Settings
from sourcebook.errors import (
    AccessDenied,
    ArchiveOutdated,
    Conflict,
    NotFound,
    SourcebookError,
)
from sourcebook.model import Document
from sourcebook.services import Archive

app = typer.Typer(
    help="Sourcebook: archive, search and cite country-of-origin information and news.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)


class State:
    archive_dir: Path | None = None
    database_url: str | None = None


state = State()


def _settings() -> Settings:
    overrides: dict[str, Any] = {}
    if state.archive_dir is not None:
        overrides["home"] = state.archive_dir
    if state.database_url is not None:
        overrides["database_url"] = state.database_url
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problem = exc.errors()[0]
        name = ".".join(str(part) for part in problem["loc"])
        _fail(f"setting SOURCEBOOK_{name.upper()}: {problem['msg']}")


def _fail(message: str, code: int = 2) -> NoReturn:
    """One line on standard error, then exit: the user never sees a traceback."""
    err.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def _open(settings: Settings | None = None) -> Archive:
    """The archive for a command that writes: created when missing."""
    try:
        return Archive(settings or _settings())
    except SourcebookError as exc:
        _fail(str(exc))


def _read(settings: Settings | None = None) -> Archive:
    """The archive for a command that only reads: it must exist, and is opened read-only
    (so an archive the user may only read works, and a mistyped --archive creates nothing)."""
    settings = settings or _settings()
    try:
        return Archive(settings, read_only=True)
    except ArchiveOutdated as outdated:
        # Made by an older version: a writer upgrades it once (migrations, index rebuild).
        try:
            return Archive(settings)
        except AccessDenied as exc:
            _fail(f"{outdated}, and {exc}")
        except SourcebookError as exc:
            _fail(str(exc))
    except SourcebookError as exc:
        _fail(str(exc))


def _version(value: bool) -> None:
    if value:
        console.print(f"sourcebook {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    archive: Annotated[
        Path | None,
        typer.Option(
            "--archive",
            "-a",
            help="Archive directory (default: $SOURCEBOOK_HOME or ~/.sourcebook). Commands "
            "that only read never create it.",
            envvar=None,
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="PostgreSQL URL of an organisation archive (default: $SOURCEBOOK_DATABASE_URL, "
            "else SQLite in the archive directory).",
            envvar=None,
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Options for every command."""
    state.archive_dir = archive
    state.database_url = database
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _interrupted(n: int, code: int = 130) -> NoReturn:
    """Ctrl+C (or SIGTERM) during a long job: say what was kept, exit 130 (the shell's code
    for SIGINT; 143 for SIGTERM)."""
    err.print(
        f"[yellow]interrupted[/yellow]; {n:,} {'document' if n == 1 else 'documents'} kept",
        soft_wrap=True,
    )
    raise typer.Exit(code)


@contextmanager
def _job(label: str, total: int | None, unit: Unit = "documents") -> Iterator[JobProgress]:
    """Progress of a long job (a bar on a terminal, else a line every few seconds); Ctrl+C
    ends it with :func:`_interrupted`."""
    job = JobProgress(label, total, unit, err)
    try:
        with job:
            yield job
    except KeyboardInterrupt:
        _interrupted(job.documents)


@contextmanager
def _failing() -> Iterator[None]:
    """A SourcebookError inside ends the command with its one line and exit status 2, as
    :func:`sourcebook.cli.main` does, and so under typer's runner too."""
    try:
        yield
    except SourcebookError as exc:
        _fail(str(exc))


def _refused(exc: Conflict) -> typer.Exit:
    err.print(f"[red]refused:[/red] {escape(str(exc))}", soft_wrap=True)
    return typer.Exit(4)


def _parse_date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {name} must be a date like 2017-02-27, not {value!r}")
        raise typer.Exit(2) from exc


def _get(archive: Archive, docid: str) -> Document:
    try:
        return archive.get(docid)
    except NotFound as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(3) from exc
