"""Sources harvested on a schedule: register, list, run one, run the due ones.

``harvest_source(archive, name)`` is the unit of work (a queue job in organisation mode, a call
from ``sourcebook sources run`` or ``serve --harvest`` in the embedded default). Fetching runs
outside the writer lock; each batch of documents, its originals and the source's state are
written under it, like any other write. A run never raises for a source that cannot be
fetched: its report (and the source's ``last_error``) says why.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from sourcebook.errors import ConfigError, NotFound, ParseError, SourcebookError
from sourcebook.fetch.client import Fetched, Fetcher, FetchLimits, check_url
from sourcebook.ingest.report import FileOutcome, IngestOptions
from sourcebook.model import Document
from sourcebook.sources.diff import RevisionDiff, revision_diff
from sourcebook.sources.feed import harvest_feed
from sourcebook.sources.items import Item
from sourcebook.sources.model import SOURCE_KINDS, Original, Source
from sourcebook.sources.oai_harvest import OaiResult, harvest_oai
from sourcebook.sources.pages import harvest_pages
from sourcebook.sources.sitemap import harvest_sitemap
from sourcebook.store.codec import now_utc

if TYPE_CHECKING:
    from sourcebook.services.archive import Archive
    from sourcebook.services.reading import ArchiveView

log = logging.getLogger(__name__)

NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_EVERY = re.compile(r"(\d+)\s*([smhdw]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
#: The shortest schedule: a source is not fetched more often than this.
MIN_EVERY_SECONDS = 60
HarvestStatus = Literal["ok", "not modified", "failed"]


def parse_every(text: str) -> int:
    """Seconds of a schedule written ``90s``, ``30m``, ``6h``, ``1d`` or ``2w``."""
    match = _EVERY.fullmatch(text.strip().lower())
    if not match:
        raise ConfigError(f"{text!r} is not an interval (like 30m, 6h, 1d)")
    seconds = int(match[1]) * _UNITS[match[2]]
    if seconds < MIN_EVERY_SECONDS:
        raise ConfigError(f"{text!r} is too often: the shortest interval is 1 minute")
    return seconds


def default_name(url: str) -> str:
    """A source name from a URL's host: ``www.refworld.org`` -> ``refworld.org``."""
    host = (urlsplit(url).hostname or "source").lower().removeprefix("www.")
    return re.sub(r"[^a-z0-9._-]+", "-", host).strip("-._")[:64] or "source"


