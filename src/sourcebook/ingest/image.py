"""Scanned pages as images: TIFF (every page of a multi-page file), PNG and JPEG, read by OCR.

Each frame is converted to a greyscale PNG (Pillow) and read by Tesseract
(:mod:`sourcebook.ingest.ocr`); paragraphs are rebuilt from the OCR lines as for PDF pages.
The title is the first substantial line. An image carries no language we trust, so the
language comes from the script and the text (``derived``). Without OCR (turned off, Tesseract
missing) an image has no text, and fails with what to install. An image too small to be a page
(a logo, an icon) or with no text in it is skipped, not an error.
"""

from __future__ import annotations

import io
import logging
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

from sourcebook.errors import ParseError
from sourcebook.ingest.ocr import OcrUnavailable, ocr_images
from sourcebook.ingest.pdf import _is_substantial, _page_lines, _page_paragraphs
from sourcebook.ingest.registry import BY_CONTENT, BY_EXTENSION, NO_MATCH, Source
from sourcebook.ingest.text import join_paragraphs
from sourcebook.model import BadRecord, Document, EmptyRecord

log = logging.getLogger(__name__)

__all__ = ["ImageParser"]

_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")
#: Largest page accepted, in pixels (a 600 dpi A3 page is about 70 million; Pillow itself
#: refuses images past about 89 million as possible decompression bombs).
MAX_PIXELS = 80_000_000
#: A file this small cannot hold a scanned page (a 500 x 500 page of text is several kilobytes).
MIN_PAGE_BYTES = 2_000
#: An image whose sides are both shorter than this is a logo or an icon, not a scanned page
#: (an A5 page at 100 dpi is 580 x 830): it is skipped, not read.
MIN_PAGE_SIDE = 500


class ImageParser:
    """Scanned pages: TIFF, PNG, JPEG (OCR with Tesseract)."""

    name = "image"
    media_types: tuple[str, ...] = ("image/tiff", "image/png", "image/jpeg")
    extensions: tuple[str, ...] = ("tif", "tiff", "png", "jpg", "jpeg")

    def match(self, source: Source) -> int:
        if source.head.startswith(_SIGNATURES):
            return BY_CONTENT
        if source.extension in self.extensions or source.media_type in self.media_types:
            return BY_EXTENSION
        return NO_MATCH

    def parse(self, source: Source) -> Iterator[Document | BadRecord | EmptyRecord]:
        yield parse_image_file(source)


def _frames_to_png(source: Source, folder: Path, max_pages: int) -> list[Path]:
    """Each page big enough to be one, as a greyscale PNG in ``folder``."""
    from PIL import Image, ImageSequence, UnidentifiedImageError  # only when an image comes

    name = source.path.name
    out: list[Path] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(source.read_bytes())) as image:
                frames = getattr(image, "n_frames", 1)
                if frames > max_pages:
                    raise ParseError(
                        f"{name} has {frames} pages to read by OCR; the limit is {max_pages} "
                        "(setting SOURCEBOOK_OCR_MAX_PAGES)"
                    )
                for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
                    if frame.width * frame.height > MAX_PIXELS:
                        raise ParseError(
                            f"{name}: page {number} is {frame.width}x{frame.height} pixels; "
                            f"the limit is {MAX_PIXELS:,}"
                        )
                    if max(frame.width, frame.height) < MIN_PAGE_SIDE:
                        log.info("%s: page %d is too small to be a scanned page", name, number)
                        continue
                    target = folder / f"page-{number:05d}.png"
                    frame.convert("L").save(target, dpi=frame.info.get("dpi", (300, 300)))
                    out.append(target)
    except (UnidentifiedImageError, Image.DecompressionBombWarning) as exc:
        raise ParseError(f"{name} is not an image we can read: {exc}") from exc
    except (Image.DecompressionBombError, OSError, ValueError, EOFError) as exc:
        raise ParseError(f"{name} is a damaged or truncated image: {exc}") from exc
    return out


def parse_image_file(source: Source) -> Document | EmptyRecord:
    """One document from the pages of an image file (see the module docstring)."""
    name = source.path.name
    settings = source.ocr
    if source.size < MIN_PAGE_BYTES:
        kind = source.media_type or "image"
        where = str(source.path)
        return EmptyRecord(where, f"too small to be a scanned page ({kind}, {source.size} bytes)")
    try:
        settings.binary()
    except OcrUnavailable as exc:
        raise OcrUnavailable(f"{name} is an image, whose text needs OCR: {exc}") from exc
    with tempfile.TemporaryDirectory(prefix="sourcebook-ocr-") as folder:
        images = _frames_to_png(source, Path(folder), settings.max_pages)
        if not images:
            return EmptyRecord(
                str(source.path), f"too small to be a scanned page (under {MIN_PAGE_SIDE} px)"
            )
        labels = [f"page {n}" for n in range(1, len(images) + 1)]
        try:
            result = ocr_images(images, settings, labels=labels)
        except ParseError as exc:
            raise ParseError(f"{name}: {exc}") from exc
    pages = [_page_lines(page.text) for page in result.pages]
    body = join_paragraphs(
        "\n\n".join(paragraphs)
        for paragraphs in (_page_paragraphs(lines, set()) for lines in pages)
        if paragraphs
    )
    if not body:
        return EmptyRecord(str(source.path), "OCR found no text in the image")
    first_page = [line for line in pages[0] if line] if pages else []
    title = next((line for line in first_page if _is_substantial(line)), "")
    return Document(
        title=title,
        body=body,
        language=result.language,
        source_key=f"file:{source.path.resolve()}",
        origin=str(source.path),
        derived=["language"] if result.language else [],
        ocr_confidence=result.confidence,
    )
