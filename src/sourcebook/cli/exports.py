"""``sourcebook export --format ris|bibtex|csl-json|csv``: a search's results as a reference
list (the JSON Lines export of every record stays in :mod:`sourcebook.cli.reading`)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import typer
from rich.markup import escape

from sourcebook.cli.base import _fail, _read, err
from sourcebook.errors import QuerySyntaxError, SourcebookError
from sourcebook.search.request import SearchRequest
from sourcebook.services.exports import export_search
from sourcebook.viewer import Viewer


@dataclass
class ListExport:
    """What ``sourcebook export`` was asked for when the format is a reference list."""

    fmt: str
    query: str = ""
    countries: list[str] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)
    date_from: date | None = None
    date_to: date | None = None
    limit: int = 1000
    accessed: date | None = None
    base_url: str = ""


def export_list(job: ListExport, output: Path | None) -> None:
    """Run the search as the archive's operator and write the list to ``output`` or stdout."""
    request = SearchRequest(
        query=job.query,
        countries=job.countries,
        collections=job.collections,
        date_from=job.date_from,
        date_to=job.date_to,
        sort="relevance" if job.query.strip() else "newest",
    )
    archive = _read()
    with archive:
        try:
            done = export_search(
                archive.view(Viewer.system()),
                request,
                job.fmt,
                limit=job.limit,
                accessed=job.accessed,
                base_url=job.base_url or archive.settings.public_url,
            )
        except QuerySyntaxError as exc:
            err.print(f"[red]query error:[/red] {escape(exc.describe())}")
            raise typer.Exit(2) from exc
        except SourcebookError as exc:
            err.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(2) from exc
    if output is None:
        sys.stdout.buffer.write(done.export.data)
        sys.stdout.flush()
    else:
        try:
            output.write_bytes(done.export.data)
        except OSError as exc:
            _fail(f"cannot write {output}: {exc.strerror or exc}")
    for notice in done.notices:
        err.print(f"[yellow]note:[/yellow] {escape(notice)}")
    err.print(f"exported {done.exported:,} of {done.total:,} matching documents as {job.fmt}")
