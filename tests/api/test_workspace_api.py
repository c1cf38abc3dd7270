"""The workspace API (folders, quotes, shares, exports, saved searches) over HTTP, on SQLite and
PostgreSQL: who may read and change what (401, 403 for a read-only share or a read token, 404
for what the caller may not see), the restricted documents a shared folder hides, the export
formats read back with their own readers, and the CSRF rule of sessions."""

from __future__ import annotations

import csv
import functools
import io
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sourcebook.access import CollectionPolicy
from sourcebook.config import Settings
from sourcebook.model import Document
from sourcebook.services import Archive, IngestOptions
from sourcebook.services.accounts import Accounts
from sourcebook.viewer import Viewer
from sourcebook.web.app import create_app
from tests.store.conftest import base_url, require_postgres, url_with_schema
from tests.web.client import BASE_URL, Client

PASSWORD = "a long enough password"
BODY = (
    "The ferry across the Panj river stopped in March.\n\n"
    "Witnesses said border guards detained twelve people at Kulob.\n\n"
    "The district court released them in April."
)
SECRET_BODY = "Counsel notes on the Kulob detainees' hearing, privileged and confidential."


def documents() -> list[Document]:
    return [
        Document(
            source_key="ws:open",
            title="Kulob detentions",
            publisher="Field Wire",
            body=BODY,
            countries=["TJ"],
            collection="news",
        ),
        Document(
            source_key="ws:legal",
            title="Kulob hearing memo",
            publisher="Counsel Office",
            body=SECRET_BODY,
            collection="legal",
        ),
    ]


