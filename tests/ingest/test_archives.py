"""ZIP and TAR archives walked as folders: one outcome per member, stable keys, and bombs,
traversal names, links, encrypted and corrupt archives refused with a reason, the batch going on.

Every archive is written here with zipfile/tarfile; nothing is extracted anywhere."""

from __future__ import annotations

import io
import json
import struct
import tarfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sourcebook.cli import app
from sourcebook.config import Settings
from sourcebook.ingest.archives import archive_of
from sourcebook.ingest.registry import BY_CONTENT, NO_MATCH, ParserRegistry, Source
from sourcebook.ingest.report import FileOutcome, IngestReport
from sourcebook.model import BadRecord, Document, EmptyRecord
from sourcebook.services import Archive
from tests.conftest import FIXTURES

REFWORLD = (FIXTURES / "ingest" / "refworld" / "record.txt").read_bytes()
STORY_A = b"Water shortages in the south\n\nResidents said the supply was cut for days.\n"
STORY_B = b"Crossing reopens\n\nTraders welcomed the decision to reopen the border crossing.\n"


def _zip(path: Path, members: dict[str, bytes], **kwargs: int) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, **kwargs) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _tar(path: Path, members: list[tarfile.TarInfo | tuple[str, bytes]], mode: str) -> Path:
    with tarfile.open(path, mode) as tf:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tf.addfile(member)
            else:
                name, data = member
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return path


def _ingest(tmp_path: Path, *paths: Path, **settings: object) -> IngestReport:
    with Archive(Settings(home=tmp_path / "archive", **settings)) as archive:  # type: ignore[arg-type]
        return archive.ingest(list(paths))


def _by_path(report: IngestReport) -> dict[str, FileOutcome]:
    return {outcome.path: outcome for outcome in report.files}


def test_a_zip_of_two_texts_and_a_refworld_record_is_three_documents(tmp_path: Path) -> None:
    archive_path = _zip(
        tmp_path / "reports.zip",
        {"south/water.txt": STORY_A, "crossing.txt": STORY_B, "refworld/record.txt": REFWORLD},
    )
    report = _ingest(tmp_path, archive_path)
    outcomes = _by_path(report)
    member = f"{archive_path}!/"
    assert set(outcomes) == {
        member + "south/water.txt",
        member + "crossing.txt",
        member + "refworld/record.txt",
    }  # the archive's own outcome has nothing to say and is not listed
    assert [outcomes[member + n].status for n in ("south/water.txt", "crossing.txt")] == [
        "added",
        "added",
    ]
    assert outcomes[member + "refworld/record.txt"].parser == "refworld"
    assert outcomes[member + "crossing.txt"].parser == "text"
    assert report.documents == 3
    with Archive(Settings(home=tmp_path / "archive")) as archive:
        docs = {d.source_key: d for d in archive.store.iter_documents()}
        assert set(docs) == {
            f"file:{archive_path.resolve()}!/south/water.txt",
            f"file:{archive_path.resolve()}!/crossing.txt",
            f"file:{archive_path.resolve()}!/refworld/record.txt",
        }
        record = docs[f"file:{archive_path.resolve()}!/refworld/record.txt"]
        assert record.title == "Illustrative: Border crossing reopens after seasonal closure"
        assert archive_of(record.source_key) == str(archive_path.resolve())
    again = _ingest(tmp_path, archive_path)  # idempotent: the same keys are found again
    assert [o.status for o in again.files] == ["unchanged"] * 3


def test_a_tar_gz_with_a_nested_zip_reads_both_levels(tmp_path: Path) -> None:
    inner = _zip_bytes({"inner.txt": STORY_A})
    outer = _tar(
        tmp_path / "bundle.tar.gz", [("a/story.txt", STORY_B), ("a/more.zip", inner)], "w:gz"
    )
    report = _ingest(tmp_path, outer)
    outcomes = _by_path(report)
    assert outcomes[f"{outer}!/a/story.txt"].status == "added"
    assert outcomes[f"{outer}!/a/more.zip!/inner.txt"].status == "added"
    with Archive(Settings(home=tmp_path / "archive")) as archive:
        keys = {d.source_key for d in archive.store.iter_documents()}
    assert f"file:{outer.resolve()}!/a/more.zip!/inner.txt" in keys


