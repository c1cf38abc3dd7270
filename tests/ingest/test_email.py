"""E-mail (.eml): headers as the record, the body part, attachments as linked documents."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import docx
import pytest

from sourcebook.errors import ParseError
from sourcebook.ingest import attachments as attachments_module
from sourcebook.ingest.attachments import Attachment, parent_source_key, parse_attachments
from sourcebook.ingest.email import EmailParser
from sourcebook.ingest.registry import BY_CONTENT, BY_EXTENSION, ParserRegistry, Source
from sourcebook.model import BadRecord, Document, EmptyRecord
from tests.ingest.formats import (
    assert_bad_files_reported,
    full_registry,
    ingest,
    parse_all,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
RTF = FIXTURES / "office" / "report.rtf"
SENT = datetime(2024, 3, 2, 1, 30, tzinfo=timezone(timedelta(hours=3)))  # 1 March in UTC


def small_docx(path: Path) -> bytes:
    document = docx.Document()
    document.add_heading("Illustrative: Attached assessment", level=0)
    document.add_paragraph("The assessment in the attachment.")
    document.core_properties.author = "Ana Analyst"
    document.save(path)
    return path.read_bytes()


def message(
    tmp_path: Path, *, message_id: str = "<report-42@example.org>", broken_pdf: bool = True
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = '"Jane Example" <jane@example.org>'
    msg["To"] = "desk@example.net"
    msg["Subject"] = "Illustrative: Checkpoint closures in the north"
    msg["Date"] = format_datetime(SENT)
    if message_id:
        msg["Message-ID"] = message_id
    msg.set_content(
        "Dear colleagues,\n\nThe checkpoints at the river were closed on Friday\n"
        "and reopened on Saturday morning.\n\nRegards,\nJane\n"
    )
    msg.add_alternative("<p>HTML version that must <b>not</b> win.</p>", subtype="html")
    msg.add_attachment(
        small_docx(tmp_path / "assessment.docx"),
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
        filename="assessment.docx",
    )
    msg.add_attachment(
        b"\x89PNG\r\n\x1a\n" + bytes(40), maintype="image", subtype="png", filename="logo.png"
    )
    if broken_pdf:
        msg.add_attachment(
            b"%PDF-1.4 truncated", maintype="application", subtype="pdf", filename="broken.pdf"
        )
    forwarded = EmailMessage()
    forwarded["From"] = "field@example.org"
    forwarded["Subject"] = "Fwd: field note"
    forwarded["Date"] = "Mon, 26 Feb 2024 08:00:00 +0000"
    forwarded["Message-ID"] = "<field-1@example.org>"
    forwarded.set_content("The field note.\n")
    forwarded.add_attachment(
        RTF.read_bytes(), maintype="application", subtype="rtf", filename="report.rtf"
    )
    msg.add_attachment(forwarded)
    msg["Content-Language"] = "en"  # last: set_content and add_* move Content-* headers
    return msg


def write(tmp_path: Path, msg: EmailMessage, name: str = "mail.eml") -> Path:
    path = tmp_path / name
    path.write_bytes(msg.as_bytes())
    return path


def test_message_fields_and_body(tmp_path: Path) -> None:
    path = write(tmp_path, message(tmp_path))
    results = parse_all(path)
    doc = results[0]
    assert isinstance(doc, Document)
    assert doc.title == "Illustrative: Checkpoint closures in the north"
    assert doc.authors == ["Jane Example"]
    assert doc.publication_date == date(2024, 3, 2)  # as the sender dated it, not UTC
    assert doc.language == "en"
    assert doc.publisher == "" and doc.document_type == ""
    assert doc.body.split("\n\n") == [
        "Dear colleagues,",
        "The checkpoints at the river were closed on Friday and reopened on Saturday morning.",
        "Regards, Jane",
    ]
    assert doc.source_key == "email:report-42@example.org"
    assert doc.origin == str(path)


def test_attachments_are_linked_documents(tmp_path: Path) -> None:
    path = write(tmp_path, message(tmp_path))
    results = parse_all(path)
    docs = [r for r in results if isinstance(r, Document)]
    keys = [d.source_key for d in docs]
    assert keys == [
        "email:report-42@example.org",
        "email:report-42@example.org#attachment/1/assessment.docx",
        "email:report-42@example.org#attachment/4/message-4.eml",
        "email:report-42@example.org#attachment/4/message-4.eml#attachment/1/report.rtf",
    ]
    attached = docs[1]
    assert attached.title == "Illustrative: Attached assessment"
    assert attached.authors == ["Ana Analyst"]
    assert attached.origin == f"{path}#attachment/1/assessment.docx"
    assert parent_source_key(attached.source_key) == docs[0].source_key
    assert docs[2].title == "Fwd: field note" and docs[2].body == "The field note."
    assert docs[3].title == "Illustrative: Situation des déplacés"
    assert parent_source_key(docs[3].source_key) == docs[2].source_key
    assert docs[3].origin == f"{path}#attachment/4/message-4.eml#attachment/1/report.rtf"
    (note,) = [r for r in results if isinstance(r, EmptyRecord)]
    assert note.where.endswith("#attachment/2/logo.png") and "image/png" in note.message
    (bad,) = [r for r in results if isinstance(r, BadRecord)]
    assert bad.where.endswith("#attachment/3/broken.pdf")
    assert "broken.pdf is a damaged or truncated PDF" in bad.message


def test_ingest_reports_the_message_and_its_attachments(tmp_path: Path) -> None:
    path = write(tmp_path, message(tmp_path))
    report, archive = ingest(tmp_path, [path])
    with archive:
        (outcome,) = report.files
        assert outcome.parser == "email"
        assert (outcome.added, outcome.failed, outcome.skipped) == (4, 1, 1)
        (error,) = outcome.errors
        assert error.startswith(
            f"{path}#attachment/3/broken.pdf: broken.pdf is a damaged or truncated PDF"
        )
        assert "too small to be a scanned page (image/png, 48 bytes)" in outcome.notes[0]
        assert archive.store.count() == 4
        (again,) = archive.ingest([path]).files  # the same message again changes nothing
        assert (again.added, again.updated, again.unchanged) == (0, 0, 4)


def test_html_only_message_and_bare_address(tmp_path: Path) -> None:
    msg = EmailMessage()
    msg["From"] = "press@example.org"
    msg["Subject"] = "Statement"
    msg["Date"] = "not a date"
    msg.set_content(
        "<html><body><h1>Statement</h1><p>First.</p><ul><li>One</li></ul></body></html>",
        subtype="html",
    )
    path = write(tmp_path, msg)
    (doc,) = parse_all(path)
    assert isinstance(doc, Document)
    assert doc.authors == ["press@example.org"]
    assert doc.publication_date is None  # an unreadable Date is not guessed
    assert doc.body == "Statement\n\nFirst.\n\nOne"
    assert doc.source_key == f"file:{path.resolve()}"  # no Message-ID


def test_limits_on_attachments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attachments_module, "MAX_ATTACHMENTS", 2)
    msg = EmailMessage()
    msg["From"] = "a@example.org"
    msg["Subject"] = "Many files"
    msg.set_content("See the files.")
    for n in range(1, 5):
        msg.add_attachment(f"Note {n}\n\nText {n}.\n", filename=f"note{n}.txt")
    results = parse_all(write(tmp_path, msg))
    assert [r.title for r in results if isinstance(r, Document)] == [
        "Many files",
        "Note 1",
        "Note 2",
    ]
    (bad,) = [r for r in results if isinstance(r, BadRecord)]
    assert (
        "more than 2 attachments; attachment 3 (note3.txt) and later ones were not read"
        in bad.message
    )
    # each attachment within the message's file-size limit
    parent = Document(title="m", source_key="email:x")
    source = Source(path=tmp_path / "m.eml", max_bytes=10)
    (too_big,) = parse_attachments(
        parent, [Attachment("a.txt", b"x" * 11)], source, full_registry()
    )
    assert isinstance(too_big, BadRecord) and "the limit is 10" in too_big.message


def test_nesting_is_bounded(tmp_path: Path) -> None:
    inner = EmailMessage()
    inner["From"] = "a@example.org"
    inner["Subject"] = "Level 4"
    inner.set_content("deepest")
    for level in (3, 2, 1, 0):
        outer = EmailMessage()
        outer["From"] = "a@example.org"
        outer["Subject"] = f"Level {level}"
        outer.set_content("text")
        outer.add_attachment(inner)
        inner = outer
    results = parse_all(write(tmp_path, inner))
    assert [r.title for r in results if isinstance(r, Document)] == [
        "Level 0",
        "Level 1",
        "Level 2",
        "Level 3",
    ]
    (note,) = [r for r in results if isinstance(r, EmptyRecord)]
    assert "nested more than 3 deep" in note.message


def test_parser_outside_a_registry_uses_the_installed_parsers(tmp_path: Path) -> None:
    parser = EmailParser()
    assert isinstance(parser.registry, ParserRegistry)
    registry = ParserRegistry([parser])
    assert parser.registry is registry  # bound by register()


def test_auction_by_content_and_by_extension(tmp_path: Path) -> None:
    registry = full_registry()
    saved_as_text = write(tmp_path, message(tmp_path), name="mail.txt")
    assert EmailParser().match(Source.from_path(saved_as_text)) == BY_CONTENT
    assert registry.auction(Source.from_path(saved_as_text)).name == "email"
    mbox_style = tmp_path / "mbox-style.eml"
    mbox_style.write_bytes(
        b"From jane@example.org Sat Mar  2 01:30:00 2024\n" + saved_as_text.read_bytes()
    )
    assert EmailParser().match(Source.from_path(mbox_style)) == BY_CONTENT
    plain = tmp_path / "plain.eml"
    plain.write_text("Just a note.\n")
    assert EmailParser().match(Source.from_path(plain)) == BY_EXTENSION
    assert registry.auction(Source.from_path(plain)).name == "email"


def test_no_existing_fixture_changes_parser() -> None:
    """Text with "Key: value" lines (Refworld records, front matter) is not taken for mail."""
    installed = ParserRegistry.from_entry_points()
    everything = full_registry()
    checked = 0
    for path in sorted(FIXTURES.rglob("*")):
        if not path.is_file() or "office" in path.parts:
            continue
        source = Source.from_path(path)
        try:
            expected = installed.auction(source).name
        except ParseError:
            continue
        assert everything.auction(source).name == expected, path
        checked += 1
    assert checked > 20


def test_bad_files_are_recorded_and_the_batch_goes_on(tmp_path: Path) -> None:
    good = write(tmp_path, message(tmp_path, broken_pdf=False)).read_bytes()
    no_text = (
        b"From: a@example.org\nTo: b@example.org\nDate: Mon, 26 Feb 2024 08:00:00 +0000\n\n   \n"
    )
    assert_bad_files_reported(
        tmp_path,
        good,
        "eml",
        "email",
        {
            "binary": r"binary\.eml is not an e-mail message: it does not open with mail headers",
            "text": r"text\.eml is not an e-mail message",
            "empty": r"empty\.eml: the message has neither a subject nor any text",
        },
        variants={"binary": bytes(range(256)) * 4, "text": b"Just some text.\n", "empty": no_text},
    )


def test_attached_message_with_one_header_and_missing_blank_line(tmp_path: Path) -> None:
    path = tmp_path / "report.eml"
    path.write_bytes(
        b"From: desk@example.org\nSubject: Delivery report\nTo: a@example.org\n"
        b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n"
        b"--XX\nContent-Type: text/plain\n\nSee the returned message.\n"
        b"--XX\nContent-Type: message/rfc822\n\nFrom: nobody@example.org\n\nReturned text.\n"
        b"--XX--\n"
    )
    docs = [r for r in parse_all(path) if isinstance(r, Document)]
    assert [(d.title, d.authors, d.body) for d in docs] == [
        ("Delivery report", ["desk@example.org"], "See the returned message."),
        ("", ["nobody@example.org"], "Returned text."),
    ]
    sloppy = tmp_path / "sloppy.txt"
    sloppy.write_bytes(b"From: a@example.org\nSubject: No blank line\nThe body starts here.\n")
    assert full_registry().auction(Source.from_path(sloppy)).name == "email"
    (doc,) = parse_all(sloppy)
    assert isinstance(doc, Document)
    assert (doc.title, doc.body) == ("No blank line", "The body starts here.")


def test_an_attachment_of_many_records_numbers_its_documents(tmp_path: Path) -> None:
    msg = EmailMessage()
    msg["From"] = "a@example.org"
    msg["Subject"] = "Records"
    msg.set_content("Attached.")
    lines = b'not json\n{"title": "One", "body": "First."}\n{"title": "Two", "body": "Second."}\n'
    msg.add_attachment(lines, maintype="application", subtype="x-ndjson", filename="records.jsonl")
    results = parse_all(write(tmp_path, msg))
    docs = [r for r in results if isinstance(r, Document)]
    base = f"file:{(tmp_path / 'mail.eml').resolve()}#attachment/1/records.jsonl"
    assert [(d.title, d.source_key) for d in docs[1:]] == [("One", base), ("Two", f"{base}#2")]
    assert [type(r).__name__ for r in results].count("BadRecord") == 1
