"""What an ingest run is told and what it reports: options, per-file outcomes, the run's report.

Plain records shared by the services, the CLI and the API (which shows the same report for an
upload).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sourcebook.ingest.inputs import SkippedFile, iter_input_files

__all__ = [
    "CheckReport",
    "FileOutcome",
    "IngestOptions",
    "IngestReport",
    "ProgressCallback",
    "SkippedFile",
    "iter_input_files",
]


@dataclass
class IngestOptions:
    """How to ingest: collection to file documents under, parser to force, enrichment switches."""

    collection: str = ""
    parser: str = ""
    detect_language: bool = True
    #: countries, places, passage languages and near-duplicate groups (about 1 ms a story)
    enrich: bool = True
    include_hidden: bool = False
    #: Skip housekeeping files (PROVENANCE.md, README*, LICENSE*, *.dtd, *.csv, ...) in folder
    #: walks; see ``sourcebook.ingest.inputs.HOUSEKEEPING``.
    skip_housekeeping: bool = True
    #: Metadata manifests named by the user (``--metadata``), besides the ``metadata.jsonl`` /
    #: ``metadata.csv`` found in the folders walked.
    metadata: list[Path] = field(default_factory=list)
    #: Replace a stored record of the same source key; uploads say False unless asked to.
    replace_existing: bool = True


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
    #: Files a folder walk passed over (housekeeping, manifests, ignore files), with why.
    skipped_files: list[SkippedFile] = field(default_factory=list)
    #: Metadata manifest rows that could not be used (a row that names no file, a bad date).
    warnings: list[str] = field(default_factory=list)

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
