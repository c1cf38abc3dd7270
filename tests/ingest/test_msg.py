"""Outlook .msg: the same record as an e-mail, attachments linked, damaged files reported.

The messages are written by ``tests/ingest/cfb.py`` to [MS-CFB] and [MS-OXMSG]; no file written
by Outlook itself is available to the tests (see that module).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import olefile
import pytest

from sourcebook.errors import ParseError
from sourcebook.ingest.attachments import parent_source_key
from sourcebook.ingest.msg import OLE_MAGIC, MsgParser
from sourcebook.ingest.registry import BY_CONTENT, BY_EXTENSION, NO_MATCH, Source
from sourcebook.model import Document, EmptyRecord
from tests.ingest.cfb import MsgAttachment, write_msg
from tests.ingest.formats import (
    assert_bad_files_reported,
    damaged_variants,
    full_registry,
    ingest,
    parse_all,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
RTF = FIXTURES / "office" / "report.rtf"
HEADERS = (
    "Received: from mail.example.org by mx.example.net; Sat, 2 Mar 2024 01:30:05 +0300\r\n"
    'From: "Jane Example" <jane@example.org>\r\n'
    "Date: Sat, 2 Mar 2024 01:30:00 +0300\r\n"
    "Subject: Illustrative: Checkpoint closures\r\n"
    "Message-ID: <msg-7@example.org>\r\n\r\n"
)
BODY = (
    "Dear colleagues,\r\n\r\nThe checkpoints at the river were closed on Friday\r\n"
    "and reopened on Saturday.\r\n\r\nJane\r\n"
)


def make(path: Path, **overrides: object) -> Path:
    fields: dict[str, object] = {
        "subject": "Illustrative: Checkpoint closures",
        "body": BODY,
        "sender_name": "Jane Example",
        "sender_email": "jane@example.org",
        "submitted": datetime(2024, 3, 1, 22, 30, tzinfo=UTC),
        "message_id": "<msg-7@example.org>",
        "transport_headers": HEADERS,
        "attachments": (
            MsgAttachment("report.rtf", RTF.read_bytes(), "application/rtf"),
            MsgAttachment("notes.txt", b"Field notes\n\n" + b"A long note. " * 400, "text/plain"),
            MsgAttachment("scan.png", b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png"),
            MsgAttachment(
                "FW: field report",
                method=5,
                embedded={
                    "subject": "FW: field report",
                    "body": "The field report is attached.",
                    "sender_name": "Field Office",
                    "message_id": "<field-9@example.org>",
                    "attachments": (MsgAttachment("note.txt", b"Field note\n\nRoads are open.\n"),),
                },
            ),
        ),
    }
    fields.update(overrides)
    path.write_bytes(write_msg(**fields))  # type: ignore[arg-type]
    return path


def test_the_writer_makes_compound_files_olefile_accepts(tmp_path: Path) -> None:
    path = make(tmp_path / "mail.msg")
    assert olefile.isOleFile(str(path))
    with olefile.OleFileIO(str(path)) as ole:
        assert ole.exists("__substg1.0_0037001F")
        assert ole.get_size("__attach_version1.0_#00000001/__substg1.0_37010102") > 4096


def test_message_fields_and_body(tmp_path: Path) -> None:
    path = make(tmp_path / "mail.msg")
    doc = parse_all(path)[0]
    assert isinstance(doc, Document)
    assert doc.title == "Illustrative: Checkpoint closures"
    assert doc.authors == ["Jane Example"]
    assert doc.publication_date == date(2024, 3, 2)  # the Date header, as the sender wrote it
    assert doc.body.split("\n\n") == [
        "Dear colleagues,",
        "The checkpoints at the river were closed on Friday and reopened on Saturday.",
        "Jane",
    ]
    assert doc.source_key == "email:msg-7@example.org"  # the same identity as the .eml would have
    assert doc.origin == str(path)


def test_without_transport_headers(tmp_path: Path) -> None:
    path = make(
        tmp_path / "draft.msg",
        transport_headers="",
        message_id="",
        body="",
        html=b"<html><body><p>Only <b>HTML</b> here.</p></body></html>",
        sender_name="",
        attachments=(),
    )
    (doc,) = parse_all(path)
    assert isinstance(doc, Document)
    assert doc.authors == ["jane@example.org"]
    assert doc.publication_date == date(2024, 3, 1)  # the submit time, in UTC
    assert doc.body == "Only HTML here."
    assert doc.source_key == f"file:{path.resolve()}"


def test_attachments_are_linked_documents(tmp_path: Path) -> None:
    path = make(tmp_path / "mail.msg")
    results = parse_all(path)
    docs = [r for r in results if isinstance(r, Document)]
    key = "email:msg-7@example.org"
    assert [d.source_key for d in docs] == [
        key,
        f"{key}#attachment/1/report.rtf",
        f"{key}#attachment/2/notes.txt",
        f"{key}#attachment/4/FW: field report",
        f"{key}#attachment/4/FW: field report#attachment/1/note.txt",
    ]
    assert docs[1].title == "Illustrative: Situation des déplacés"
    assert docs[2].title == "Field notes" and len(docs[2].body) > 4000  # a stream past the cutoff
    # the Outlook item embedded in the message, and the file attached to it
    assert (docs[3].title, docs[3].authors, docs[3].body) == (
        "FW: field report",
        ["Field Office"],
        "The field report is attached.",
    )
    assert (docs[4].title, docs[4].body) == ("Field note", "Roads are open.")
    assert docs[4].origin == f"{path}#attachment/4/FW: field report#attachment/1/note.txt"
    assert [parent_source_key(d.source_key) for d in docs[1:]] == [
        key,
        key,
        key,
        docs[3].source_key,
    ]
    (note,) = [r for r in results if isinstance(r, EmptyRecord)]
    assert note.where.endswith("#attachment/3/scan.png")


def test_ingest(tmp_path: Path) -> None:
    path = make(tmp_path / "mail.msg")
    report, archive = ingest(tmp_path, [path])
    with archive:
        (outcome,) = report.files
        assert (outcome.parser, outcome.added, outcome.failed, outcome.skipped) == ("msg", 5, 0, 1)
        assert archive.store.count() == 5


def test_auction_by_content_and_by_extension(tmp_path: Path) -> None:
    registry = full_registry()
    renamed = tmp_path / "mail.bin"
    renamed.write_bytes(make(tmp_path / "mail.msg").read_bytes())
    assert MsgParser().match(Source.from_path(renamed)) == BY_CONTENT
    assert registry.auction(Source.from_path(renamed)).name == "msg"
    plain = tmp_path / "plain.msg"
    plain.write_text("Subject: not really\n")
    assert MsgParser().match(Source.from_path(plain)) == BY_EXTENSION
    assert registry.auction(Source.from_path(plain)).name == "msg"
    other_ole = tmp_path / "other.doc"
    other_ole.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    assert MsgParser().match(Source.from_path(other_ole)) == NO_MATCH


def test_empty_message_is_a_parse_error(tmp_path: Path) -> None:
    path = make(tmp_path / "empty.msg", subject="", body="", attachments=())
    with pytest.raises(ParseError, match="neither a subject nor any text"):
        list(MsgParser().parse(Source.from_path(path)))


def test_bad_files_are_recorded_and_the_batch_goes_on(tmp_path: Path) -> None:
    good = make(tmp_path / "good.msg").read_bytes()
    variants = damaged_variants(good)
    del variants["corrupt"]  # see the next test: .msg has no checksums
    variants["junk"] = OLE_MAGIC + bytes(range(256)) * 3
    assert_bad_files_reported(
        tmp_path,
        good,
        "msg",
        "msg",
        {
            # olefile alone would pad the missing sectors and lose the attachments silently
            "truncated": r"truncated\.msg is a damaged or truncated Outlook message: .*(incomplete|out of range)",
            "junk": r"junk\.msg is a damaged or truncated Outlook message",
            "text": r"text\.msg is not an Outlook message \(not an OLE compound file\)",
        },
        variants=variants,
    )


def test_damage_inside_an_attachment_is_reported_on_that_attachment(tmp_path: Path) -> None:
    """A .msg has no checksums: bytes overwritten inside one attachment spoil only that one."""
    good = make(tmp_path / "good.msg").read_bytes()
    rtf_at = good.index(RTF.read_bytes()[:40])
    damaged = tmp_path / "damaged.msg"
    damaged.write_bytes(good[: rtf_at + 100] + bytes(8) + good[rtf_at + 108 :])
    report, archive = ingest(tmp_path, [damaged])
    with archive:
        (outcome,) = report.files
        assert (outcome.added, outcome.failed) == (4, 1)
        (error,) = outcome.errors
        assert error == (
            f"{damaged}#attachment/1/report.rtf: "
            "report.rtf is a damaged RTF file: RTF is text, but it holds NUL bytes"
        )


def test_sniffing_reads_the_directory_not_the_whole_file(tmp_path: Path) -> None:
    """Past the first bytes, only the directory's first sectors are read to recognise a .msg."""
    path = make(tmp_path / "mail.bin")
    data = path.read_bytes()
    on_disk = Source(path=path, head=data[:512], size=len(data))
    assert MsgParser().match(on_disk) == BY_CONTENT
    in_memory = Source(
        path=tmp_path / "gone" / "a.bin", head=data[:512], size=len(data), _data=data
    )
    assert MsgParser().match(in_memory) == BY_CONTENT
    word_like = data[:512] + bytes(len(data) - 512)  # an OLE file whose directory names no message
    assert (
        MsgParser().match(
            Source(
                path=tmp_path / "x" / "y.bin",
                head=word_like[:512],
                size=len(word_like),
                _data=word_like,
            )
        )
        == NO_MATCH
    )


