"""The command line. It parses arguments, calls the services and shows results; nothing more.

Exit codes: 0 success; 1 when some inputs failed (ingest, import) or a check found drift, or
the output was closed early (``| head``); 2 for a usage error, a bad query, a missing, unusable
or read-only archive, a file that cannot be written; 3 for a missing document; 4 when another
writer holds the archive; 130 after Ctrl+C, 143 after SIGTERM (an ingest keeps what it stored).
Whatever goes wrong, the user sees one line, never a traceback.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sourcebook import __version__
from sourcebook.api.schemas import result_to_json
from sourcebook.cite import NO_DATE, NO_PUBLISHER
from sourcebook.cli_progress import JobProgress, Unit
from sourcebook.config import Settings
from sourcebook.errors import (
    AccessDenied,
    ArchiveOutdated,
    Conflict,
    NotFound,
    QuerySyntaxError,
    SourcebookError,
)
from sourcebook.ingest_run import StopSignals
from sourcebook.model import Document, PassageHit, SearchResult
from sourcebook.search.highlight import snippet_segments
from sourcebook.search.request import SORTS, SearchRequest
from sourcebook.services import Archive, IngestOptions, IngestReport, document_to_json

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


def _refused(exc: Conflict) -> typer.Exit:
    err.print(f"[red]refused:[/red] {escape(str(exc))}", soft_wrap=True)
    return typer.Exit(4)


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


def _parse_date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {name} must be a date like 2017-02-27, not {value!r}")
        raise typer.Exit(2) from exc


def _snippet_markup(passage: PassageHit) -> str:
    """The part of a passage around its first match (as the web page shows it), matched words
    in bold; the text is escaped, so brackets in a document are never read as markup."""
    segments = snippet_segments(passage.text, [(h.start, h.end) for h in passage.highlights])
    return "".join(
        f"[bold yellow]{escape(piece)}[/bold yellow]" if match else escape(piece)
        for piece, match in segments
    )


def _print_hits(result: SearchResult) -> None:
    start = (result.page - 1) * result.page_size
    console.print(
        f"[bold]{result.total:,}[/bold] {'document' if result.total == 1 else 'documents'} for [cyan]{escape(result.query or '*')}[/cyan]"
        f" [dim]({result.took_ms:.1f} ms, page {result.page}, sorted by {result.sort}"
        + (", hybrid" if result.ranking == "hybrid" else "")
        + ")[/dim]"
        + (
            f" [dim](and {result.collapsed:,} similar, under the hits they reprint)[/dim]"
            if result.collapsed
            else ""
        )
    )
    for notice in result.notices:
        console.print(f"[yellow]note:[/yellow] {escape(notice)}")
    for i, hit in enumerate(result.hits, start + 1):
        meta = " · ".join(
            x
            for x in (
                hit.publisher or NO_PUBLISHER,
                hit.publication_date.isoformat() if hit.publication_date else NO_DATE,
                ", ".join(hit.countries),
                hit.language,
            )
            if x
        )
        console.print(
            f"\n[bold]{i}. {escape(hit.title or '(untitled)')}[/bold]  [dim]{hit.docid}[/dim]"
        )
        if meta:
            console.print(f"   [dim]{escape(meta)}[/dim]")
        if hit.similar and hit.dup_group:
            console.print(
                f"   [dim](+{hit.similar:,} similar: sourcebook search 'group:{hit.dup_group}')[/dim]"
            )
        for passage in hit.passages:
            console.print(
                f"   {_snippet_markup(passage)}  [dim]\\[{passage.start}:{passage.end}][/dim]"
            )
    if result.facets:
        console.print()
        for name, values in result.facets.items():
            if values:
                about = "≈" if result.facets_approximate else ""
                shown = ", ".join(f"{v.label or v.value} ({about}{v.count})" for v in values[:8])
                console.print(f"[dim]{name}:[/dim] {escape(shown)}")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Query (see docs/query-language.md).")] = "",
    country: Annotated[
        list[str] | None, typer.Option("--country", help="Filter by country.")
    ] = None,
    publisher: Annotated[
        list[str] | None, typer.Option("--publisher", help="Filter by publisher.")
    ] = None,
    doc_type: Annotated[
        list[str] | None, typer.Option("--type", help="Filter by document type.")
    ] = None,
    language: Annotated[
        list[str] | None, typer.Option("--language", help="Filter by language.")
    ] = None,
    collection: Annotated[
        list[str] | None, typer.Option("--collection", help="Filter by collection.")
    ] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="Published on or after (YYYY-MM-DD).")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Published on or before (YYYY-MM-DD).")
    ] = None,
    sort: Annotated[str, typer.Option(help=f"One of: {', '.join(SORTS)}.")] = "relevance",
    page: Annotated[int, typer.Option(help="Page number (from 1).")] = 1,
    size: Annotated[int, typer.Option(help="Hits per page.")] = 10,
    mode: Annotated[str, typer.Option(help="auto, syntax or plain.")] = "auto",
    hybrid: Annotated[
        bool | None,
        typer.Option(
            "--hybrid/--no-hybrid",
            help="Fuse BM25 with vector search when the archive has vectors (default: the "
            "hybrid setting); --no-hybrid skips loading the model.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Search the archive, with facets and the best passages of each hit."""
    request = SearchRequest(
        query=query,
        mode=mode,  # type: ignore[arg-type]  # validated by the engine
        countries=country or [],
        publishers=publisher or [],
        types=doc_type or [],
        languages=language or [],
        collections=collection or [],
        date_from=_parse_date(date_from, "--from"),
        date_to=_parse_date(date_to, "--to"),
        sort=sort,  # type: ignore[arg-type]  # validated by the engine
        page=page,
        page_size=size,
    )
    settings = _settings()
    if hybrid is not None:
        settings = settings.model_copy(update={"hybrid": hybrid})
    archive = _read(settings)
    with archive:
        try:
            result = archive.search(request)
        except QuerySyntaxError as exc:
            err.print(f"[red]query error:[/red] {escape(exc.describe())}")
            raise typer.Exit(2) from exc
    if as_json:
        sys.stdout.write(json.dumps(result_to_json(result), ensure_ascii=False, indent=2) + "\n")
    else:
        _print_hits(result)