@pytest.mark.parametrize("mode,suffix", [("w", ".tar"), ("w:bz2", ".tar.bz2"), ("w:xz", ".txz")])
def test_every_tar_compression_is_read(tmp_path: Path, mode: str, suffix: str) -> None:
    path = _tar(tmp_path / f"t{suffix}", [("story.txt", STORY_B)], mode)
    assert [o.status for o in _ingest(tmp_path, path).files] == ["added"]


def test_a_highly_compressible_member_is_refused_and_the_others_read(tmp_path: Path) -> None:
    bomb = _zip(tmp_path / "bomb.zip", {"zeros.txt": b"0" * (20 * 1024 * 1024), "ok.txt": STORY_A})
    nothing = tmp_path / "after.txt"
    nothing.write_bytes(STORY_B)
    report = _ingest(tmp_path, bomb, nothing)
    outcomes = _by_path(report)
    refused = outcomes[f"{bomb}!/zeros.txt"]
    assert refused.status == "failed"
    assert "SOURCEBOOK_ARCHIVE_MAX_RATIO" in refused.errors[0]
    assert "zip bomb" in refused.errors[0]
    assert outcomes[f"{bomb}!/ok.txt"].status == "added"
    assert outcomes[str(nothing)].status == "added"  # the batch goes on


def test_a_member_whose_header_lies_is_stopped_by_the_bytes_read(tmp_path: Path) -> None:
    """The central directory says 1 KB; the data unpacks to 8 MB: zipfile stops at the declared
    size (its CRC check then fails) and the member fails, the next one is read."""
    data = b"A" * (8 * 1024 * 1024)
    path = _zip(tmp_path / "liar.zip", {"big.txt": data, "ok.txt": STORY_A})
    raw = bytearray(path.read_bytes())
    central = raw.find(b"PK\x01\x02")  # the first entry: big.txt
    # uncompressed size at offset 24 of the central directory entry
    struct.pack_into("<I", raw, central + 24, 1024)
    path.write_bytes(bytes(raw))
    outcomes = _by_path(_ingest(tmp_path, path, archive_max_ratio=100_000))
    assert outcomes[f"{path}!/big.txt"].status == "failed"
    assert "could not be read" in outcomes[f"{path}!/big.txt"].errors[0]
    assert outcomes[f"{path}!/ok.txt"].status == "added"


def _overlapping_bomb(path: Path, copies: int) -> Path:
    """The "non-recursive" zip bomb: many central-directory entries sharing one compressed
    block (David Fifield's construction, reduced to its overlap)."""
    kernel = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = b"\0" * (10 * 1024 * 1024)
    block = kernel.compress(payload) + kernel.flush()
    crc = zlib.crc32(payload)
    name = b"k.txt"
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(block), len(payload), len(name), 0
    )
    body = local + name + block
    central = b""
    for i in range(copies):
        entry = f"f{i}.txt".encode()
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(block), len(payload),
            len(entry), 0, 0, 0, 0, 0, 0,
        ) + entry  # fmt: skip
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, copies, copies, len(central), len(body), 0)
    path.write_bytes(body + central + end)
    return path


def test_overlapping_entries_are_refused_as_a_zip_bomb(tmp_path: Path) -> None:
    bomb = _overlapping_bomb(tmp_path / "overlap.zip", 50)
    report = _ingest(tmp_path, bomb)
    [outcome] = report.files
    assert outcome.status == "failed"
    assert outcome.errors == [f"{bomb} has members whose data overlap (a zip bomb); not read"]


def test_the_total_bound_counts_bytes_across_members_and_nesting(tmp_path: Path) -> None:
    text = b"word " * 100_000  # 500 kB each, compresses well under 100:1
    inner = _zip_bytes({f"{i}.txt": text for i in range(4)})
    outer = _zip(tmp_path / "nest.zip", {"a.txt": text, "inner.zip": inner, "z.txt": text})
    report = _ingest(tmp_path, outer, archive_max_bytes=1_600_000)
    outcomes = _by_path(report)
    assert outcomes[f"{outer}!/a.txt"].status == "added"
    stopped = [e for o in report.files for e in o.errors if "SOURCEBOOK_ARCHIVE_MAX_BYTES" in e]
    assert stopped, report.files
    assert report.documents < 6


