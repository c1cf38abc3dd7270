"""Reading the pages' HTML in tests: links, elements by id, inline script or style."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.elements.append(element)
        if tag not in ("input", "meta", "link", "br", "img", "hr"):
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i].tag == tag:
                del self._open[i:]
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def links(html: str) -> list[tuple[str, str]]:
    """(href, text) of every link, text with white space collapsed."""
    return [
        (e.attrs["href"], " ".join(e.text.split()))
        for e in parse(html).elements
        if e.tag == "a" and "href" in e.attrs
    ]


def by_id(html: str, ident: str) -> Element:
    for element in parse(html).elements:
        if element.attrs.get("id") == ident:
            return element
    raise AssertionError(f"no element with id {ident!r}")


def by_class(html: str, name: str) -> list[Element]:
    return [e for e in parse(html).elements if name in e.attrs.get("class", "").split()]
