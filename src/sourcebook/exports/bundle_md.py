"""A research bundle as plain Markdown (CommonMark): every text is escaped, so a title, quote or
note can never become a link, an HTML tag or a heading of its own."""

from __future__ import annotations

import re

from sourcebook.exports.bundle import CHANGED_NOTICE, NOW_UNKNOWN, WHOLE_DOCUMENT, Bundle

__all__ = ["escape_markdown", "render_markdown"]

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~&!])")
# What starts a block when it opens a line: list markers, numbered items, setext underlines.
_LINE_START = re.compile(r"^(\s*)([-+=]|\d+[.)])", re.MULTILINE)


def escape_markdown(text: str) -> str:
    """``text`` to show as itself in Markdown (backslash escapes, valid in CommonMark)."""
    escaped = _SPECIAL.sub(r"\\\1", text)
    return _LINE_START.sub(_escape_marker, escaped)


def _escape_marker(match: re.Match[str]) -> str:
    marker = match.group(2)
    if marker[-1] in ".)":
        return match.group(1) + marker[:-1] + "\\" + marker[-1]
    return match.group(1) + "\\" + marker


def _block_quote(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.split("\n"))


def render_markdown(bundle: Bundle) -> str:
    out = [f"# {escape_markdown(bundle.title)}", "", escape_markdown(bundle.summary), ""]
    for section in bundle.sections:
        out += [f"## {section.number}. {escape_markdown(section.heading)}", ""]
        if section.whole_document:
            out += [f"*{escape_markdown(WHOLE_DOCUMENT)}*", ""]
        else:
            out += [_block_quote(escape_markdown(section.text)), ""]
        if section.changed:
            out += [f"**{escape_markdown(CHANGED_NOTICE)}**", ""]
            if section.current_text:
                out += ["What the same place says now:", ""]
                out += [_block_quote(escape_markdown(section.current_text)), ""]
            elif not section.whole_document:
                out += [escape_markdown(NOW_UNKNOWN), ""]
        out += [escape_markdown(section.citation), ""]
        if section.note:
            out += ["**Note:** " + escape_markdown(section.note).replace("\n", "  \n"), ""]
    out += ["## Bibliography", ""]
    out += [f"- {escape_markdown(line)}" for line in bundle.bibliography]
    return "\n".join(out).rstrip() + "\n"
