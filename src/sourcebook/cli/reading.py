"""Commands that read: ``search``, ``show``, ``cite``, ``export``, ``stats``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sourcebook.api.schemas import result_to_json
from sourcebook.cite import NO_DATE, NO_PUBLISHER
from sourcebook.cli.base import _fail, _get, _parse_date, _read, _settings, app, console, err
from sourcebook.errors import (
    QuerySyntaxError,
    SourcebookError,
)
from sourcebook.model import PassageHit, SearchResult
from sourcebook.search.explain import Explanation
from sourcebook.search.highlight import snippet_segments
from sourcebook.search.request import SORTS, SearchRequest
from sourcebook.services import document_to_json


def _snippet_markup(passage: PassageHit) -> str:
    """The part of a passage around its first match (as the web page shows it), matched words
    in bold; the text is escaped, so brackets in a document are never read as markup."""
    segments = snippet_segments(passage.text, [(h.start, h.end) for h in passage.highlights])
    return "".join(
        f"[bold yellow]{escape(piece)}[/bold yellow]" if match else escape(piece)
        for piece, match in segments
    )


#: BM25 terms named on a hit's "why" line.
MAX_WHY_TERMS = 5


def _why_line(why: Explanation) -> str:
    """One line: each fused list's part, then the largest BM25 term parts."""
    parts = [
        f"{p.name} #{p.rank or '-'} ({'-' if p.score is None else f'{p.score:.3f}'}) "
        f"x{p.weight:g} -> {p.contribution:+.3f}"
        for p in why.lists
    ]
    terms = [
        f"{t.term or t.kind} in {t.field or 'a field'} {t.score:.3f}"
        for t in why.terms[:MAX_WHY_TERMS]
    ]
    more = len(why.terms) - MAX_WHY_TERMS
    bm25 = (
        "no word matched"
        if why.bm25 is None
        else f"bm25 {why.bm25:.3f} = " + " + ".join(terms + ([f"{more} more"] if more > 0 else []))
    )
    return "; ".join([*parts, bm25, *([why.note] if why.note else [])])


def _print_hits(result: SearchResult) -> None:
    start = (result.page - 1) * result.page_size
    console.print(
        f"[bold]{result.total:,}[/bold] {'document' if result.total == 1 else 'documents'} for [cyan]{escape(result.query or '*')}[/cyan]"
        f" [dim]({result.took_ms:.1f} ms, page {result.page}, sorted by {result.sort}"
        + (f", {result.ranking}" if result.ranking != "bm25" else "")
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
        if hit.explanation is not None:
            console.print(f"   [dim]why: {escape(_why_line(hit.explanation))}[/dim]")
    if result.facets:
        console.print()
        for name, values in result.facets.items():
            if values:
                about = "≈" if result.facets_approximate else ""
                shown = ", ".join(f"{v.label or v.value} ({about}{v.count})" for v in values[:8])
                console.print(f"[dim]{name}:[/dim] {escape(shown)}")


#: Filters the search and the export of a search take alike.
CollectionFilter = Annotated[
    list[str] | None, typer.Option("--collection", help="Filter by collection.")
]
FromFilter = Annotated[
    str | None, typer.Option("--from", help="Published on or after (YYYY-MM-DD).")
]
ToFilter = Annotated[str | None, typer.Option("--to", help="Published on or before (YYYY-MM-DD).")]


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
    collection: CollectionFilter = None,
    date_from: FromFilter = None,
    date_to: ToFilter = None,
    sort: Annotated[str, typer.Option(help=f"One of: {', '.join(SORTS)}.")] = "relevance",
    page: Annotated[int, typer.Option(help="Page number (from 1).")] = 1,
    size: Annotated[int, typer.Option(help="Hits per page.")] = 10,
    mode: Annotated[str, typer.Option(help="auto, syntax or plain.")] = "auto",
    hybrid: Annotated[
        bool | None,
        typer.Option(
            "--hybrid/--no-hybrid",
            help="Fuse BM25 with vector search (the archive needs vectors: enrich "
            "--embeddings). Off by default here, so a plain search never loads the model.",
            show_default=False,
        ),
    ] = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Say why each hit ranks where it does: matched terms and their BM25 parts; "
            "with hybrid ranking each list's rank, score and weight.",
        ),
    ] = False,
    crosslang: Annotated[
        bool | None,
        typer.Option(
            "--crosslang/--no-crosslang",
            help="Cross-language search: find documents in other languages by meaning (needs "
            "multilingual vectors; default: on where they exist, setting crosslang). "
            "--no-crosslang keeps to documents containing the query's words.",
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
        explain=explain,
        crosslang=crosslang,
    )
    settings = _settings()
    # the command line ranks by BM25 unless --hybrid: loading the model for one query costs
    # more than the query (docs/semantic.md); the web server keeps it loaded instead, so a
    # hybrid search asks a running `sourcebook serve` of this archive when there is one
    settings = settings.model_copy(update={"hybrid": bool(hybrid) and settings.hybrid})
    if settings.hybrid:
        from sourcebook.local_server import search_on_server

        answered = search_on_server(settings.home, request)
        if answered is not None:
            result, url = answered
            _show_result(result, as_json)
            if not as_json:
                console.print(f"[dim]answered by the running server at {escape(url)}[/dim]")
            return
    archive = _read(settings)
    with archive:
        try:
            result = archive.search(request)
        except QuerySyntaxError as exc:
            err.print(f"[red]query error:[/red] {escape(exc.describe())}")
            raise typer.Exit(2) from exc
    _show_result(result, as_json)
    if as_json:
        return
    if hybrid is None and result.ranking == "bm25" and archive.engine.vectors.has_vectors():
        console.print("[dim]ranked by BM25 alone: add --hybrid to rank by meaning too[/dim]")


def _show_result(result: SearchResult, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(result_to_json(result), ensure_ascii=False, indent=2) + "\n")
    else:
        _print_hits(result)


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
    fmt: Annotated[
        str, typer.Option("--format", help="jsonl (every record), or ris, bibtex, csl-json, csv.")
    ] = "jsonl",
    query: Annotated[
        str, typer.Option("--query", "-q", help="ris/bibtex/csl-json/csv: export this search.")
    ] = "",
    country: Annotated[
        list[str] | None, typer.Option("--country", help="Filter by country (ISO code).")
    ] = None,
    collection: CollectionFilter = None,
    date_from: FromFilter = None,
    date_to: ToFilter = None,
    limit: Annotated[int, typer.Option(help="Most documents in a list (1-1000).")] = 1000,
    accessed: Annotated[
        str | None, typer.Option(help="Access date to cite (YYYY-MM-DD); default: today.")
    ] = None,
) -> None:
    """Export every document as JSON Lines, or a search's results as a reference list (RIS,
    BibTeX, CSL-JSON or CSV; at most 1,000 documents, in result order)."""
    if fmt != "jsonl":
        from sourcebook.cli.exports import ListExport, export_list

        job = ListExport(
            fmt=fmt,
            query=query,
            countries=country or [],
            collections=collection or [],
            date_from=_parse_date(date_from, "--from"),
            date_to=_parse_date(date_to, "--to"),
            limit=limit,
            accessed=_parse_date(accessed, "--accessed"),
        )
        export_list(job, output)
        return
    if query or country or collection or date_from or date_to:
        _fail("--query and the filters select a reference list: add --format ris, bibtex, ...")
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