def test_a_nested_bomb_is_bounded_by_depth(tmp_path: Path) -> None:
    level3 = _zip_bytes({"deep.txt": STORY_A})
    level2 = _zip_bytes({"l3.zip": level3})
    outer = _zip(tmp_path / "l1.zip", {"l2.zip": level2, "top.txt": STORY_B})
    outcomes = _by_path(_ingest(tmp_path, outer))
    nested = outcomes[f"{outer}!/l2.zip!/l3.zip"]
    assert nested.status == "failed"
    assert "nested more than 2 deep" in nested.errors[0]
    assert outcomes[f"{outer}!/top.txt"].status == "added"


def test_the_member_count_is_bounded(tmp_path: Path) -> None:
    path = _zip(tmp_path / "many.zip", {f"{i}.txt": STORY_A for i in range(12)})
    [outcome] = _ingest(tmp_path, path, archive_max_files=10).files
    assert outcome.status == "failed"
    assert "has 12 members; the limit is 10 (SOURCEBOOK_ARCHIVE_MAX_FILES)" in outcome.errors[0]


def test_traversal_names_are_skipped_and_named_plainly(tmp_path: Path) -> None:
    path = _zip(
        tmp_path / "evil.zip",
        {"../../etc/passwd": b"root:x:0:0\n", "/abs/name.txt": STORY_A, "ok.txt": STORY_B},
    )
    report = _ingest(tmp_path, path)
    outcomes = _by_path(report)
    notes = " | ".join(outcomes[str(path)].notes)
    assert "unsafe name '../../etc/passwd'" in notes
    assert "unsafe name '/abs/name.txt' (an absolute path)" in notes
    assert outcomes[f"{path}!/ok.txt"].status == "added"
    assert report.documents == 1


def test_links_and_devices_in_a_tar_are_skipped_with_a_reason(tmp_path: Path) -> None:
    symlink = tarfile.TarInfo("link.txt")
    symlink.type, symlink.linkname = tarfile.SYMTYPE, "/etc/passwd"
    hardlink = tarfile.TarInfo("hard.txt")
    hardlink.type, hardlink.linkname = tarfile.LNKTYPE, "story.txt"
    device = tarfile.TarInfo("null")
    device.type = tarfile.CHRTYPE
    fifo = tarfile.TarInfo("pipe")
    fifo.type = tarfile.FIFOTYPE
    path = _tar(
        tmp_path / "links.tgz", [("story.txt", STORY_B), symlink, hardlink, device, fifo], "w:gz"
    )
    outcomes = _by_path(_ingest(tmp_path, path))
    notes = outcomes[str(path)].notes
    assert f"{path}!/link.txt: a symbolic link (to '/etc/passwd'); not followed" in notes
    assert f"{path}!/hard.txt: a hard link (to 'story.txt'); not followed" in notes
    assert f"{path}!/null: a device" in notes
    assert f"{path}!/pipe: a named pipe" in notes
    assert outcomes[f"{path}!/story.txt"].status == "added"


def test_an_encrypted_member_fails_with_a_clear_error(tmp_path: Path) -> None:
    path = _zip(tmp_path / "secret.zip", {"secret.txt": STORY_A, "open.txt": STORY_B})
    raw = bytearray(path.read_bytes())
    # set the "encrypted" bit in the first local header and its central directory entry
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = raw.find(signature)
        struct.pack_into("<H", raw, at + offset, struct.unpack_from("<H", raw, at + offset)[0] | 1)
    path.write_bytes(bytes(raw))
    outcomes = _by_path(_ingest(tmp_path, path))
    secret = outcomes[f"{path}!/secret.txt"]
    assert secret.status == "failed"
    assert secret.errors == ["encrypted member: Sourcebook cannot read encrypted archives"]
    assert outcomes[f"{path}!/open.txt"].status == "added"


def test_a_corrupt_archive_fails_clearly_and_the_batch_goes_on(tmp_path: Path) -> None:
    broken_zip = tmp_path / "broken.zip"
    broken_zip.write_bytes(b"PK\x03\x04 this is not really a zip file at all")
    broken_tar = tmp_path / "broken.tar.gz"
    broken_tar.write_bytes(b"\x1f\x8b\x08\x00 truncated gzip")
    good = tmp_path / "good.txt"
    good.write_bytes(STORY_B)
    outcomes = _by_path(_ingest(tmp_path, broken_zip, broken_tar, good))
    assert outcomes[str(broken_zip)].status == "failed"
    assert "is not a readable ZIP archive" in outcomes[str(broken_zip)].errors[0]
    assert outcomes[str(broken_tar)].status == "failed"
    assert "TAR archive" in outcomes[str(broken_tar)].errors[0]
    assert outcomes[str(good)].status == "added"


