"""Web pages and HTML fragments: main text and metadata through trafilatura.

A saved web page is mostly furniture (menus, cookie banners, related links, footers), so the body
comes from trafilatura's main-content extraction, not from the whole page. Its metadata maps onto
ours: title, date, author(s) (trafilatura joins several with "; "), site name as publisher,
canonical URL as ``source_url``, the page's licence as ``copyright``, categories and tags as
publisher-supplied ``source_tags``. The language is read from ``<html lang>`` only; guessing it
from the text is the language enricher's job.

Two deliberate departures from trafilatura's defaults, both to avoid inventing facts:

* dates come from the page's metadata and markup only (``extensive_search=False``): the
  extensive search reads any date-like string in links or text, so a list of armed groups
  gets the date one of them was designated a terrorist organisation, and an "About" page gets
  the date of a blog post it links to;
* a fragment without ``<title>``, ``og:title`` or ``<h1>`` gets no title, rather than the first
  sub-heading of whatever the fragment lists.

A fragment (no ``<html>``, ``<head>`` or ``<body>``) is content someone already cut out of its
page, so all of its text is kept, headings included: running main-content extraction on it
only loses parts (it drops the group names of the Factbook's list of armed groups). When
trafilatura finds no main content in a whole page, the page's visible text is used instead, so
a well-formed file never fails.

:func:`html_to_paragraphs` is the lxml-based HTML-to-text conversion shared with the feed and
Refworld parsers: block elements become paragraphs, ``<br>`` a line break inside one, table rows
a paragraph each.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import lxml.etree
import lxml.html
import trafilatura

from sourcebook.countries import resolve_language
from sourcebook.dates import parse_date
from sourcebook.errors import ParseError
from sourcebook.ingest.registry import BY_CONTENT, BY_EXTENSION, NO_MATCH, Source, decode_text
from sourcebook.ingest.text import clean_inline, join_paragraphs, split_names
from sourcebook.model import BadRecord, Document

log = logging.getLogger(__name__)

__all__ = ["HtmlParser", "html_language", "html_to_paragraphs", "parse_html_root"]

_DECLARED_CHARSET = re.compile(rb"charset\s*=|^\xef\xbb\xbf|^\xff\xfe|^\xfe\xff|encoding\s*=", re.I)
_PARA, _LINE, _CELL = "\x1e", "\x1f", "\x1d"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACE = re.compile(r"\s+")
_CELL_RUN = re.compile(rf"\s*{_CELL}[\s{_CELL}]*")

HTML_BLOCKS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "html",
        "legend",
        "li",
        "main",
        "menu",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "tfoot",
        "thead",
        "tr",
        "ul",
    ]
)
#: Block elements of trafilatura's own output tree (its XML, not HTML).
TRAFILATURA_BLOCKS = frozenset(
    ["body", "doc", "main", "p", "head", "quote", "code", "list", "item", "table", "row"]
)
#: trafilatura's ``<head>`` is a heading, not the HTML head, so nothing is skipped there.
TRAFILATURA_SKIP: frozenset[str] = frozenset()
HTML_SKIP = frozenset(
    [
        "script",
        "style",
        "noscript",
        "template",
        "head",
        "title",
        "svg",
        "math",
        "iframe",
        "object",
        "embed",
        "select",
        "option",
        "button",
        "canvas",
        "map",
        "audio",
        "video",
    ]
)


def parse_html_root(markup: bytes | str) -> lxml.html.HtmlElement:
    """An lxml tree for a whole page or a fragment (lxml wraps fragments itself).

    Bytes that declare no charset are decoded as UTF-8 (else Windows-1252) first: lxml would
    otherwise read them as Latin-1, the HTML 4 default, and garble every UTF-8 fragment.
    """
    if isinstance(markup, bytes) and not _DECLARED_CHARSET.search(markup[:4096]):
        markup = decode_text(markup)
    parser = None
    if isinstance(markup, str):
        # lxml refuses str input that declares its own encoding
        markup = markup.encode("utf-8")
        parser = lxml.html.HTMLParser(encoding="utf-8")
    try:
        return lxml.html.document_fromstring(markup, parser=parser)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise ParseError(f"not readable as HTML: {exc}") from exc


def html_to_paragraphs(
    markup: bytes | str | lxml.etree._Element,
    *,
    blocks: frozenset[str] = HTML_BLOCKS,
    skip: frozenset[str] = HTML_SKIP,
    cell_separator: str = " | ",
) -> list[str]:
    """Plain-text paragraphs of HTML: one per block element, ``<br>`` kept as a line break."""
    root = parse_html_root(markup) if isinstance(markup, (bytes, str)) else markup
    pieces: list[str] = []
    skipped: set[lxml.etree._Element] = set()
    pre_depth = 0
    walker = lxml.etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if event == "start":
            if not tag or tag in skip:
                # a comment, processing instruction or invisible element: only its tail counts
                skipped.add(element)
                walker.skip_subtree()
                continue
            if tag in blocks:
                pieces.append(_PARA)
            elif tag in ("td", "th", "cell"):
                pieces.append(_CELL)
            elif tag in ("br", "lb"):
                pieces.append(_LINE)
            if tag == "pre":
                pre_depth += 1
            if element.text:
                pieces.append(_text_piece(element.text, pre_depth > 0))
        else:
            if element in skipped:
                skipped.discard(element)
            else:
                if tag == "pre":
                    pre_depth -= 1
                if tag in blocks:
                    pieces.append(_PARA)
                elif tag in ("td", "th", "cell"):
                    pieces.append(_CELL)
            if element.tail and element is not root:
                pieces.append(_text_piece(element.tail, pre_depth > 0))
    return _assemble("".join(pieces), cell_separator)


def _text_piece(text: str, preformatted: bool) -> str:
    text = _CONTROL.sub("", text)
    if preformatted:
        return text.replace("\r\n", "\n").replace("\n", _LINE)
    return _SPACE.sub(" ", text)


def _assemble(joined: str, cell_separator: str) -> list[str]:
    paragraphs: list[str] = []
    for block in joined.split(_PARA):
        lines = []
        for line in block.split(_LINE):
            line = _CELL_RUN.sub(cell_separator, line.strip(f" {_CELL}\t\n"))
            line = clean_inline(line)
            if line:
                lines.append(line)
        if lines:
            paragraphs.append("\n".join(lines))
    return paragraphs


_LANG = re.compile(rb"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)*)", re.I)
_STATED_TITLE = re.compile(rb"<title[\s>]|<h1[\s>]|property\s*=\s*[\"']og:title", re.I)
_COMMENT = re.compile(rb"<!--.*?-->", re.S)
_PAGE_MARKERS = re.compile(rb"<html[\s>]|<body[\s>]|<head[\s>]|<!doctype\s+html", re.I)
#: A page starts with its doctype or <html>, after at most an XML declaration and comments; a
#: text that merely mentions "<html>" further down is not a page.
_HTML_START = re.compile(
    r"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html[\s>])", re.I | re.S
)
_TAG_START = re.compile(
    r"\s*(?:<!--.*?-->\s*)*<(?:div|p|body|table|h[1-6]|article|section|span|ul|a)[\s>]",
    re.I | re.S,
)


def html_language(data: bytes) -> str:
    """ISO 639-1 code from ``<html lang>``, or "" when the page does not say."""
    match = _LANG.search(data[:65536])
    if not match:
        return ""
    return resolve_language(match.group(1).decode("ascii")) or ""


class HtmlParser:
    """Saved web pages and HTML fragments (main text via trafilatura)."""

    name = "html"
    media_types: tuple[str, ...] = ("text/html", "application/xhtml+xml")
    extensions: tuple[str, ...] = ("html", "htm", "xhtml", "shtml")

    def match(self, source: Source) -> int:
        head = source.head_text()[:4096]
        if _HTML_START.match(head):
            return BY_CONTENT
        if source.extension in self.extensions or source.media_type in self.media_types:
            return BY_EXTENSION
        if _TAG_START.match(head):
            return BY_EXTENSION - 10
        return NO_MATCH

    def parse(self, source: Source) -> Iterator[Document | BadRecord]:
        yield parse_html_file(source)


def _extract(data: bytes, name: str) -> Any:
    try:
        return trafilatura.bare_extraction(
            data,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception as exc:  # trafilatura's internals raise many types; report them as ours
        raise ParseError(f"{name}: HTML extraction failed: {exc}") from exc


def _is_fragment(data: bytes) -> bool:
    return _PAGE_MARKERS.search(_COMMENT.sub(b"", data[:65536])) is None


def parse_html_file(source: Source) -> Document:
    """One document from a saved page or fragment (see the module docstring)."""
    data = source.read_bytes()
    if not data.strip():
        raise ParseError(f"{source.path.name} is empty")
    if b"\x00" in data[:4096]:
        raise ParseError(f"{source.path.name} is binary, not HTML")
    meta: dict[str, Any] = {}
    paragraphs: list[str] = []
    if _is_fragment(data):
        # a fragment is content already cut out of its page: there is no furniture to remove
        paragraphs = html_to_paragraphs(parse_html_root(data))
    else:
        result = _extract(data, source.path.name)
        if result is not None:
            meta = {k: v for k, v in result.as_dict().items() if k not in ("body", "commentsbody")}
            if getattr(result, "body", None) is not None:
                paragraphs = html_to_paragraphs(
                    result.body, blocks=TRAFILATURA_BLOCKS, skip=TRAFILATURA_SKIP
                )
        if not paragraphs:
            log.info("%s: no main content found; using the page's whole text", source.path)
            root = parse_html_root(data)
            body = root.find("body")
            paragraphs = html_to_paragraphs(body if body is not None else root)
    title = clean_inline(meta.get("title") or "") if _STATED_TITLE.search(data) else ""
    if not title:
        title = _title_element(data)
    if paragraphs and title and paragraphs[0] == title:
        paragraphs.pop(0)  # the headline repeated as the first line of the article
    if not title and not paragraphs:
        raise ParseError(f"{source.path.name}: no text found in the HTML")
    tags = {
        key: [clean_inline(v) for v in meta.get(key) or [] if clean_inline(v)]
        for key in ("categories", "tags")
    }
    url = clean_inline(meta.get("url") or "")
    return Document(
        title=title,
        publisher=clean_inline(meta.get("sitename") or ""),
        authors=split_names(meta.get("author") or ""),
        publication_date=parse_date(meta.get("date")),
        source_url=url,
        copyright=clean_inline(meta.get("license") or ""),
        body=join_paragraphs(paragraphs),
        language=html_language(data),
        source_tags={key: values for key, values in tags.items() if values},
        source_key=f"url:{url}" if url else f"file:{source.path.resolve()}",
        origin=str(source.path),
    )


def _title_element(data: bytes) -> str:
    """The page's ``<title>`` or first ``<h1>`` when trafilatura gave none."""
    try:
        root = parse_html_root(data)
    except ParseError:
        return ""
    for path in ("//title", "//h1"):
        found = root.xpath(path)
        if found:
            text = clean_inline(found[0].text_content())
            if text:
                return text
    return ""
