"""``sourcebook user ...`` and ``sourcebook audit``: accounts from the command line."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sourcebook.cli import app
from sourcebook.config import Settings
from sourcebook.services import Archive
from sourcebook.services.accounts import Accounts

runner = CliRunner()
PASSWORD = "a long enough password"


def test_users_are_managed_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCEBOOK_PASSWORD_HASH_MEMORY_KIB", "1024")
    monkeypatch.setenv("SOURCEBOOK_PASSWORD_HASH_TIME_COST", "1")
    archive = tmp_path / "archive"
    secret = tmp_path / "password.txt"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")

    def run(*args: str) -> str:
        result = runner.invoke(app, ["--archive", str(archive), *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    run("user", "add", "mona", "--role", "editor", "--password-file", str(secret))
    run("user", "add", "ali", "--no-password", "--email", "ali@example.org")
    listing = run("user", "list")
    assert "mona" in listing and "editor" in listing and "no password" in listing
    reset = run("user", "reset", "ali")
    new_password = reset.rsplit(":", 1)[1].strip()
    run("user", "role", "ali", "admin")
    run("user", "group", "add", "legal")
    run("user", "group", "member", "mona", "legal")
    assert "legal: mona" in run("user", "group", "list")
    run("user", "disable", "mona")
    settings = Settings(home=archive, password_hash_memory_kib=1024, password_hash_time_cost=1)
    with Archive(settings) as opened:
        accounts = Accounts(opened.store, settings)
        assert accounts.sign_in("ali", new_password).user == "ali"
        mona = accounts.user("mona")
        assert mona.disabled and mona.groups == frozenset({"legal"})
    refused = runner.invoke(app, ["--archive", str(archive), "user", "role", "ali", "boss"])
    assert refused.exit_code == 2 and "reader, editor, admin" in refused.output
    taken = runner.invoke(
        app, ["--archive", str(archive), "user", "add", "ali", "--password-file", str(secret)]
    )
    assert taken.exit_code == 2 and "already a user" in taken.output
    rows = list(
        csv.DictReader(io.StringIO(run("audit", "--format", "csv", "--actor", "(operator)")))
    )
    assert [r["action"] for r in rows][:3] == [
        "user-disable",
        "group-member",
        "group-add",
    ]
    assert all(r["client"] == "cli" for r in rows)