def test_housekeeping_and_hidden_members_are_skipped(tmp_path: Path) -> None:
    path = _zip(
        tmp_path / "folder.zip",
        {
            "README.md": b"# read me\n",
            ".hidden/notes.txt": STORY_A,
            "__MACOSX/._story.txt": b"\0\0",
            "metadata.jsonl": b'{"path": "story.txt", "title": "T"}\n',
            "story.txt": STORY_B,
        },
    )
    report = _ingest(tmp_path, path)
    outcomes = _by_path(report)
    notes = " | ".join(outcomes[str(path)].notes)
    assert "README.md: housekeeping: read-me" in notes
    assert ".hidden/notes.txt: hidden" in notes
    assert "metadata.jsonl: metadata manifest" in notes
    assert report.documents == 1


def test_an_archive_in_a_folder_walk_is_walked_too(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "loose.txt").write_bytes(STORY_A)
    _zip(folder / "packed.zip", {"inside.txt": STORY_B})
    outcomes = _by_path(_ingest(tmp_path, folder, parse_sandbox=False))
    assert outcomes[str(folder / "loose.txt")].status == "added"
    assert outcomes[f"{folder / 'packed.zip'}!/inside.txt"].status == "added"


def test_dry_run_lists_members(tmp_path: Path) -> None:
    path = _zip(tmp_path / "reports.zip", {"a.txt": STORY_A, "README": b"x", "r.txt": REFWORLD})
    result = CliRunner().invoke(
        app, ["--archive", str(tmp_path / "never"), "ingest", "--dry-run", str(path)]
    )
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert f"text {path}!/a.txt" in out
    assert f"refworld {path}!/r.txt" in out
    assert f"skipped {path}!/README" in out
    assert "2 files would be ingested, 1 skipped" in out
    assert not (tmp_path / "never").exists()


def test_a_tar_gz_bomb_is_stopped_while_it_is_read(tmp_path: Path) -> None:
    """A TAR member's compressed size is in no header: the stream's ratio is counted as it is
    decompressed, and reading stops at the bound."""
    path = _tar(
        tmp_path / "bomb.tar.gz",
        [("story.txt", STORY_B), ("zeros.txt", b"\0" * (30 * 1024 * 1024)), ("z.txt", STORY_A)],
        "w:gz",
    )
    report = _ingest(tmp_path, path)
    outcomes = _by_path(report)
    assert outcomes[f"{path}!/story.txt"].status == "added"
    [error] = outcomes[str(path)].errors
    assert "more than 100 to 1, SOURCEBOOK_ARCHIVE_MAX_RATIO" in error
    assert "zeros.txt: refused as a possible bomb" in error
    assert report.documents == 1


def test_a_tar_member_larger_than_what_is_left_stops_before_reading(tmp_path: Path) -> None:
    path = _tar(tmp_path / "big.tgz", [("a.txt", STORY_A), ("b.txt", b"x" * 300_000)], "w:gz")
    report = _ingest(tmp_path, path, archive_max_bytes=200_000)
    outcomes = _by_path(report)
    assert outcomes[f"{path}!/a.txt"].status == "added"
    [error] = outcomes[str(path)].errors
    assert "unpacks to more than 200,000 bytes (SOURCEBOOK_ARCHIVE_MAX_BYTES)" in error


def _mail_with_attachment() -> bytes:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["Subject"] = "Situation update for the southern districts"
    msg["From"] = "Ana Analyst <ana@example.org>"
    msg["Message-ID"] = "<update-7@example.org>"
    msg["Date"] = "Mon, 3 Jun 2024 09:00:00 +0000"
    msg.set_content("Please find the note attached.\n")
    msg.add_attachment(b"note on wells", maintype="application", subtype="octet-stream")
    msg.add_attachment(STORY_A, maintype="text", subtype="plain", filename="water.txt")
    return msg.as_bytes()


