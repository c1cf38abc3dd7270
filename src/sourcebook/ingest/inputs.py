"""Which files an ingest takes: the folder walk, housekeeping files, ignore files and manifests.

A collection folder holds more than documents: provenance notes, read-me and licence files, a
DTD, category lists, catalogue tables and metadata manifests. Ingested as documents they would
crowd out the real ones (the State Department folder's ``metadata.jsonl`` once became 9 records
with no text that outranked the reports). So a folder walk skips:

* hidden files and folders (names starting with "."), unless ``include_hidden``;
* the housekeeping files in :data:`HOUSEKEEPING` (names compared case-insensitively), unless
  ``skip_housekeeping`` is off;
* metadata manifests (:data:`~sourcebook.ingest.manifest.MANIFEST_NAMES` and any ``--metadata``
  file): they describe documents and are never one;
* what a ``.sourcebookignore`` file in the walked tree excludes (gitignore syntax, patterns
  relative to the ignore file's folder; a deeper file wins; ``!pattern`` brings a file back, also
  one of the housekeeping defaults).

A file named on the command line is always taken (except a manifest). docs/cli.md describes
the rules for users.
"""

from __future__ import annotations

import fnmatch
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pathspec

from sourcebook.errors import NotFound, ParseError, SourcebookError
from sourcebook.ingest.manifest import MANIFEST_NAMES, ManifestIndex, ManifestRow, read_manifest
from sourcebook.ingest.registry import ParserRegistry, Source

if TYPE_CHECKING:
    from sourcebook.ingest.archives import ArchiveLimits
    from sourcebook.ingest.report import IngestOptions

log = logging.getLogger(__name__)

__all__ = [
    "HOUSEKEEPING",
    "IGNORE_FILE",
    "InputFile",
    "InputPlan",
    "PlannedFile",
    "SkippedFile",
    "housekeeping_reason",
    "iter_input_files",
    "plan_inputs",
    "preview_inputs",
]

IGNORE_FILE = ".sourcebookignore"

#: File-name patterns skipped in folder walks, with the reason shown by ``ingest --dry-run``.
HOUSEKEEPING: tuple[tuple[str, str], ...] = (
    ("PROVENANCE*", "provenance notes"),
    ("README*", "read-me"),
    ("LICENSE*", "licence"),
    ("LICENCE*", "licence"),
    ("COPYING*", "licence"),
    ("CHANGELOG*", "change log"),
    ("*.dtd", "document type definition"),
    ("*.xsd", "schema"),
    ("*.csv", "table (catalogue or index)"),
    ("*.tsv", "table (catalogue or index)"),
    ("all-*-strings.lc.txt", "Reuters-21578 category list"),
    ("cat-descriptions_*.txt", "Reuters-21578 category descriptions"),
)


def housekeeping_reason(name: str) -> str:
    """Why a file of this name is housekeeping ("" when it is not)."""
    lowered = name.lower()
    if lowered in MANIFEST_NAMES:
        return "metadata manifest"
    for pattern, reason in HOUSEKEEPING:
        if fnmatch.fnmatchcase(lowered, pattern.lower()):
            return f"housekeeping: {reason}"
    return ""


@dataclass
class InputFile:
    """A file to ingest and the manifest row that describes it, if any."""

    path: Path
    row: ManifestRow | None = None


@dataclass
class SkippedFile:
    path: Path
    reason: str


@dataclass
class InputPlan:
    files: list[InputFile] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    manifests: ManifestIndex = field(default_factory=ManifestIndex)

    @property
    def warnings(self) -> list[str]:
        return self.manifests.warnings


class _Ignores:
    """The ``.sourcebookignore`` files met on the way down one walked tree."""

    def __init__(self) -> None:
        self._specs: list[tuple[Path, pathspec.GitIgnoreSpec]] = []

    def enter(self, folder: Path) -> None:
        ignore = folder / IGNORE_FILE
        if ignore.is_file():
            try:
                lines = ignore.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                log.warning("%s: cannot read (%s); ignored", ignore, exc)
                return
            self._specs.append((folder, pathspec.GitIgnoreSpec.from_lines(lines)))

    def verdict(self, path: Path, is_dir: bool = False) -> bool | None:
        """True: ignored; False: brought back by a ``!`` pattern; None: no pattern speaks."""
        result: bool | None = None
        for folder, spec in self._specs:  # shallow to deep: the deepest file speaks last
            if folder != path and folder not in path.parents:
                continue
            relative = path.relative_to(folder).as_posix() + ("/" if is_dir else "")
            found = spec.check_file(relative).include
            if found is not None:
                result = found
        return result


