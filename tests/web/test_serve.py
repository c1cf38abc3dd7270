"""`sourcebook serve` for real: a subprocess serving a temporary archive on 127.0.0.1."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.web.client import build_archive


def test_serve_answers_and_stops_cleanly(tmp_path: Path) -> None:
    config = build_archive(tmp_path / "archive")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-c", "from sourcebook.cli import main; main()"]
    command += ["--archive", str(config.home), "serve", "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            try:
                stats = httpx.get(f"{base}/api/stats", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "sourcebook serve did not start"
                time.sleep(0.1)
        assert stats.json()["documents"] == 15
        page = httpx.get(f"{base}/search?q=Rahmon")
        assert page.status_code == 200 and "<mark>Rahmon</mark>" in page.text
        assert "server" not in page.headers  # no software banner
        # on 127.0.0.1 only loopback names are answered (DNS rebinding)
        rebound = httpx.get(f"{base}/", headers={"Host": f"evil.example:{port}"})
        assert rebound.status_code == 400
    finally:
        server.send_signal(signal.SIGINT)
        output = server.communicate(timeout=20)[0].decode()
    assert server.returncode == 0, output
    assert f"http://127.0.0.1:{port}/" in output
