"""Commands that maintain or serve an archive: ``enrich``, ``copy-store``, ``reindex``,
``check``, ``delete``, ``serve`` and ``eval``."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from sourcebook.cli.base import (
    _fail,
    _job,
    _open,
    _read,
    _refused,
    _settings,
    app,
    console,
    err,
)
from sourcebook.errors import (
    Conflict,
    QuerySyntaxError,
    SourcebookError,
)
from sourcebook.search.request import SearchRequest
from sourcebook.services import Archive


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
        f"{max(pending - done, 0):,} still pending (model: {archive.settings.entity_model})"
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
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Server processes sharing the port and this archive folder (uvicorn workers; "
            "each follows the store, one at a time writes the shared index). "
            "See docs/deployment.md.",
        ),
    ] = 1,
    harvest: Annotated[
        bool,
        typer.Option(
            "--harvest", help="Also run due sources on their schedule (see `sources add`)."
        ),
    ] = False,
) -> None:
    """Serve the archive on the web: search pages, records, citations and the JSON API under
    /api (one process, or --workers N; stop with Ctrl+C)."""

    import uvicorn

    settings = _settings()
    if harvest:
        settings = settings.model_copy(update={"serve_harvest": True})
        os.environ["SOURCEBOOK_SERVE_HARVEST"] = "1"  # a reloading server's child reads it
    from sourcebook.web.access import allowed_hosts_for
    from sourcebook.web.auth import LOCAL_TOKEN_VARIABLE

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
    if reload and workers > 1:
        _fail("--reload runs one process: leave out --workers")
    from sourcebook.local_server import announce, server_url

    # serve.json in the archive's folder lets `sourcebook search --hybrid` ask this server
    # (its model stays loaded) instead of loading the model itself; removed on exit
    with announce(settings.home, server_url(host, port)) as local_token:
        if reload or workers > 1:
            # The app is imported in child processes: pass the archive by name.
            os.environ["SOURCEBOOK_HOME"] = str(settings.home)
            if settings.database_url:
                os.environ["SOURCEBOOK_DATABASE_URL"] = settings.database_url
            os.environ["SOURCEBOOK_LISTEN_HOST"] = host
            os.environ[LOCAL_TOKEN_VARIABLE] = local_token
            if workers > 1:
                console.print(f"{workers} worker processes")
            uvicorn.run(
                "sourcebook.web.app:app_from_environment",
                factory=True,
                reload=reload,
                workers=workers if workers > 1 else None,
                **options,
            )
            return
        from sourcebook.web.app import create_app

        app = create_app(settings, allowed_hosts=hosts, listen_host=host, local_token=local_token)
        uvicorn.run(app, **options)


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
