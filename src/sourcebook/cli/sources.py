"""``sourcebook sources``: register feeds, OAI-PMH repositories, pages and sitemaps, list them
with their state, and harvest them now (``serve --harvest`` runs them on their schedule)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sourcebook.cli.base import _fail, _job, _open, _read, _refused, app, console, err
from sourcebook.errors import Conflict, NotFound, SourcebookError
from sourcebook.services import sources as service
from sourcebook.sources.model import SOURCE_KINDS, Source
from sourcebook.store.codec import iso_datetime

sources_app = typer.Typer(
    help="Sources harvested on a schedule: RSS/Atom feeds, OAI-PMH repositories, web pages "
    "and sitemaps (see docs/sources.md).",
    no_args_is_help=True,
)
app.add_typer(sources_app, name="sources")


@sources_app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="The feed, OAI-PMH endpoint, page or sitemap URL.")],
    kind: Annotated[str, typer.Option("--kind", help=f"One of {', '.join(SOURCE_KINDS)}.")],
    name: Annotated[
        str, typer.Option("--name", help="The source's name (default: from the URL's host).")
    ] = "",
    every: Annotated[
        str, typer.Option("--every", help="How often to harvest: 30m, 6h, 1d, 1w.")
    ] = "6h",
    collection: Annotated[
        str, typer.Option("--collection", help="File what it brings under this collection.")
    ] = "",
    oai_set: Annotated[str, typer.Option("--set", help="OAI-PMH: harvest this set only.")] = "",
    since: Annotated[
        str, typer.Option("--from", help="OAI-PMH: records changed from this date (YYYY-MM-DD).")
    ] = "",
    follow: Annotated[
        str,
        typer.Option(
            "--follow",
            help="Pages and sitemaps: fetch only URLs starting with this (default: the site).",
        ),
    ] = "",
    max_pages: Annotated[
        int, typer.Option("--max-pages", min=1, help="Pages and sitemaps: most pages a run reads.")
    ] = 100,
) -> None:
    """Register a source; `sources run NAME` harvests it now."""
    if kind not in SOURCE_KINDS:
        _fail(f"--kind must be one of {', '.join(SOURCE_KINDS)}, not {kind!r}")
    try:
        seconds = service.parse_every(every)
        source = Source(
            name or service.default_name(url),
            url,
            kind,  # type: ignore[arg-type]  # checked above
            seconds,
            collection,
            oai_set,
            follow,
            max_pages,
            oai_from=since,
        )
        archive = _open()
        with archive:
            added = service.add_source(archive, source)
    except Conflict as exc:
        raise _refused(exc) from exc
    except SourcebookError as exc:
        _fail(str(exc))
    console.print(
        f"added source [bold]{escape(added.name)}[/bold] ({added.kind}, every "
        f"{service.format_every(added.every_seconds)}): {escape(added.url)}"
    )


@sources_app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per source.")] = False,
) -> None:
    """Every source with its schedule, last run, last error and counts."""
    with _read() as archive:
        sources = service.list_sources(archive)
    if as_json:
        for s in sources:
            row = {k: v for k, v in vars(s).items() if k not in ("oai_token",)}
            for key in ("created_at", "last_run_at", "last_success_at"):
                row[key] = iso_datetime(row[key])
            console.print_json(json.dumps(row))
        return
    if not sources:
        console.print(
            "no sources yet; add one with [bold]sourcebook sources add URL --kind feed[/bold]"
        )
        return
    table = Table(
        "name",
        "kind",
        "every",
        "last run",
        "last success",
        "added",
        "updated",
        "failed",
        "last error",
    )
    for s in sources:
        table.add_row(
            escape(s.name),
            s.kind,
            service.format_every(s.every_seconds),
            iso_datetime(s.last_run_at) or "never",
            iso_datetime(s.last_success_at) or "never",
            f"{s.added:,}",
            f"{s.updated:,}",
            f"{s.failed:,}",
            escape(s.last_error[:80]),
        )
    console.print(table)


@sources_app.command("remove")
def remove(name: Annotated[str, typer.Argument(help="The source's name.")]) -> None:
    """Forget a source; the documents and originals it brought stay in the archive."""
    try:
        with _open() as archive:
            service.remove_source(archive, name)
    except NotFound as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(3) from exc
    except Conflict as exc:
        raise _refused(exc) from exc
    console.print(f"removed source {escape(name)}")


@sources_app.command("run")
def run(
    name: Annotated[str, typer.Argument(help="Run this source (default: every due one).")] = "",
    run_all: Annotated[bool, typer.Option("--all", help="Run every source, due or not.")] = False,
) -> None:
    """Harvest now: one source, the due ones, or --all. Exit code 1 when a source failed."""
    with _open() as archive:
        try:
            if name:
                wanted = [archive.store.get_source(name)]
            elif run_all:
                wanted = service.list_sources(archive)
            else:
                wanted = service.due_sources(archive)
        except NotFound as exc:
            err.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(3) from exc
        if not wanted:
            console.print("no source is due")
            return
        reports = []
        with _job("sources", len(wanted)) as job:
            for source in wanted:
                try:
                    report = service.harvest_source(archive, source.name)
                except Conflict as exc:
                    raise _refused(exc) from exc
                reports.append(report)
                job.advance(1, sum(r.added + r.updated for r in reports))
    for report in reports:
        colour = {"ok": "green", "not modified": "cyan", "failed": "red"}[report.status]
        console.print(f"[{colour}]{escape(report.summary())}[/{colour}]", soft_wrap=True)
    total = sum(r.seconds for r in reports)
    docs = sum(r.added + r.updated for r in reports)
    console.print(
        f"{len(reports)} sources: {docs:,} documents added or updated, "
        f"{sum(r.requests for r in reports):,} requests in {total:.1f} s"
        + (f" ({docs / total:.1f} documents/s)" if total > 0 and docs else "")
    )
    if any(r.status == "failed" for r in reports):
        raise typer.Exit(1)
