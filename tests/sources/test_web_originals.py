"""The record page's kept originals (downloaded byte for byte, never rendered) and revision diff."""

from __future__ import annotations

from pathlib import Path

from sourcebook.config import Settings
from sourcebook.services import Archive
from sourcebook.services.sources import add_source, harvest_source
from sourcebook.sources.model import Source
from tests.sources.server import serve
from tests.sources.test_pages import page
from tests.web.client import open_client


def test_originals_download_and_the_revision_diff(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path / "archive", fetch_allow_hosts=["127.0.0.1"], fetch_host_interval_seconds=0
    )
    first = page("Checkpoints", "The checkpoint at Panj is open. Trucks cross daily.")
    routes = {"/a": first}
    with serve(routes) as site, Archive(settings) as archive:  # type: ignore[arg-type]
        add_source(archive, Source("site", f"{site.base}/a", "page", max_pages=1))
        harvest_source(archive, "site")
        routes["/a"] = page(
            "Checkpoints",
            "The checkpoint at Panj is closed <script>alert(1)</script>. Trucks cross daily.",
        )
        assert harvest_source(archive, "site").updated == 1
        key = f"url:{site.base}/a"
        docid = archive.store.lookup_sources([key])[key].docid
        newest, oldest = archive.store.list_originals(docid)

    with open_client(settings) as client:
        record = client.get(f"/record/{docid}")
        assert record.status_code == 200
        assert "Originals as fetched" in record.text
        assert f"/record/{docid}/originals/{oldest.id}" in record.text
        assert oldest.sha256 in record.text
        assert f"/record/{docid}/diff?old=1&amp;new=2" in record.text

        got = client.get(f"/record/{docid}/originals/{oldest.id}")
        assert got.status_code == 200 and got.content == first.body  # byte for byte
        assert got.headers["content-type"] == "application/octet-stream"
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["content-security-policy"].startswith("sandbox")
        assert got.headers["content-disposition"].startswith(
            f'attachment; filename="{docid}-original-'
        )
        assert got.headers["x-original-sha256"] == oldest.sha256
        assert client.get(f"/record/{docid}/originals/{newest.id + 99}").status_code == 404

        diff = client.get(f"/record/{docid}/diff?old=1&new=2")
        assert diff.status_code == 200
        assert "<del>open.</del>" in diff.text and "<ins>closed" in diff.text
        assert "<script>alert(1)</script>" not in diff.text  # escaped, never markup
        assert client.get(f"/record/{docid}/diff").status_code == 200  # latest vs the one before
        assert client.get(f"/record/{docid}/diff?old=2&new=1").status_code == 400
        assert client.get(f"/record/{docid}/diff?old=1&new=7").status_code == 404
