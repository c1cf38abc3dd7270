"""Metadata manifests: a ``metadata.jsonl`` or ``metadata.csv`` that describes the files beside it.

Collections often arrive as plain files plus one table of what each file is: the State
Department reports in Markdown with a ``metadata.jsonl`` giving each report's publisher, release
date and page URL; Wikinews texts with their titles and datelines. The manifest's rows are the
source's own statements about its files, so their values are *source* fields (never listed in
``derived``) and win over what a parser guessed from the text. The manifest itself is never a
document.

A row names its file by one of :data:`FILE_COLUMNS` (a path relative to the manifest's folder or
to a folder above it, or a bare file name), or, lacking those, by an ``id`` equal to the file's
name without extension. The columns each record field is read from are :data:`FIELD_COLUMNS`;
other columns are ignored (in particular ``url_derived``-style columns that the manifest's
author built rather than read from the source). docs/cli.md has the user-facing description.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sourcebook.countries import resolve_country, resolve_language
from sourcebook.dates import parse_date
from sourcebook.errors import ParseError
from sourcebook.ingest.registry import decode_text
from sourcebook.model import BadRecord, Document, EmptyRecord
from sourcebook.records import stated_original_url

log = logging.getLogger(__name__)

__all__ = [
    "FIELD_COLUMNS",
    "FILE_COLUMNS",
    "MANIFEST_NAMES",
    "Manifest",
    "ManifestIndex",
    "ManifestRow",
    "apply_row",
    "describe_documents",
    "read_manifest",
]

#: File names that make a file a manifest of its folder (compared case-insensitively).
MANIFEST_NAMES: tuple[str, ...] = ("metadata.jsonl", "metadata.csv")

#: Columns that name the file a row describes, tried in this order. ``pdf``, ``markdown`` and
#: ``html`` name renderings of the same item (the CRS catalogue gives both a PDF and Markdown).
FILE_COLUMNS: tuple[str, ...] = (
    "path",
    "file",
    "filename",
    "file_name",
    "filepath",
    "file_path",
    "relative_path",
    "pdf",
    "markdown",
    "html",
)
#: Columns that hold the row's identifier (a file named ``<id>.<ext>`` matches it).
ID_COLUMNS: tuple[str, ...] = ("id", "source_id")

#: Record field -> the manifest columns it is read from, first non-empty wins.
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "publisher": ("publisher",),
    "authors": ("authors", "author"),
    "publication_date": ("publication_date", "date", "release_date", "published", "issued"),
    "original_url": ("original_url", "url", "page_url", "pdf_url"),
    "source_url": ("source_url",),
    "document_type": ("document_type", "type", "product_type"),
    "language": ("language", "lang"),
    "countries": ("countries", "country"),
    "source_id": ("source_id", "id"),
}


@dataclass
class ManifestRow:
    """One row: the record fields it states and the files it names."""

    where: str  # "<manifest path>:<line>"
    fields: dict[str, Any]
    files: list[str]
    row_id: str = ""


@dataclass
class Manifest:
    path: Path
    rows: list[ManifestRow]
    #: Rows or values that could not be read (recorded on the ingest report, never fatal).
    warnings: list[str] = field(default_factory=list)


# -- reading --------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value if _text(v))
    return re.sub(r"\s+", " ", str(value)).strip()


def _first(row: dict[str, Any], columns: Iterable[str]) -> tuple[str, Any]:
    for column in columns:
        value = row.get(column)
        if value not in (None, "", []):
            return column, value
    return "", None


def _split_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [_text(v) for v in value if _text(v)]
    text = _text(value)
    return [part.strip() for part in text.split(";") if part.strip()]


def _countries(value: Any, where: str, warnings: list[str]) -> list[str]:
    names = _split_list(value)
    if len(names) == 1 and resolve_country(names[0]) is None and "," in names[0]:
        names = [part.strip() for part in names[0].split(",") if part.strip()]
    codes: list[str] = []
    for name in names:
        code = resolve_country(name)
        if code is None:
            warnings.append(f"{where}: unknown country {name!r} ignored")
        elif code not in codes:
            codes.append(code)
    return codes


def _row_fields(row: dict[str, Any], where: str, warnings: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, columns in FIELD_COLUMNS.items():
        column, value = _first(row, columns)
        if not column:
            continue
        if name == "publication_date":
            day = parse_date(_text(value))
            if day is None:
                warnings.append(f"{where}: {column} {_text(value)!r} is not a date; ignored")
            else:
                out[name] = day
        elif name == "language":
            code = resolve_language(_text(value))
            if code is None:
                warnings.append(f"{where}: unknown language {_text(value)!r} ignored")
            else:
                out[name] = code
        elif name == "countries":
            codes = _countries(value, where, warnings)
            if codes:
                out[name] = codes
        elif name == "authors":
            out[name] = _split_list(value)
        else:
            out[name] = _text(value)
    return out


def _rows_jsonl(text: str, where: str, warnings: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            warnings.append(f"{where}:{number}: not JSON ({exc.msg}); row ignored")
            continue
        if not isinstance(value, dict):
            warnings.append(f"{where}:{number}: not a JSON object; row ignored")
            continue
        yield number, value


def _rows_csv(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    for row in reader:
        clean = {(k or "").strip(): v for k, v in row.items() if k}
        yield reader.line_num, clean


def read_manifest(path: Path) -> Manifest:
    """Read a manifest; raises :class:`ParseError` only when the file cannot be read at all."""
    where = str(path)
    try:
        text = decode_text(path.read_bytes())
    except OSError as exc:
        raise ParseError(f"{where}: cannot read the metadata manifest: {exc}") from exc
    return manifest_from_text(text, path)


def manifest_from_text(text: str, path: Path) -> Manifest:
    """A manifest's rows from its text (``path``: where it was read, for its format and
    messages; a manifest inside an archive has no file of its own)."""
    where = str(path)
    warnings: list[str] = []
    raw = _rows_csv(text) if path.suffix.lower() == ".csv" else _rows_jsonl(text, where, warnings)
    rows: list[ManifestRow] = []
    for number, data in raw:
        data = {str(k).strip().lower(): v for k, v in data.items()}
        row_where = f"{where}:{number}"
        files = [_text(data[c]) for c in FILE_COLUMNS if _text(data.get(c))]
        _, row_id = _first(data, ID_COLUMNS)
        rows.append(
            ManifestRow(
                where=row_where,
                fields=_row_fields(data, row_where, warnings),
                files=files,
                row_id=_text(row_id),
            )
        )
    return Manifest(path=path, rows=rows, warnings=warnings)


# -- matching rows to files -----------------------------------------------------------------------


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


@dataclass
class _Scope:
    manifest: Manifest
    #: The folder whose files the manifest describes; None for ``--metadata`` (any file).
    folder: Path | None
    by_path: dict[Path, ManifestRow] = field(default_factory=dict)
    by_name: dict[str, ManifestRow] = field(default_factory=dict)
    by_id: dict[str, ManifestRow] = field(default_factory=dict)


class ManifestIndex:
    """The manifests of one ingest run and the row, if any, that describes each file.

    A row is looked up by the file's resolved path, then its name, then its name without
    extension against the row's id. Manifests named with ``--metadata`` are asked first (in the
    order given), then found ones, nearest folder first.
    """

    def __init__(self) -> None:
        self._scopes: list[_Scope] = []
        self._used: set[int] = set()
        self.warnings: list[str] = []

    def __bool__(self) -> bool:
        return bool(self._scopes)

    @property
    def paths(self) -> list[Path]:
        return [s.manifest.path for s in self._scopes]

    def add(self, manifest: Manifest, folder: Path | None) -> None:
        scope = _Scope(manifest, folder.resolve() if folder is not None else None)
        self.warnings.extend(manifest.warnings)
        base = manifest.path.resolve().parent
        for row in manifest.rows:
            named = False
            for ref in row.files:
                found = self._resolve(base, ref)
                if found is not None:
                    scope.by_path.setdefault(found, row)
                    named = True
                elif "/" not in ref and "\\" not in ref:
                    scope.by_name.setdefault(ref, row)
                    named = True
                else:
                    self.warnings.append(f"{row.where}: names {ref!r}, which does not exist")
            if not row.files and row.row_id:
                scope.by_id.setdefault(row.row_id, row)
                named = True
            if not named and not row.files:
                self.warnings.append(f"{row.where}: the row names no file (no path nor id)")
        self._scopes.append(scope)
        # explicit manifests first, then the nearest folder (deepest path) first
        self._scopes.sort(
            key=lambda s: (s.folder is not None, -len(s.folder.parts) if s.folder else 0)
        )

    @staticmethod
    def _resolve(base: Path, ref: str) -> Path | None:
        """The file ``ref`` names, relative to the manifest's folder or a folder above it."""
        relative = Path(ref.replace("\\", "/"))
        if relative.is_absolute():
            return relative.resolve() if relative.is_file() else None
        for folder in (base, *base.parents):
            candidate = folder / relative
            if candidate.is_file():
                return candidate.resolve()
        return None

    def row_for(self, path: Path) -> ManifestRow | None:
        resolved = path.resolve()
        for scope in self._scopes:
            if scope.folder is not None and not _within(resolved, scope.folder):
                continue
            row = (
                scope.by_path.get(resolved)
                or scope.by_name.get(path.name)
                or scope.by_id.get(path.stem)
            )
            if row is not None:
                self._used.add(id(row))
                return row
        return None

    def is_manifest(self, path: Path) -> bool:
        resolved = path.resolve()
        return any(s.manifest.path.resolve() == resolved for s in self._scopes)

    def unused_id_rows(self) -> list[str]:
        """Rows that name a file only by id and matched no file of this run."""
        return [
            f"{row.where}: no file matches id {row.row_id!r}"
            for scope in self._scopes
            for row in scope.by_id.values()
            if id(row) not in self._used
        ]


