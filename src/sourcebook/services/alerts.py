"""Saved searches and their e-mail digests (docs/alerts.md).

A digest lists the documents **new to the archive** since the last one that match the saved
search, as its owner may read them: the change-log positions at which documents were added
(``Store.added_since``), not publication dates, so a back-dated report archived today is in
today's digest. The position moves on only after the server accepted the message: a failed send
is retried next time with the same documents, and a sent digest is never sent again.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from sourcebook.cite import format_citation
from sourcebook.errors import AccessDenied, ConfigError, InvalidInput, MailError, NotFound
from sourcebook.mail import SmtpServer
from sourcebook.model import Document, Hit
from sourcebook.saved import SavedSearch
from sourcebook.search.request import FILTER_PARAMETERS, SearchRequest
from sourcebook.viewer import Viewer

if TYPE_CHECKING:
    from sourcebook.services.archive import Archive

log = logging.getLogger(__name__)

#: New documents examined per search (the saved search runs over them chunk by chunk).
CHUNK = 5000
#: Filters a saved search may keep: the search request's list fields.
FILTER_FIELDS = ("countries", "publishers", "types", "languages", "collections", "places")
#: The search page's URL parameter of each filter (``places`` has none: the page cannot filter
#: by place, so a search URL leaves it out).
ViewerFor = Callable[[str], Viewer | None]


def owner_viewer(archive: Archive) -> ViewerFor:
    """Whom a digest reads as: the operator for the command line's own searches, else its
    owner's account as it stands now (role and groups); None for an owner who is unknown or
    disabled, whose digests are not sent."""

    def viewer(owner: str) -> Viewer | None:
        if not owner:
            return Viewer.system()
        user = archive.store.get_user(owner)
        if user is None or user.disabled:
            return None
        return Viewer(user=user.name, role=user.role, groups=user.groups)

    return viewer


@dataclass
class Digest:
    """What one saved search's digest holds."""

    search: SavedSearch
    #: The new matching documents listed (at most ``digest_max_documents``).
    documents: list[Hit] = field(default_factory=list)
    #: All new matching documents, listed or not.
    total: int = 0
    #: The change-log position the digest covers up to.
    position: int = 0


@dataclass
class AlertsReport:
    sent: list[Digest] = field(default_factory=list)
    #: Due searches with nothing new (their position moved on, no e-mail).
    empty: int = 0
    #: (search name, reason) of digests that could not be sent (retried next time).
    failed: list[tuple[str, str]] = field(default_factory=list)


def request_of(saved: SavedSearch) -> SearchRequest:
    """The search a saved search stands for."""
    lists = {name: list(saved.filters.get(name, [])) for name in FILTER_FIELDS}
    return SearchRequest(query=saved.query, **lists)  # type: ignore[arg-type]


def search_pairs(saved: SavedSearch) -> list[tuple[str, str]]:
    """The search page's URL parameters for a saved search (``q``, ``country``...)."""
    pairs = [("q", saved.query)] if saved.query else []
    for field_name, parameter in FILTER_PARAMETERS.items():
        pairs.extend((parameter, value) for value in saved.filters.get(field_name, []))
    return pairs