def format_every(seconds: int) -> str:
    for unit in ("w", "d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


@dataclass
class HarvestReport:
    """What one run of a source did."""

    source: str
    kind: str
    status: HarvestStatus = "ok"
    requests: int = 0
    items: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    originals: int = 0
    #: OAI-PMH records the repository reports deleted (kept here; see oai_harvest.py).
    deleted_upstream: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        if self.status == "failed":
            return f"{self.source}: failed: {self.errors[0] if self.errors else 'unknown error'}"
        if self.status == "not modified":
            return f"{self.source}: not modified ({self.requests} requests)"
        text = (
            f"{self.source}: {self.items} fetched, {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.failed} failed, {self.originals} originals kept "
            f"({self.requests} requests, {self.seconds:.1f} s)"
        )
        return text + (
            f", {self.deleted_upstream} deleted upstream" if self.deleted_upstream else ""
        )


# --- the registry ---------------------------------------------------------------------------
def add_source(archive: Archive, source: Source) -> Source:
    """Register a source (checks its name, kind and URL); Conflict when the name is taken."""
    if not NAME.fullmatch(source.name):
        raise ConfigError(
            f"{source.name!r} is not a source name: lower-case letters, digits, '.', '_' and "
            "'-', at most 64, starting with a letter or digit"
        )
    if source.kind not in SOURCE_KINDS:
        raise ConfigError(f"{source.kind!r} is not a kind of source ({', '.join(SOURCE_KINDS)})")
    check_url(source.url)
    if source.follow:
        check_url(source.follow)
    if source.every_seconds < MIN_EVERY_SECONDS:
        raise ConfigError("the shortest interval is 1 minute")
    if source.max_pages < 1:
        raise ConfigError("max_pages must be at least 1")
    with archive.writing(f"sources add {source.name}"):
        return archive.store.add_source(source)


def list_sources(archive: Archive) -> list[Source]:
    return archive.store.list_sources()


def remove_source(archive: Archive, name: str) -> None:
    """Forget a source; the documents and originals it harvested stay."""
    with archive.writing(f"sources remove {name}"):
        archive.store.remove_source(name)


def due_sources(archive: Archive, now: datetime | None = None) -> list[Source]:
    """The sources whose interval has passed since their last run (never run ones first)."""
    now = now or now_utc()
    due = [s for s in archive.store.list_sources() if s.due(now)]
    return sorted(due, key=lambda s: (s.last_run_at is not None, s.last_run_at or now, s.name))


# --- running --------------------------------------------------------------------------------
def harvest_source(archive: Archive, name: str, fetcher: Fetcher | None = None) -> HarvestReport:
    """Run one source now: fetch, write new and changed documents with their originals, and
    save the source's state. Raises NotFound for an unknown name, nothing for a failed fetch."""
    source = archive.store.get_source(name)
    report = HarvestReport(source.name, source.kind)
    started = time.perf_counter()
    own = fetcher is None
    active = fetcher or Fetcher(FetchLimits.from_settings(archive.settings))
    requests_before = active.requests
    try:
        _run(archive, source, active, report)
    except SourcebookError as exc:
        report.status = "failed"
        report.errors.insert(0, str(exc))
    except Exception as exc:  # a parser bug must not stop the other sources
        log.exception("harvesting source %s failed", source.name)
        report.status = "failed"
        report.errors.insert(0, f"internal error ({type(exc).__name__}): {exc}")
    finally:
        report.requests = active.requests - requests_before
        if own:
            active.close()
    report.seconds = time.perf_counter() - started
    _save_state(archive, source, report)
    for error in report.errors:
        log.warning("source %s: %s", source.name, error)
    return report


def harvest_due(
    archive: Archive,
    now: datetime | None = None,
    stop: Callable[[], bool] | None = None,
    done: Callable[[HarvestReport], None] | None = None,
) -> list[HarvestReport]:
    """Run every due source, one at a time, until ``stop()`` turns true."""
    reports = []
    with Fetcher(FetchLimits.from_settings(archive.settings)) as fetcher:
        for source in due_sources(archive, now):
            if stop is not None and stop():
                break
            report = harvest_source(archive, source.name, fetcher)
            reports.append(report)
            if done is not None:
                done(report)
    return reports


def _run(archive: Archive, source: Source, fetcher: Fetcher, report: HarvestReport) -> None:
    def write(items: list[Item]) -> None:
        _write(archive, source, items, report)

    if source.kind == "feed":
        feed = harvest_feed(source, fetcher)
        report.errors += feed.errors
        report.failed += len(feed.errors)
        if feed.not_modified:
            report.status = "not modified"
        write(feed.items)
        source.etag, source.last_modified = feed.etag, feed.last_modified
    elif source.kind == "oai":
        result = OaiResult()
        try:
            harvest_oai(source, fetcher, write, result)
        finally:  # a list cut short resumes from its token next time
            source.oai_token = result.token
            report.deleted_upstream = result.deleted
            report.errors += result.errors
            report.failed += len(result.errors)
        if result.complete:
            source.oai_from = result.next_from
    elif source.kind == "page":
        pages = harvest_pages(source, fetcher, _file_reader(archive))
        report.errors += pages.errors
        report.failed += len(pages.errors)
        write(pages.items)
    else:

        def held(urls: list[str]) -> set[str]:
            found = archive.store.lookup_sources([f"url:{u}" for u in urls])
            return {key.removeprefix("url:") for key in found}

        sitemap = harvest_sitemap(source, fetcher, _file_reader(archive), held)
        if sitemap.not_modified:
            report.status = "not modified"
        report.errors += sitemap.pages.errors
        report.failed += len(sitemap.pages.errors)
        write(sitemap.pages.items)
        source.etag, source.last_modified = sitemap.etag, sitemap.last_modified


def _file_reader(archive: Archive) -> Callable[[Fetched], Document]:
    """Reads a fetched PDF, DOCX, ODT... as an ingested file is read: by the parsers, in the
    ingest sandbox (memory and time limits), from a temporary file removed afterwards."""

    def read(fetched: Fetched) -> Document:
        name = PurePosixPath(urlsplit(fetched.final_url).path).name
        suffix = PurePosixPath(name).suffix.lower()[:10] or (
            mimetypes.guess_extension(fetched.media_type) or ""
        )
        with tempfile.TemporaryDirectory(prefix="sourcebook-fetch-") as folder:
            path = Path(folder) / f"original{suffix}"
            path.write_bytes(fetched.body)
            outcome = FileOutcome(path=fetched.url)
            items = list(archive._parse_file(path, IngestOptions(), outcome))
        docs = [i for i in items if isinstance(i, Document)]
        if not docs:
            problems = [i.message for i in items if not isinstance(i, Document)]
            raise ParseError(problems[0] if problems else "no document could be read from it")
        return docs[0]

    return read


def _write(archive: Archive, source: Source, items: list[Item], report: HarvestReport) -> None:
    """Documents first (through the ingest checks), then the originals of what they became."""
    if not items:
        return
    report.items += len(items)
    for item in items:
        item.document.accessed_date = item.original.fetched_at.date()
    options = IngestOptions(collection=source.collection)
    with archive.writing(f"harvest {source.name}"):
        ingest = archive.add_documents(
            [i.document for i in items], options, origin=f"source {source.name}"
        )
        report.added += ingest.total("added")
        report.updated += ingest.total("updated")
        report.unchanged += ingest.total("unchanged")
        report.failed += ingest.total("failed")
        for outcome in ingest.files:
            report.errors += outcome.errors
        store = archive.store
        versions = store.lookup_sources([i.document.source_key for i in items])
        per_page = source.kind in ("page", "sitemap")  # the page is the item's own original
        latest = store.latest_originals([v.docid for v in versions.values()])
        keep: list[tuple[Original, bytes]] = []
        for item in items:
            version = versions.get(item.document.source_key)
            if version is None:  # refused by the ingest checks (its error is reported)
                continue
            fetched = item.original
            digest = hashlib.sha256(fetched.body).hexdigest()
            last = latest.get(version.docid)
            if (
                last is not None
                and last.revision == version.revision
                and (last.sha256 == digest or not per_page)
            ):
                continue
            original = Original(
                docid=version.docid,
                revision=version.revision,
                source=source.name,
                url=fetched.url,
                final_url=fetched.final_url,
                fetched_at=fetched.fetched_at,
                status=fetched.status,
                content_type=fetched.content_type,
                sha256=digest,
                size=len(fetched.body),
                headers=fetched.headers,
            )
            latest[version.docid] = original  # an item met twice in one batch is kept once
            keep.append((original, fetched.body))
        if keep:
            store.add_originals(keep)
        report.originals += len(keep)


def _save_state(archive: Archive, source: Source, report: HarvestReport) -> None:
    stamp = now_utc()
    source.last_run_at = stamp
    source.runs += 1
    source.fetched += report.requests
    source.added += report.added
    source.updated += report.updated
    source.unchanged += report.unchanged
    source.failed += report.failed
    if report.status == "failed":
        source.last_error = report.errors[0] if report.errors else "failed"
    else:
        source.last_success_at = stamp
        source.last_error = (
            f"{len(report.errors)} item(s) failed; the first: {report.errors[0]}"
            if report.errors
            else ""
        )
    try:
        with archive.writing(f"harvest {source.name}"):
            archive.store.save_source_state(source)
    except SourcebookError as exc:  # removed meanwhile, or the store failed: say so
        report.errors.append(f"the source's state was not saved: {exc}")


# --- reading: originals and revision diffs (the record page) --------------------------------
def originals_of(view: ArchiveView, docid: str) -> list[Original]:
    """The originals kept for a document the reader may see, newest first."""
    doc = view.get(docid)  # the record's own read path, with the viewer's access check
    return view.archive.store.list_originals(doc.docid)


def original_file(view: ArchiveView, docid: str, original_id: int) -> tuple[Original, bytes]:
    """One kept original with its bytes; NotFound for another document's original."""
    doc = view.get(docid)
    return view.archive.store.get_original(doc.docid, original_id)


def compare_revisions(view: ArchiveView, docid: str, old: int, new: int) -> RevisionDiff:
    """What changed from revision ``old`` to revision ``new`` of a document."""
    doc = view.get(docid)
    numbers = {r.number for r in doc.revisions}
    for number in (old, new):
        if number not in numbers:
            raise NotFound(f"{doc.docid} has no revision {number}")
    before = view.archive.store.get_revision_snapshot(doc.docid, old)
    after = view.archive.store.get_revision_snapshot(doc.docid, new)
    return revision_diff(doc.docid, old, before, new, after)