def test_record_page_and_show_name_the_archive_and_the_message(tmp_path: Path) -> None:
    from tests.web.client import open_client

    path = _zip(tmp_path / "mail.zip", {"update.eml": _mail_with_attachment()})
    settings = Settings(home=tmp_path / "archive")
    with Archive(settings) as archive:
        archive.ingest([path])
        docs = {d.title: d for d in archive.store.iter_documents()}
    message = docs["Situation update for the southern districts"]
    attached = docs["Water shortages in the south"]
    assert attached.source_key == f"file:{path.resolve()}!/update.eml#attachment/2/water.txt"
    with open_client(settings) as site:
        member_page = site.get(f"/record/{message.docid}").text
        attachment_page = site.get(f"/record/{attached.docid}").text
    assert (
        f'<p class="record__parent">In archive <span title="{path.resolve()}">mail.zip</span></p>'
        in member_page
    )
    assert (
        '<p class="record__parent">Attachment 2 of '
        f'<a href="/record/{message.docid}">Situation update for the southern districts</a></p>'
        in attachment_page
    )
    shown = CliRunner().invoke(app, ["--archive", str(settings.home), "show", attached.docid])
    assert shown.exit_code == 0, shown.output
    assert (
        f"Attachment 2 of Situation update for the southern districts ({message.docid})"
        in " ".join(shown.output.split())
    )
    shown = CliRunner().invoke(app, ["--archive", str(settings.home), "show", message.docid])
    assert "In archive mail.zip" in shown.output


def test_a_folder_named_with_a_bang_is_no_archive() -> None:
    assert archive_of("file:/data/news!/a.txt") == ""
    assert archive_of("file:/data/a.zip!/b.zip!/c.txt") == "/data/a.zip!/b.zip"


def _heavy_page(megabytes: float) -> bytes:
    """A page of many small elements: large as a tree (as in test_sandbox.py)."""
    row = "<div><p>Paragraph with <b>bold</b> and <a href='#x'>a link</a> in it.</p></div>\n"
    count = int(megabytes * 1024 * 1024 / len(row))
    return f"<html><head><title>Big</title></head><body>{row * count}</body></html>".encode()


def test_a_member_that_kills_the_worker_fails_and_the_members_after_it_are_read(
    tmp_path: Path,
) -> None:
    inner = _zip_bytes({"deep.txt": STORY_A})
    path = _zip(
        tmp_path / "heavy.zip",
        {"a.txt": STORY_B, "heavy.html": _heavy_page(6), "inner.zip": inner, "z.txt": STORY_A},
    )
    report = _ingest(
        tmp_path, path, parse_memory_mb=250, parse_seconds=120, archive_max_ratio=10_000
    )
    outcomes = _by_path(report)
    assert outcomes[f"{path}!/a.txt"].status == "added"
    heavy = outcomes[f"{path}!/heavy.html"]
    assert heavy.status == "failed"
    assert heavy.errors == [
        "parsing heavy.html needed more than 250 MB; the file was skipped "
        "(SOURCEBOOK_PARSE_MEMORY_MB)"
    ]
    assert outcomes[f"{path}!/inner.zip!/deep.txt"].status == "added"  # read on after it
    assert outcomes[f"{path}!/z.txt"].status == "added"
    assert sum(len(o.errors) for o in report.files) == 1


class SlowParser:
    """Takes ``.slow`` files and sleeps as many seconds as the file says."""

    name = "slow"
    media_types: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ("slow",)

    def match(self, source: Source) -> int:
        return BY_CONTENT if source.extension == "slow" else NO_MATCH

    def parse(self, source: Source) -> Iterator[Document]:
        time.sleep(float(source.read_text()))
        yield Document(title=source.path.name, body=STORY_B.decode(), source_key="slow:x")


