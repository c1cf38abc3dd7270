"""Jinja2 templates (autoescaped) and the small formatting helpers the pages share.

Everything a page shows goes through Jinja's autoescaping. Highlighted passages are never built
as HTML strings: :func:`highlight_segments` cuts the passage text at the highlight offsets into
``(text, is_match)`` pieces and the template escapes each piece inside or outside ``<mark>``
(those helpers live in :mod:`sourcebook.search.highlight`, shared with the command line).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from sourcebook import __version__
from sourcebook.cite import format_day_month_year
from sourcebook.countries import country_name, language_name
from sourcebook.search.highlight import (  # the CLI shows the same snippets
    SNIPPET_CHARS,
    Segment,
    highlight_segments,
    snippet_segments,
)
from sourcebook.web.notices import here, notice_of
from sourcebook.web.viewing import viewer_of

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def build_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the package: no stat() per render
    )
    env.filters["day_month_year"] = long_date
    env.filters["country_name"] = country_label
    env.filters["language_name"] = language_label
    env.filters["thousands"] = lambda n: f"{int(n):,}"
    env.filters["lang"] = lang_attribute
    env.tests["web_url"] = is_web_url
    env.globals["version"] = __version__
    return Jinja2Templates(env=env, context_processors=[_viewer_context])


def _viewer_context(request: Request) -> dict[str, object]:
    """Every page knows who is reading (the header's sign-in link), the session's CSRF token
    (forms carry it), where it is (forms come back to it) and what the last form did."""
    identity = getattr(request.state, "identity", None)
    return {
        "viewer": viewer_of(request),
        "csrf_token": getattr(identity, "csrf", ""),
        "here": here(request),
        "notice": notice_of(request),
    }


#: The language every page is written in (``<html lang>``).
PAGE_LANGUAGE = "en"
_LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")


def lang_attribute(code: str, outer: str = PAGE_LANGUAGE) -> Markup:
    """`` lang="ru"`` for text in a language other than the one around it (``outer``), so
    screen readers pronounce it, browsers hyphenate it and pick its fonts; nothing otherwise."""
    code = (code or "").strip()
    if not code or code == (outer or PAGE_LANGUAGE) or not _LANGUAGE_TAG.match(code):
        return Markup("")
    return Markup(' lang="{}"').format(code)


def is_web_url(value: str) -> bool:
    """Only http(s) addresses become links: a record's URL fields come from its source, and a
    ``javascript:`` or ``data:`` address there must stay text."""
    scheme, _, rest = value.strip().partition(":")
    return scheme.lower() in ("http", "https") and rest.startswith("//")


def long_date(value: date | None) -> str:
    """``27 February 2017``, as Refworld prints dates; empty for no date."""
    return format_day_month_year(value) if value is not None else ""


def last_updated(value: datetime | None) -> str:
    """``Wednesday, 17 May 2023, 15:20 GMT``: Refworld's "Last Updated" line."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return f"{_WEEKDAYS[value.weekday()]}, {format_day_month_year(value.date())}, {value:%H:%M} GMT"


def country_label(code: str) -> str:
    return country_name(code) or code


def language_label(code: str) -> str:
    return language_name(code) or code


__all__ = [
    "SNIPPET_CHARS",
    "Segment",
    "build_templates",
    "country_label",
    "highlight_segments",
    "is_web_url",
    "language_label",
    "last_updated",
    "long_date",
    "snippet_segments",
]
