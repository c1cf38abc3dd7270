"""The workspace pages over HTTP: folders, "Add to folder", "Quote this passage", the folder
page with its exports, and saved searches; who may see and change what, CSRF, escaping."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sourcebook.config import Settings
from sourcebook.model import Document
from sourcebook.services import Archive, IngestOptions
from sourcebook.services import workspace as ws
from sourcebook.services.accounts import Accounts
from sourcebook.viewer import Viewer
from sourcebook.web.app import create_app
from tests.web.client import SEED_BODY, Client, build_archive
from tests.web.test_accounts_web import CHEAP, PASSWORD, add_users, csrf_of, sign_in

SEED = "vsrdalhiem"
SCRIPT = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    config = build_archive(tmp_path_factory.mktemp("folders") / "archive", **CHEAP)
    add_users(config, mona="editor", ali="reader", cy="reader")
    with Archive(config) as archive:
        Accounts(archive.store, config).add_user(
            "eve", "reader", PASSWORD, by=Viewer.system(), email="eve@example.org"
        )
    return config


@pytest.fixture
def client(config: Settings) -> Iterator[Client]:
    with Client(create_app(config)) as client:
        yield client


def signed_in(client: Client, name: str) -> str:
    """Signs ``name`` in; returns the session's CSRF token."""
    assert sign_in(client, name).status_code == 303
    return csrf_of(client)


def make_folder(client: Client, csrf: str, title: str) -> int:
    made = client.post("/folders", data={"title": title, "csrf_token": csrf})
    assert made.status_code == 303, made.text
    found = re.match(r"/folders/(\d+)\?notice=created$", made.headers["location"])
    assert found, made.headers["location"]
    return int(found.group(1))


def quote(client: Client, csrf: str, folder: int | str, seq: int, note: str = "") -> httpx.Response:
    data = {"csrf_token": csrf, "docid": SEED, "passage": str(seq), "note": note}
    data.update(folder=str(folder), next=f"/record/{SEED}")
    return client.post("/folders/quote", data=data)


def passages() -> list[str]:
    with_seed = [p.strip() for p in SEED_BODY.split("\n\n")]
    return with_seed


