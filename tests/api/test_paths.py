"""No folder of the server in what leaves it: record JSON, exports, pages, OAI, upload reports."""

from __future__ import annotations

import json
from pathlib import Path

from sourcebook.config import Settings
from sourcebook.records import public_origin, public_source_key
from sourcebook.services import Archive
from tests.web.client import build_archive, open_client

STORY = "Talks on the Panj river crossing were held in Dushanbe on Monday.\n\nMore talks.\n"


def test_origins_and_file_keys_lose_their_folders() -> None:
    assert public_origin("/srv/coi/in/a.xml#3") == "a.xml#3"
    assert public_origin("/srv/coi/in/b.jsonl:12") == "b.jsonl:12"
    assert public_origin("C:\\coi\\in\\c.txt") == "c.txt"
    assert public_origin("https://news.example/feed.xml#2") == "https://news.example/feed.xml#2"
    assert public_origin("in/d.txt") == "in/d.txt"  # relative to the folder ingested
    one, two = public_source_key("file:/srv/a/x.txt"), public_source_key("file:/srv/b/x.txt")
    assert one.startswith("file:") and one.endswith("/x.txt") and "/srv" not in one
    assert one != two  # still one key per file
    assert public_source_key("refworld:5975a5b29") == "refworld:5975a5b29"


def test_record_json_exports_and_pages_name_no_server_folder(tmp_path: Path) -> None:
    config = build_archive(tmp_path / "archive")
    folder = tmp_path / "server-only-folder" / "inbox"
    folder.mkdir(parents=True)
    (folder / "talks.txt").write_text(STORY, encoding="utf-8")
    (folder / "more.jsonl").write_text(
        json.dumps({"source_key": "test:jsonl-1", "title": "Khatlon", "body": "Floods."}) + "\n",
        encoding="utf-8",
    )
    with Archive(Settings(home=config.home)) as archive:
        assert archive.ingest([folder]).total("added") == 2
    secret = str(tmp_path)
    with open_client(config) as client:
        export = client.get("/api/export.jsonl").text
        assert secret not in export
        records = [json.loads(line) for line in export.splitlines()]
        origins = {r["origin"] for r in records if r["origin"]}
        assert {"talks.txt", "more.jsonl#1"} <= origins
        for record in records:
            for url in (f"/api/records/{record['docid']}", f"/record/{record['docid']}"):
                assert secret not in client.get(url).text, url
            oai = client.get(
                "/oai",
                params={
                    "verb": "GetRecord",
                    "metadataPrefix": "oai_dc",
                    "identifier": f"oai:127.0.0.1:{record['docid']}",
                },
            )
            assert oai.status_code == 200 and secret not in oai.text
        assert secret not in client.get("/api/stats").text
        assert secret not in client.get("/search", params={"q": "Panj"}).text


def test_upload_records_name_the_uploaded_file_only(tmp_path: Path) -> None:
    config = build_archive(tmp_path / "archive")
    with open_client(config) as client:
        files = {"files": ("../../etc/talks.txt", STORY.encode(), "text/plain")}
        report = client.post("/api/ingest", files=files).json()
        assert report["added"] == 1
        hits = client.get("/api/search", params={"q": "Panj"}).json()["hits"]
        record = client.get(f"/api/records/{hits[0]['docid']}").json()
        assert str(config.home) not in json.dumps(record)
        assert record["origin"] == "talks.txt"
