"""Split a document body into paragraph-sized passages with character offsets.

Paragraphs are separated by blank lines. Short paragraphs (headings, captions) are merged with the
paragraph that follows, and long ones are split at sentence ends, so passages stay near the target
size and every passage is quotable: ``body[p.start:p.end] == p.text``.
"""

from __future__ import annotations

import re

from sourcebook.model import Passage

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?。؟])[\"'”’)\]]*\s+")


def _paragraph_spans(body: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    pos = 0
    for match in _PARAGRAPH_BREAK.finditer(body):
        spans.append((pos, match.start()))
        pos = match.end()
    spans.append((pos, len(body)))
    out = []
    for start, end in spans:
        # trim surrounding white space, keeping offsets exact
        while start < end and body[start].isspace():
            start += 1
        while end > start and body[end - 1].isspace():
            end -= 1
        if end > start:
            out.append((start, end))
    return out


def _split_long(body: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """Split [start, end) at sentence ends (else at white space) into pieces of at most ~limit."""
    pieces: list[tuple[int, int]] = []
    while end - start > limit:
        window = body[start : start + limit]
        cut = -1
        for match in _SENTENCE_END.finditer(window):
            if match.start() > limit // 3:
                cut = match.start()
        if cut < 0:
            space = window.rfind(" ", limit // 3)
            cut = space if space > 0 else limit
        piece_end = start + cut
        # include trailing closing punctuation that the look-behind matched
        while piece_end < end and not body[piece_end].isspace() and piece_end - start < limit:
            piece_end += 1
        pieces.append((start, piece_end))
        start = piece_end
        while start < end and body[start].isspace():
            start += 1
    if end > start:
        pieces.append((start, end))
    return pieces


def split_passages(body: str, target_chars: int = 800) -> list[Passage]:
    """Passages of ``body``: paragraphs merged up to ``target_chars`` or split beyond twice it."""
    min_chars = max(target_chars // 4, 1)
    limit = target_chars * 2
    spans: list[tuple[int, int]] = []
    pending: tuple[int, int] | None = None
    for start, end in _paragraph_spans(body):
        if pending is not None:
            start = pending[0]
            pending = None
        if end - start < min_chars:
            pending = (start, end)
            continue
        spans.extend(_split_long(body, start, end, limit))
    if pending is not None:
        if spans and pending[1] - spans[-1][0] <= limit:
            spans[-1] = (spans[-1][0], pending[1])
        else:
            spans.append(pending)
    return [Passage(seq=i, start=s, end=e, text=body[s:e]) for i, (s, e) in enumerate(spans)]