def _get(archive: Archive, docid: str) -> Document:
    try:
        return archive.get(docid)
    except NotFound as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(3) from exc


@app.command()
def show(
    docid: Annotated[str, typer.Argument(help="The document's docid.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print every field as JSON.")] = False,
) -> None:
    """Show one record, laid out like a Refworld record."""
    archive = _read()
    with archive:
        doc = _get(archive, docid)
        parent = archive.parent(doc)  # the message or archive it was found in
    if as_json:
        sys.stdout.write(
            json.dumps(document_to_json(doc, public=False), ensure_ascii=False, indent=2) + "\n"
        )
        return
    derived = set(doc.derived)

    def label(name: str, value: str, field: str = "") -> None:
        if value:
            mark = " [dim](derived)[/dim]" if field in derived else ""
            console.print(f"[bold]{name}[/bold] {escape(value)}{mark}")

    label("Last Updated:", doc.last_updated.isoformat() if doc.last_updated else "", "last_updated")
    console.print(f"\n[bold]{escape(doc.title or '(untitled)')}[/bold]\n")
    if parent is not None:
        docid_note = f" ({parent.docid})" if parent.docid else ""
        console.print(f"{escape(parent.label)} {escape(parent.title)}{docid_note}\n")
    label("Docid", doc.docid)
    label("Publisher", doc.publisher or "not stated")
    label("Author", "; ".join(doc.authors))
    label(
        "Publication Date",
        doc.publication_date.isoformat() if doc.publication_date else "not stated",
        "publication_date",
    )
    label("Document type", doc.document_type)
    label("Countries", ", ".join(doc.countries), "countries")
    label("Language", doc.language, "language")
    label("Collection", doc.collection)
    label("Note:", doc.ocr_note())
    label("Source id", doc.source_id)
    label("Cite as", doc.cite_as)
    label("Disclaimer", doc.disclaimer)
    console.print()
    console.print(escape(doc.body))
    console.print()
    label("Link to original:", doc.original_url)
    label("Accessed at:", doc.source_url)
    label("Copyright notice:", doc.copyright)
    if doc.source_tags:
        for scheme, tags in doc.source_tags.items():
            label(f"Source tags ({scheme}):", ", ".join(tags))
    console.print(
        f"[dim]{len(doc.passages)} passages · revision {len(doc.revisions)}"
        + (
            f" · changed {', '.join(doc.revisions[-1].changed_fields)}"
            if len(doc.revisions) > 1
            else ""
        )
        + "[/dim]"
    )


