"""The README's five-minute tour, walked command by command on a fresh archive of examples/.

Every line of the tour's ``sh`` block runs in order, through the CLI runner (``sb serve`` as a
real process), in a folder where ``examples`` is the repository's and ``../shared/data`` is the
shared evaluation data. Each command has a check of what the README promises; a new line in the
tour without a check fails here. ``DOCID`` is filled with the first hit of the first search.
Lines that need ../shared or an extra skip (with a note) when it is absent.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from sourcebook.cli import app
from sourcebook.enrich import embeddings
from sourcebook.enrich.entities import EntityExtractor
from tests.conftest import SHARED

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
runner = CliRunner()


def tour_commands(readme: str) -> list[str]:
    """The tour's commands (``sb ...``, comments and the ``sb()`` definition left out)."""
    section = readme.split("## A five-minute tour", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "README.md has no sh block in its tour"
    lines = [line.split("  #")[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line.startswith("sb ")]


@dataclass
class Tour:
    folder: Path
    shared: bool
    docid: str = ""
    documents: int = 0
    skipped: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def archive(self) -> Path:
        return self.folder / "demo-archive"

    def run(self, args: list[str]) -> str:
        args = [a.replace("DOCID", self.docid) for a in args]
        result = runner.invoke(app, ["--archive", str(self.archive), *args], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (args, result.output, result.exception)
        return result.output

    def json(self, *args: str) -> dict[str, object]:
        data = json.loads(self.run([*args, "--json"]))
        assert isinstance(data, dict)
        return data


def _count(output: str) -> int:
    match = re.search(r"^([\d,]+) documents? for ", output, re.M)
    assert match, output
    return int(match.group(1).replace(",", ""))


def _total(output: str) -> int:
    data = json.loads(output)
    return int(data["total"])


# --- what each command promises --------------------------------------------------------------


def check_ingest_examples(tour: Tour, out: str) -> None:
    files = sum(1 for p in (REPO / "examples").iterdir() if p.is_file())
    match = re.search(r"(\d+) files: (\d+) added, .* 0 failed", " ".join(out.split()))
    assert match and int(match.group(1)) == files, out
    tour.documents = int(match.group(2))
    assert tour.documents >= files


def check_ingest_reuters(tour: Tour, out: str) -> None:
    added = int(re.findall(r"(\d+) added", out)[-1])
    assert added > 10_000, out
    tour.documents += added


def check_border_security(tour: Tour, out: str) -> None:
    assert _count(out) >= 1
    data = tour.json("search", 'country:TJ "border security" date:2024')
    hits = data["hits"]
    assert isinstance(hits, list)
    first = hits[0]
    assert "Families report new restrictions" in first["title"]
    assert "border security" in out.lower()
    tour.docid = first["docid"]


def check_or_not(tour: Tour, out: str) -> None:
    data = json.loads(out)
    assert data["total"] >= 3 and data["sort"] == "newest"
    dates = [h["publication_date"] for h in data["hits"] if h["publication_date"]]
    assert dates == sorted(dates, reverse=True)
    assert all("Eritrea" not in h["title"] for h in data["hits"])


def check_plain_text(tour: Tour, out: str) -> None:
    assert _count(out) >= 1 and "Situation of Returnees" in out


def check_show(tour: Tour, out: str) -> None:
    assert "Families report new restrictions at Tajik-Afghan border crossings" in out
    assert "Publisher Sourcebook Example Newsroom" in out and "Cite as" in out


def check_cite_refworld(tour: Tour, out: str) -> None:
    assert "Families report new restrictions" in out and "[accessed 19 May 2023]" in out


def check_cite_bibtex(tour: Tour, out: str) -> None:
    assert out.startswith("@") and "Families report new restrictions" in out


def check_export(tour: Tour, out: str) -> None:
    lines = (tour.folder / "archive.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == tour.documents and f"exported {tour.documents:,} documents" in out


def check_import(tour: Tour, out: str) -> None:
    assert f"{tour.documents} added" in out and "0 failed" in out
    other = runner.invoke(
        app, ["--archive", str(tour.folder / "other-archive"), "show", tour.docid]
    )
    assert other.exit_code == 0 and "Families report new restrictions" in other.output


def check_place(tour: Tour, out: str) -> None:
    assert _count(out) >= 1 and "Tajikistan: Illustrative Country Situation Summary" in out


def check_group(tour: Tour, out: str) -> None:
    assert _count(out) >= 2  # the story and its reprint, both listed (group: never collapses)
    assert "Sourcebook Example Observer" in out


def check_entities(tour: Tour, out: str) -> None:
    assert re.search(r"entities: [\d,]+ documents .*; 0 still pending", out), out


def check_person(tour: Tour, out: str) -> None:
    assert _count(out) >= 1 and "Tajikistan: Illustrative Country Situation Summary" in out


def check_embeddings(tour: Tour, out: str) -> None:
    assert "0 pending" in " ".join(out.split()), out


def check_stats(tour: Tour, out: str) -> None:
    assert re.search(rf"documents\s+{tour.documents:,}\b", out), out


def check_repair(tour: Tour, out: str) -> None:
    assert "store and index agree" in out


def check_reindex(tour: Tour, out: str) -> None:
    assert f"reindexed {tour.documents:,} documents" in out


Check = Callable[[Tour, str], None]

#: Every tour command (as written after ``sb``), what it needs, and its check.
CHECKS: dict[str, tuple[str, Check]] = {
    "ingest examples/": ("", check_ingest_examples),
    "ingest ../shared/data/reuters21578": ("shared", check_ingest_reuters),
    "search 'country:TJ \"border security\" date:2024'": ("", check_border_security),
    "search '(returnees OR migrants) -Eritrea' --sort newest --json": ("", check_or_not),
    "search 'What is the situation of returnees?'": ("", check_plain_text),
    "show DOCID": ("", check_show),
    "cite DOCID --style refworld --accessed 2023-05-19": ("", check_cite_refworld),
    "cite DOCID --style bibtex": ("", check_cite_bibtex),
    "export -o archive.jsonl": ("", check_export),
    "--archive other-archive import archive.jsonl": ("", check_import),
    "search 'place:kulob'": ("", check_place),
    "search 'group:DOCID'": ("", check_group),
    "enrich --entities": ("entities", check_entities),
    "search 'person:karimova place:kulob'": ("entities", check_person),
    "enrich --embeddings": ("semantic", check_embeddings),
    "stats": ("", check_stats),
    "check --repair": ("", check_repair),
    "reindex": ("", check_reindex),
    "serve": ("", lambda tour, out: None),  # run as a real server below
}


def _unavailable(need: str, tour: Tour) -> str:
    if need == "shared" and not tour.shared:
        return "needs ../shared/data (and the slow suite)"
    if need == "entities" and not EntityExtractor.available():
        return "needs the entities extra"
    if need == "entities" and tour.shared:
        return "about 15 minutes on Reuters (spaCy at 20-30 documents/s on two cores)"
    if need == "semantic" and not embeddings.available():
        return "needs the semantic extra"
    if need == "semantic" and tour.shared:
        return "15-80 minutes on Reuters (MiniLM at 3-17 documents/s on two cores)"
    return ""


def _serve(tour: Tour, args: list[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    program = "from sourcebook.cli import main; main()"
    command = [sys.executable, "-c", program, "--archive", str(tour.archive), *args]
    with subprocess.Popen(
        [*command, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=tour.folder,
    ) as server:
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    page = httpx.get(f"http://127.0.0.1:{port}/search?q=returnees", timeout=10)
                    break
                except httpx.TransportError:
                    assert server.poll() is None, server.stdout.read() if server.stdout else ""
                    assert time.monotonic() < deadline, "the server did not answer in 60 s"
                    time.sleep(0.3)
            assert page.status_code == 200
            assert "Situation of Returnees" in page.text
            api = httpx.get(f"http://127.0.0.1:{port}/api/search?q=returnees", timeout=10)
            assert api.status_code == 200 and api.json()["total"] >= 1
        finally:
            server.terminate()
            server.wait(timeout=30)


def walk_tour(folder: Path, shared: bool) -> Tour:
    (folder / "examples").symlink_to(REPO / "examples")
    tour = Tour(folder=folder, shared=shared)
    commands = tour_commands((REPO / "README.md").read_text(encoding="utf-8"))
    assert commands and commands[0] == "sb ingest examples/"
    for line in commands:
        text = line.removeprefix("sb ")
        assert text in CHECKS, f"the README tour's `{line}` has no check in this test"
        need, check = CHECKS[text]
        if why := _unavailable(need, tour):
            tour.skipped.append(f"{text}: {why}")
            continue
        args = shlex.split(text)
        args = [a.replace("../shared/data", str(SHARED / "data")) for a in args]
        if args == ["serve"]:
            _serve(tour, args)
            continue
        started = time.perf_counter()
        check(tour, tour.run(args))
        tour.seconds[text] = time.perf_counter() - started
    return tour


def test_the_readme_tour_on_a_fresh_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    tour = walk_tour(tmp_path, shared=False)
    assert tour.docid
    for line in tour.skipped:
        print(f"skipped: {line}")


@pytest.mark.slow
def test_the_readme_tour_with_reuters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_data: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    tour = walk_tour(tmp_path, shared=True)
    assert not any(line.startswith("ingest ../shared") for line in tour.skipped)
    for text, seconds in tour.seconds.items():
        print(f"{seconds:6.1f} s  {text}")