class Site:
    """The app with its users' API tokens and the two documents' docids."""

    def __init__(self, client: Client, tokens: dict[str, str], docids: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens
        self.open = docids["news"]
        self.secret = docids["legal"]

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def call(self, who: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, url, headers=self.as_(who), **kwargs)

    def folder(self, who: str, title: str) -> int:
        made = self.call(who, "POST", "/api/folders", json={"title": title})
        assert made.status_code == 201, made.text
        return int(made.json()["id"])


def make_settings(home: Path, database_url: str) -> Settings:
    return Settings(
        home=home,
        database_url=database_url,
        parse_sandbox=False,
        follow_seconds=0,
        passage_target_chars=60,
        password_hash_memory_kib=1024,
        password_hash_time_cost=1,
    )


def populate(config: Settings) -> tuple[dict[str, str], dict[str, str]]:
    tokens: dict[str, str] = {}
    with Archive(config) as archive:
        report = archive.add_documents(documents(), IngestOptions(enrich=False))
        assert report.total("failed") == 0, report
        archive.set_collection(CollectionPolicy("legal", "restricted", ("lawyers",)))
        accounts = Accounts(archive.store, config)
        operator = Viewer.system()
        accounts.add_user("ana", "reader", PASSWORD, by=operator, email="ana@example.org")
        accounts.add_user("bo", "reader", PASSWORD, by=operator)
        accounts.add_user("cy", "editor", PASSWORD, by=operator)
        accounts.add_group("lawyers", by=operator)
        accounts.set_membership("bo", "lawyers", True, by=operator)
        for user in ("ana", "bo", "cy"):
            tokens[user], _ = accounts.create_token(user, "tests", "write")
            tokens[f"{user}-read"], _ = accounts.create_token(user, "tests", "read")
        docids = {d.collection: d.docid for d in archive.store.iter_documents()}
    return tokens, docids


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    schema = ""
    url = ""
    if request.param == "postgres":
        require_postgres()
        import psycopg

        schema = f"sbtest_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(base_url(), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        url = url_with_schema(schema)
    try:
        config = make_settings(tmp_path_factory.mktemp("workspace") / "archive", url)
        tokens, docids = populate(config)
        with Client(create_app(config)) as client:
            yield Site(client, tokens, docids)
    finally:
        if schema:
            import psycopg

            with psycopg.connect(base_url(), autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_a_folder_keeps_documents_and_quotes_with_notes(site: Site) -> None:
    folder = site.folder("ana", "  Case 14: Kulob  ")
    listed = site.call("ana", "GET", "/api/folders").json()["folders"]
    summary = next(f for f in listed if f["id"] == folder)
    assert summary["title"] == "Case 14: Kulob" and summary["owner"] == "ana"
    assert summary["mode"] == "owner" and summary["url"] == f"/api/folders/{folder}"
    added = site.call(
        "ana", "POST", f"/api/folders/{folder}/documents", json={"docid": site.open, "note": "bg"}
    )
    assert added.status_code == 201
    assert added.json()["item"]["kind"] == "document"
    whole = site.call(
        "ana",
        "POST",
        f"/api/folders/{folder}/quotes",
        json={"docid": site.open, "passage": 3, "note": "release"},
    ).json()["item"]
    assert whole["text"] == "The district court released them in April."
    assert whole["passage"] == 3 and whole["kind"] == "quote"
    start = BODY.index("border guards")
    span = site.call(
        "ana",
        "POST",
        f"/api/folders/{folder}/quotes",
        json={"docid": f" {site.open} ", "start": start, "end": start + 40},
    ).json()["item"]
    assert span["text"] == BODY[start : start + 40]
    assert (span["start"], span["end"], span["passage"]) == (start, start + 40, 2)
    noted = site.call(
        "ana", "PATCH", f"/api/folders/{folder}/items/{span['id']}", json={"note": "key fact"}
    )
    assert noted.status_code == 200 and noted.json()["note"] == "key fact"
    opened = site.call("ana", "GET", f"/api/folders/{folder}").json()
    assert opened["can_edit"] and opened["mode"] == "owner" and opened["hidden"] == 0
    assert [(i["kind"], i["note"]) for i in opened["items"]] == [
        ("document", "bg"),
        ("quote", "release"),
        ("quote", "key fact"),
    ]
    first = opened["items"][1]
    assert first["title"] == "Kulob detentions" and "Field Wire" in first["citation"]
    assert first["changed"] is False and first["current_text"] is None
    gone = site.call("ana", "DELETE", f"/api/folders/{folder}/items/{whole['id']}")
    assert gone.json() == {"deleted": True}
    again = site.call("ana", "DELETE", f"/api/folders/{folder}/items/{whole['id']}")
    assert again.status_code == 404
    renamed = site.call("ana", "PATCH", f"/api/folders/{folder}", json={"title": "Case 15"})
    assert renamed.json()["title"] == "Case 15"
    assert site.call("ana", "DELETE", f"/api/folders/{folder}").json() == {"deleted": True}
    assert site.call("ana", "GET", f"/api/folders/{folder}").status_code == 404


def test_a_quote_of_a_changed_document_shows_both_texts(site: Site) -> None:
    key = f"ws:changing-{uuid.uuid4().hex[:6]}"
    archive = site.client.app.state.runtime.archive

    def ingest(body: str) -> str:
        doc = Document(source_key=key, title="Changing", publisher="Field Wire", body=body)
        archive.add_documents([doc], IngestOptions(enrich=False, detect_language=False))
        return next(d.docid for d in archive.store.iter_documents() if d.source_key == key)

    docid = ingest(BODY)
    folder = site.folder("ana", "Changes")
    site.call("ana", "POST", f"/api/folders/{folder}/quotes", json={"docid": docid, "passage": 2})
    ingest(BODY.replace("twelve people", "fourteen people"))
    (item,) = site.call("ana", "GET", f"/api/folders/{folder}").json()["items"]
    assert item["changed"] is True and item["revision"] == 1
    assert "twelve" in item["text"] and "fourteen" in item["current_text"]


def test_a_folder_shared_to_read_is_read_but_not_changed(site: Site) -> None:
    folder = site.folder("ana", "Shared to read")
    site.call("ana", "POST", f"/api/folders/{folder}/documents", json={"docid": site.open})
    # not shared yet: another user is told there is no such folder, whatever they try
    assert site.call("bo", "GET", f"/api/folders/{folder}").status_code == 404
    assert (
        site.call("bo", "PATCH", f"/api/folders/{folder}", json={"title": "x"}).status_code == 404
    )
    shared = site.call(
        "ana",
        "PUT",
        f"/api/folders/{folder}/shares",
        json={"target": "user", "name": "bo", "mode": "read"},
    )
    assert shared.json() == {
        "folder": folder,
        "shares": [{"target": "user", "name": "bo", "mode": "read"}],
    }
    mine = [
        f for f in site.call("bo", "GET", "/api/folders").json()["folders"] if f["id"] == folder
    ]
    assert mine[0]["mode"] == "read" and mine[0]["owner"] == "ana"
    seen = site.call("bo", "GET", f"/api/folders/{folder}").json()
    assert len(seen["items"]) == 1 and not seen["can_edit"] and seen["shares"] == []
    item = seen["items"][0]["id"]
    refused = [
        site.call("bo", "PATCH", f"/api/folders/{folder}", json={"title": "mine"}),
        site.call("bo", "DELETE", f"/api/folders/{folder}"),
        site.call("bo", "POST", f"/api/folders/{folder}/documents", json={"docid": site.open}),
        site.call(
            "bo", "POST", f"/api/folders/{folder}/quotes", json={"docid": site.open, "passage": 1}
        ),
        site.call("bo", "PATCH", f"/api/folders/{folder}/items/{item}", json={"note": "x"}),
        site.call("bo", "DELETE", f"/api/folders/{folder}/items/{item}"),
        site.call(
            "bo",
            "PUT",
            f"/api/folders/{folder}/shares",
            json={"target": "user", "name": "cy", "mode": "edit"},
        ),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert all(r.headers["content-type"] == "application/problem+json" for r in refused)
    assert refused[0].json()["type"].endswith("/access-denied")
    # an edit share lets bo annotate; stopping the share hides the folder again
    site.call(
        "ana",
        "PUT",
        f"/api/folders/{folder}/shares",
        json={"target": "user", "name": "bo", "mode": "edit"},
    )
    assert (
        site.call(
            "bo", "PATCH", f"/api/folders/{folder}/items/{item}", json={"note": "bo"}
        ).status_code
        == 200
    )
    site.call(
        "ana",
        "PUT",
        f"/api/folders/{folder}/shares",
        json={"target": "user", "name": "bo", "mode": "none"},
    )
    assert site.call("bo", "GET", f"/api/folders/{folder}").status_code == 404
    # a name that is no account or group is refused, with the reason
    for target, name in (("user", "bob"), ("group", "no-such-group")):
        unknown = site.call(
            "ana",
            "PUT",
            f"/api/folders/{folder}/shares",
            json={"target": target, "name": name, "mode": "read"},
        )
        assert unknown.status_code == 422 and f"no {target} named '{name}'" in unknown.text


def test_a_shared_folder_never_shows_a_document_the_colleague_may_not_read(site: Site) -> None:
    # bo is a lawyer: he reads the restricted memo, ana does not
    folder = site.folder("bo", "Counsel")
    for docid in (site.secret, site.open):
        added = site.call("bo", "POST", f"/api/folders/{folder}/documents", json={"docid": docid})
        assert added.status_code == 201
    site.call(
        "bo",
        "POST",
        f"/api/folders/{folder}/quotes",
        json={"docid": site.secret, "start": 0, "end": 20, "note": "privileged"},
    )
    site.call(
        "bo",
        "PUT",
        f"/api/folders/{folder}/shares",
        json={"target": "user", "name": "ana", "mode": "edit"},
    )
    seen = site.call("ana", "GET", f"/api/folders/{folder}")
    assert [i["docid"] for i in seen.json()["items"]] == [site.open]
    assert seen.json()["hidden"] == 2
    assert SECRET_BODY[:20] not in seen.text and "memo" not in seen.text
    assert len(site.call("bo", "GET", f"/api/folders/{folder}").json()["items"]) == 3
    # the hidden items are neither annotated nor removed by the colleague
    hidden = [i["id"] for i in site.call("bo", "GET", f"/api/folders/{folder}").json()["items"]]
    hidden_id = hidden[0]
    assert (
        site.call(
            "ana", "PATCH", f"/api/folders/{folder}/items/{hidden_id}", json={"note": "?"}
        ).status_code
        == 404
    )
    assert site.call("ana", "DELETE", f"/api/folders/{folder}/items/{hidden_id}").status_code == 404
    # nor exported
    ris = site.call("ana", "GET", f"/api/folders/{folder}/export", params={"format": "ris"}).text
    assert site.open in ris and site.secret not in ris
    bundle = site.call("ana", "GET", f"/api/folders/{folder}/export", params={"format": "md"}).text
    assert "memo" not in bundle and "privileged" not in bundle
    # nor can ana add the memo to her own folder: it does not exist for her
    own = site.folder("ana", "Mine")
    for path, body in (
        ("documents", {"docid": site.secret}),
        ("quotes", {"docid": site.secret, "passage": 1}),
    ):
        refused = site.call("ana", "POST", f"/api/folders/{own}/{path}", json=body)
        assert refused.status_code == 404 and refused.json()["type"].endswith("/not-found")


def test_a_folder_exports_in_every_format(site: Site) -> None:
    import docx
    import pypdf
    import rispy

    folder = site.folder("ana", "Case 14 export")
    site.call(
        "ana",
        "POST",
        f"/api/folders/{folder}/quotes",
        json={"docid": site.open, "passage": 2, "note": "detention, first hand"},
    )
    site.call("ana", "POST", f"/api/folders/{folder}/documents", json={"docid": site.open})

    def export(fmt: str, **params: str) -> httpx.Response:
        made = site.call(
            "ana", "GET", f"/api/folders/{folder}/export", params={"format": fmt, **params}
        )
        assert made.status_code == 200, made.text
        return made

    media = {
        "md": "text/markdown; charset=utf-8",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "pdf": "application/pdf",
        "ris": "application/x-research-info-systems",
        "bibtex": "application/x-bibtex; charset=utf-8",
        "csl-json": "application/vnd.citationstyles.csl+json",
        "csv": "text/csv; charset=utf-8",
    }
    extension = {"md": "md", "docx": "docx", "pdf": "pdf", "ris": "ris", "bibtex": "bib"}
    for fmt, media_type in media.items():
        made = export(fmt)
        assert made.headers["content-type"] == media_type
        ext = extension.get(fmt, {"csl-json": "json", "csv": "csv"}.get(fmt))
        disposition = made.headers["content-disposition"]
        assert disposition == f'attachment; filename="sourcebook-folder-{folder}.{ext}"'
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(export("docx").content)).paragraphs)
    assert "Case 14 export" in text and "detained twelve people" in text
    assert "para. 2" in text and "detention, first hand" in text
    pdf = pypdf.PdfReader(io.BytesIO(export("pdf", style="harvard").content))
    assert "detained twelve" in "".join(page.extract_text() for page in pdf.pages)
    (entry,) = rispy.loads(export("ris").text)
    assert entry["title"] == "Kulob detentions"
    assert [i["id"] for i in json.loads(export("csl-json").text)] == [site.open]
    rows = list(csv.DictReader(io.StringIO(export("csv").content.decode("utf-8-sig"))))
    assert [r["docid"] for r in rows] == [site.open]
    assert f"sb_{site.open}" in export("bibtex").text
    bad = site.call("ana", "GET", f"/api/folders/{folder}/export", params={"format": "odt"})
    assert bad.status_code == 422 and bad.json()["type"].endswith("/validation")
    assert site.call("bo", "GET", f"/api/folders/{folder}/export").status_code == 404


def test_credentials_anonymous_read_tokens_and_bad_bodies(site: Site) -> None:
    folder = site.folder("ana", "Checks")
    client = site.client
    for method, url in (
        ("GET", "/api/folders"),
        ("POST", "/api/folders"),
        ("GET", f"/api/folders/{folder}"),
        ("GET", f"/api/folders/{folder}/export"),
        ("GET", "/api/saved-searches"),
        ("DELETE", "/api/saved-searches/x"),
    ):
        anonymous = client.request(method, url, json={"title": "x"})
        assert anonymous.status_code == 401, (method, url)
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
    # a read token reads, and changes nothing
    assert site.call("ana-read", "GET", f"/api/folders/{folder}").status_code == 200
    refused = site.call("ana-read", "POST", "/api/folders", json={"title": "x"})
    assert refused.status_code == 403 and "read scope" in refused.json()["detail"]
    assert site.call("ana-read", "DELETE", f"/api/folders/{folder}").status_code == 403
    assert (
        site.call("ana-read", "POST", "/api/saved-searches", json={"name": "x"}).status_code == 403
    )
    # bodies the API does not take
    for url, body in (
        ("/api/folders", {"title": "   "}),
        ("/api/folders", {"title": "x" * 301}),
        ("/api/folders", {"title": "ok", "colour": "red"}),
        (f"/api/folders/{folder}/quotes", {"docid": site.open}),
        (f"/api/folders/{folder}/quotes", {"docid": site.open, "passage": 1, "start": 0, "end": 4}),
        (f"/api/folders/{folder}/quotes", {"docid": site.open, "start": 10, "end": 5}),
        (f"/api/folders/{folder}/quotes", {"docid": site.open, "start": 0, "end": 10**6}),
        (f"/api/folders/{folder}/documents", {"docid": "NOT A DOCID"}),
        ("/api/saved-searches", {"name": "x", "filters": {"places": ["Kulob"]}}),
    ):
        bad = site.call("ana", "POST", url, json=body)
        assert bad.status_code == 422, (url, body, bad.text)
        assert bad.json()["type"].endswith("/validation") and bad.json()["errors"]
    missing = site.call(
        "ana", "POST", f"/api/folders/{folder}/quotes", json={"docid": site.open, "passage": 99}
    )
    assert missing.status_code == 404
    assert site.call("ana", "GET", "/api/folders/999999").status_code == 404


def test_saved_searches(site: Site) -> None:
    made = site.call(
        "ana",
        "POST",
        "/api/saved-searches",
        json={"name": " Kulob ", "q": "Kulob", "filters": {"country": ["TJ"]}, "digest": "weekly"},
    )
    assert made.status_code == 201, made.text
    saved = made.json()
    assert (saved["name"], saved["digest"], saved["email"]) == (
        "Kulob",
        "weekly",
        "ana@example.org",
    )
    assert saved["filters"] == {"country": ["TJ"]}
    assert saved["search_url"] == "http://127.0.0.1/search?q=Kulob&country=TJ"
    assert saved["feed_url"] == "http://127.0.0.1/search.atom?q=Kulob&country=TJ"
    feed = site.client.get(saved["feed_url"].removeprefix("http://127.0.0.1"))
    assert feed.status_code == 200 and "Kulob detentions" in feed.text
    again = site.call("ana", "POST", "/api/saved-searches", json={"name": "Kulob"})
    assert again.status_code == 409 and again.json()["type"].endswith("/conflict")
    broken = site.call(
        "ana", "POST", "/api/saved-searches", json={"name": "b", "filters": {"country": ["Narnia"]}}
    )
    assert broken.status_code == 400 and broken.json()["type"].endswith("/query-syntax")
    # bo has no e-mail address on his account: a digest needs one
    no_mail = site.call("bo", "POST", "/api/saved-searches", json={"name": "b", "digest": "daily"})
    assert no_mail.status_code == 422 and "e-mail" in no_mail.json()["detail"]
    assert site.call("bo", "GET", "/api/saved-searches").json() == {"saved_searches": []}
    listed = site.call("ana-read", "GET", "/api/saved-searches").json()["saved_searches"]
    assert [s["name"] for s in listed] == ["Kulob"]
    assert site.call("bo", "DELETE", "/api/saved-searches/Kulob").status_code == 404
    assert site.call("ana", "DELETE", "/api/saved-searches/Kulob").json() == {"deleted": True}
    assert site.call("ana", "DELETE", "/api/saved-searches/Kulob").status_code == 404
    # any name, even one with a slash, is deleted by its (URL-encoded) name
    slashed = site.call("ana", "POST", "/api/saved-searches", json={"name": "Kulob / floods?"})
    assert slashed.json()["search_url"] == "http://127.0.0.1/search"
    gone = site.call("ana", "DELETE", "/api/saved-searches/Kulob%20%2F%20floods%3F")
    assert gone.json() == {"deleted": True}


class Browser:
    """A second cookie jar on the running app: a signed-in browser beside the token callers."""

    def __init__(self, client: Client) -> None:
        self.portal = client._portal
        transport = httpx.ASGITransport(app=client.app, client=client.peer)
        self.http = httpx.AsyncClient(transport=transport, base_url=BASE_URL)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.portal.call(functools.partial(self.http.request, method, url, **kwargs))

    def close(self) -> None:
        self.portal.call(self.http.aclose)


def test_a_session_changes_folders_only_with_its_csrf_token(site: Site) -> None:
    browser = Browser(site.client)
    try:
        form = {"name": "cy", "password": PASSWORD, "next": "/account"}
        assert browser.request("POST", "/signin", data=form).status_code == 303
        found = re.search(
            r'name="csrf_token" value="([^"]+)"', browser.request("GET", "/account").text
        )
        assert found
        csrf = found.group(1)
        assert browser.request("GET", "/api/folders").status_code == 200
        body = {"title": "From the browser"}
        for headers in (
            {},
            {"X-CSRF-Token": "forged"},
            {"X-CSRF-Token": csrf, "Origin": "http://evil.example"},
        ):
            refused = browser.request("POST", "/api/folders", json=body, headers=headers)
            assert refused.status_code == 403, headers
        made = browser.request("POST", "/api/folders", json=body, headers={"X-CSRF-Token": csrf})
        assert made.status_code == 201 and made.json()["owner"] == "cy"
    finally:
        browser.close()
