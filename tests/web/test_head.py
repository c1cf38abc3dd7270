"""HEAD answers every GET route with the GET's status and headers and no body."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from fastapi.routing import iter_route_contexts

from sourcebook.sources.model import Original
from sourcebook.web.app import create_app
from tests.web.client import Client, build_archive


def test_every_get_route_answers_head(tmp_path: Path) -> None:
    config = build_archive(tmp_path / "archive")
    app = create_app(config)
    with Client(app) as client:
        docid = client.get("/api/search", params={"q": "Rahmon"}).json()["hits"][0]["docid"]
        original = Original(
            docid,
            1,
            "feed",
            "https://example.org/a",
            "https://example.org/a",
            datetime(2026, 3, 1, tzinfo=UTC),
            200,
            "text/html",
            hashlib.sha256(b"<p>a</p>").hexdigest(),
            8,
        )
        app.state.runtime.archive.store.add_originals([(original, b"<p>a</p>")])  # a kept original
        values = {"docid": docid, "facet": "country", "ext": "bib", "original_id": original.id}
        values["folder_id"] = 1  # a folder page: anonymous visitors are sent to sign in (303)
        paths = {
            route.path.format(**values)
            for route in iter_route_contexts(app.routes)
            if route.methods and "GET" in route.methods
        }
        paths |= {"/static/sourcebook.css", "/search.atom?q=floods", "/oai?verb=Identify"}
        assert len(paths) > 15
        for path in sorted(paths):
            get = client.get(path)
            head = client.request("HEAD", path)
            assert head.status_code == get.status_code, path
            assert get.status_code < 400, (path, get.status_code)
            assert head.content == b"", path
            assert head.headers.get("content-type") == get.headers.get("content-type"), path
            assert "content-security-policy" in head.headers, path
        assert client.request("HEAD", "/no/such/page").status_code == 404