def test_each_member_has_the_time_limit_to_itself(tmp_path: Path) -> None:
    registry = ParserRegistry.from_entry_points()
    registry.register(SlowParser())
    members = {"a.slow": b"0.6", "b.slow": b"0.6", "c.slow": b"30", "d.slow": b"0.6"}
    path = _zip(tmp_path / "slow.zip", members)
    # 4 s leaves room for a busy machine (a parse worker starting under load)
    settings = Settings(home=tmp_path / "archive", parse_seconds=4)
    with Archive(settings, registry=registry) as archive:
        report = archive.ingest([path])
    outcomes = _by_path(report)
    # 1.8 s of the three for the archive, and 30 s for one: each member is timed on its own
    assert [outcomes[f"{path}!/{n}"].status for n in ("a.slow", "b.slow", "d.slow")] == [
        "added"
    ] * 3
    assert outcomes[f"{path}!/c.slow"].errors == [
        "parsing c.slow took more than 4 s; the file was skipped (SOURCEBOOK_PARSE_SECONDS)"
    ]


def test_an_archive_larger_than_the_file_limit_is_read_if_its_members_are_not(
    tmp_path: Path,
) -> None:
    path = _zip(tmp_path / "three.zip", {f"{n}.txt": STORY_B for n in range(3)})
    assert path.stat().st_size > 300
    report = _ingest(tmp_path, path, max_file_bytes=300)
    assert [o.status for o in report.files] == ["added"] * 3
    [outcome] = _ingest(tmp_path, path, archive_max_bytes=200).files
    assert outcome.errors == [
        f"three.zip is {path.stat().st_size:,} bytes; the limit for an archive is 200 "
        "(SOURCEBOOK_ARCHIVE_MAX_BYTES)"
    ]


