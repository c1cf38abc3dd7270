"""Who may reach the server (Host allow-list) and who may write (token, loopback, ownership)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from sourcebook.config import Settings
from sourcebook.errors import ConfigError
from sourcebook.web.access import allowed_hosts_for, is_loopback
from sourcebook.web.app import create_app
from tests.web.client import Client, build_archive

STORY = "Talks on the Panj river crossing were held in Dushanbe on Monday.\n"
TOKEN = "correct horse battery staple"


def upload(client: Client, **kwargs: Any) -> httpx.Response:
    files = {"files": ("talks.txt", STORY.encode(), "text/plain")}
    return client.post("/api/ingest", files=files, **kwargs)


def stats(client: Client) -> int:
    return int(client.get("/api/stats").json()["documents"])


def test_loopback_names_and_addresses() -> None:
    for name in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2", "LOCALHOST"):
        assert is_loopback(name), name
    for name in ("0.0.0.0", "10.0.0.1", "evil.example", "", "localhost.evil.example"):
        assert not is_loopback(name), name


def test_a_public_address_needs_host_names(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "a")
    with pytest.raises(ConfigError, match="SOURCEBOOK_ALLOWED_HOSTS"):
        allowed_hosts_for(settings, "0.0.0.0")
    named = Settings(home=tmp_path / "a", allowed_hosts=["coi.example.org"])
    assert allowed_hosts_for(named, "0.0.0.0") == ["coi.example.org"]
    assert "localhost" in allowed_hosts_for(named, "127.0.0.1")


def test_serve_refuses_a_public_address_without_host_names(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "from sourcebook.cli import main; main()"]
    command += ["--archive", str(tmp_path / "a"), "serve", "--host", "0.0.0.0", "--port", "9"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "SOURCEBOOK_ALLOWED_HOSTS" in done.stderr + done.stdout


def test_the_allowed_hosts_setting_reads_a_comma_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCEBOOK_ALLOWED_HOSTS", "coi.example.org, www.coi.example.org")
    assert Settings(home=tmp_path).allowed_hosts == ["coi.example.org", "www.coi.example.org"]


def test_on_a_public_address_only_the_named_hosts_are_answered(tmp_path: Path) -> None:
    config = build_archive(tmp_path / "archive", allowed_hosts=["coi.example.org"])
    with Client(create_app(config, listen_host="0.0.0.0"), peer=("203.0.113.9", 4000)) as client:
        assert client.get("/", headers={"Host": "coi.example.org"}).status_code == 200
        for host in ("evil.example", "127.0.0.1", "localhost:8000"):
            assert client.get("/api/stats", headers={"Host": host}).status_code == 400, host
        # no credentials: nobody writes to a public server, not even with the right name
        response = upload(client, headers={"Host": "coi.example.org"})
        assert response.status_code == 401
        assert "SOURCEBOOK_WRITE_TOKEN" in response.json()["detail"]


def test_a_rebound_upload_is_refused(tmp_path: Path) -> None:
    """evil.example resolves to 127.0.0.1: the visitor's browser posts with that Host and Origin,
    which agree with each other, so only the host check can stop it."""
    config = build_archive(tmp_path / "archive")
    with Client(create_app(config)) as client:
        rebound = {"Host": "evil.example:8000", "Origin": "http://evil.example:8000"}
        rebound["Sec-Fetch-Site"] = "same-origin"
        assert upload(client, headers=rebound).status_code == 400
        assert stats(client) == 15
        assert upload(client).status_code == 200


def test_without_a_token_writes_come_from_this_machine_only(tmp_path: Path) -> None:
    config = build_archive(tmp_path / "archive")
    app = create_app(config)
    with Client(app, peer=("192.0.2.10", 5000)) as remote:
        assert upload(remote).status_code == 401
    with Client(app) as local:
        forwarded = upload(local, headers={"X-Forwarded-For": "192.0.2.10"})
        assert forwarded.status_code == 401
        assert stats(local) == 15


@pytest.mark.parametrize("kind", ["value", "file"])
def test_with_a_token_writes_carry_it(tmp_path: Path, kind: str) -> None:
    if kind == "value":
        config = build_archive(tmp_path / "archive", write_token=TOKEN)
    else:
        (tmp_path / "token").write_text(TOKEN + "\n", encoding="utf-8")
        config = build_archive(tmp_path / "archive", write_token_file=tmp_path / "token")
    with Client(create_app(config)) as client:
        for header in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            assert upload(client, headers=header).status_code == 401, header
        assert stats(client) == 15
        ok = upload(client, headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.json()["added"] == 1
    # with the token, a server on a public address takes writes from anywhere
    config = config.model_copy(update={"allowed_hosts": ["coi.example.org"]})
    app = create_app(config, listen_host="0.0.0.0")
    with Client(app, peer=("203.0.113.9", 4000)) as remote:
        headers = {"Host": "coi.example.org", "Authorization": f"Bearer {TOKEN}"}
        files = {"files": ("other.txt", b"Another story about Khatlon floods.\n", "text/plain")}
        assert remote.post("/api/ingest", files=files, headers=headers).json()["added"] == 1


def reuters_replacement(docid: str = "") -> bytes:
    record = {
        "source_key": "refworld:5975a5b29",
        "title": "Replaced by an upload",
        "publisher": "Nobody",
        "body": "This text replaced the Refworld story.",
    }
    if docid:
        record["docid"] = docid
    return (json.dumps(record) + "\n").encode()


def test_an_upload_cannot_replace_a_record_it_does_not_own(tmp_path: Path) -> None:
    config = build_archive(tmp_path / "archive")
    with Client(create_app(config)) as client:
        files = {"files": ("takeover.jsonl", reuters_replacement(), "application/x-ndjson")}
        report = client.post("/api/ingest", files=files).json()
        assert (report["added"], report["updated"], report["failed"]) == (0, 0, 1)
        (error,) = report["files"][0]["errors"]
        assert "refworld:5975a5b29 already holds a record from another source" in error
        assert "replace=true" in error
        hits = client.get("/api/search", params={"q": "Rahmon"}).json()["hits"]
        assert hits[0]["title"].startswith("Putin and Rahmon")
        # asking to replace needs credentials, which the implicit local operator has not
        asked = client.post("/api/ingest", files=files, data={"replace": "true"})
        assert asked.status_code == 403


def test_with_the_token_an_upload_may_replace_when_asked(tmp_path: Path) -> None:
    config = build_archive(tmp_path / "archive", write_token=TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with Client(create_app(config)) as client:
        files = {"files": ("takeover.jsonl", reuters_replacement(), "application/x-ndjson")}
        refused = client.post("/api/ingest", files=files, headers=auth).json()
        assert refused["failed"] == 1
        report = client.post("/api/ingest", files=files, headers=auth, data={"replace": "true"})
        assert report.json()["updated"] == 1
        hits = client.get("/api/search", params={"q": "replaced"}).json()["hits"]
        assert hits[0]["title"] == "Replaced by an upload"


def test_an_upload_cannot_take_over_a_docid(tmp_path: Path) -> None:
    config = build_archive(tmp_path / "archive")
    with Client(create_app(config)) as client:
        seed = client.get("/api/search", params={"q": "Rahmon"}).json()["hits"][0]["docid"]
        record = {"docid": seed, "source_key": "upload:other", "title": "Taken", "body": "Text."}
        files = {"files": ("take.jsonl", (json.dumps(record) + "\n").encode(), "text/plain")}
        report = client.post("/api/ingest", files=files).json()
        assert report["failed"] == 1 and report["added"] == 0
        assert "already belongs to another source" in report["files"][0]["errors"][0]
        assert client.get(f"/api/records/{seed}").json()["title"].startswith("Putin")
