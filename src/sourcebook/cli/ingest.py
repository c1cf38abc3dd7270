"""``ingest`` and ``import``: files and folders into the archive, with a per-file report."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sourcebook.cli.base import _interrupted, _job, _open, _refused, _settings, app, console
from sourcebook.errors import (
    Conflict,
)
from sourcebook.ingest_run import StopSignals
from sourcebook.services import IngestOptions, IngestReport


def _print_report(report: IngestReport, quiet: bool) -> None:
    for outcome in report.files:
        if quiet and not outcome.failed:
            continue
        colour = "red" if outcome.status == "failed" else "yellow" if outcome.failed else "green"
        counts = ", ".join(
            f"{n} {name}"
            for name, n in (
                ("added", outcome.added),
                ("updated", outcome.updated),
                ("unchanged", outcome.unchanged),
                ("skipped", outcome.skipped),
                ("failed", outcome.failed),
            )
            if n
        )
        console.print(
            f"[{colour}]{outcome.status:>9}[/{colour}] {escape(outcome.path)}"
            + (f" [dim]({outcome.parser}: {counts})[/dim]" if counts else "")
        )
        for message in outcome.errors[:20]:
            console.print(f"           [red]↳[/red] {escape(message)}")
        if len(outcome.errors) > 20:
            console.print(f"           … and {len(outcome.errors) - 20} more errors")
    for warning in report.warnings[:20]:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    if report.skipped_files:
        console.print(
            f"[dim]{len(report.skipped_files)} files passed over (housekeeping, manifests, "
            ".sourcebookignore; `ingest --dry-run` lists them)[/dim]"
        )
    docs = report.documents
    rate = docs / report.seconds if report.seconds else 0.0
    console.print(
        f"[bold]{len(report.files)} files[/bold]: {report.total('added')} added, "
        f"{report.total('updated')} updated, {report.total('unchanged')} unchanged, "
        f"{report.total('skipped')} skipped (empty), {report.total('failed')} failed ({report.failed_files} files with failures) "
        f"in {report.seconds:.1f} s ({rate:,.0f} docs/s)"
    )


def _run_ingest(paths: list[Path], options: IngestOptions, quiet: bool, import_mode: bool) -> None:
    archive = _open()
    with archive, StopSignals() as stop:
        from sourcebook.services import iter_input_files

        total_bytes = sum(
            p.stat().st_size
            for p in iter_input_files(paths, options.include_hidden, options.skip_housekeeping)
            if p.is_file()
        )
        with (
            StopSignals() as stop,
            _job("import" if import_mode else "ingest", total_bytes, "bytes") as job,
        ):
            try:
                if import_mode:
                    report = archive.import_jsonl(paths, progress=job.advance, stop=stop)
                else:
                    report = archive.ingest(paths, options, progress=job.advance, stop=stop)
            except Conflict as exc:
                raise _refused(exc) from exc
    _print_report(report, quiet)
    if report.status == "interrupted":  # Ctrl+C or SIGTERM: the run stopped cleanly
        _interrupted(report.documents, 128 + (stop.signum or signal.SIGINT))
    if report.failed_files:
        raise typer.Exit(1)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders (walked recursively).")],
    collection: Annotated[
        str, typer.Option("--collection", "-c", help="File the documents under this collection.")
    ] = "",
    parser: Annotated[
        str, typer.Option("--parser", help="Force a parser by name instead of detecting it.")
    ] = "",
    no_language: Annotated[
        bool, typer.Option("--no-language", help="Do not detect languages.")
    ] = False,
    no_enrich: Annotated[
        bool,
        typer.Option("--no-enrich", help="Skip countries, places and near-duplicate grouping."),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="List only failed files.")] = False,
    metadata: Annotated[
        list[Path] | None,
        typer.Option(
            "--metadata",
            exists=True,
            dir_okay=False,
            help="A metadata manifest (JSONL or CSV) describing the files; repeatable. "
            "metadata.jsonl / metadata.csv in the folders walked are read anyway.",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="List what would become a document (parser, manifest fields) and what is "
            "skipped, writing nothing.",
        ),
    ] = False,
    keep_housekeeping: Annotated[
        bool,
        typer.Option(
            "--keep-housekeeping",
            help="Ingest README, PROVENANCE, LICENSE, *.dtd, *.csv... files found in folders too.",
        ),
    ] = False,
) -> None:
    """Add or update documents from files: Refworld records, HTML, PDF, text/Markdown, JSONL,
    RSS/Atom feeds and Reuters SGML. Folder walks skip housekeeping files and what a
    .sourcebookignore excludes; metadata manifests give the files their publisher, date, URL...
    Idempotent: unchanged documents are left alone, changed ones get a new revision. Exits 1
    when any input failed."""
    options = IngestOptions(
        collection=collection,
        parser=parser,
        detect_language=not no_language,
        enrich=not no_enrich,
        skip_housekeeping=not keep_housekeeping,
        metadata=list(metadata or []),
    )
    if dry_run:
        _print_dry_run(paths, options)
        return
    _run_ingest(paths, options, quiet, import_mode=False)


def _print_dry_run(paths: list[Path], options: IngestOptions) -> None:
    from sourcebook.ingest.archives import archive_limits
    from sourcebook.ingest.inputs import plan_inputs, preview_inputs
    from sourcebook.ingest.registry import ParserRegistry

    plan = plan_inputs(paths, options)
    bounds = archive_limits(_settings(), options)  # archives are listed member by member
    planned = preview_inputs(plan, ParserRegistry.from_entry_points(), options.parser, bounds)

    def line(text: str) -> None:  # one line per entry, never wrapped (so it can be grepped)
        console.print(text, soft_wrap=True)

    for item in planned:
        if item.problem:
            line(f"[red]{'no parser':>10}[/red] {escape(str(item.path))}")
            line(f"           [red]↳[/red] {escape(item.problem)}")
            continue
        line(f"[green]{item.parser:>10}[/green] {escape(str(item.path))}")
        if item.fields:
            shown = "; ".join(
                f"{name}: {'; '.join(v) if isinstance(v, list) else v}"
                for name, v in item.fields.items()
            )
            line(f"           [dim]{escape(shown)} ({escape(item.manifest_row)})[/dim]")
    for skipped in plan.skipped:
        reason = escape(skipped.reason)
        line(f"[yellow]{'skipped':>10}[/yellow] {escape(str(skipped.path))} [dim]({reason})[/dim]")
    for warning in plan.warnings:
        line(f"[yellow]warning:[/yellow] {escape(warning)}")
    documents = sum(1 for item in planned if not item.problem)
    console.print(
        f"[bold]{documents} files would be ingested[/bold], {len(plan.skipped)} skipped, "
        f"{len(planned) - documents} without a parser (dry run: nothing written)"
    )


@app.command("import")
def import_(
    paths: Annotated[
        list[Path], typer.Argument(help="JSONL files written by `sourcebook export`.")
    ],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="List only failed files.")] = False,
) -> None:
    """Import a JSONL export (keeps docids, so an export round-trips)."""
    _run_ingest(paths, IngestOptions(parser="jsonl"), quiet, import_mode=True)
