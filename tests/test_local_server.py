"""`sourcebook search --hybrid` asks a running `sourcebook serve` of the same archive.

Real parts: a `serve` subprocess on a free port of 127.0.0.1, the CLI in its own process (so its
imports are its own), the archive's real store and index.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from sourcebook.cli import app
from sourcebook.enrich.embeddings import available, unavailable_reason
from sourcebook.local_server import (
    SERVER_FILE,
    announce,
    running_server,
    search_params,
    server_url,
)
from sourcebook.search.request import SearchRequest

SRC = Path(__file__).resolve().parents[1] / "src"
MODEL_MODULES = ("onnxruntime", "tokenizers", "torch", "sentence_transformers")


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a new process; prints which model runtimes it imported, last."""
    script = (
        "import sys\n"
        "from sourcebook.cli import main\n"
        f"sys.argv = ['sourcebook', '--archive', {str(home)!r}, *{list(args)!r}]\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        f"    print('LOADED', sorted(m for m in {MODEL_MODULES!r} if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )


def sb(home: Path, *args: str) -> str:
    """The CLI in this process (setting up, and output that does not depend on imports)."""
    result = CliRunner().invoke(app, ["--archive", str(home), *args])
    assert result.exit_code == 0, result.output
    return result.output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(base: str, server: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        assert server.poll() is None, server.stdout.read() if server.stdout else ""
        try:
            httpx.get(f"{base}/api/stats", timeout=2)
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline, "sourcebook serve did not start"
            time.sleep(0.1)


def stop(server: subprocess.Popen[bytes]) -> str:
    server.send_signal(signal.SIGINT)
    output = server.communicate(timeout=30)[0].decode()
    assert server.returncode == 0, output
    return output


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[tuple[Path, str, subprocess.Popen[bytes]]]:
    """An archive with a public and an internal collection and one user (so a local request
    without a token is no longer the operator's), served by a real `sourcebook serve`."""
    home = tmp_path / "archive"
    for name, collection, text in (
        ("open.txt", "open", "Border security talks between Tajikistan and Afghanistan."),
        ("inside.txt", "inside", "Internal note on border security staffing in Tajikistan."),
    ):
        folder = tmp_path / collection
        folder.mkdir()
        (folder / name).write_text(text, encoding="utf-8")
        sb(home, "ingest", str(folder), "--collection", collection)
    sb(home, "collections", "set", "inside", "--visibility", "internal")
    sb(home, "user", "add", "alice", "--no-password")
    port = free_port()
    command = [sys.executable, "-c", "from sourcebook.cli import main; main()"]
    command += ["--archive", str(home), "serve", "--port", str(port)]
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base, server)
        yield home, base, server
    finally:
        if server.poll() is None:
            stop(server)


def test_the_cli_asks_the_running_server_with_the_operators_view(
    serving: tuple[Path, str, subprocess.Popen[bytes]],
) -> None:
    home, base, server = serving
    announced = json.loads((home / SERVER_FILE).read_text())
    assert announced["url"] == base and announced["pid"] == server.pid
    assert stat.S_IMODE((home / SERVER_FILE).stat().st_mode) == 0o600
    # without the token the server sees an anonymous visitor: the internal note is hidden
    anonymous = httpx.get(f"{base}/api/search", params={"q": "border security"}).json()
    assert anonymous["total"] == 1

    asked = run_cli(home, "search", "border security", "--hybrid", "--json")
    assert asked.returncode == 0, asked.stderr
    body, loaded = asked.stdout.rsplit("LOADED", 1)
    from_server = json.loads(body)
    assert loaded.strip() == "[]"  # no model runtime imported: the server ranked it
    local = json.loads(sb(home, "search", "border security", "--no-hybrid", "--json"))
    from_server.pop("took_ms"), local.pop("took_ms")
    assert from_server == local and from_server["total"] == 2  # the operator's view, both

    # the same filters: a country and a date range that excludes everything
    out = sb(home, "search", "border", "--hybrid", "--country", "AF", "--from", "2999-01-01")
    assert "0 documents" in out and "answered by the running server" in out

    text = " ".join(sb(home, "search", "border security", "--hybrid").split())
    assert f"answered by the running server at {base}" in text
    assert "Internal note on border security" in text

    stop(server)
    assert not (home / SERVER_FILE).exists()  # removed on exit
    after = sb(home, "search", "border security", "--hybrid")
    assert "2 documents" in after and "answered by" not in after


def test_a_stale_server_file_is_ignored(tmp_path: Path) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], text=True, capture_output=True
    ).stdout.strip()
    home = tmp_path / "archive"
    home.mkdir()
    stale = {"url": "http://127.0.0.1:9", "pid": int(gone), "token": "x"}
    (home / SERVER_FILE).write_text(json.dumps(stale))
    assert running_server(home) is None
    (home / SERVER_FILE).write_text("{not json")
    assert running_server(home) is None