@app.command("cite")
def cite_cmd(
    docid: Annotated[str, typer.Argument(help="The document's docid.")],
    style: Annotated[str, typer.Option(help="refworld, bibtex, ris or csl-json.")] = "refworld",
    accessed: Annotated[
        str | None,
        typer.Option(help="Access date to print (YYYY-MM-DD); default: the record's, else today."),
    ] = None,
    base_url: Annotated[
        str, typer.Option(help="This archive's public URL, for records with no source URL.")
    ] = "",
) -> None:
    """Print a citation of one record."""
    when = _parse_date(accessed, "--accessed")
    archive = _read()
    with archive:
        doc = _get(archive, docid)
        from sourcebook import cite

        try:
            text = cite.format_citation(doc, style, accessed=when, base_url=base_url)
        except SourcebookError as exc:
            err.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(2) from exc
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


@app.command()
def export(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (default: standard output)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="Export format (jsonl).")] = "jsonl",
) -> None:
    """Export every document, one JSON record per line."""
    if fmt != "jsonl":
        err.print(f"[red]error:[/red] unknown format {fmt!r}; only jsonl is supported")
        raise typer.Exit(2)
    archive = _read()
    with archive:
        if output is None:
            n = archive.export_jsonl(sys.stdout, public=False)
        else:
            try:
                fh = output.open("w", encoding="utf-8")
            except OSError as exc:
                _fail(f"cannot write {output}: {exc.strerror or exc}")
            with fh:
                n = archive.export_jsonl(fh, public=False)
    err.print(f"exported {n:,} documents")


