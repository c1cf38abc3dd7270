"""Commands for accounts: ``sourcebook user add/list/role/disable/enable/reset``, ``sourcebook
user group add/list/member``, and ``sourcebook audit`` (the audit log's export). They act as the
archive's operator; every change is in the audit log (client ``cli``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sourcebook.cli.base import _fail, _open, _read, _settings, app, console, err
from sourcebook.errors import SourcebookError
from sourcebook.services.accounts import Accounts
from sourcebook.store.accounts_base import AuditFilter
from sourcebook.viewer import Viewer

user_app = typer.Typer(
    help="Users of the web app and the API: add, list, change role, disable, reset.",
    no_args_is_help=True,
)
group_app = typer.Typer(help="Groups of users (collections may be shared with a group).")
app.add_typer(user_app, name="user")
user_app.add_typer(group_app, name="group")

OPERATOR = Viewer.system()
CLIENT = "cli"

RoleOption = Annotated[
    str, typer.Option("--role", "-r", help="reader, editor (ingest, edit, delete) or admin.")
]
PasswordFile = Annotated[
    Path | None,
    typer.Option(
        "--password-file",
        help="Read the password from this file's first line (else it is asked for).",
        exists=True,
        dir_okay=False,
    ),
]


@contextmanager
def _accounts(read_only: bool = False) -> Iterator[Accounts]:
    settings = _settings()
    archive = _read(settings) if read_only else _open(settings)
    try:
        yield Accounts(archive.store, settings)
    except SourcebookError as exc:
        _fail(str(exc))
    finally:
        archive.close()


def _password(path: Path | None, ask: bool = True) -> str | None:
    if path is not None:
        return path.read_text(encoding="utf-8").splitlines()[0] if path.stat().st_size else ""
    if not ask:
        return None
    if not sys.stdin.isatty():
        _fail("no terminal to ask for the password: give --password-file FILE")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name (letters, digits, . _ @ -).")],
    role: RoleOption = "reader",
    email: Annotated[str, typer.Option("--email", help="The user's e-mail address.")] = "",
    password_file: PasswordFile = None,
    no_password: Annotated[
        bool,
        typer.Option("--no-password", help="No password yet (sign-in is refused until reset)."),
    ] = False,
) -> None:
    """Add a user. The password is asked for (twice) unless --password-file or --no-password."""
    password = None if no_password else _password(password_file)
    with _accounts() as accounts:
        user = accounts.add_user(name, role, password, by=OPERATOR, email=email, client=CLIENT)
    console.print(f"added {escape(user.name)} ({user.role})")


@user_app.command("list")
def user_list() -> None:
    """Every user: role, e-mail, groups, whether disabled or without a password."""
    with _accounts(read_only=True) as accounts:
        users = accounts.users()
    if not users:
        console.print("no users: the archive is open to this machine as before (docs/security.md)")
        return
    table = Table("name", "role", "e-mail", "groups", "status")
    for user in users:
        status = "disabled" if user.disabled else "active"
        if not user.password_hash:
            status += ", no password"
        table.add_row(
            escape(user.name),
            user.role,
            escape(user.email) or "not stated",
            escape(", ".join(sorted(user.groups))) or "none",
            status,
        )
    console.print(table)


@user_app.command("role")
def user_role(
    name: Annotated[str, typer.Argument(help="The user.")],
    role: Annotated[str, typer.Argument(help="reader, editor or admin.")],
) -> None:
    """Change a user's role (effective on their next request)."""
    with _accounts() as accounts:
        accounts.set_role(name, role, by=OPERATOR, client=CLIENT)
    console.print(f"{escape(name)} is now {escape(role)}")


@user_app.command("disable")
def user_disable(name: Annotated[str, typer.Argument(help="The user.")]) -> None:
    """Disable a user: their sessions end and their API tokens stop working."""
    with _accounts() as accounts:
        accounts.set_disabled(name, True, by=OPERATOR, client=CLIENT)
    console.print(f"{escape(name)} is disabled")


@user_app.command("enable")
def user_enable(name: Annotated[str, typer.Argument(help="The user.")]) -> None:
    """Enable a disabled user again."""
    with _accounts() as accounts:
        accounts.set_disabled(name, False, by=OPERATOR, client=CLIENT)
    console.print(f"{escape(name)} is enabled")


@user_app.command("reset")
def user_reset(
    name: Annotated[str, typer.Argument(help="The user.")],
    password_file: PasswordFile = None,
) -> None:
    """Give a user a new password and end their sessions. Without --password-file a random one
    is made and printed once: hand it to the user, who changes it on their account page."""
    chosen = _password(password_file, ask=False)
    with _accounts() as accounts:
        password = accounts.reset_password(name, chosen, by=OPERATOR, client=CLIENT)
    if chosen:
        console.print(f"{escape(name)}: password changed, sessions ended")
    else:
        console.print(f"{escape(name)}: new password (shown once): {escape(password)}")


@group_app.command("add")
def group_add(name: Annotated[str, typer.Argument(help="The group's name.")]) -> None:
    """Add a group."""
    with _accounts() as accounts:
        accounts.add_group(name, by=OPERATOR, client=CLIENT)
    console.print(f"added the group {escape(name)}")


@group_app.command("list")
def group_list() -> None:
    """Every group with its members."""
    with _accounts(read_only=True) as accounts:
        groups = accounts.groups()
    if not groups:
        console.print("no groups")
    for group, members in groups.items():
        console.print(f"{escape(group)}: {escape(', '.join(members)) or '(no members)'}")


@group_app.command("member")
def group_member(
    user: Annotated[str, typer.Argument(help="The user.")],
    group: Annotated[str, typer.Argument(help="The group.")],
    remove: Annotated[bool, typer.Option("--remove", help="Take the user out.")] = False,
) -> None:
    """Put a user in a group (or take them out with --remove)."""
    with _accounts() as accounts:
        accounts.set_membership(user, group, not remove, by=OPERATOR, client=CLIENT)
    console.print(f"{escape(user)} {'removed from' if remove else 'added to'} {escape(group)}")


def _day(value: str | None, end: bool) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        _fail(f"write dates as YYYY-MM-DD, not {value!r}")
    return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)


@app.command("audit")
def audit(
    since: Annotated[
        str | None, typer.Option("--since", help="From this day (YYYY-MM-DD).")
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="To this day, inclusive.")] = None,
    actor: Annotated[str, typer.Option("--actor", help="Only this user's entries.")] = "",
    action: Annotated[str, typer.Option("--action", help="Only this action (sign-in...).")] = "",
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")
    ] = None,
) -> None:
    """Export the audit log (sign-ins, writes, deletions, permission changes, restricted reads),
    newest first."""
    if fmt not in ("jsonl", "csv"):
        _fail(f"--format is jsonl or csv, not {fmt!r}")
    selection = AuditFilter(
        since=_day(since, end=False), until=_day(until, end=True), actor=actor, action=action
    )
    with _accounts(read_only=True) as accounts:
        if output is None:
            count = accounts.audit.export(selection, sys.stdout, "csv" if fmt == "csv" else "jsonl")
        else:
            with output.open("w", encoding="utf-8", newline="") as out:
                count = accounts.audit.export(selection, out, "csv" if fmt == "csv" else "jsonl")
    err.print(f"{count:,} audit entries")