def _walk(
    root: Path, options: IngestOptions, plan: InputPlan, pending: list[Path]
) -> Iterator[Path]:
    ignores = _Ignores()
    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        ignores.enter(here)
        kept = []
        for name in sorted(dirs):
            if not options.include_hidden and name.startswith("."):
                continue
            if ignores.verdict(here / name, is_dir=True):
                plan.skipped.append(SkippedFile(here / name, f"{IGNORE_FILE} (folder)"))
                continue
            kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            path = here / name
            if not options.include_hidden and name.startswith("."):
                continue
            if name == IGNORE_FILE:
                plan.skipped.append(SkippedFile(path, "ignore file"))
                continue
            if name.lower() in MANIFEST_NAMES:
                pending.append(path)
                plan.skipped.append(SkippedFile(path, "metadata manifest"))
                continue
            verdict = ignores.verdict(path)
            if verdict:
                plan.skipped.append(SkippedFile(path, IGNORE_FILE))
                continue
            reason = housekeeping_reason(name) if options.skip_housekeeping else ""
            if reason and verdict is None:
                plan.skipped.append(SkippedFile(path, reason))
                continue
            yield path


def _real(path: Path) -> Path:
    """The path with its links followed; a symbolic-link loop stays as written (ingest then
    refuses it with a reason, see ``ingest/sandbox.py``)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return path.absolute()


def plan_inputs(paths: Iterable[Path], options: IngestOptions) -> InputPlan:
    """The files an ingest of ``paths`` takes, those it skips (with why), and the manifests."""
    plan = InputPlan()
    explicit = {_real(p) for p in options.metadata}
    for manifest_path in options.metadata:
        _add_manifest(plan, manifest_path, None)
    found: list[Path] = []  # manifests met in walks and beside named files
    chosen: list[Path] = []
    for path in paths:
        if path.is_dir():
            chosen.extend(_walk(path, options, plan, found))
        else:
            if path.name.lower() in MANIFEST_NAMES or _real(path) in explicit:
                plan.skipped.append(SkippedFile(path, "metadata manifest"))
                continue
            for name in MANIFEST_NAMES:
                beside = path.parent / name
                if beside.is_file():
                    found.append(beside)
            chosen.append(path)
    seen: set[Path] = set(explicit)
    for manifest_path in found:
        if _real(manifest_path) not in seen:
            seen.add(_real(manifest_path))
            _add_manifest(plan, manifest_path, manifest_path.parent)
    for path in chosen:
        if _real(path) in explicit:
            plan.skipped.append(SkippedFile(path, "metadata manifest"))
            continue
        row = plan.manifests.row_for(path) if plan.manifests and path.is_file() else None
        plan.files.append(InputFile(path, row))
    plan.manifests.warnings.extend(plan.manifests.unused_id_rows())
    return plan


def _add_manifest(plan: InputPlan, path: Path, folder: Path | None) -> None:
    try:
        plan.manifests.add(read_manifest(path), folder)
    except ParseError as exc:
        plan.manifests.warnings.append(str(exc))


def iter_input_files(
    paths: Iterable[Path], include_hidden: bool = False, skip_housekeeping: bool = True
) -> Iterator[Path]:
    """The files an ingest of ``paths`` would take, in walk order (see :func:`plan_inputs`)."""
    from sourcebook.ingest.report import IngestOptions

    options = IngestOptions(include_hidden=include_hidden, skip_housekeeping=skip_housekeeping)
    for item in plan_inputs(paths, options).files:
        yield item.path


@dataclass
class PlannedFile:
    """What ``ingest --dry-run`` says of a file: the parser that would take it and the fields
    its manifest row would give (or why no parser would)."""

    path: Path
    parser: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    manifest_row: str = ""
    problem: str = ""


def preview_inputs(
    plan: InputPlan,
    registry: ParserRegistry,
    parser: str = "",
    archive: ArchiveLimits | None = None,
) -> list[PlannedFile]:
    """Each planned file with its parser (chosen as an ingest would, from the first bytes only);
    with ``archive`` bounds, each member of a ZIP or TAR (members skipped go to ``plan.skipped``)."""
    from sourcebook.ingest.archives import archive_kind, preview_archive

    out: list[PlannedFile] = []
    for item in plan.files:
        if archive is not None and archive_kind(item.path.name):
            members, passed = preview_archive(item.path, registry, archive, parser)
            out.extend(PlannedFile(Path(m), parser=p, problem=e) for m, p, e in members)
            plan.skipped.extend(SkippedFile(Path(m), reason) for m, reason in passed)
            continue
        planned = PlannedFile(item.path)
        if item.row is not None:
            planned.fields = dict(item.row.fields)
            planned.manifest_row = item.row.where
        try:
            if not item.path.is_file():
                raise NotFound(f"{item.path}: no such file")
            chosen = (
                registry.get(parser) if parser else registry.auction(Source.from_path(item.path))
            )
            planned.parser = chosen.name
        except (SourcebookError, OSError) as exc:
            planned.problem = str(exc)
        out.append(planned)
    return out
