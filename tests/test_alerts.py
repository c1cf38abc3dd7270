"""Saved searches and e-mail digests, sent to a real SMTP server (aiosmtpd) the test starts."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from sourcebook.access import CollectionPolicy
from sourcebook.config import Settings
from sourcebook.errors import AccessDenied, ConfigError, Conflict, InvalidInput
from sourcebook.model import Document
from sourcebook.saved import SavedSearch
from sourcebook.services import Archive, IngestOptions
from sourcebook.services.accounts import Accounts
from sourcebook.services.alerts import (
    save_search,
    saved_searches,
    search_pairs,
    send_due_digests,
)
from sourcebook.viewer import Viewer
from tests.store.conftest import pg_url  # noqa: F401  (the PostgreSQL schema fixture)


class Inbox:
    """Collects what the SMTP server receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return ""
    return str(request.getfixturevalue("pg_url"))


def story(n: int, title: str, body: str, published: date | None = None, **kw: Any) -> Document:
    return Document(
        source_key=f"alerts:{n}",
        title=title,
        publisher="Field Wire",
        publication_date=published,
        body=body,
        document_type="news",
        **kw,
    )


def settings(tmp_path: Path, database: str, port: int) -> Settings:
    return Settings(
        home=tmp_path / "archive",
        database_url=database,
        smtp_url=f"smtp://127.0.0.1:{port}",  # type: ignore[arg-type]
        public_url="https://coi.example.org",
        parse_sandbox=False,
        follow_seconds=0,
    )


def add(archive: Archive, *docs: Document) -> None:
    report = archive.add_documents(list(docs), IngestOptions(detect_language=False))
    assert report.total("failed") == 0


def test_a_digest_lists_what_is_new_to_the_archive_once(
    tmp_path: Path, database: str, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    with Archive(settings(tmp_path, database, port)) as archive:
        add(archive, story(1, "Kulob floods, first report", "Floods in Kulob district."))
        saved = save_search(
            archive,
            Viewer.system(),
            SavedSearch("kulob", "Kulob floods", schedule="daily", email="ana@example.org"),
        )
        now = datetime.now(UTC) + timedelta(days=1)
        report = send_due_digests(archive, now)
        assert (len(report.sent), report.empty, handler.messages) == (0, 1, [])  # nothing new
        add(
            archive,
            story(
                2, "Kulob floods: shelters", "Floods in Kulob; shelters opened.", date(2026, 12, 1)
            ),
            # published years ago, archived today: new to the archive, so in the digest
            story(3, "Kulob floods of 2019", "An old report on floods in Kulob.", date(2019, 5, 2)),
            story(4, "Ferry strike", "A strike stopped the ferry in Khorog."),
            story(5, "Kulob market", "Prices rose in Kulob market."),  # only one of the words
        )
        report = send_due_digests(archive, now + timedelta(days=1))
        assert len(report.sent) == 1 and report.sent[0].total == 2
        [message] = handler.messages
        assert message["To"] == "ana@example.org"
        assert message["Subject"] == "2 new documents for “kulob”"
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "Kulob floods: shelters" in text and "Kulob floods of 2019" in text
        assert "Ferry strike" not in text and "Kulob market" not in text
        assert "https://coi.example.org/record/" in text and "Cite as: Field Wire" in text
        page = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert "<li><a href=" in page
        # the next day: nothing new, nothing sent
        assert send_due_digests(archive, now + timedelta(days=2)).sent == []
        assert len(handler.messages) == 1
        assert saved_searches(archive, Viewer.system())[0].id == saved.id


def test_a_failed_send_keeps_the_documents_for_the_next_time(
    tmp_path: Path, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    config = settings(tmp_path, "", free_port())  # nobody listens there
    with Archive(config) as archive:
        save_search(
            archive,
            Viewer.system(),
            SavedSearch("floods", "floods", schedule="weekly", email="ana@example.org"),
        )
        add(archive, story(1, "Floods", "Floods in Kulob."))
        later = datetime.now(UTC) + timedelta(days=8)
        report = send_due_digests(archive, later)
        assert [name for name, _ in report.failed] == ["floods"]
        assert "failed" in report.failed[0][1]
    config = config.model_copy(update={"smtp_url": settings(tmp_path, "", port).smtp_url})
    with Archive(config) as archive:
        assert len(send_due_digests(archive, later).sent) == 1
    assert "Floods" in handler.messages[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_a_digest_reads_as_its_owner(tmp_path: Path, inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    with Archive(settings(tmp_path, "", port)) as archive:
        archive.set_collection(CollectionPolicy("legal", "restricted", ("lawyers",)))
        Accounts(archive.store, archive.settings).add_user(
            "ana", "reader", None, by=Viewer.system()
        )
        reader = Viewer(user="ana", role="reader")
        save_search(
            archive, reader, SavedSearch("floods", "floods", schedule="daily", email="a@x.org")
        )
        add(archive, story(1, "Floods (public)", "Floods in Kulob."))
        add(archive, story(2, "Floods (second)", "Floods memo."))
        legal = story(3, "Floods counsel memo", "Floods, privileged notes.", collection="legal")
        archive.add_documents([legal], IngestOptions(collection="legal", detect_language=False))
        send_due_digests(archive, datetime.now(UTC) + timedelta(days=1))
    text = handler.messages[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Floods (public)" in text and "counsel memo" not in text
    assert handler.messages[0]["Subject"].startswith("2 new")


def test_saving_is_checked(tmp_path: Path) -> None:
    with Archive(Settings(home=tmp_path / "a", parse_sandbox=False)) as archive:
        with pytest.raises(AccessDenied):
            save_search(archive, Viewer.anonymous(), SavedSearch("x", "floods"))
        with pytest.raises(InvalidInput, match="e-mail"):
            SavedSearch("x", "floods", schedule="daily")
        with pytest.raises(InvalidInput, match="unknown filters"):
            save_search(archive, Viewer.system(), SavedSearch("x", "q", filters={"nope": ["1"]}))
        save_search(archive, Viewer.system(), SavedSearch("x", "floods"))
        with pytest.raises(Conflict):
            save_search(archive, Viewer.system(), SavedSearch("x", "other"))
        with pytest.raises(ConfigError, match="SMTP"):
            later = datetime.now(UTC) + timedelta(days=2)
            save_search(
                archive, Viewer.system(), SavedSearch("y", "q", schedule="daily", email="a@b.c")
            )
            send_due_digests(archive, later)


def test_a_saved_search_links_to_the_search_page_with_its_parameters() -> None:
    saved = SavedSearch(
        "kulob", "Kulob floods", filters={"countries": ["TJ", "AF"], "collections": ["news"]}
    )
    assert search_pairs(saved) == [
        ("q", "Kulob floods"),
        ("country", "TJ"),
        ("country", "AF"),
        ("collection", "news"),
    ]
