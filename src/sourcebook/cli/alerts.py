"""``sourcebook saved`` (saved searches) and ``sourcebook alerts`` (their e-mail digests)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sourcebook.cli.base import _fail, _failing, _open, _read, app, console, err
from sourcebook.saved import SavedSearch
from sourcebook.services import alerts
from sourcebook.viewer import Viewer

saved_app = typer.Typer(help="Saved searches, with optional e-mail alerts.", no_args_is_help=True)
app.add_typer(saved_app, name="saved")
alerts_app = typer.Typer(help="Send the e-mail digests of saved searches.", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")

#: The command line acts as the archive's operator.
OPERATOR = Viewer.system()


@saved_app.command("add")
def saved_add(
    name: Annotated[str, typer.Argument(help="A name for the search.")],
    query: Annotated[str, typer.Argument(help="The query, as typed in the search box.")],
    country: Annotated[
        list[str] | None, typer.Option("--country", help="Only these countries (repeatable).")
    ] = None,
    collection: Annotated[
        list[str] | None,
        typer.Option("--collection", help="Only these collections (repeatable)."),
    ] = None,
    daily: Annotated[bool, typer.Option("--daily", help="E-mail new documents daily.")] = False,
    weekly: Annotated[bool, typer.Option("--weekly", help="E-mail new documents weekly.")] = False,
    email: Annotated[str, typer.Option("--email", help="Where to send the alert.")] = "",
) -> None:
    """Save a search; with --daily or --weekly, e-mail what is new to the archive."""
    if daily and weekly:
        _fail("choose --daily or --weekly, not both")
    schedule = "daily" if daily else "weekly" if weekly else "none"
    filters = {"countries": country or [], "collections": collection or []}
    with _failing():
        saved = SavedSearch(
            name=name,
            query=query,
            filters={k: v for k, v in filters.items() if v},
            schedule=schedule,  # type: ignore[arg-type]
            email=email,
        )
        with _open() as archive:
            saved = alerts.save_search(archive, OPERATOR, saved)
    alert = f", {schedule} to {escape(email)}" if schedule != "none" else ""
    console.print(f"saved {escape(saved.name)!r}{alert}")


@saved_app.command("list")
def saved_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Every saved search with its alert."""
    with _read() as archive:
        found = alerts.saved_searches(archive, OPERATOR)
    if as_json:
        for s in found:
            record = {
                "name": s.name,
                "owner": s.owner,
                "query": s.query,
                "filters": s.filters,
                "schedule": s.schedule,
                "email": s.email,
                "last_sent_at": s.last_sent_at.isoformat() if s.last_sent_at else None,
            }
            print(json.dumps(record, ensure_ascii=False))
        return
    if not found:
        console.print("no saved searches: sourcebook saved add NAME QUERY")
        return
    table = Table("name", "owner", "query", "alert", "last digest")
    for s in found:
        alert = f"{s.schedule} to {s.email}" if s.schedule != "none" else "none"
        sent = s.last_sent_at.strftime("%Y-%m-%d %H:%M") if s.last_sent_at else "never"
        table.add_row(
            escape(s.name), escape(s.owner or "(operator)"), escape(s.query), escape(alert), sent
        )
    console.print(table)


@saved_app.command("delete")
def saved_delete(name: Annotated[str, typer.Argument(help="The saved search's name.")]) -> None:
    """Delete a saved search (and its alert)."""
    with _open() as archive, _failing():
        alerts.delete_saved_search(archive, OPERATOR, name)
    console.print(f"deleted {escape(name)!r}")


@alerts_app.command("run")
def alerts_run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be sent; send and record nothing.")
    ] = False,
) -> None:
    """Send the digests that are due (run it from cron or a systemd timer, e.g. hourly)."""
    with _open() as archive, _failing():
        report = alerts.send_due_digests(archive, dry_run=dry_run)
    verb = "would send" if dry_run else "sent"
    for digest in report.sent:
        s = digest.search
        console.print(f"{verb} {escape(s.name)!r} to {escape(s.email)}: {digest.total} new")
    for name, reason in report.failed:
        err.print(f"[red]not sent[/red] {escape(name)!r}: {escape(reason)}")
    console.print(
        f"{len(report.sent)} digests {verb}, {report.empty} with nothing new, "
        f"{len(report.failed)} failed"
    )
    if report.failed:
        raise typer.Exit(1)
