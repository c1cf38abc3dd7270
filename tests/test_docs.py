"""The documented surface matches the code: settings, CLI options, README commands, CI."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from sourcebook.cli import app
from sourcebook.config import Settings

REPO = Path(__file__).resolve().parents[1]


def test_every_setting_is_documented() -> None:
    text = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`{name}`" in text, f"setting {name} is missing from docs/configuration.md"
        assert f"`SOURCEBOOK_{name.upper()}`" in text


def test_every_command_and_option_is_documented() -> None:
    text = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    group = typer.main.get_command(app)
    commands = getattr(group, "commands", {})
    assert commands
    for name, command in commands.items():
        match = re.search(rf"^## {re.escape(name)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
        assert match, f"docs/cli.md has no section for `{name}`"
        section = match.group(1)
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt != "--help":
                    assert opt in section, f"`{name} {opt}` is not documented in docs/cli.md"
        assert command.help, f"`{name}` has no --help text"


def test_readme_starts_with_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.S)
    run_cmd, test_cmd = blocks[0].strip(), blocks[1].strip()
    assert "sourcebook" in run_cmd and "ingest examples" in run_cmd
    assert "pytest" in test_cmd
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert test_cmd in ci, ".ci/run must run the README's test command"
