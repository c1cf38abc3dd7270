"""EPUB books and reports (EPUB 2 and 3), read as what they are: a zip of XHTML files.

No EPUB library is used (EbookLib is AGPL-licensed): ``META-INF/container.xml`` names the package
document (OPF); its spine lists the chapters in reading order, and each chapter's XHTML becomes
paragraphs through the same HTML-to-text conversion as web pages. Spine items marked
``linear="no"`` (covers, pop-up notes) are left out; so is a chapter file the manifest names but
the zip lacks (logged, not fatal, when others are readable).

Metadata is the package's Dublin Core, which in EPUB is stated by the publisher: ``dc:title``
(the first), ``dc:creator`` (authors), ``dc:publisher``, ``dc:date`` (the publication date; EPUB 3
``dcterms:modified`` is a file date and is not used), ``dc:language``, and the package's unique
``dc:identifier`` as ``source_id``.

An EPUB whose chapters are encrypted (DRM, listed in ``META-INF/encryption.xml``) is a
ParseError saying so; obfuscated fonts, listed there too, do not matter.
"""

from __future__ import annotations

import logging
import posixpath
import zipfile
from collections.abc import Iterator
from urllib.parse import unquote

import lxml.etree

from sourcebook.countries import resolve_language
from sourcebook.dates import parse_date
from sourcebook.errors import ParseError
from sourcebook.ingest.html import html_to_paragraphs, parse_html_root
from sourcebook.ingest.office import open_zip, stated_title, zip_mimetype
from sourcebook.ingest.registry import BY_CONTENT, BY_EXTENSION, NO_MATCH, Source
from sourcebook.ingest.text import clean_inline, join_paragraphs
from sourcebook.model import BadRecord, Document

log = logging.getLogger(__name__)

__all__ = ["EpubParser", "parse_epub_file"]

EPUB_TYPE = "application/epub+zip"
_NS = {
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
}
_ENCRYPTION_NS = {"enc": "http://www.w3.org/2001/04/xmlenc#"}
_XML_PARSER = lxml.etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


class EpubParser:
    """EPUB publications (zip + XHTML, read with lxml)."""

    name = "epub"
    media_types: tuple[str, ...] = (EPUB_TYPE,)
    extensions: tuple[str, ...] = ("epub",)

    def match(self, source: Source) -> int:
        if zip_mimetype(source.head) == EPUB_TYPE:
            return BY_CONTENT
        if source.extension in self.extensions or source.media_type in self.media_types:
            return BY_EXTENSION
        return NO_MATCH

    def parse(self, source: Source) -> Iterator[Document | BadRecord]:
        yield parse_epub_file(source)


def _xml(archive: zipfile.ZipFile, member: str, name: str) -> lxml.etree._Element:
    try:
        return lxml.etree.fromstring(archive.read(member), parser=_XML_PARSER)
    except KeyError as exc:
        raise ParseError(f"{name} is not a complete EPUB: {member} is missing") from exc
    except lxml.etree.XMLSyntaxError as exc:
        raise ParseError(f"{name}: {member} is not well-formed XML: {exc}") from exc


def _package_path(archive: zipfile.ZipFile, name: str) -> str:
    container = _xml(archive, "META-INF/container.xml", name)
    paths = container.xpath("//c:rootfile/@full-path", namespaces=_NS)
    if not paths:
        raise ParseError(f"{name}: META-INF/container.xml names no package document")
    return str(paths[0])


def _dc(package: lxml.etree._Element, field: str) -> list[str]:
    values = package.xpath(f"opf:metadata/dc:{field}", namespaces=_NS)
    texts = (clean_inline("".join(v.itertext())) for v in values)
    return [text for text in texts if text]


def _identifier(package: lxml.etree._Element) -> str:
    unique = package.get("unique-identifier", "")
    for element in package.xpath("opf:metadata/dc:identifier", namespaces=_NS):
        if not unique or element.get("id") == unique:
            return clean_inline("".join(element.itertext()))
    return ""


def _chapters(package: lxml.etree._Element, package_path: str) -> list[str]:
    """Zip member names of the spine's chapters, in reading order."""
    base = posixpath.dirname(package_path)
    hrefs = {
        item.get("id"): item.get("href", "")
        for item in package.xpath("opf:manifest/opf:item", namespaces=_NS)
    }
    members: list[str] = []
    for itemref in package.xpath("opf:spine/opf:itemref", namespaces=_NS):
        if itemref.get("linear", "yes") == "no":
            continue
        href = hrefs.get(itemref.get("idref"))
        if href:
            path = unquote(href.split("#")[0])
            members.append(posixpath.normpath(posixpath.join(base, path)))
    return members


def _encrypted(archive: zipfile.ZipFile, name: str) -> set[str]:
    """Members listed as encrypted (DRM, or obfuscated fonts) in META-INF/encryption.xml."""
    if "META-INF/encryption.xml" not in archive.namelist():
        return set()
    root = _xml(archive, "META-INF/encryption.xml", name)
    uris = root.xpath("//enc:CipherReference/@URI", namespaces=_ENCRYPTION_NS)
    return {posixpath.normpath(unquote(str(uri))) for uri in uris}


def parse_epub_file(source: Source) -> Document:
    """One document from an EPUB file (see the module docstring)."""
    name = source.path.name
    archive = open_zip(source.read_bytes(), name, "EPUB", source.max_bytes)
    package_path = _package_path(archive, name)
    package = _xml(archive, package_path, name)
    paragraphs: list[str] = []
    chapters = _chapters(package, package_path)
    locked = _encrypted(archive, name) & set(chapters)
    if locked:
        raise ParseError(
            f"{name} is encrypted (DRM): {len(locked)} of its {len(chapters)} chapters cannot "
            "be read"
        )
    missing = 0
    for member in chapters:
        try:
            markup = archive.read(member)
        except KeyError:
            log.warning("%s: chapter %s is missing from the EPUB", source.path, member)
            missing += 1
            continue
        root = parse_html_root(markup)
        body = root.find("body")
        paragraphs.extend(html_to_paragraphs(body if body is not None else root))
    if chapters and missing == len(chapters):
        raise ParseError(f"{name}: none of the {len(chapters)} chapters in its spine is present")
    titles = _dc(package, "title")
    title = stated_title(titles[0]) if titles else ""
    if paragraphs and paragraphs[0] == title:
        paragraphs.pop(0)
    if not title and not paragraphs:
        raise ParseError(f"{name}: the EPUB has no title and no text")
    languages = _dc(package, "language")
    publishers = _dc(package, "publisher")
    dates = _dc(package, "date")
    return Document(
        source_id=_identifier(package),
        title=title,
        publisher=publishers[0] if publishers else "",
        authors=_dc(package, "creator"),
        publication_date=parse_date(dates[0]) if dates else None,
        body=join_paragraphs(paragraphs),
        language=(resolve_language(languages[0]) or "") if languages else "",
        source_key=f"file:{source.path.resolve()}",
        origin=str(source.path),
    )
