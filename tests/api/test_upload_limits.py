"""Uploads and the per-file limits: an oversized upload is a 413 problem, never a 500; a file
that breaks a parse limit fails on its own outcome while the other files of the upload go in."""

from __future__ import annotations

from pathlib import Path

from tests.api.test_api import STORY, assert_problem
from tests.web.client import build_archive, open_client


def test_a_20_mb_upload_over_the_limit_is_a_413_problem(tmp_path: Path) -> None:
    config = build_archive(tmp_path / "archive", max_file_bytes=10_000_000)
    with open_client(config) as client:
        files = {"files": ("big.txt", b"word " * 3_920_000, "text/plain")}  # 19.6 MB
        body = assert_problem(client.post("/api/ingest", files=files), 413, "input-too-large")
        assert "the limit is" in body["detail"]
        ok = client.post("/api/ingest", files={"files": ("ok.txt", STORY.encode(), "text/plain")})
        assert ok.status_code == 200 and ok.json()["added"] == 1


def test_each_uploaded_file_gets_its_own_outcome(tmp_path: Path) -> None:
    config = build_archive(tmp_path / "archive", parse_seconds=0.5)
    row = b"<div><p>Paragraph with <b>bold</b> and <a href='#x'>a link</a> in it.</p></div>\n"
    slow = b"<html><head><title>Big</title></head><body>" + row * 25_000 + b"</body></html>"
    uploads = [
        ("files", ("slow.html", slow, "text/html")),
        ("files", ("story.txt", STORY.encode(), "text/plain")),
    ]
    with open_client(config) as client:
        response = client.post("/api/ingest", files=uploads)
    assert response.status_code == 200, response.text
    report = response.json()
    outcomes = {f["path"]: f for f in report["files"]}
    assert outcomes["slow.html"]["status"] == "failed"
    assert outcomes["slow.html"]["errors"] == [
        "parsing slow.html took more than 0.5 s; the file was skipped (SOURCEBOOK_PARSE_SECONDS)"
    ]
    assert outcomes["story.txt"]["status"] == "added"
    assert str(tmp_path) not in response.text