def save_search(archive: Archive, viewer: Viewer, saved: SavedSearch) -> SavedSearch:
    """Keep a search for ``viewer``; its first digest covers documents added from now on."""
    if not (viewer.signed_in or viewer.operator):
        raise AccessDenied("sign in to save searches")
    unknown = set(saved.filters) - set(FILTER_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown filters {sorted(unknown)}: use {', '.join(FILTER_FIELDS)}")
    archive.view(viewer).search(replace(request_of(saved), page_size=1, facets=False))  # checks
    owned = replace(saved, owner=viewer.user, last_position=archive.store.last_position())
    return archive.store.save_search(owned)


def saved_searches(archive: Archive, viewer: Viewer) -> list[SavedSearch]:
    if viewer.operator:
        return archive.store.saved_searches()
    if not viewer.signed_in:
        raise AccessDenied("sign in to see saved searches")
    return archive.store.saved_searches(viewer.user)


def delete_saved_search(archive: Archive, viewer: Viewer, name: str) -> None:
    for saved in saved_searches(archive, viewer):
        if saved.name == name and (viewer.operator or saved.owner == viewer.user):
            archive.store.delete_saved_search(saved.id)
            return
    raise NotFound(f"no saved search named {name!r}")


def build_digest(archive: Archive, saved: SavedSearch, viewer: Viewer) -> Digest:
    """The new documents matching ``saved`` since its last digest, as ``viewer`` (its owner)
    reads them."""
    view = archive.view(viewer)
    until = archive.store.last_position()
    cap = archive.settings.digest_max_documents
    digest = Digest(saved, position=until)
    after = saved.last_position
    base = replace(
        request_of(saved), facets=False, passages=1, collapse=False, sort="newest", relax=False
    )
    while True:
        chunk = archive.store.added_since(after, until, CHUNK)
        if not chunk:
            break
        after = chunk[-1][0]
        wanted = max(cap - len(digest.documents), 1)
        found = view.search(replace(base, docids=tuple(d for _, d in chunk), page_size=wanted))
        digest.total += found.total
        digest.documents.extend(found.hits[: cap - len(digest.documents)])
    return digest


def compose(archive: Archive, digest: Digest, now: datetime) -> EmailMessage:
    """The e-mail of a digest: plain text and HTML (every value escaped), with links."""
    settings = archive.settings
    base = settings.public_url.rstrip("/")
    saved = digest.search
    search_url = f"{base}/search?{urlencode(search_pairs(saved))}"
    n = digest.total
    message = EmailMessage()
    message["Subject"] = f"{n} new document{'s' if n != 1 else ''} for “{saved.name}”"
    message["From"] = settings.mail_from
    message["To"] = saved.email
    message["Date"] = now.strftime("%a, %d %b %Y %H:%M:%S +0000")
    docs = archive.store.get_many([h.docid for h in digest.documents])
    lines = [f"New in the archive since the last digest, for your saved search “{saved.name}”:", ""]
    items = []
    for hit in digest.documents:
        doc = docs.get(hit.docid) or Document(docid=hit.docid, title=hit.title)
        link = f"{base}/record/{quote(doc.docid)}"
        when = doc.publication_date.isoformat() if doc.publication_date else "date not stated"
        cite = format_citation(doc, "refworld", base_url=base)
        lines += [doc.title or "(untitled)", f"  {doc.publisher or 'publisher not stated'}, {when}"]
        lines += [f"  {link}", f"  Cite as: {cite}", ""]
        items.append(
            f'<li><a href="{html.escape(link)}">{html.escape(doc.title or "(untitled)")}</a>'
            f"<br>{html.escape(doc.publisher or 'publisher not stated')}, {html.escape(when)}"
            f"<br><small>Cite as: {html.escape(cite)}</small></li>"
        )
    more = n - len(digest.documents)
    if more > 0:
        lines.append(f"… and {more} more: {search_url}")
    lines += ["", f"The search: {search_url}"]
    message.set_content("\n".join(lines))
    tail = f'<p>… and {more} more: <a href="{html.escape(search_url)}">the search</a></p>'
    message.add_alternative(
        f"<p>New in the archive since the last digest, for your saved search "
        f"“{html.escape(saved.name)}”:</p><ul>{''.join(items)}</ul>"
        + (tail if more > 0 else "")
        + f'<p><a href="{html.escape(search_url)}">Open the search</a></p>',
        subtype="html",
    )
    return message


def send_due_digests(
    archive: Archive,
    now: datetime | None = None,
    viewer_for: ViewerFor | None = None,
    dry_run: bool = False,
) -> AlertsReport:
    """Send every digest that is due; each search's failure is recorded and does not stop the
    others. ``dry_run``: build them and say what would be sent, send nothing, move nothing."""
    now = now or datetime.now(UTC)
    report = AlertsReport()
    due = [s for s in archive.store.saved_searches() if s.due(now)]
    if not due:
        return report
    secret = archive.settings.smtp_url
    if secret is None and not dry_run:
        raise ConfigError("alerts need an SMTP server: set SOURCEBOOK_SMTP_URL (docs/alerts.md)")
    server = SmtpServer.from_url(secret.get_secret_value()) if secret is not None else None
    resolve = viewer_for or owner_viewer(archive)
    for saved in due:
        owner = resolve(saved.owner)
        if owner is None:
            report.failed.append((saved.name, f"its owner {saved.owner!r} is unknown or disabled"))
            continue
        digest = build_digest(archive, saved, owner)
        if not digest.total:
            report.empty += 1
            if not dry_run:
                archive.store.mark_digest_sent(saved.id, digest.position, now)
            continue
        if dry_run:
            report.sent.append(digest)
            continue
        assert server is not None
        try:
            server.send(compose(archive, digest, now))
        except MailError as exc:
            log.warning("alert %r not sent: %s", saved.name, exc)
            report.failed.append((saved.name, str(exc)))
            continue
        archive.store.mark_digest_sent(saved.id, digest.position, now)
        report.sent.append(digest)
    return report
