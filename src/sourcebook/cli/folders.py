"""``sourcebook folder``: case files of documents and quoted passages (docs/workspace.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sourcebook.cli.base import _fail, _failing, _open, _read, app, console
from sourcebook.folders import Share
from sourcebook.services import workspace as ws
from sourcebook.viewer import Viewer

folder_app = typer.Typer(
    help="Case files: documents and quoted passages with notes.", no_args_is_help=True
)
app.add_typer(folder_app, name="folder")

#: The command line acts as the archive's operator (its folders have no owner name).
OPERATOR = Viewer.system()
NoteOption = Annotated[str, typer.Option("--note", help="A note kept with the item.")]


@folder_app.command("create")
def folder_create(title: Annotated[str, typer.Argument(help="The folder's title.")]) -> None:
    """Create a folder; prints its number."""
    with _open() as archive, _failing():
        folder = ws.create_folder(archive, OPERATOR, title)
    console.print(f"folder {folder.id}: {escape(folder.title)}")


@folder_app.command("list")
def folder_list() -> None:
    """The folders kept from the command line."""
    with _read() as archive:
        found = ws.folders(archive, OPERATOR)
    for folder in found:
        console.print(f"{folder.id}\t{escape(folder.title)}")
    if not found:
        console.print("no folders: sourcebook folder create TITLE")


@folder_app.command("show")
def folder_show(folder: Annotated[int, typer.Argument(help="The folder's number.")]) -> None:
    """Every item with its note; a quote whose document changed since says so."""
    with _read() as archive, _failing():
        opened = ws.open_folder(archive, OPERATOR, folder)
    console.print(f"[bold]{escape(opened.folder.title)}[/bold]")
    for shown in opened.items:
        item, doc = shown.item, shown.document
        where = f", para. {item.passage}" if item.passage else ""
        console.print(f"\n#{item.id} {escape(doc.title or '(untitled)')} ({doc.docid}{where})")
        if item.kind == "quote":
            console.print(f"  “{escape(item.text)}”")
        if shown.changed:
            now = shown.current_text or "(the passage is no longer in the document)"
            console.print(f"  [yellow]changed since it was added; now:[/yellow] {escape(now)}")
        if item.note:
            console.print(f"  note: {escape(item.note)}")


@folder_app.command("add")
def folder_add(
    folder: Annotated[int, typer.Argument(help="The folder's number.")],
    docid: Annotated[str, typer.Argument(help="The document's docid.")],
    note: NoteOption = "",
) -> None:
    """Add a whole document."""
    with _open() as archive, _failing():
        item = ws.add_document(archive, OPERATOR, folder, docid, note)
    console.print(f"added {item.docid} as item {item.id}")


@folder_app.command("quote")
def folder_quote(
    folder: Annotated[int, typer.Argument(help="The folder's number.")],
    docid: Annotated[str, typer.Argument(help="The document's docid.")],
    passage: Annotated[
        int | None, typer.Option("--passage", help="Quote this whole passage (from 1).")
    ] = None,
    start: Annotated[int | None, typer.Option("--start", help="First character.")] = None,
    end: Annotated[int | None, typer.Option("--end", help="Character after the last.")] = None,
    note: NoteOption = "",
) -> None:
    """Quote a passage (--passage N) or a span (--start, --end) of a document's body."""
    with _open() as archive, _failing():
        if passage is not None:
            item = ws.quote_passage(archive, OPERATOR, folder, docid, passage - 1, note)
        elif start is not None and end is not None:
            item = ws.quote(archive, OPERATOR, folder, docid, start, end, note)
        else:
            _fail("give --passage N, or --start and --end")
    console.print(f"quoted para. {item.passage} of {item.docid} as item {item.id}")


@folder_app.command("share")
def folder_share(
    folder: Annotated[int, typer.Argument(help="The folder's number.")],
    user: Annotated[str, typer.Option("--user", help="Share with this user.")] = "",
    group: Annotated[str, typer.Option("--group", help="Share with this group.")] = "",
    mode: Annotated[str, typer.Option("--mode", help="read or edit.")] = "read",
) -> None:
    """Share a folder with a user or a group, to read or to edit."""
    if bool(user) == bool(group) or mode not in ("read", "edit"):
        _fail("give one of --user or --group, and --mode read or edit")
    share = Share("user", user, mode) if user else Share("group", group, mode)  # type: ignore[arg-type]
    with _open() as archive, _failing():
        ws.share_folder(archive, OPERATOR, folder, share)
    console.print(f"folder {folder} shared with {share.target} {escape(share.name)} ({mode})")


@folder_app.command("export")
def folder_export(
    folder: Annotated[int, typer.Argument(help="The folder's number.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write.")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format", help="md, docx or pdf (the research bundle); ris, bibtex, csl-json, csv."
        ),
    ] = "docx",
    style: Annotated[
        str,
        typer.Option("--style", help="Citations: refworld, or author-date: harvard, apa, chicago."),
    ] = "refworld",
) -> None:
    """Write the folder as a research bundle (quotes, pinpoint citations, notes, bibliography)
    or as a reference list of its documents."""
    with _read() as archive, _failing():
        made = ws.export_folder(archive, OPERATOR, folder, fmt.strip().lower(), style)
    output.write_bytes(made.data)
    console.print(f"wrote {escape(str(output))} ({len(made.data):,} bytes, {made.media_type})")
