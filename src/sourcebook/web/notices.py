"""What a form did, said on the page it sends the browser back to (no JavaScript, no session).

A form that succeeds answers with a redirect to the page it came from, carrying ``notice=CODE``
(and ``folder=ID`` for "open the folder"). The page shows the fixed sentence for that code, so a
link someone crafts can only make a page say one of these sentences, never text of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request

NOTICES: dict[str, str] = {
    "added": "The document is in your folder.",
    "quoted": "The passage is quoted in your folder, with the revision you read.",
    "saved": "Your search is saved.",
    "unsaved": "The saved search is deleted.",
    "created": "The folder is made.",
    "renamed": "The folder is renamed.",
    "deleted": "The folder is deleted.",
    "shared": "The folder is shared.",
    "unshared": "The folder is no longer shared with them.",
    "noted": "The note is kept.",
    "removed": "The item is removed from the folder.",
}
_OURS = ("notice", "folder")


@dataclass(frozen=True)
class Notice:
    text: str
    #: The folder the action went to (0: none), for an "Open the folder" link.
    folder: int = 0


def with_notice(target: str, code: str, folder: int = 0, fragment: str = "") -> str:
    """``target`` (a path of this site, with its query) carrying the notice ``code``."""
    parts = urlsplit(target)
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in _OURS]
    pairs.append(("notice", code))
    if folder:
        pairs.append(("folder", str(folder)))
    return urlunsplit(("", "", parts.path, urlencode(pairs), fragment or parts.fragment))


def notice_of(request: Request) -> Notice | None:
    """The notice the request's URL asks for, if it names one of :data:`NOTICES`."""
    text = NOTICES.get(request.query_params.get("notice", ""))
    if text is None:
        return None
    folder = request.query_params.get("folder", "")
    return Notice(text, int(folder) if folder.isascii() and folder.isdigit() else 0)


def here(request: Request) -> str:
    """The path and query of the page being shown, without a notice (forms come back to it)."""
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k not in _OURS]
    query = urlencode(pairs)
    return request.url.path + (f"?{query}" if query else "")