def test_anonymous_visitors_are_sent_to_sign_in(client: Client) -> None:
    for path in ("/folders", "/folders/1", "/folders/1/export?format=md", "/saved"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/signin?next=/")
    export = client.get("/folders/1/export", params={"format": "docx"}).headers["location"]
    assert export == "/signin?next=/folders/1/export%3Fformat%3Ddocx"  # back to it after
    assert 'value="/folders/1/export?format=docx"' in client.get(export).text
    for path in ("/folders", "/folders/quote", "/folders/add", "/saved"):
        assert client.post(path, data={"title": "x"}).status_code == 303
    # and the forms are not offered
    page = client.get(f"/record/{SEED}").text
    assert "Quote this passage" not in page and "Add to folder" not in page
    search = client.get("/search", params={"q": "border"}).text
    assert "Save this search" not in search and "Add to folder" not in search
    assert 'href="/folders"' not in search


def test_every_form_needs_the_csrf_token(client: Client) -> None:
    csrf = signed_in(client, "mona")
    assert client.post("/folders", data={"title": "No token"}).status_code == 403
    bad = client.post("/folders", data={"title": "Wrong token", "csrf_token": csrf[:-2] + "xx"})
    assert bad.status_code == 403
    folder = make_folder(client, csrf, "Token checks")
    for path, data in (
        ("/folders/quote", {"docid": SEED, "passage": "0", "folder": str(folder)}),
        ("/folders/add", {"docid": SEED, "folder": str(folder)}),
        (f"/folders/{folder}/rename", {"title": "renamed"}),
        (f"/folders/{folder}/share", {"target": "user", "name": "ali", "mode": "edit"}),
        (f"/folders/{folder}/delete", {}),
        ("/saved", {"name": "n", "q": "border"}),
        ("/saved/delete", {"name": "n"}),
    ):
        assert client.post(path, data=data).status_code == 403, path
    opened = client.get(f"/folders/{folder}").text
    assert "Token checks" in opened and "The folder is empty" in opened


def test_quote_passages_and_open_the_folder(client: Client) -> None:
    csrf = signed_in(client, "mona")
    record = client.get(f"/record/{SEED}").text
    assert record.count("Quote this passage") >= 3
    assert 'action="/folders/quote"' in record and 'name="passage" value="1"' in record
    # a new folder made from the quote form itself
    made = client.post(
        "/folders/quote",
        data={
            "csrf_token": csrf,
            "docid": SEED,
            "passage": "1",
            "folder": "new",
            "new_title": "Case 14: border",
            "note": "Rahmon meeting",
            "next": f"/record/{SEED}?q=border",
        },
    )
    assert made.status_code == 303
    where = urlsplit(made.headers["location"])
    assert where.path == f"/record/{SEED}" and where.fragment == "p-1"
    asked = parse_qs(where.query)
    assert asked["notice"] == ["quoted"] and asked["q"] == ["border"]
    folder = int(asked["folder"][0])
    back = client.get(made.headers["location"]).text
    assert "The passage is quoted in your folder" in back
    assert f'href="/folders/{folder}">Open the folder' in back
    assert quote(client, csrf, folder, 0, "the tour").status_code == 303
    added = client.post(
        "/folders/add",
        data={"csrf_token": csrf, "docid": "vsrdalhiem", "folder": str(folder), "next": "/search"},
    )
    assert added.headers["location"] == f"/search?notice=added&folder={folder}"

    page = client.get(f"/folders/{folder}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = page.text
    first, second = passages()[:2]
    assert text.index(second[:40]) < text.index(first[:40])  # in the order they were added
    assert "Quote from para. 2" in text and "Quote from para. 1" in text
    assert "Rahmon meeting" in text and "the tour" in text and "Whole document" in text
    assert ", para. 2" in text  # the pinpoint citation
    assert f'href="/record/{SEED}#p-1"' in text
    for fmt in ("md", "docx", "pdf"):
        assert f"/folders/{folder}/export?format={fmt}&amp;style=harvard" in text
    for fmt in ("ris", "bibtex", "csl-json", "csv"):
        assert f"/folders/{folder}/export?format={fmt}" in text

    md = client.get(f"/folders/{folder}/export", params={"format": "md"})
    assert md.status_code == 200
    assert md.headers["content-disposition"] == (
        f'attachment; filename="sourcebook-folder-{folder}.md"'
    )
    assert "Rahmon meeting" in md.text and "para. 2" in md.text and "Bibliography" in md.text
    ris = client.get(f"/folders/{folder}/export", params={"format": "ris"})
    assert ris.text.count("ER  -") == 1  # one document, quoted twice and added whole
    assert client.get(f"/folders/{folder}/export", params={"format": "odt"}).status_code == 404

    # the note is edited, an item removed, the folder renamed; "My folders" lists it
    items = re.findall(rf'action="/folders/{folder}/items/(\d+)/note"', text)
    assert len(items) == 3
    noted = client.post(
        f"/folders/{folder}/items/{items[0]}/note",
        data={"csrf_token": csrf, "note": "met on 27 February"},
    )
    assert noted.headers["location"] == f"/folders/{folder}?notice=noted#item-{items[0]}"
    removed = client.post(f"/folders/{folder}/items/{items[2]}/remove", data={"csrf_token": csrf})
    assert removed.status_code == 303
    client.post(f"/folders/{folder}/rename", data={"csrf_token": csrf, "title": "Case 14"})
    text = client.get(f"/folders/{folder}").text
    assert "met on 27 February" in text and "Rahmon meeting" not in text
    assert "Whole document" not in text and '<h1 class="page-title">Case 14</h1>' in text
    listing = client.get("/folders").text
    assert f'<a href="/folders/{folder}">Case 14</a>' in listing


def test_bad_form_values_are_explained(client: Client) -> None:
    csrf = signed_in(client, "mona")
    folder = make_folder(client, csrf, "Bounds")
    too_long = client.post("/folders", data={"csrf_token": csrf, "title": "x" * 301})
    assert too_long.status_code == 400 and "1 to 300 characters" in too_long.text
    no_title = quote(client, csrf, "new", 0)
    assert no_title.status_code == 400 and "Give the new folder a title" in no_title.text
    assert quote(client, csrf, folder, 99).status_code == 404  # no such passage
    assert quote(client, csrf, "x1", 0).status_code == 400
    share = client.post(
        f"/folders/{folder}/share",
        data={"csrf_token": csrf, "target": "planet", "name": "ali", "mode": "read"},
    )
    assert share.status_code == 400


def test_another_users_folder_is_not_found_and_a_read_share_cannot_edit(
    client: Client,
) -> None:
    csrf = signed_in(client, "mona")
    private = make_folder(client, csrf, "Private case")
    shared = make_folder(client, csrf, "Read-only case")
    assert quote(client, csrf, shared, 0, "secret-ish note").status_code == 303
    client.post(
        f"/folders/{shared}/share",
        data={"csrf_token": csrf, "target": "user", "name": "ali", "mode": "read"},
    )
    owner_view = client.get(f"/folders/{shared}").text
    assert "User <strong>ali</strong>: to read" in owner_view

    csrf = signed_in(client, "ali")
    assert client.get(f"/folders/{private}").status_code == 404
    assert client.get(f"/folders/{private}/export?format=md").status_code == 404
    assert quote(client, csrf, private, 0).status_code == 404
    assert client.post(f"/folders/{private}/delete", data={"csrf_token": csrf}).status_code == 404
    page = client.get(f"/folders/{shared}")
    assert page.status_code == 200 and "shared with you to read" in page.text
    assert "secret-ish note" in page.text
    assert "/items/" not in page.text and "Rename" not in page.text and "Share" not in page.text
    assert quote(client, csrf, shared, 1).status_code == 403
    item = re.search(r'id="item-(\d+)"', page.text)
    assert item
    note = client.post(
        f"/folders/{shared}/items/{item.group(1)}/note", data={"csrf_token": csrf, "note": "mine"}
    )
    assert note.status_code == 403
    rename = client.post(f"/folders/{shared}/rename", data={"csrf_token": csrf, "title": "Mine"})
    assert rename.status_code == 403
    # a read-only folder is listed as shared but not offered to add to
    assert "Read-only case" in client.get("/folders").text
    record = client.get(f"/record/{SEED}").text
    assert "Read-only case" not in record and "Private case" not in record
    stop = {"csrf_token": csrf, "target": "user", "name": "ali"}
    assert client.post(f"/folders/{shared}/unshare", data=stop).status_code == 403
    # the owner stops sharing: ali no longer finds it
    csrf = signed_in(client, "mona")
    stop["csrf_token"] = csrf
    assert client.post(f"/folders/{shared}/unshare", data=stop).status_code == 303
    assert "Not shared." in client.get(f"/folders/{shared}").text
    signed_in(client, "ali")
    assert client.get(f"/folders/{shared}").status_code == 404


def test_titles_and_notes_are_escaped(client: Client) -> None:
    csrf = signed_in(client, "mona")
    folder = make_folder(client, csrf, f"Case {SCRIPT}")
    assert quote(client, csrf, folder, 0, f"note {SCRIPT}").status_code == 303
    for path in (f"/folders/{folder}", "/folders", f"/record/{SEED}"):
        text = client.get(path).text
        assert SCRIPT not in text, path
        assert "&lt;script&gt;alert(" in text, path


def test_a_changed_document_shows_both_texts(tmp_path: Path) -> None:
    config = build_archive(tmp_path / "archive", **CHEAP)
    add_users(config, mona="editor")
    mona = Viewer(user="mona", role="editor")
    filler = " The crossing is the only one open to traders from the south in winter." * 3
    body = f"The ferry stopped in March.{filler}\n\nGuards detained twelve people at Kulob.{filler}"
    with Archive(config) as archive:
        doc = Document(source_key="ws:changed", title="Kulob", publisher="Wire", body=body)
        archive.add_documents([doc], IngestOptions(enrich=False))
        stored = archive.store.iter_documents()
        docid = next(d.docid for d in stored if d.source_key == "ws:changed")
        folder = ws.create_folder(archive, mona, "Changes")
        ws.quote_passage(archive, mona, folder.id, docid, 1, "count")
        changed = Document(
            source_key="ws:changed",
            title="Kulob",
            publisher="Wire",
            body=body.replace("twelve", "fourteen"),
        )
        archive.add_documents([changed], IngestOptions(enrich=False))
    with Client(create_app(config)) as client:
        sign_in(client, "mona")
        text = client.get(f"/folders/{folder.id}").text
    assert "The document changed after this quote was taken." in text
    assert "Guards detained twelve people at Kulob. The" in text  # what was read
    assert "Guards detained fourteen people at Kulob. The" in text  # what it says now
    assert "What you read (revision 1)" in text
    assert "What the same place says now (revision 2)" in text


def test_saved_searches(client: Client) -> None:
    csrf = signed_in(client, "eve")
    search = client.get("/search", params={"q": "floods", "country": "TJ", "from": "2020"}).text
    assert "Save this search" in search and "the date range is not" in search
    saved = client.post(
        "/saved",
        data={
            "csrf_token": csrf,
            "name": f"Floods {SCRIPT}",
            "q": "floods",
            "country": "TJ",
            "schedule": "weekly",
            "next": "/search?q=floods&country=TJ",
        },
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/search?q=floods&country=TJ&notice=saved"
    assert "Your search is saved." in client.get(saved.headers["location"]).text
    page = client.get("/saved").text
    assert SCRIPT not in page and "Floods &lt;script&gt;" in page
    assert 'href="/search?q=floods&amp;country=TJ"' in page
    assert 'href="/search.atom?q=floods&amp;country=TJ"' in page
    assert "weekly" in page and "eve@example.org" in page
    feed = client.get("/search.atom", params={"q": "floods", "country": "TJ"})
    assert feed.status_code == 200 and "<feed" in feed.text
    gone = client.post("/saved/delete", data={"csrf_token": csrf, "name": f"Floods {SCRIPT}"})
    assert gone.headers["location"] == "/saved?notice=unsaved"
    assert "You have no saved searches." in client.get("/saved").text

    # a digest needs an e-mail address on the account
    csrf = signed_in(client, "cy")
    refused = client.post(
        "/saved", data={"csrf_token": csrf, "name": "n", "q": "floods", "schedule": "daily"}
    )
    assert refused.status_code == 400 and "no e-mail address" in refused.text
    kept = client.post("/saved", data={"csrf_token": csrf, "name": "n", "q": "floods"})
    assert kept.headers["location"] == "/saved?notice=saved"
    again = client.post("/saved", data={"csrf_token": csrf, "name": "n", "q": "other"})
    assert again.status_code == 409 and "exists already" in again.text
    assert "Atom feed" in client.get("/saved").text
    # one user's saved searches are theirs alone
    signed_in(client, "eve")
    assert "You have no saved searches." in client.get("/saved").text


def test_the_notice_is_one_of_ours(client: Client) -> None:
    page = client.get("/search", params={"notice": "<b>phish</b>", "folder": "x"}).text
    assert "phish" not in page and 'class="flash"' not in page
