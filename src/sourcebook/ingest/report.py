"""What an ingest run is told and what it reports: options, per-file outcomes, the run's report.

Plain records shared by the services, the CLI and the API (which shows the same report for an
upload).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class IngestOptions:
    """How to ingest: collection to file documents under, parser to force, enrichment switches."""

    collection: str = ""
    parser: str = ""
    detect_language: bool = True
    #: countries, places, passage languages and near-duplicate groups (about 1 ms a story)
    enrich: bool = True
    include_hidden: bool = False


@dataclass
class FileOutcome:
    """What happened to one input file."""

    path: str
    parser: str = ""
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    #: Records skipped because they hold nothing (not errors).
    notes: list[str] = field(default_factory=list)

    @property
    def documents(self) -> int:
        return self.added + self.updated + self.unchanged

    @property
    def status(self) -> str:
        if self.failed and not self.documents:
            return "failed"
        parts = [
            name
            for name, n in (
                ("added", self.added),
                ("updated", self.updated),
                ("unchanged", self.unchanged),
            )
            if n
        ]
        if self.failed:
            parts.append("failed")
        return "+".join(parts) if parts else "empty"


@dataclass
class IngestReport:
    run_id: int
    files: list[FileOutcome]
    seconds: float = 0.0
    #: "finished", or "interrupted" when a stop (SIGTERM, Ctrl+C) cut the run short
    status: str = "finished"

    def total(self, name: str) -> int:
        return sum(int(getattr(f, name)) for f in self.files)

    @property
    def failed_files(self) -> int:
        return sum(1 for f in self.files if f.failed)

    @property
    def documents(self) -> int:
        return sum(f.documents for f in self.files)


@dataclass
class CheckReport:
    store_documents: int
    index_documents: int
    missing: list[str]
    extra: list[str]
    stale: list[str]
    duplicated: list[str]
    repaired: bool = False

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.stale or self.duplicated)


ProgressCallback = Callable[[int, int], None]  # (advance_bytes, documents_so_far)


def iter_input_files(paths: Iterable[Path], include_hidden: bool = False) -> Iterator[Path]:
    """Files under the given paths, directories walked recursively in name order.

    Hidden files and folders (names starting with ".") are skipped unless asked for; symbolic
    links to directories are not followed (no loops).
    """
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path, followlinks=False):
                dirs[:] = sorted(d for d in dirs if include_hidden or not d.startswith("."))
                for name in sorted(files):
                    if include_hidden or not name.startswith("."):
                        yield Path(root) / name
        else:
            yield path