def test_announce_writes_a_private_file_and_removes_only_its_own(tmp_path: Path) -> None:
    home = tmp_path / "archive"
    with announce(home, server_url("0.0.0.0", 8123)) as token:
        found = running_server(home)
        assert found is not None and found.token == token and found.pid == os.getpid()
        assert found.url == "http://127.0.0.1:8123"
        assert stat.S_IMODE((home / SERVER_FILE).stat().st_mode) == 0o600
    assert not (home / SERVER_FILE).exists()
    with announce(home, server_url("::", 8123)):
        other = {"url": "http://[::1]:1", "pid": os.getppid(), "token": "theirs"}
        (home / SERVER_FILE).write_text(json.dumps(other))  # a second server took it over
    assert json.loads((home / SERVER_FILE).read_text())["token"] == "theirs"


def test_a_second_server_hands_the_file_back_to_the_first_when_it_stops(tmp_path: Path) -> None:
    home = tmp_path / "archive"
    home.mkdir()
    # the first server of the archive: another live process (our parent), its file in place
    first = {"url": "http://127.0.0.1:8001", "pid": os.getppid(), "token": "first"}
    (home / SERVER_FILE).write_text(json.dumps(first))
    with announce(home, server_url("127.0.0.1", 8002)) as token:
        found = running_server(home)
        assert found is not None and found.token == token  # the newest answers meanwhile
    back = running_server(home)
    assert back is not None and (back.url, back.pid, back.token) == (
        "http://127.0.0.1:8001",
        os.getppid(),
        "first",
    )
    assert stat.S_IMODE((home / SERVER_FILE).stat().st_mode) == 0o600
    # a first server that stopped meanwhile is not brought back
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], text=True, capture_output=True
    ).stdout.strip()
    (home / SERVER_FILE).write_text(json.dumps({**first, "pid": int(gone)}))
    with announce(home, server_url("127.0.0.1", 8002)):
        pass
    assert not (home / SERVER_FILE).exists()


def test_search_params_carry_every_filter_and_option() -> None:
    request = SearchRequest(
        query="border",
        mode="plain",
        countries=["TJ", "AF"],
        publishers=["UNHCR"],
        types=["report"],
        languages=["en"],
        collections=["open"],
        date_from=date(2020, 1, 1),
        date_to=date(2021, 12, 31),
        sort="date",
        page=2,
        page_size=5,
        explain=True,
        crosslang=False,
    )
    params = search_params(request)
    assert params[:5] == [
        ("q", "border"),
        ("mode", "plain"),
        ("sort", "date"),
        ("page", "2"),
        ("size", "5"),
    ]
    assert ("country", "TJ") in params and ("country", "AF") in params
    for pair in [
        ("publisher", "UNHCR"),
        ("type", "report"),
        ("language", "en"),
        ("collection", "open"),
        ("from", "2020-01-01"),
        ("to", "2021-12-31"),
        ("explain", "true"),
        ("crosslang", "false"),
    ]:
        assert pair in params


@pytest.mark.slow
@pytest.mark.skipif(not available(), reason=unavailable_reason() or "")
def test_a_hybrid_search_is_ranked_by_the_servers_model(tmp_path: Path) -> None:
    """With vectors, the server ranks by meaning and the CLI never imports a model runtime."""
    home = tmp_path / "archive"
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "flood.txt").write_text("Storm water inundated the city after days of rain.")
    (folder / "wheat.txt").write_text("The wheat harvest was sold at the market in autumn.")
    sb(home, "ingest", str(folder))
    sb(home, "enrich", "--embeddings")
    port = free_port()
    command = [sys.executable, "-c", "from sourcebook.cli import main; main()"]
    command += ["--archive", str(home), "serve", "--port", str(port)]
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for(f"http://127.0.0.1:{port}", server)
        deadline = time.monotonic() + 120  # the server warms the model in the background
        while True:
            asked = run_cli(home, "search", "heavy rain flooded the capital", "--hybrid", "--json")
            body, loaded = asked.stdout.rsplit("LOADED", 1)
            data = json.loads(body)
            if data["ranking"] == "hybrid" or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert data["ranking"] == "hybrid" and loaded.strip() == "[]"
        assert data["hits"][0]["title"].startswith("Storm water")  # the flood, not the harvest
    finally:
        stop(server)
