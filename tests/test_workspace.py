"""Folders and quotes through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from sourcebook.access import CollectionPolicy
from sourcebook.config import Settings
from sourcebook.errors import AccessDenied, InvalidInput, NotFound
from sourcebook.folders import Share
from sourcebook.model import Document
from sourcebook.services import Archive, IngestOptions
from sourcebook.services import workspace as ws
from sourcebook.services.accounts import Accounts
from sourcebook.store.accounts_base import AuditFilter
from sourcebook.viewer import Viewer
from tests.store.conftest import pg_url  # noqa: F401  (the PostgreSQL schema fixture)

ANA = Viewer(user="ana", role="reader")
BO = Viewer(user="bo", role="reader", groups=frozenset({"lawyers"}))
CY = Viewer(user="cy", role="reader")

BODY = (
    "The ferry across the Panj river stopped in March.\n\n"
    "Witnesses said border guards detained twelve people at Kulob.\n\n"
    "The district court released them in April."
)


@pytest.fixture(params=["sqlite", "postgres"])
def archive(request: pytest.FixtureRequest, tmp_path: Path) -> Archive:
    url = "" if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))
    made = Archive(
        Settings(
            home=tmp_path / "a",
            database_url=url,
            parse_sandbox=False,
            follow_seconds=0,
            passage_target_chars=60,
        )
    )
    request.addfinalizer(made.close)
    # the accounts the viewers below stand for: a folder is shared only with existing ones
    accounts = Accounts(made.store, made.settings)
    admin = Viewer(user="admin", role="admin")
    for name in ("ana", "bo", "cy"):
        accounts.add_user(name, "reader", None, by=admin)
    accounts.add_group("lawyers", by=admin)
    accounts.set_membership("bo", "lawyers", True, by=admin)
    return made


def ingest(archive: Archive, body: str, key: str = "ws:1", collection: str = "") -> Document:
    doc = Document(source_key=key, title="Kulob detentions", publisher="Field Wire", body=body)
    archive.add_documents([doc], IngestOptions(collection=collection, detect_language=False))
    return next(d for d in archive.store.iter_documents() if d.source_key == key)


def test_a_quote_keeps_what_was_read_and_says_when_the_document_changed(
    archive: Archive,
) -> None:
    doc = ingest(archive, BODY)
    folder = ws.create_folder(archive, ANA, "Case 14")
    start = doc.body.index("border guards")
    item = ws.quote(archive, ANA, folder.id, doc.docid, start, start + 40, "key fact")
    assert item.text == doc.body[start : start + 40] and item.passage == 2
    whole = ws.quote_passage(archive, ANA, folder.id, doc.docid, 2, "release")
    assert whole.text == "The district court released them in April."
    opened = ws.open_folder(archive, ANA, folder.id)
    assert [(s.item.note, s.changed) for s in opened.items] == [
        ("key fact", False),
        ("release", False),
    ]
    # the publisher rewrites the record: the quote still shows what was read, and says so
    ingest(archive, BODY.replace("twelve people", "fourteen people").replace("April", "May"))
    opened = ws.open_folder(archive, ANA, folder.id)
    first, second = opened.items
    assert first.changed and first.item.text == item.text
    assert "fourteen" in first.current_text and "twelve" in first.item.text
    assert second.changed and second.current_text == "The district court released them in May."
    with pytest.raises(InvalidInput, match="offsets"):
        ws.quote(archive, ANA, folder.id, doc.docid, 10, 5)


def test_sharing_reading_and_editing(archive: Archive) -> None:
    doc = ingest(archive, BODY)
    folder = ws.create_folder(archive, ANA, "Case 14")
    ws.add_document(archive, ANA, folder.id, doc.docid, "background")
    with pytest.raises(NotFound):
        ws.open_folder(archive, BO, folder.id)  # not shared: not found
    ws.share_folder(archive, ANA, folder.id, Share("group", "lawyers", "read"))
    assert [f.id for f in ws.folders(archive, BO)] == [folder.id]
    assert not ws.open_folder(archive, BO, folder.id).can_edit
    with pytest.raises(AccessDenied):
        ws.add_document(archive, BO, folder.id, doc.docid)
    ws.share_folder(archive, ANA, folder.id, Share("user", "bo", "edit"))
    ws.add_document(archive, BO, folder.id, doc.docid, "bo's copy")
    with pytest.raises(AccessDenied):
        ws.share_folder(archive, BO, folder.id, Share("user", "cy", "read"))
    with pytest.raises(AccessDenied):
        ws.delete_folder(archive, BO, folder.id)
    with pytest.raises(NotFound):
        ws.open_folder(archive, CY, folder.id)
    with pytest.raises(AccessDenied):
        ws.create_folder(archive, Viewer.anonymous(), "x")


def test_a_folder_is_shared_only_with_an_existing_user_or_group(archive: Archive) -> None:
    folder = ws.create_folder(archive, ANA, "Case 15")
    with pytest.raises(InvalidInput, match="no user named 'bob'"):
        ws.share_folder(archive, ANA, folder.id, Share("user", "bob", "read"))
    with pytest.raises(InvalidInput, match="no group named 'lawyer'"):
        ws.share_folder(archive, ANA, folder.id, Share("group", "lawyer", "read"))
    assert ws.open_folder(archive, ANA, folder.id).shares == []
    with pytest.raises(NotFound):
        ws.open_folder(archive, BO, folder.id)


def test_a_shared_folder_never_shows_a_document_the_reader_may_not_read(
    archive: Archive,
) -> None:
    secret = ingest(archive, BODY, "ws:legal", collection="legal")
    archive.set_collection(CollectionPolicy("legal", "restricted", ("lawyers",)))
    folder = ws.create_folder(archive, BO, "Counsel")
    ws.add_document(archive, BO, folder.id, secret.docid)
    with pytest.raises(NotFound):
        ws.add_document(archive, ANA, ws.create_folder(archive, ANA, "x").id, secret.docid)
    ws.share_folder(archive, BO, folder.id, Share("user", "ana", "read"))
    seen = ws.open_folder(archive, ANA, folder.id)
    assert (seen.items, seen.hidden) == ([], 1)
    assert len(ws.open_folder(archive, BO, folder.id).items) == 1
    # shared to edit, the hidden item is neither annotated nor removed by her
    ws.share_folder(archive, BO, folder.id, Share("user", "ana", "edit"))
    hidden_item = ws.open_folder(archive, BO, folder.id).items[0].item.id
    with pytest.raises(NotFound):
        ws.set_note(archive, ANA, folder.id, hidden_item, "mine")
    with pytest.raises(NotFound):
        ws.remove_item(archive, ANA, folder.id, hidden_item)
    ws.set_note(archive, BO, folder.id, hidden_item, "counsel only")
    ws.unshare_folder(archive, BO, folder.id, "user", "ana")
    with pytest.raises(NotFound):
        ws.open_folder(archive, ANA, folder.id)
    # sharing is a permission change: in the audit log, with who, what and to whom
    logged = archive.audit.entries(AuditFilter(), 10)
    shares = [(e.actor, e.action, e.detail) for e in logged if e.action.startswith("folder-")]
    assert shares == [
        ("bo", "folder-unshare", "user ana"),
        ("bo", "folder-share", "user ana: edit"),
        ("bo", "folder-share", "user ana: read"),
    ]


def test_a_folder_exports_as_a_research_bundle_and_a_reference_list(archive: Archive) -> None:
    import io
    import json

    import docx
    import pypdf

    doc = ingest(archive, BODY)
    folder = ws.create_folder(archive, ANA, "Case 14: Kulob")
    ws.quote_passage(archive, ANA, folder.id, doc.docid, 1, "detention, first hand")
    ws.add_document(archive, ANA, folder.id, doc.docid, "background")
    made = ws.export_folder(archive, ANA, folder.id, "docx")
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(made.data)).paragraphs)
    assert "Case 14: Kulob" in text and "detained twelve people" in text
    assert "para. 2" in text and "detention, first hand" in text and "Field Wire" in text
    pdf = pypdf.PdfReader(io.BytesIO(ws.export_folder(archive, ANA, folder.id, "pdf").data))
    assert "para. 2" in "".join(page.extract_text() for page in pdf.pages)
    items = json.loads(ws.export_folder(archive, ANA, folder.id, "csl-json").data)
    assert [item["id"] for item in items] == [doc.docid]
    with pytest.raises(InvalidInput, match="unknown export format"):
        ws.export_folder(archive, ANA, folder.id, "odt")
    with pytest.raises(NotFound):
        ws.export_folder(archive, CY, folder.id, "md")
