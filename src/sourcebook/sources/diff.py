"""What changed between two revisions of a document: field by field, the body paragraph by
paragraph (a changed paragraph word by word), for the record page's diff view."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Literal

from sourcebook.model import CONTENT_FIELDS

#: Unchanged paragraphs shown around a change; longer unchanged runs are folded.
CONTEXT = 1

SegmentKind = Literal["same", "del", "ins"]


@dataclass
class Segment:
    kind: SegmentKind
    text: str


@dataclass
class DiffLine:
    """One paragraph of the diff: unchanged, removed, added, changed (words marked), or a fold."""

    kind: Literal["same", "del", "ins", "changed", "fold"]
    segments: list[Segment] = field(default_factory=list)


@dataclass
class FieldChange:
    name: str
    old: str
    new: str


@dataclass
class RevisionDiff:
    docid: str
    old: int
    new: int
    fields: list[FieldChange] = field(default_factory=list)
    body: list[DiffLine] = field(default_factory=list)


def _text(value: object) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _words(old: str, new: str) -> list[Segment]:
    a, b = old.split(" "), new.split(" ")
    out: list[Segment] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(Segment("same", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(Segment("del", " ".join(a[i1:i2])))
        if j2 > j1:
            out.append(Segment("ins", " ".join(b[j1:j2])))
    return out


def body_diff(old: str, new: str) -> list[DiffLine]:
    a = [p for p in old.split("\n\n") if p.strip()]
    b = [p for p in new.split("\n\n") if p.strip()]
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            same = a[i1:i2]
            if len(same) > 2 * CONTEXT + 1:
                hidden = len(same) - 2 * CONTEXT
                lines += [DiffLine("same", [Segment("same", p)]) for p in same[:CONTEXT]]
                lines.append(DiffLine("fold", [Segment("same", f"{hidden} unchanged paragraphs")]))
                lines += [DiffLine("same", [Segment("same", p)]) for p in same[-CONTEXT:]]
            else:
                lines += [DiffLine("same", [Segment("same", p)]) for p in same]
        elif op == "replace" and i2 - i1 == j2 - j1:
            lines += [
                DiffLine("changed", _words(x, y)) for x, y in zip(a[i1:i2], b[j1:j2], strict=True)
            ]
        else:
            lines += [DiffLine("del", [Segment("del", p)]) for p in a[i1:i2]]
            lines += [DiffLine("ins", [Segment("ins", p)]) for p in b[j1:j2]]
    return lines


def revision_diff(
    docid: str, old_number: int, old: dict[str, object], new_number: int, new: dict[str, object]
) -> RevisionDiff:
    """The changes from snapshot ``old`` to snapshot ``new`` (both ``Document.content()``)."""
    diff = RevisionDiff(docid, old_number, new_number)
    for name in CONTENT_FIELDS:
        if name == "body":
            continue
        before, after = _text(old.get(name)), _text(new.get(name))
        if before != after:
            diff.fields.append(FieldChange(name, before, after))
    diff.body = body_diff(_text(old.get("body")), _text(new.get("body")))
    return diff