@app.command()
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Counts: documents, passages, revisions, languages, collections, countries, publishers."""
    archive = _read()
    with archive:
        figures = archive.stats()
    if as_json:
        sys.stdout.write(json.dumps(figures, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(show_header=False, box=None)
    for key, value in figures.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k or '(none)'}: {v:,}" for k, v in value.items()) or "—"
        elif isinstance(value, int):
            value = f"{value:,}"
        table.add_row(f"[bold]{key}[/bold]", escape(str(value)))
    console.print(table)


@app.command()
def enrich(
    entities: Annotated[
        bool,
        typer.Option(
            "--entities",
            help="Extract people and organisations (needs the extra: pip install 'sourcebook[entities]').",
        ),
    ] = False,
    embeddings: Annotated[
        bool,
        typer.Option(
            "--embeddings",
            help="Embed documents for hybrid search (needs the extra: see docs/semantic.md).",
        ),
    ] = False,
    dedup: Annotated[
        bool,
        typer.Option(
            "--dedup",
            help="Recompute every near-duplicate group with the current rule (after an "
            "upgrade: groups are otherwise assigned once, at ingest).",
        ),
    ] = False,
    batch: Annotated[
        int,
        typer.Option(
            help="Documents per batch (entities, default 64) or vectors per save "
            "(embeddings, default 256)."
        ),
    ] = 0,
    limit: Annotated[int, typer.Option(help="Stop after this many documents (0: all).")] = 0,
) -> None:
    """Run the slow enrichment in the background of a working archive: resumable, batch by
    batch, with search available throughout."""
    if not entities and not embeddings and not dedup:
        err.print("[red]error:[/red] say what to enrich: --entities, --embeddings and/or --dedup")
        raise typer.Exit(2)
    archive = _open()
    with archive:
        if dedup:
            _enrich_dedup(archive)
        if entities:
            _enrich_entities(archive, batch or 64, limit)
        if embeddings:
            _enrich_embeddings(archive, batch, limit)


def _enrich_dedup(archive: Archive) -> None:
    started = time.perf_counter()
    with _job("near-duplicates", archive.count()) as job:
        report = archive.regroup_duplicates(job.advance)
    console.print(
        f"near-duplicates: {report.documents:,} documents regrouped in "
        f"{time.perf_counter() - started:.1f} s; {report.changed:,} changed group; "
        f"{report.groups:,} groups of reprints"
    )


def _enrich_entities(archive: Archive, batch: int, limit: int) -> None:
    pending = archive.pending_entities()
    total = min(pending, limit) if limit else pending
    started = time.perf_counter()
    with _job("entities", total) as job:
        done = archive.enrich_entities(batch_size=batch, limit=limit, progress=job.advance)
    seconds = time.perf_counter() - started
    rate = done / seconds if seconds else 0.0
    console.print(
        f"entities: {done:,} documents in {seconds:.1f} s ({rate:,.1f} docs/s); "
        f"{max(pending - done, 0):,} still pending"
    )


def _enrich_embeddings(archive: Archive, chunk: int, limit: int) -> None:
    status = archive.embedding_status()
    total = min(status.pending, limit) if limit else status.pending
    try:
        # Vectors are saved in chunks and progress is reported per save, so the count that
        # Ctrl+C reports is what is kept; the next run embeds the rest.
        with _job("embeddings", total) as job:
            report = archive.enrich_embeddings(chunk=chunk, limit=limit, progress=job.advance)
    except SourcebookError as exc:  # the extra is missing, another job is running...
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    console.print(
        f"embeddings ({report.model}, {report.unit}s): {report.documents:,} documents "
        f"({report.vectors:,} vectors, {report.changed:,} changed) in {report.seconds:.1f} s "
        f"({report.rate:,.1f} docs/s); {report.removed:,} deleted documents' vectors removed; "
        f"{report.embedded:,} of {report.total:,} documents embedded, "
        f"{report.pending:,} pending"
    )


@app.command("copy-store")
def copy_store(
    src: Annotated[
        str, typer.Argument(help="Source: an archive directory or a postgresql:// URL.")
    ],
    dst: Annotated[str, typer.Argument(help="Destination (empty): a directory or a URL.")],
) -> None:
    """Copy an archive's store between SQLite and PostgreSQL: same docids, revisions, runs,
    change log and export (the destination's search index is rebuilt on its first open)."""
    from sourcebook.copy_store import copy_store as run_copy

    try:
        report = run_copy(src, dst)
    except SourcebookError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    rows = ", ".join(f"{n:,} {table}" for table, n in report.rows.items())
    console.print(f"copied {report.source} to {report.destination}: {rows}")


@app.command()
def reindex() -> None:
    """Rebuild the search index from the store (the store is the source of truth)."""
    archive = _open()
    with archive:
        total = archive.store.count()
        with _job("reindex", total) as job:
            try:
                n = archive.reindex(job.advance)
            except Conflict as exc:
                raise _refused(exc) from exc
    console.print(f"reindexed {n:,} documents")


@app.command()
def check(
    repair: Annotated[bool, typer.Option("--repair", help="Fix the drift found.")] = False,
) -> None:
    """Compare the store and the index; report (and with --repair fix) any drift."""
    archive = _open() if repair else _read()  # opened for writing, the index first catches up
    with archive:
        try:
            report = archive.check(repair=repair)
        except Conflict as exc:
            raise _refused(exc) from exc
        behind = archive.index_behind()
    if behind:
        console.print(
            f"[yellow]note[/yellow]: the index is {behind:,} store changes behind (a write was "
            "cut short); the next command that writes replays them first, "
            "[bold]sourcebook check --repair[/bold] too"
        )
    console.print(
        f"store: {report.store_documents:,} documents; index: {report.index_documents:,} entries"
    )
    for name in ("missing", "extra", "stale", "duplicated"):
        items = getattr(report, name)
        if items:
            console.print(f"[yellow]{name}[/yellow] ({len(items)}): {', '.join(items[:10])}")
    if report.ok:
        console.print("[green]store and index agree[/green]")
    elif report.repaired:
        console.print("[green]repaired[/green]")
    else:
        console.print("run [bold]sourcebook check --repair[/bold] to fix")
        raise typer.Exit(1)


@app.command()
def delete(
    docids: Annotated[
        list[str] | None, typer.Argument(help="Docids of the documents to delete.")
    ] = None,
    query: Annotated[
        str | None,
        typer.Option("--query", "-q", help="Delete every document this query matches."),
    ] = None,
    everything: Annotated[
        bool, typer.Option("--everything", help="Allow an empty --query: delete every document.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete documents from the store and the index. Their docids stay issued (never given to
    another source) and OAI-PMH harvesters see them as deleted records. With --query, shows how
    many documents match and asks first (unless --yes)."""
    wanted = list(docids or [])
    if not wanted and query is None:
        _fail("name docids, or give --query")
    if query is not None and not query.strip() and not everything:
        _fail("an empty --query matches every document; add --everything")
    settings = _settings()
    _read(settings).close()  # it must exist: a mistyped --archive creates nothing
    archive = _open(settings)
    with archive:
        if query is not None:
            try:
                matched = archive.matching_docids(SearchRequest(query=query))
            except QuerySyntaxError as exc:
                err.print(f"[red]error:[/red] {escape(exc.describe())}")
                raise typer.Exit(2) from exc
            console.print(f"{len(matched):,} documents match {query!r}")
            if matched and not yes and not typer.confirm("Delete them?", default=False):
                err.print("nothing deleted")
                raise typer.Exit(1)
            wanted += matched
        try:
            report = archive.delete(wanted)
        except Conflict as exc:
            raise _refused(exc) from exc
    console.print(f"deleted {len(report.deleted):,} documents")
    if report.missing:
        err.print(
            f"[yellow]not found[/yellow] ({len(report.missing)}): {', '.join(report.missing[:10])}"
        )
        raise typer.Exit(3)


@app.command()
def serve(
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on; 127.0.0.1 serves this machine only, another address "
            "needs SOURCEBOOK_ALLOWED_HOSTS.",
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    reload: Annotated[
        bool,
        typer.Option(
            "--reload/--no-reload", help="Restart when the code changes (for development)."
        ),
    ] = False,
) -> None:
    """Serve the archive on the web: search pages, records, citations and the JSON API under
    /api (one process; stop with Ctrl+C)."""
    import os

    import uvicorn

    settings = _settings()
    from sourcebook.web.access import allowed_hosts_for

    hosts = allowed_hosts_for(settings, host)  # ConfigError: a public address without names
    console.print(
        f"serving [bold]{escape(str(settings.home))}[/bold] at http://{host}:{port}/"
        " (Ctrl+C to stop)"
    )
    if not settings.admin_email:
        console.print("[dim]OAI-PMH: no SOURCEBOOK_ADMIN_EMAIL; Identify names none[/dim]")
    if settings.token() is None:
        console.print("[dim]writes: from this machine only (no SOURCEBOOK_WRITE_TOKEN)[/dim]")
    options: dict[str, Any] = {"host": host, "port": port, "server_header": False}
    from sourcebook.memory_limit import apply_memory_ceiling

    apply_memory_ceiling(settings.serve_memory_mb)  # before the archive is opened
    if reload:
        # A reloading server imports the app in a child process: pass the archive by name.
        os.environ["SOURCEBOOK_HOME"] = str(settings.home)
        os.environ["SOURCEBOOK_LISTEN_HOST"] = host
        uvicorn.run("sourcebook.web.app:app_from_environment", factory=True, reload=True, **options)
        return
    from sourcebook.web.app import create_app

    uvicorn.run(create_app(settings, allowed_hosts=hosts, listen_host=host), **options)


eval_app = typer.Typer(help="Evaluate search quality on test collections.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


@eval_app.command("retrieval")
def eval_retrieval(
    dataset: Annotated[
        Path, typer.Argument(help="A BEIR-layout folder: corpus.jsonl, queries.jsonl, qrels/.")
    ],
    mode: Annotated[str, typer.Option(help="bm25, or hybrid/semantic with the extra.")] = "bm25",
    split: Annotated[str, typer.Option(help="Which qrels file: test or train.")] = "test",
    cache: Annotated[
        Path | None,
        typer.Option(help="Folder keeping corpus embeddings between runs (hybrid, semantic)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Ingest a test collection into a temporary archive through the normal ingest path, run
    every judged query through the normal search service in plain-text mode, and print nDCG@10,
    Recall@100, MRR@10 and queries/s. Hybrid mode embeds the corpus with the normal job
    (`enrich --embeddings`) and searches as users do."""
    from sourcebook.evaluation import evaluate_retrieval

    scores = evaluate_retrieval(
        dataset,
        mode=mode,
        split=split,
        cache_dir=cache,
        progress=lambda message: err.print(f"[dim]{message}[/dim]"),
    )
    figures = scores.as_dict()
    if as_json:
        sys.stdout.write(json.dumps(figures, indent=2) + "\n")
        return
    for key, value in figures.items():
        console.print(f"{key} {value}")


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
