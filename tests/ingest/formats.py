"""Shared by the office and e-mail format tests: a registry holding every parser, and an ingest.

Fixture files are written by the tests themselves (python-docx, odfpy, zip + XHTML, the
``email`` package, ``cfb.write_msg``) into ``tmp_path``; only the hand-written RTF is committed.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

from sourcebook.config import Settings
from sourcebook.ingest.docx import DocxParser
from sourcebook.ingest.email import EmailParser
from sourcebook.ingest.epub import EpubParser
from sourcebook.ingest.image import ImageParser
from sourcebook.ingest.msg import MsgParser
from sourcebook.ingest.odt import OdtParser
from sourcebook.ingest.registry import Parser, ParserRegistry, Source
from sourcebook.ingest.report import IngestReport
from sourcebook.ingest.rtf import RtfParser
from sourcebook.model import BadRecord, Document, EmptyRecord
from sourcebook.services import Archive

FORMAT_PARSERS: tuple[type[Parser], ...] = (
    DocxParser,
    OdtParser,
    RtfParser,
    EpubParser,
    EmailParser,
    MsgParser,
    ImageParser,  # a picture attached to a message is read by OCR (docs/ocr.md)
)


def full_registry() -> ParserRegistry:
    """The installed parsers plus this part's, whether or not their entry points are installed."""
    registry = ParserRegistry.from_entry_points()
    have = {parser.name for parser in registry.parsers}
    for parser_cls in FORMAT_PARSERS:
        parser = parser_cls()
        if parser.name not in have:
            registry.register(parser)
    return registry


def parse_all(
    path: Path, registry: ParserRegistry | None = None
) -> list[Document | BadRecord | EmptyRecord]:
    registry = registry or full_registry()
    return list(registry.parse(Source.from_path(path)))


def ingest(tmp_path: Path, paths: Iterable[Path]) -> tuple[IngestReport, Archive]:
    """Ingest through a real archive (closed by the caller: use ``with``)."""
    archive = Archive(Settings(home=tmp_path / "archive"), registry=full_registry())
    return archive.ingest(list(paths)), archive


def write_epub(
    path: Path,
    chapters: list[tuple[str, str]],
    metadata: str,
    spine: str | None = None,
    mimetype: str = "application/epub+zip",
) -> Path:
    """An EPUB 3 file: ``chapters`` are (file name, XHTML body) pairs, in spine order."""
    manifest = "\n".join(
        f'<item id="c{i}" href="text/{name}" media-type="application/xhtml+xml"/>'
        for i, (name, _) in enumerate(chapters)
    )
    itemrefs = spine or "\n".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
    opf = f"""<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">{metadata}</metadata>
  <manifest>{manifest}</manifest>
  <spine>{itemrefs}</spine>
</package>"""
    container = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>"""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        zf.writestr("META-INF/container.xml", container, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("OEBPS/content.opf", opf, compress_type=zipfile.ZIP_DEFLATED)
        for name, body in chapters:
            xhtml = (
                '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
                f"<head><title>{name}</title></head><body>{body}</body></html>"
            )
            zf.writestr(f"OEBPS/text/{name}", xhtml, compress_type=zipfile.ZIP_DEFLATED)
    return path


def damaged_variants(good: bytes) -> dict[str, bytes]:
    """A truncated copy, a copy with its middle overwritten, and plain text, of a good file."""
    middle = len(good) // 2
    return {
        "truncated": good[:middle],
        "corrupt": good[:middle] + bytes(64) + good[middle + 64 :],
        "text": b"This is plain text someone saved with the wrong extension.\n",
    }


def assert_bad_files_reported(
    tmp_path: Path,
    good: bytes,
    extension: str,
    parser: str,
    expected: dict[str, str],
    variants: dict[str, bytes] | None = None,
) -> None:
    """Each bad variant (default: :func:`damaged_variants`), ingested in one batch with a good
    file, is one clear error on the report; the good file still goes in and nothing raises."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / f"good.{extension}").write_bytes(good)
    for kind, data in (variants or damaged_variants(good)).items():
        (folder / f"{kind}.{extension}").write_bytes(data)
    report, archive = ingest(tmp_path, [folder])
    with archive:
        outcomes = {Path(o.path).stem: o for o in report.files}
        assert outcomes["good"].added >= 1 and not outcomes["good"].errors
        for kind, pattern in expected.items():
            outcome = outcomes[kind]
            assert outcome.failed == 1 and outcome.added == 0, (kind, outcome)
            assert outcome.parser == parser, (kind, outcome.parser)
            (message,) = outcome.errors
            assert "internal error" not in message and "Traceback" not in message
            assert re.search(pattern, message), (kind, message)
        assert archive.store.count() == outcomes["good"].added