def test_an_undecodable_html_body_keeps_the_message(tmp_path: Path) -> None:
    path = make(
        tmp_path / "cp.msg",
        body="",
        html="<p>Café</p>".encode(),
        codepage=20127,  # says US-ASCII, holds UTF-8
        attachments=(),
    )
    (doc,) = parse_all(path)
    assert isinstance(doc, Document)
    assert (doc.title, doc.body) == ("Illustrative: Checkpoint closures", "")


@pytest.mark.parametrize(
    ("rtf", "body"),
    [
        (
            rb"{\rtf1\ansi\ansicpg1252\fromtext{\fonttbl{\f0 Arial;}}"
            rb"\f0 Roads to the north reopened.\par Checkpoints remain\line at the river.\par}",
            "Roads to the north reopened.\n\nCheckpoints remain\nat the river.",
        ),
        (  # HTML encapsulated in RTF, as Outlook stores it ([MS-OXRTFEX])
            rb"{\rtf1\ansi\ansicpg1252\fromhtml1 \deff0{\fonttbl{\f0\fswiss Arial;}}"
            rb"{\*\htmltag19 <html>}{\*\htmltag34 <body>}{\*\htmltag64 <p>}\htmlrtf {\htmlrtf0 "
            rb"Roads to the north reopened.{\*\htmltag72 </p>}\htmlrtf }\htmlrtf0 \htmlrtf\par\htmlrtf0"
            rb"{\*\htmltag64 <p>}Caf\'e9 open.{\*\htmltag72 </p>}{\*\htmltag42 </body>}}",
            "Roads to the north reopened.\n\nCafé open.",
        ),
    ],
    ids=["fromtext", "fromhtml"],
)
def test_a_body_only_in_compressed_rtf(tmp_path: Path, rtf: bytes, body: str) -> None:
    path = make(tmp_path / "rtf.msg", body="", rtf=rtf, attachments=())
    (doc,) = parse_all(path)
    assert isinstance(doc, Document)
    assert doc.body == body
