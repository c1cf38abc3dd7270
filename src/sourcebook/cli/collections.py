"""``sourcebook collections``: who may read each collection (docs/security.md)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sourcebook.access import VISIBILITIES, CollectionPolicy
from sourcebook.cli.base import _fail, _open, _read, app, console
from sourcebook.errors import SourcebookError

collections_app = typer.Typer(
    help="Who may read each collection: public, internal (signed-in users) or restricted "
    "(named groups).",
    no_args_is_help=True,
)
app.add_typer(collections_app, name="collections")


@collections_app.command("list")
def list_collections(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Every collection with its visibility (a collection with no policy is public)."""
    with _read() as archive:
        policies = archive.collections()
        counts = archive.store.set_counts().collections
    if as_json:
        for p in policies:
            record = {
                "name": p.name,
                "title": p.title,
                "visibility": p.visibility,
                "groups": list(p.groups),
                "documents": counts.get(p.name, 0),
            }
            print(json.dumps(record, ensure_ascii=False))
        return
    if not policies:
        console.print("no collections: documents are filed under one with --collection at ingest")
        return
    table = Table("collection", "visibility", "groups", "documents")
    for p in policies:
        table.add_row(
            escape(p.name), p.visibility, escape(", ".join(p.groups)), f"{counts.get(p.name, 0):,}"
        )
    console.print(table)


@collections_app.command("set")
def set_collection(
    name: Annotated[str, typer.Argument(help="The collection's name, as given at ingest.")],
    visibility: Annotated[
        str,
        typer.Option(
            "--visibility",
            help=f"One of {', '.join(VISIBILITIES)}.",
        ),
    ],
    groups: Annotated[
        str,
        typer.Option(
            "--groups", help="Comma-separated groups whose members may read a restricted one."
        ),
    ] = "",
    title: Annotated[str, typer.Option("--title", help="A title to show for it.")] = "",
) -> None:
    """Set who may read a collection; takes effect at once on every server of the archive."""
    if visibility not in VISIBILITIES:
        _fail(f"unknown visibility {visibility!r}: use one of {', '.join(VISIBILITIES)}")
    members = tuple(g.strip() for g in groups.split(",") if g.strip())
    if visibility == "restricted" and not members:
        _fail("a restricted collection needs --groups (else only admins could read it)")
    if visibility != "restricted" and members:
        _fail("--groups applies to restricted collections only")
    try:
        policy = CollectionPolicy(
            name=name.strip(),
            visibility=visibility,  # checked above
            groups=members,
            title=title,
        )
    except SourcebookError as exc:
        _fail(str(exc))
    with _open() as archive:
        archive.set_collection(policy)
    shown = f" (groups: {', '.join(members)})" if members else ""
    console.print(f"collection {escape(policy.name)} is now {visibility}{escape(shown)}")
