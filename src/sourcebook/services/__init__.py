"""The use cases, one file each; the only package that joins parsers, enrichers, store and index.

The CLI and the web layer call an :class:`Archive` (``archive.py``, the facade) or a use-case
module of this package; they never touch SQL or Tantivy. New use cases (jobs, sources,
accounts) get a module of their own here rather than growing ``archive.py``.
"""

from sourcebook.ingest.report import (
    CheckReport,
    FileOutcome,
    IngestOptions,
    IngestReport,
    ProgressCallback,
    iter_input_files,
)
from sourcebook.records import document_to_json
from sourcebook.services.archive import MAX_NAMES, Archive

__all__ = [
    "MAX_NAMES",
    "Archive",
    "CheckReport",
    "FileOutcome",
    "IngestOptions",
    "IngestReport",
    "ProgressCallback",
    "document_to_json",
    "iter_input_files",
]