def test_a_truncated_tar_gz_keeps_the_members_before_the_damage(tmp_path: Path) -> None:
    noise = bytes(range(256)) * 2000  # does not compress: the damage falls inside it
    full = _tar(
        tmp_path / "full.tar.gz", [("a.txt", STORY_A), ("noise.bin", noise), ("z.txt", STORY_B)],
        "w:gz",
    )  # fmt: skip
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(full.read_bytes()[: len(full.read_bytes()) // 2])
    report = _ingest(tmp_path, cut)
    outcomes = _by_path(report)
    assert outcomes[f"{cut}!/a.txt"].status == "added"
    errors = [(o.path, e) for o in report.files for e in o.errors]
    assert len(errors) == 1, errors
    assert errors == [(str(cut), "the archive is damaged at noise.bin (unexpected end of data)")]


def test_an_epub_named_zip_is_still_read_as_a_book(tmp_path: Path) -> None:
    from tests.ingest.formats import write_epub

    metadata = "<dc:title>Illustrative: A renamed book</dc:title><dc:language>en</dc:language>"
    chapter = [("one.xhtml", "<h1>One</h1><p>Officials said the crossing would reopen.</p>")]
    book = write_epub(tmp_path / "book.zip", chapter, metadata)
    outer = _zip(tmp_path / "outer.zip", {"inside.zip": book.read_bytes()})
    outcomes = _by_path(_ingest(tmp_path, book, outer))
    assert outcomes[str(book)].parser == "epub"
    assert outcomes[str(book)].status == "added"
    assert outcomes[f"{outer}!/inside.zip"].parser == "epub"


@pytest.mark.parametrize("suffix", [".zip", ".tar.gz", ".tar.xz", ".tar.bz2", ".tar"])
def test_every_truncation_of_an_archive_is_a_clear_error_never_a_crash(
    tmp_path: Path, suffix: str
) -> None:
    """A gzip stream cut inside its header once raised TypeError from tarfile."""
    from sourcebook.errors import SourcebookError
    from sourcebook.ingest.archives import ArchiveLimits, ArchiveWalker

    inner = _zip_bytes({"c.txt": STORY_A})
    if suffix == ".zip":
        data = _zip(tmp_path / "x.zip", {"a.txt": STORY_B, "n.zip": inner}).read_bytes()
    else:
        mode = {".tar.gz": "w:gz", ".tar.xz": "w:xz", ".tar.bz2": "w:bz2", ".tar": "w"}[suffix]
        data = _tar(tmp_path / f"x{suffix}", [("a.txt", STORY_B), ("n.zip", inner)], mode)
        data = data.read_bytes()
    walker = ArchiveWalker(ParserRegistry.from_entry_points(), ArchiveLimits())
    cut = tmp_path / f"cut{suffix}"
    for length in sorted({*range(0, 40), *range(0, len(data), max(1, len(data) // 60))}):
        cut.write_bytes(data[:length])
        try:
            items = list(walker.parse(Source.from_path(cut)))
        except SourcebookError:
            continue
        assert all(isinstance(i, (Document, EmptyRecord, BadRecord)) for i in items)


def test_a_manifest_inside_a_zip_describes_its_members(tmp_path: Path) -> None:
    rows = [
        {"path": "reports/water.txt", "title": "Water shortages (manifest)", "publisher": "UN"},
        {"file": "crossing.txt", "publisher": "Example News Service", "date": "2024-06-01"},
        {"id": "other", "title": "Named by id"},
        {"path": "../outside.txt", "title": "Never"},
    ]
    manifest = "\n".join(json.dumps(row) for row in rows).encode()
    path = _zip(
        tmp_path / "described.zip",
        {
            "metadata.jsonl": manifest,
            "reports/water.txt": STORY_A,
            "reports/deeper/crossing.txt": STORY_B,
            "other.txt": STORY_B + b"Another text.\n",
            "plain.txt": b"Plain\n\nNo row describes this one.\n",
        },
    )
    report = _ingest(tmp_path, path)
    assert "metadata.jsonl: metadata manifest" in " | ".join(_by_path(report)[str(path)].notes)
    with Archive(Settings(home=tmp_path / "archive")) as archive:
        docs = {d.origin.rpartition("!/")[2]: d for d in archive.store.iter_documents()}
    assert docs["reports/water.txt"].title == "Water shortages (manifest)"
    assert docs["reports/water.txt"].publisher == "UN"
    assert docs["reports/deeper/crossing.txt"].publisher == "Example News Service"
    assert str(docs["reports/deeper/crossing.txt"].publication_date) == "2024-06-01"
    assert docs["other.txt"].title == "Named by id"
    assert docs["plain.txt"].title == "Plain"
    tar = _tar(
        tmp_path / "described.tgz", [("metadata.jsonl", manifest), ("x.txt", STORY_A)], "w:gz"
    )
    notes = _by_path(_ingest(tmp_path, tar))[str(tar)].notes
    assert notes == [f"{tar}!/metadata.jsonl: metadata manifest (not applied inside a TAR yet)"]


def test_a_zip_of_a_version_zipfile_does_not_know_is_refused_clearly(tmp_path: Path) -> None:
    path = _zip(tmp_path / "future.zip", {"a.txt": STORY_A})
    raw = bytearray(path.read_bytes())
    central = raw.find(b"PK\x01\x02")
    struct.pack_into("<B", raw, central + 6, 164)  # "version needed to extract": 16.4
    path.write_bytes(bytes(raw))
    [outcome] = _ingest(tmp_path, path).files
    assert outcome.errors == [f"{path} is not a readable ZIP archive (zip file version 16.4)"]


class PagedParser:
    """Takes ``.paged`` files ("PAGES SECONDS"): reads each page as slowly as the file says and
    reports it done, as the OCR of a scanned PDF does (``ocr._progress``)."""

    name = "paged"
    media_types: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ("paged",)

    def match(self, source: Source) -> int:
        return BY_CONTENT if source.extension == "paged" else NO_MATCH

    def parse(self, source: Source) -> Iterator[Document]:
        from sourcebook.ingest import ocr

        pages, seconds = source.read_text().split()
        for _ in range(int(pages)):
            time.sleep(float(seconds))
            ocr._progress()
        yield Document(title=source.path.name, body=STORY_B.decode(), source_key=source.path.name)


def test_a_long_scan_is_timed_page_by_page(tmp_path: Path) -> None:
    """A scan of many pages takes longer than the parse limit in all, yet each page finishes
    within it: it is read. A single page past the limit is not."""
    registry = ParserRegistry.from_entry_points()
    registry.register(PagedParser())
    (tmp_path / "long.paged").write_text("8 0.5", encoding="utf-8")  # 4 s in all
    (tmp_path / "stuck.paged").write_text("1 30", encoding="utf-8")
    settings = Settings(home=tmp_path / "archive", parse_seconds=2.5)
    with Archive(settings, registry=registry) as archive:
        report = archive.ingest([tmp_path / "long.paged", tmp_path / "stuck.paged"])
    outcomes = {Path(o.path).name: o for o in report.files}
    assert outcomes["long.paged"].status == "added"
    assert "took more than 2.5 s" in outcomes["stuck.paged"].errors[0]
