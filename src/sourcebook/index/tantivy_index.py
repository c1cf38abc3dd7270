"""The Tantivy index: one per archive, derived from the store and rebuildable from it.

Tantivy allows one ``IndexWriter`` per index across processes; the writer is opened lazily by the
one writer (the ingest service) and released on ``close()``. Readers reload after each commit.

The index records the last position of the store's change log it holds in a small file beside
its segments (``sourcebook-position``), replaced atomically right after each commit that carries
a position. Tantivy's commit takes no payload in tantivy-py, hence the file: a crash between the
commit and the file only makes the next open replay a few changes again (replay is idempotent).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import weakref
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tantivy

from sourcebook.errors import AccessDenied, ArchiveOutdated, Conflict, StorageError
from sourcebook.ids import group_name, id_number
from sourcebook.index.analyzers import analyzer_language, register_analyzers
from sourcebook.index.schema import (
    INDEX_DATE_MAX,
    INDEX_DATE_MIN,
    SCHEMA_VERSION,
    build_schema,
    sample_bucket,
    text_field,
)
from sourcebook.model import Document
from sourcebook.store.base import IndexEntry

log = logging.getLogger(__name__)

_VERSION_FILE = "sourcebook-schema-version"
_POSITION_FILE = "sourcebook-position"


def dup_key(group: str) -> int:
    """A 63-bit number for a near-duplicate group id (collapsing reads numbers, not strings)."""
    return id_number(group)


def to_index_document(doc: Document, content_hash: str, default_language: str = "") -> Any:
    """The Tantivy document for one stored document."""
    lang = analyzer_language(doc.language, default_language)
    out = tantivy.Document()
    out.add_text("docid", doc.docid)
    out.add_text("chash", content_hash)
    out.add_unsigned("sample", sample_bucket(doc.docid))
    out.add_unsigned("doc_key", id_number(doc.docid))
    if doc.title:
        out.add_text(text_field("title", lang), doc.title)
    if doc.body or doc.title:
        out.add_text(
            text_field("body", lang), f"{doc.title}\n\n{doc.body}" if doc.title else doc.body
        )
    if doc.publisher:
        out.add_text("publisher", doc.publisher)
        out.add_text("publisher_exact", doc.publisher)
    for code in dict.fromkeys(doc.countries):
        out.add_text("country", code)
    if doc.language:
        out.add_text("language", doc.language)
    if doc.document_type:
        out.add_text("type", doc.document_type.lower())
    if doc.collection:
        out.add_text("collection", doc.collection)
    if doc.source_id:
        out.add_text("source_id", doc.source_id)
    for place in doc.places:
        out.add_text("place", place.canonical)
        out.add_text("place_exact", place.canonical)
    for person in doc.people:
        out.add_text("person", person)
        out.add_text("person_exact", person)
    for organisation in doc.organisations:
        out.add_text("organisation", organisation)
        out.add_text("organisation_exact", organisation)
    group = doc.dup_group or doc.docid
    out.add_text("dup_group", group_name(group))  # public name: no docid of the original
    out.add_unsigned("dup_key", dup_key(group))
    out.add_unsigned("dup_leader", 1 if group == doc.docid else 0)
    out.add_text("title_sort", doc.title.casefold()[:120])
    if (
        doc.publication_date is not None
        and INDEX_DATE_MIN <= doc.publication_date <= INDEX_DATE_MAX
    ):
        d = doc.publication_date
        out.add_date("date", datetime(d.year, d.month, d.day, tzinfo=UTC))
        out.add_unsigned("year", d.year)
        out.add_unsigned("has_date", 1)
    else:
        out.add_unsigned("has_date", 0)
    return out


class SearchIndex:
    """The archive's Tantivy index directory."""

    def __init__(
        self,
        path: Path,
        heap_bytes: int = 128_000_000,
        default_language: str = "",
        read_only: bool = False,
    ) -> None:
        self.path = path
        self.heap_bytes = heap_bytes
        self.default_language = default_language
        #: Read only: never creates, rewrites or writes to the index (see :meth:`_open_read_only`).
        self.read_only = read_only
        self._writer: Any = None
        #: Docids upserted or deleted (with replacement) since the last commit, and how often:
        #: the changes of the store's log that this writer applied itself (index_sync.commit_applied).
        self.touched: Counter[str] = Counter()
        #: Changes sent to the writer since its last commit.
        self._pending = False
        self._view_cleanup: weakref.finalize[Any, Any] | None = None
        #: True when an outdated index was discarded on open: the caller must rebuild it.
        self.recreated = False
        self._index = self._open_read_only() if read_only else self._open()
        self.schema = self._index.schema

    def _open_read_only(self) -> Any:
        """Open an existing, current index without writing to it.

        Tantivy takes a lock file even to read (``.tantivy-meta.lock``, opened for writing).
        In a folder the user cannot write, the index is opened through a private folder of
        symbolic links to its files, where Tantivy may put its lock files.
        """
        version_file = self.path / _VERSION_FILE
        if not version_file.exists():
            raise ArchiveOutdated(f"the archive at {self.path.parent} has no search index")
        found = version_file.read_text().strip()
        if found != str(SCHEMA_VERSION):
            raise ArchiveOutdated(
                f"the search index at {self.path} has schema {found} (now {SCHEMA_VERSION})"
            )
        try:
            index = tantivy.Index(build_schema(), path=str(self.path), reuse=True)
        except ValueError as exc:
            if "Lockfile" not in str(exc) and "ermission" not in str(exc):
                raise StorageError(f"cannot open the search index at {self.path}: {exc}") from exc
            index = tantivy.Index(build_schema(), path=str(self._linked_view()), reuse=True)
        register_analyzers(index)
        return index

    def _linked_view(self) -> Path:
        view = Path(tempfile.mkdtemp(prefix="sourcebook-index-"))
        self._view_cleanup = weakref.finalize(self, shutil.rmtree, view, ignore_errors=True)
        for entry in os.scandir(self.path):
            if not (entry.name.startswith(".tantivy-") and entry.name.endswith(".lock")):
                os.symlink(entry.path, view / entry.name)
        log.info("the index at %s is read-only: reading it through %s", self.path, view)
        return view

    def _open(self) -> Any:
        version_file = self.path / _VERSION_FILE
        if self.path.exists() and version_file.exists():
            found = version_file.read_text().strip()
            if found != str(SCHEMA_VERSION):
                log.warning(
                    "index schema %s is outdated (now %s): recreating", found, SCHEMA_VERSION
                )
                shutil.rmtree(self.path)
                self.recreated = True
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            index = tantivy.Index(build_schema(), path=str(self.path), reuse=True)
            version_file.write_text(str(SCHEMA_VERSION))
        except PermissionError as exc:
            raise AccessDenied(f"the archive at {self.path.parent} is read-only") from exc
        except ValueError as exc:
            if "Permission denied" in str(exc):
                raise AccessDenied(f"the archive at {self.path.parent} is read-only") from exc
            raise StorageError(f"cannot open the search index at {self.path}: {exc}") from exc
        register_analyzers(index)
        return index

    # --- writing ------------------------------------------------------------------------
    def _get_writer(self) -> Any:
        if self.read_only:
            raise AccessDenied(f"the search index at {self.path} is open read-only")
        if self._writer is None:
            try:
                self._writer = self._index.writer(heap_size=self.heap_bytes, num_threads=1)
            except ValueError as exc:
                raise Conflict(
                    f"the search index at {self.path} is locked by another writer "
                    "(is another ingest running?)"
                ) from exc
        return self._writer

    def upsert(self, docs: Sequence[tuple[Document, str]], replace: bool = True) -> None:
        """Add documents (with their content hashes), replacing earlier versions by docid."""
        writer = self._get_writer()
        self._pending = True
        for doc, chash in docs:
            if replace:
                writer.delete_documents_by_term("docid", doc.docid)
                self.touched[doc.docid] += 1
            writer.add_document(to_index_document(doc, chash, self.default_language))

    def delete(self, docids: Sequence[str]) -> None:
        writer = self._get_writer()
        self._pending = True
        for docid in docids:
            writer.delete_documents_by_term("docid", docid)
            self.touched[docid] += 1

    def delete_all(self) -> None:
        self._get_writer().delete_all_documents()
        self._pending = True

    def commit(self, position: int | None = None) -> None:
        """Publish pending changes; ``position``: the store's change-log position they reach."""
        self.touched.clear()
        # a commit with nothing sent costs as much as one with changes (~0.1 s): a follower
        # releasing the writer after applying its changes would pay it twice
        if self._writer is not None and self._pending:
            try:
                self._writer.commit()
            except ValueError as exc:
                raise StorageError(f"committing the search index failed: {exc}") from exc
            self._pending = False
            self._index.reload()
        if position is not None:
            self._write_position(position)

    @property
    def position(self) -> int | None:
        """The last store change this index holds; None when unknown (a new or older index)."""
        try:
            return int((self.path / _POSITION_FILE).read_text().strip())
        except (OSError, ValueError):
            return None

    def forget_position(self) -> None:
        """Drop the recorded position (before a change that removes what it vouches for)."""
        (self.path / _POSITION_FILE).unlink(missing_ok=True)

    def _write_position(self, position: int) -> None:
        target = self.path / _POSITION_FILE
        tmp = target.with_name(f".{_POSITION_FILE}.{os.getpid()}.tmp")
        tmp.write_text(str(position))
        os.replace(tmp, target)

    def release_writer(self) -> None:
        """Commit pending changes and release the writer lock (another process may write)."""
        if self._writer is not None:
            self.commit()
            self._writer.wait_merging_threads()
            self._writer = None

    def close(self) -> None:
        self.release_writer()
        if self._view_cleanup is not None:
            self._view_cleanup()  # the links only: the index's files stay where they are

    # --- reading ------------------------------------------------------------------------
    def searcher(self) -> Any:
        return self._index.searcher()

    def reload(self) -> None:
        self._index.reload()

    @property
    def tantivy_index(self) -> Any:
        return self._index

    def num_docs(self) -> int:
        return int(self.searcher().num_docs)

    def iter_entries(self) -> Iterator[IndexEntry]:
        """(docid, content hash) of every indexed document, for the consistency check."""
        searcher = self.searcher()
        total = searcher.num_docs
        if total == 0:
            return
        result = searcher.search(tantivy.Query.all_query(), limit=total, count=False)
        for _score, address in result.hits:
            stored = searcher.doc(address)
            yield IndexEntry(
                docid=stored.get_first("docid"), content_hash=stored.get_first("chash")
            )
