"""Web pages and sitemaps: links followed only as the source's rule allows, robots.txt honoured,
a changed page kept as a new revision with a new original; and the ``sources`` commands."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sourcebook.cli import app
from sourcebook.config import Settings
from sourcebook.services import Archive
from sourcebook.services.sources import add_source, harvest_source
from sourcebook.sources.model import Source
from tests.ingest.test_pdf import make_pdf
from tests.sources.server import Reply, Site, serve
from tests.store.conftest import pg_url

HTML = "text/html; charset=utf-8"
__all__ = ["pg_url"]  # the fixture (a fresh PostgreSQL schema)


def page(title: str, text: str, links: str = "") -> Reply:
    body = (
        f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        f"<p>{text}</p><p>{text} The report was published by the monitoring unit.</p>"
        f"</article>{links}</body></html>"
    )
    return Reply(200, body.encode(), {"Content-Type": HTML})


@pytest.fixture
def site() -> Iterator[Site]:
    routes = {
        "/robots.txt": Reply(
            200, b"User-agent: *\nDisallow: /private/\n", {"Content-Type": "text/plain"}
        ),
        "/reports/": page(
            "Reports",
            "An index of reports on Tajikistan and its borders.",
            '<a href="/reports/1">one</a> <a href="/reports/2#part">two</a>'
            ' <a href="/private/3">private</a> <a href="/elsewhere">out of scope</a>'
            ' <a href="http://192.168.1.1/x">private address</a>',
        ),
        "/reports/1": page("Report one", "Detentions at the border crossing near Panj."),
        "/reports/2": page("Report two", "Returnees questioned at the airport in Dushanbe."),
        "/private/3": page("Private", "Never fetched: robots.txt disallows it."),
        "/elsewhere": page("Elsewhere", "Never fetched: outside the follow rule."),
        "/sitemap.xml": Reply(
            200,
            b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            b"<url><loc>BASE/reports/1</loc><lastmod>2026-03-01</lastmod></url>"
            b"<url><loc>BASE/private/3</loc></url>"
            b"<url><loc>http://other.example/x</loc></url></urlset>",
            {"Content-Type": "application/xml"},
        ),
    }
    with serve(routes) as running:
        sitemap = routes["/sitemap.xml"]
        assert isinstance(sitemap, Reply)
        sitemap.body = sitemap.body.replace(b"BASE", running.base.encode())
        yield running


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "archive", fetch_allow_hosts=["127.0.0.1"], fetch_host_interval_seconds=0
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_pages_follow_only_allowed_links_and_changes_become_revisions(
    tmp_path: Path, site: Site, backend: str, request: pytest.FixtureRequest
) -> None:
    settings = _settings(tmp_path)
    if backend == "postgres":  # organisation mode: the same harvest on a PostgreSQL store
        settings = settings.model_copy(update={"database_url": request.getfixturevalue("pg_url")})
    with Archive(settings) as archive:
        add_source(
            archive,
            Source("reports", f"{site.base}/reports/", "page", follow=f"{site.base}/reports/"),
        )
        report = harvest_source(archive, "reports")
        assert report.status == "ok", report.errors
        assert report.added == 3 and report.originals == 3
        assert "/private/3" not in site.paths() and "/elsewhere" not in site.paths()
        assert site.paths().count("/robots.txt") == 1  # read once per run and host

        key = f"url:{site.base}/reports/1"
        docid = archive.store.lookup_sources([key])[key].docid
        doc = archive.get(docid)
        assert doc.title == "Report one" and doc.source_url == f"{site.base}/reports/1"
        assert doc.accessed_date is not None

        again = harvest_source(archive, "reports")
        assert (again.added, again.updated, again.unchanged, again.originals) == (0, 0, 3, 0)

        site.routes["/reports/1"] = page(
            "Report one", "Detentions at the border crossing near Khorog."
        )
        changed = harvest_source(archive, "reports")
        assert (changed.updated, changed.originals) == (1, 1)
        doc = archive.get(docid)
        assert len(doc.revisions) == 2 and "Khorog" in doc.body
        newest, oldest = archive.store.list_originals(docid)
        assert (newest.revision, oldest.revision) == (2, 1)
        assert b"Khorog" in archive.store.get_original(docid, newest.id)[1]
        assert b"Panj" in archive.store.get_original(docid, oldest.id)[1]  # what it said before


def test_a_sitemap_brings_its_allowed_pages(tmp_path: Path, site: Site) -> None:
    with Archive(_settings(tmp_path)) as archive:
        add_source(archive, Source("map", f"{site.base}/sitemap.xml", "sitemap"))
        report = harvest_source(archive, "map")
        assert report.added == 1, report.errors  # robots.txt refuses /private/3
        assert report.failed == 1 and "robots.txt disallows" in report.errors[0]
        assert "x" not in site.paths()  # other.example is outside the site
        assert site.paths().count("/reports/1") == 1
        again = harvest_source(archive, "map")  # /reports/1 is held and its lastmod is older
        assert (again.items, again.failed) == (0, 1)
        assert site.paths().count("/reports/1") == 1


def test_the_sources_commands(tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCEBOOK_FETCH_ALLOW_HOSTS", "127.0.0.1")
    monkeypatch.setenv("SOURCEBOOK_FETCH_HOST_INTERVAL_SECONDS", "0")
    runner = CliRunner()
    base = ["--archive", str(tmp_path / "archive"), "sources"]
    url = f"{site.base}/reports/1"
    added = runner.invoke(
        app, [*base, "add", url, "--kind", "page", "--every", "1d", "--max-pages", "1"]
    )
    assert added.exit_code == 0, added.output
    assert "added source 127.0.0.1" in added.output
    assert runner.invoke(app, [*base, "add", url, "--kind", "page"]).exit_code == 4  # name taken
    bad = runner.invoke(app, [*base, "add", url, "--kind", "page", "--name", "x", "--every", "5s"])
    assert bad.exit_code == 2 and "too often" in bad.output

    ran = runner.invoke(app, [*base, "run"])
    assert ran.exit_code == 0, ran.output
    assert "1 added" in ran.output and "1 sources: 1 documents added or updated" in ran.output
    assert "no source is due" in runner.invoke(app, [*base, "run"]).output

    listed = runner.invoke(app, [*base, "list", "--json"])
    row = json.loads(listed.output)
    assert row["name"] == "127.0.0.1" and row["added"] == 1 and row["every_seconds"] == 86400
    assert "page" in runner.invoke(app, [*base, "list"]).output

    monkeypatch.setenv("SOURCEBOOK_FETCH_ALLOW_HOSTS", "")
    failed = runner.invoke(app, [*base, "run", "127.0.0.1"])
    assert failed.exit_code == 1 and "loopback" in failed.output
    assert runner.invoke(app, [*base, "run", "nope"]).exit_code == 3
    assert runner.invoke(app, [*base, "remove", "127.0.0.1"]).exit_code == 0
    assert runner.invoke(app, [*base, "remove", "127.0.0.1"]).exit_code == 3


def test_linked_reports_are_read_by_the_file_parsers(tmp_path: Path) -> None:
    pdf = make_pdf([["Detentions at the border crossing near Panj were reported in March."]])
    routes = {
        "/": page(
            "Publications",
            "The unit's reports on Tajikistan, as PDF files.",
            '<a href="/files/report.pdf">report</a> <a href="/files/data.zip">data</a>',
        ),
        "/files/report.pdf": Reply(200, pdf, {"Content-Type": "application/pdf"}),
        "/files/data.zip": Reply(200, b"PK\x03\x04", {"Content-Type": "application/zip"}),
    }
    with serve(routes) as site, Archive(_settings(tmp_path)) as archive:  # type: ignore[arg-type]
        add_source(archive, Source("unit", f"{site.base}/", "page"))
        report = harvest_source(archive, "unit")
        assert report.added == 2 and report.failed == 1, report.errors
        assert "application/zip" in report.errors[0]
        key = f"url:{site.base}/files/report.pdf"
        docid = archive.store.lookup_sources([key])[key].docid
        assert "near Panj" in archive.get(docid).body
        (original,) = archive.store.list_originals(docid)
        assert archive.store.get_original(docid, original.id)[1] == pdf
        assert original.content_type == "application/pdf"
