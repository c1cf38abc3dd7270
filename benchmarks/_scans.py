"""Scans made from known text: a text PDF (fpdf2, DejaVu Sans), rasterised by pdftoppm, with
noise added by Pillow, saved as a PDF of images only (no text layer) or as TIFF/PNG.

Used by ``benchmarks/eval_ocr.py`` and ``tests/ingest/test_ocr.py``. Needs the Debian packages
``poppler-utils`` (pdftoppm) and ``fonts-dejavu-core``, and fpdf2 with uharfbuzz (to shape
Arabic script; both in the ``test`` extra).
"""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageFilter

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def missing_tools() -> str:
    """What is missing to make scans ("" when nothing)."""
    missing = []
    if not FONT.is_file():
        missing.append(f"the font {FONT} (Debian fonts-dejavu-core)")
    if shutil.which("pdftoppm") is None:
        missing.append("pdftoppm (Debian poppler-utils)")
    try:
        import fpdf  # noqa: F401
        import uharfbuzz  # noqa: F401
    except ImportError:
        missing.append("fpdf2 and uharfbuzz (pip install fpdf2 uharfbuzz)")
    return ", ".join(missing)


def text_pdf(pages: Sequence[str], path: Path, size: float = 12.0, title: str = "") -> Path:
    """A PDF with a text layer: one page per string, paragraphs separated by blank lines."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", fname=str(FONT))
    pdf.set_font("DejaVu", size=size)
    pdf.set_margins(20, 20, 20)
    if any("\u0600" <= c <= "\u06ff" for text in pages for c in text):
        pdf.set_text_shaping(True)  # joined Arabic letters, right to left (needs uharfbuzz)
    if title:
        pdf.set_title(title)
    for text in pages:
        pdf.add_page()
        for paragraph in text.split("\n\n"):
            pdf.multi_cell(0, size * 0.55, " ".join(paragraph.split()))
            pdf.ln(size * 0.5)
    pdf.output(str(path))
    return path


def rasterise(pdf: Path, dpi: int) -> list[Image.Image]:
    """Every page of ``pdf`` as a greyscale image at ``dpi`` (pdftoppm)."""
    with tempfile.TemporaryDirectory(prefix="sourcebook-scan-") as folder:
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), f"{folder}/page"],
            check=True,
            timeout=120,
        )
        images = []
        for page in sorted(Path(folder).glob("page*.png")):
            with Image.open(page) as image:
                images.append(image.convert("L"))
        return images


def add_noise(image: Image.Image, seed: int, speckle: float = 0.002) -> Image.Image:
    """A scanner's faults: a slight rotation, a slight blur, salt-and-pepper specks."""
    rng = random.Random(seed)
    noisy = image.rotate(rng.uniform(-0.8, 0.8), resample=Image.Resampling.BILINEAR, fillcolor=255)
    noisy = noisy.filter(ImageFilter.GaussianBlur(radius=0.6))
    pixels = noisy.load()
    assert pixels is not None
    width, height = noisy.size
    for _ in range(int(width * height * speckle)):
        pixels[rng.randrange(width), rng.randrange(height)] = rng.choice((0, 255))
    return noisy


def image_pdf(images: Sequence[Image.Image], path: Path, dpi: int) -> Path:
    """A PDF holding only the page images (what a scanner without OCR writes)."""
    first, *rest = [image.convert("L") for image in images]
    first.save(path, "PDF", save_all=True, append_images=rest, resolution=float(dpi))
    return path


def scanned_pdf(
    pages: Sequence[str], path: Path, dpi: int = 200, noise_seed: int | None = None
) -> Path:
    """A scan of ``pages``: text PDF -> images at ``dpi`` (noisy when seeded) -> image PDF."""
    with tempfile.TemporaryDirectory(prefix="sourcebook-scan-") as folder:
        source = text_pdf(pages, Path(folder) / "text.pdf")
        images = rasterise(source, dpi)
    if noise_seed is not None:
        images = [add_noise(image, noise_seed + n) for n, image in enumerate(images)]
    return image_pdf(images, path, dpi)