# -- applying -------------------------------------------------------------------------------------


#: Fields that name one document: a row that describes a file of many documents (an SGML file of
#: stories, a JSONL corpus) does not give all of them the same title or identifier.
ONE_DOCUMENT_FIELDS = frozenset({"title", "source_id"})


def apply_row(doc: Document, row: ManifestRow, whole_file: bool = True) -> None:
    """Give ``doc`` the fields the row states (the manifest wins); they are source fields.

    ``whole_file``: the document is the file's only one; otherwise the row's title and
    identifier, which name one document, are not applied.
    """
    for name, value in row.fields.items():
        if not whole_file and name in ONE_DOCUMENT_FIELDS:
            continue
        setattr(doc, name, list(value) if isinstance(value, list) else value)
        if name in doc.derived:
            doc.derived.remove(name)


def describe_documents(
    items: Iterable[Document | BadRecord | EmptyRecord], row: ManifestRow | None
) -> Iterator[Document | BadRecord | EmptyRecord]:
    """The parsed items of one file, completed from its manifest row and from what the text
    itself states (a ``Source PDF: https://…`` line gives the original URL when none is known).

    Records of a Sourcebook export (they carry their docid) are left exactly as exported, so an
    export round-trips.
    """
    iterator = iter(items)
    ahead: list[Document | BadRecord | EmptyRecord] = []
    if row is not None:  # is the file one document or many? (a row's title fits only one)
        try:
            ahead.extend(itertools.islice(iterator, 2))
        except Exception:
            # the parser failed after some records: they are kept, as without a manifest
            yield from (_complete(item, row, True) for item in ahead)
            raise
    whole_file = len(ahead) < 2
    for item in itertools.chain(ahead, iterator):
        yield _complete(item, row, whole_file)


def _complete(
    item: Document | BadRecord | EmptyRecord, row: ManifestRow | None, whole_file: bool
) -> Document | BadRecord | EmptyRecord:
    # a record that comes with its docid is an archive's own export: restored as it was
    if isinstance(item, Document) and not item.docid:
        if row is not None:
            apply_row(item, row, whole_file)
        if not item.original_url:
            item.original_url = stated_original_url(item.body)
    return item
