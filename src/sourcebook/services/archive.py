"""The use cases: ingest, search, show, cite, export, import, reindex, check, stats, enrich.

This is the only module that joins parsers, enrichers, the store and the index. The CLI and the
web layer call an :class:`Archive`; they never touch SQL or Tantivy.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sourcebook import deletion, follower, index_sync
from sourcebook.access import CollectionPolicy
from sourcebook.accounts.audit import AuditLog
from sourcebook.config import Settings
from sourcebook.countries import resolve_country
from sourcebook.deletion import DeleteReport
from sourcebook.enrich.base import Enricher
from sourcebook.enrich.language import detect_language
from sourcebook.errors import (
    ArchiveOutdated,
    InputTooLarge,
    SourcebookError,
)
from sourcebook.index.tantivy_index import SearchIndex
from sourcebook.ingest.archives import archive_kind, archive_limits, feed_members
from sourcebook.ingest.inputs import plan_inputs
from sourcebook.ingest.manifest import describe_documents
from sourcebook.ingest.ocr import OcrSettings
from sourcebook.ingest.parents import ParentLink, parent_link
from sourcebook.ingest.registry import ParserRegistry
from sourcebook.ingest.report import (
    CheckReport,
    FileOutcome,
    IngestOptions,
    IngestReport,
    ProgressCallback,
    iter_input_files,
)
from sourcebook.ingest.sandbox import ParseSandbox, parse_file, regular_file_size
from sourcebook.ingest_run import IngestRun, StopCheck, Stopped
from sourcebook.location import prepare_archive_folder
from sourcebook.model import (
    BadRecord,
    Document,
    EmptyRecord,
    FacetValue,
    Hit,
    PlaceMention,
    SearchResult,
)
from sourcebook.passages import split_passages
from sourcebook.records import clean_strings, document_to_json
from sourcebook.search.engine import SearchEngine
from sourcebook.search.request import SearchRequest
from sourcebook.services.reading import ArchiveView
from sourcebook.store import open_store
from sourcebook.store.base import (
    HarvestedRecord,
    HarvestFilter,
    HarvestPosition,
    SetCounts,
    Store,
)
from sourcebook.store.codec import content_hash
from sourcebook.store.sqlite import SQLiteStore
from sourcebook.viewer import Viewer
from sourcebook.writer import WriterLock

if TYPE_CHECKING:  # numpy and datasketch load only when an ingest first needs them
    from sourcebook.enrich.dedup import DedupIndex
    from sourcebook.enrich.embedding_job import EmbeddingReport, EmbeddingStatus
    from sourcebook.enrich.embeddings import Embedder
    from sourcebook.enrich.regroup import RegroupReport

log = logging.getLogger(__name__)

__all__ = [
    "Archive",
    "CheckReport",
    "FileOutcome",
    "IngestOptions",
    "IngestReport",
    "ProgressCallback",
    "document_to_json",
    "iter_input_files",
]

#: People and organisations kept per document (most mentioned first).
MAX_NAMES = 50


class Archive:
    """One archive: a store (truth), its search index and its vector index (both derived).

    ``embedder``: the embedding model of semantic search (default: ``settings.semantic_model``,
    loaded once per process on first use).
    """

    def __init__(
        self,
        settings: Settings,
        registry: ParserRegistry | None = None,
        embedder: Embedder | None = None,
        read_only: bool = False,
    ) -> None:
        self.settings = settings
        #: Opened for reading only: nothing is created, migrated or written (``mode=ro``).
        self.read_only = read_only
        external = bool(settings.database_url)  # PostgreSQL: the folder holds the index only
        prepare_archive_folder(settings.home, settings.db_path, read_only and not external)
        store = open_store(settings, read_only=read_only)
        self.store: Store = store
        pending = store.pending_migrations() if isinstance(store, SQLiteStore) else []
        if read_only and pending:
            store.close()
            raise ArchiveOutdated(f"the archive at {settings.home} needs migrations {pending}")
        if not read_only or external:  # PostgreSQL migrates nothing that is up to date
            self.store.migrate()
        try:
            self.index = SearchIndex(
                settings.index_path,
                settings.index_heap_bytes,
                settings.default_language,
                read_only=read_only and not external,
            )
        except SourcebookError:
            store.close()
            raise
        self.writer = WriterLock(settings.home, settings.writer_wait_seconds)
        #: Searches note a lagging index once its oldest missing change is this old (a follower
        #: running in this process sets it: it applies changes itself, see follower.py).
        self.lag_notice_seconds = 0.0
        # Only a writer brings the derived index up to date (it replays what the index missed,
        # or rebuilds it); a read-only archive is read as is, its searches say how far behind.
        if not read_only:
            self._catch_up_on_open()
        self._registry = registry
        self._enricher: Enricher | None = None
        self._dedup: DedupIndex | None = None
        self._sandbox: ParseSandbox | None = None
        self.engine = SearchEngine(settings, self.store, self.index, embedder)

    @property
    def registry(self) -> ParserRegistry:
        if self._registry is None:
            self._registry = ParserRegistry.from_entry_points()
        return self._registry

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
        self.engine.close()
        self.index.close()
        self.store.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- ingest -------------------------------------------------------------------------
    def ingest(
        self,
        paths: Iterable[Path],
        options: IngestOptions | None = None,
        progress: ProgressCallback | None = None,
        stop: StopCheck | None = None,
    ) -> IngestReport:
        """Ingest files and folders; never aborts on a bad file; idempotent. Holds the writer
        lock throughout; when ``stop()`` turns true the run keeps what it stored and closes as
        interrupted (``report.status``)."""
        options = options or IngestOptions()
        path_list = list(paths)
        with self.writing("ingest"):
            run = IngestRun(self, [str(p) for p in path_list], options, stop)
            try:
                self._ingest_files(run, path_list, options, progress)
            except Stopped:
                return run.finish("interrupted")
            except BaseException:
                run.close("interrupted")
                raise
            return run.finish()

    def _ingest_files(
        self,
        run: IngestRun,
        path_list: list[Path],
        options: IngestOptions,
        progress: ProgressCallback | None,
    ) -> None:
        plan = plan_inputs(path_list, options)  # housekeeping skipped, manifests read
        run.report.skipped_files, run.report.warnings = plan.skipped, plan.warnings
        for warning in plan.warnings:
            log.warning("%s", warning)
        for item in plan.files:
            run.check_stop()
            path = item.path
            outcome = run.outcome(str(path))
            size = 0
            try:
                size = regular_file_size(path)  # refuses pipes and devices before opening them
                parsed = self._parse_file(path, options, outcome)
                if archive_kind(path.name):  # each member its own outcome (ingest/archives.py)
                    feed_members(
                        parsed,
                        outcome,
                        run.report.files,
                        lambda items, member: run.add(
                            describe_documents(items, None), options, member
                        ),
                        lambda member, error: self._fail(run.run_id, member, member.path, error),
                        functools.partial(self._parse_file, path, options, outcome),
                    )
                else:
                    run.add(describe_documents(parsed, item.row), options, outcome)
            except SourcebookError as exc:
                self._fail(run.run_id, outcome, str(path), str(exc))
            except Exception as exc:  # a parser bug must not abort the batch
                log.exception("unexpected error ingesting %s", path)
                message = f"internal error ({type(exc).__name__}): {exc}"
                self._fail(run.run_id, outcome, str(path), message)
            if progress is not None:
                progress(size, run.report.documents)

    def add_documents(
        self, docs: Iterable[Document], options: IngestOptions | None = None, origin: str = "(api)"
    ) -> IngestReport:
        """Ingest documents already in memory, through the same checks as files."""
        options = options or IngestOptions()
        with self.writing("ingest"):
            run = IngestRun(self, [origin], options)
            run.add(docs, options, run.outcome(origin))
            return run.finish()

    def _parse_file(
        self, path: Path, options: IngestOptions, outcome: FileOutcome, after: int = 0
    ) -> Iterator[Document | BadRecord | EmptyRecord]:
        """The records of one file, parsed in the sandbox (see ingest/sandbox.py); of an
        archive, the members after the first ``after``."""
        bounds = replace(archive_limits(self.settings, options), skip_members=after)
        ocr = OcrSettings.from_settings(self.settings)
        if self.settings.parse_sandbox:
            if self._sandbox is None:
                self._sandbox = ParseSandbox(
                    self._registry, self.settings.parse_memory_mb, self.settings.parse_seconds, ocr
                )
            name, items = self._sandbox.parse(
                path, options.parser, self.settings.max_file_bytes, bounds
            )
        else:
            parser, items = parse_file(
                self.registry,
                path,
                options.parser,
                self.settings.max_file_bytes,
                ocr,
                bounds,
            )
            name = parser.name
        outcome.parser = name
        yield from items

    def _fail(self, run_id: int, outcome: FileOutcome, where: str, message: str) -> None:
        outcome.failed += 1
        outcome.errors.append(f"{where}: {message}" if where != outcome.path else message)
        self.store.record_error(run_id, where, message)

    def _prepare(self, doc: Document, options: IngestOptions) -> Document:
        """Validate and complete a parsed document: normalised codes, language, passages."""
        if not doc.source_key:
            raise SourcebookError("the parser gave no source identity (source_key)")
        if len(doc.body) > self.settings.max_record_chars:
            raise InputTooLarge(
                f"the body has {len(doc.body):,} characters; the limit is "
                f"{self.settings.max_record_chars:,} (SOURCEBOOK_MAX_RECORD_CHARS)"
            )
        if not (doc.title or doc.body):
            raise SourcebookError("the record has neither a title nor a body")
        clean_strings(doc)
        if options.collection:
            doc.collection = options.collection
        codes, unknown = [], []
        for value in doc.countries:
            code = resolve_country(value)
            if code is None:
                unknown.append(value)
            elif code not in codes:
                codes.append(code)
        if unknown:  # one warning per record, however long its list
            log.warning(
                "%s: %d unknown countries dropped: %r", doc.origin, len(unknown), unknown[:5]
            )
        doc.countries = codes
        doc.passages = split_passages(doc.body, self.settings.passage_target_chars)
        if options.enrich:
            self._enrich(doc, options)
        elif not doc.language and options.detect_language:
            lang = detect_language(doc.body or doc.title)
            if lang:
                doc.language = lang
                if "language" not in doc.derived:
                    doc.derived.append("language")
        return doc

    @property
    def enricher(self) -> Enricher:
        if self._enricher is None:
            self._enricher = Enricher()
        return self._enricher

    @property
    def dedup(self) -> DedupIndex:
        """The archive's near-duplicate index, rebuilt from stored signatures on first use."""
        if self._dedup is None:
            from sourcebook.enrich.dedup import DedupIndex

            self._dedup = DedupIndex.from_signatures(
                (docid, sig, group) for docid, group, sig in self.store.iter_minhashes()
            )
        return self._dedup

    def _enrich(self, doc: Document, options: IngestOptions) -> None:
        """Language per document and passage, countries and places; never over source fields."""
        result = self.enricher.enrich(doc)
        if not options.detect_language:
            result.language = ""  # the enricher detected one; keep the source's (or none)
        result.apply(doc)
        for passage, lang in zip(doc.passages, result.passage_languages, strict=False):
            passage.language = lang
        doc.places = [  # field by field: dataclasses.asdict deep-copies, 10 times slower
            PlaceMention(p.name, p.canonical, p.country, p.lat, p.lon, p.count, p.kind)
            for p in result.places
        ]

    # --- reading ------------------------------------------------------------------------
    def search(self, request: SearchRequest) -> SearchResult:
        result = self.engine.search(request)
        if notice := index_sync.index_notice(self.store, self.index, self.lag_notice_seconds):
            result.notices.append(notice)
        return result

    def count(self) -> int:
        """How many documents the archive holds."""
        return self.store.count()

    def get(self, docid: str) -> Document:
        return self.store.get(docid.strip())

    def parent(self, doc: Document) -> ParentLink | None:
        """The message an attachment came from, or the archive a member was read from."""
        return parent_link(doc.source_key, self.store)

    def similar(self, docid: str, limit: int = 5) -> list[Hit]:
        """Documents most like this one (more-like-this over its terms)."""
        return self.engine.similar(self.get(docid), limit)

    def browse(self, facet: str, limit: int = 300) -> list[FacetValue]:
        """Every value of a facet (country, publisher, type, language, year, collection) with
        its document count, over the whole archive (the operator's view)."""
        return self.view(Viewer.system()).browse(facet, limit)

    def cite(self, docid: str, style: str, accessed: date | None = None, base_url: str = "") -> str:
        return self.view(Viewer.system()).cite(docid, style, accessed, base_url)

    def stats(self) -> dict[str, Any]:
        stats = dict(self.store.stats())
        stats["indexed_documents"] = self.index.num_docs()
        lag = follower.measure_lag(self.store, self.index)
        stats["store_position"], stats["index_position"] = lag.store_position, lag.index_position
        stats["index_lag_changes"], stats["index_lag_seconds"] = lag.changes, lag.seconds
        stats["embedded_documents"] = self.embedding_status().embedded
        stats["archive"] = str(self.settings.home)
        return stats

    def warm_up(self) -> None:
        """Start loading what hybrid search needs (vectors, model) on a background thread, so
        the first query does not wait for it; nothing happens when there are no vectors."""
        self.engine.vectors.warm_in_background()

    # --- background enrichment ----------------------------------------------------------
    def pending_entities(self) -> int:
        """Documents still waiting for people and organisations."""
        return self.store.count_pending_entities()

    def regroup_duplicates(self, progress: ProgressCallback | None = None) -> RegroupReport:
        """Recompute every near-duplicate group with the current rule (enrich/regroup.py)."""
        from sourcebook.enrich.regroup import regroup

        with self.writing("enrich"):
            report, self._dedup = regroup(self.store, self.index, progress)
            index_sync.commit_applied(self.store, self.index)
        return report

    def enrich_entities(
        self, batch_size: int = 64, limit: int = 0, progress: ProgressCallback | None = None
    ) -> int:
        """Extract people and organisations (spaCy) for documents not done yet; resumable.

        Each batch is stored and re-indexed before the next, so an interrupted run loses at
        most one batch and search works throughout. Returns the number of documents done.
        """
        from sourcebook.enrich.entities import EntityExtractor

        extractor = EntityExtractor(self.settings.entity_model)
        extractor.load()  # raises EntitiesUnavailable with the install hint when missing
        with self.writing("enrich"):
            done = 0
            while not limit or done < limit:
                wanted = batch_size if not limit else min(batch_size, limit - done)
                docs = self.store.pending_entities(wanted)
                if not docs:
                    break
                found = extractor.extract_batch([f"{d.title}\n\n{d.body}" for d in docs])
                rows = []
                for doc, entities in zip(docs, found, strict=True):
                    doc.people = entities.top_people(MAX_NAMES)
                    doc.organisations = entities.top_organisations(MAX_NAMES)
                    rows.append((doc.docid, doc.people, doc.organisations))
                self.store.set_entities(rows)
                self.index.upsert([(d, content_hash(d)) for d in docs])
                index_sync.commit_applied(self.store, self.index)
                done += len(docs)
                if progress is not None:
                    progress(len(docs), done)
        return done

    def embedding_status(self) -> EmbeddingStatus:
        """Documents in the archive, and those whose vectors are current (loads no model)."""
        from sourcebook.enrich.embedding_job import EmbeddingStatus, embedding_status

        folder = self.settings.vectors_path
        if not (folder / "manifest.json").is_file():  # never embedded: skip reading the store
            return EmbeddingStatus(self.store.count(), 0)
        entries = ((e.docid, e.content_hash) for e in self.store.iter_index_entries())
        return embedding_status(entries, folder, self.settings.semantic_unit)

    def enrich_embeddings(
        self, chunk: int = 0, limit: int = 0, progress: ProgressCallback | None = None
    ) -> EmbeddingReport:
        """Embed documents for semantic search into the vector index; resumable.

        New and changed documents are embedded (``chunk`` units are saved at a time, so an
        interrupted run loses at most one chunk and search uses the rest at once), and the
        vectors of deleted documents removed. ``limit`` > 0 stops after that many documents.
        Raises ConfigError saying what to install when the semantic extra is missing.
        """
        from sourcebook.enrich.embedding_job import DEFAULT_CHUNK, run_embedding_job
        from sourcebook.errors import ConfigError

        vectors = self.engine.vectors
        reason = vectors.extra_missing()
        if reason:
            raise ConfigError(f"cannot embed documents: {reason}")
        stored = [(e.docid, e.content_hash) for e in self.store.iter_index_entries()]
        return run_embedding_job(
            stored,
            self.store.get_many,
            vectors.embedder,
            self.settings.vectors_path,
            self.settings.semantic_unit,
            chunk=chunk or DEFAULT_CHUNK,
            limit=limit,
            progress=progress,
        )

    # --- export and import --------------------------------------------------------------
    def export_jsonl(self, out: IO[str], public: bool = True) -> int:
        """Write every document as one JSON object per line; returns the count. ``public``:
        without the server's folders (see ``records.document_to_json``)."""
        return self.view(Viewer.system()).export_jsonl(out, public)

    def import_jsonl(
        self,
        paths: Iterable[Path],
        progress: ProgressCallback | None = None,
        stop: StopCheck | None = None,
    ) -> IngestReport:
        """Ingest a Sourcebook JSONL export, keeping its docids."""
        options = IngestOptions(parser="jsonl", detect_language=False)
        return self.ingest(paths, options, progress, stop)

    # --- index maintenance --------------------------------------------------------------
    def reindex(self, progress: ProgressCallback | None = None) -> int:
        """Rebuild the whole index from the store."""
        with self.writing("reindex"):
            return index_sync.rebuild(self.store, self.index, progress)

    def check(self, repair: bool = False) -> CheckReport:
        """Compare store and index; with ``repair``, re-index or remove what differs."""
        report = index_sync.compare(self.store, self.index)
        if repair and not report.ok:
            with self.writing("check --repair"):
                report = index_sync.compare(self.store, self.index)  # now under the lock
                index_sync.repair(self.store, self.index, report)
                index_sync.commit_applied(self.store, self.index)
            report.repaired = True
        return report

    @functools.cached_property
    def audit(self) -> AuditLog:
        """The audit log in the store: ``archive.audit.record_read(viewer, docid)`` records a
        read of a restricted record (docs/security.md)."""
        return AuditLog(self.store)

    # --- writing: the lock, deletion ----------------------------------------------------
    @contextlib.contextmanager
    def writing(self, what: str, wait_seconds: float | None = None) -> Iterator[None]:
        """Hold the archive's writer lock (waits ``writer_wait_seconds``, then Conflict); the
        first holder closes runs left unfinished and replays what the index missed."""
        with self.writer.hold(what, wait_seconds):
            outer = self.writer.depth == 1
            if outer:
                index_sync.begin_write(self.store, self.index)
            try:
                yield
            finally:
                if outer:
                    self.index.release_writer()

    def _catch_up_on_open(self) -> bool:
        """Replay on open what the index missed (follower.catch_up); False when it could not."""
        return follower.catch_up(self)

    def index_behind(self) -> int:
        """Store changes the index does not hold yet (0 once a writer has replayed them)."""
        return index_sync.index_lag(self.store, self.index) or 0

    def delete(self, docids: Iterable[str]) -> DeleteReport:
        """Remove documents (passages, revisions) from store and index; docids stay issued and
        a tombstone is kept for OAI-PMH. Vectors go on the next ``enrich --embeddings``."""
        with self.writing("delete"):
            return deletion.delete_documents(self.store, self.index, docids)

    def matching_docids(self, request: SearchRequest) -> list[str]:
        """Every docid a query and its filters match (as written: never relaxed)."""
        return deletion.matching_docids(self.engine, self.index, request)

    # --- harvesting (OAI-PMH, feeds) ----------------------------------------------------
    def harvest(
        self, selection: HarvestFilter, after: HarvestPosition | None = None, limit: int = 100
    ) -> list[HarvestedRecord]:
        """A page of documents in the order of their last change in the store (oldest first),
        resuming after ``after``; a record that changes moves to the end, so it is seen again."""
        return self.store.list_updated(selection, after, limit)

    def harvest_count(self, selection: HarvestFilter) -> int:
        """How many documents a harvest selection holds."""
        return self.store.count_updated(selection)

    def harvest_sets(self) -> SetCounts:
        """Documents per collection and per country, for harvesters choosing a set."""
        return self.store.set_counts()

    # --- who may read what (sourcebook.access) -------------------------------------------
    def view(self, viewer: Viewer) -> ArchiveView:
        """The archive as ``viewer`` may read it: every read of a page, the API, a feed or
        OAI-PMH goes through one (``services/reading.py``)."""
        return ArchiveView(self, viewer)

    def collections(self) -> list[CollectionPolicy]:
        """Every collection with its visibility: the policies recorded, and the collections
        documents are filed under without one (public)."""
        policies = {p.name: p for p in self.store.list_collections()}
        for name in self.store.set_counts().collections:
            policies.setdefault(name, CollectionPolicy(name=name))
        return [policies[name] for name in sorted(policies)]

    def set_collection(self, policy: CollectionPolicy) -> None:
        """Record who may read a collection; takes effect on the next read, everywhere."""
        self.store.set_collection(policy)

    def harvest_records(self, docids: Iterable[str]) -> dict[str, HarvestedRecord]:
        """These documents with their last-change times in the store; unknown ones left out."""
        return self.store.get_harvested([d.strip() for d in docids])
