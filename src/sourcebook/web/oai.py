"""OAI-PMH 2.0: harvesters copy the archive's records as Dublin Core, set by set, change by change.

``GET`` or ``POST /oai`` answers the six verbs of the protocol
(https://www.openarchives.org/OAI/openarchivesprotocol.html). See ``docs/protocols.md`` for the
sets, identifiers, datestamps and resumption tokens. The responses are built with lxml, so every
value from a record or a request is escaped; characters XML cannot carry are dropped.

Datestamps are the store's own update time of each record (``updated_at``), not the source's
"last updated": a harvester that asks ``from=`` its last harvest gets every record Sourcebook has
changed since. The list order is (datestamp, internal key), and a resumption token carries the
position of the last record sent, so paging stays correct while records are added or changed.
Deletions are kept for ever (``deletedRecord`` is ``persistent``): a deleted document's docid is
never reused, and its record is listed with ``<header status="deleted">``, its deletion time as
datestamp and the sets it belonged to, in GetRecord, ListIdentifiers and ListRecords.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response
from lxml import etree
from starlette.concurrency import run_in_threadpool

from sourcebook.countries import country_name
from sourcebook.ids import is_valid_docid
from sourcebook.model import Document
from sourcebook.services import Archive
from sourcebook.services.reading import ArchiveView
from sourcebook.store.base import HarvestedRecord, HarvestFilter, HarvestPosition
from sourcebook.web.viewing import viewer_of

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
DC_NS = "http://purl.org/dc/elements/1.1/"
OAI_ID_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
OAI_ID_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"

#: The one metadata format: prefix -> (schema, namespace).
METADATA_FORMATS: dict[str, tuple[str, str]] = {"oai_dc": (OAI_DC_SCHEMA, OAI_DC_NS)}
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
#: Records (or headers) per response of ListRecords and ListIdentifiers.
PAGE_SIZE = 100
PAGE_SIZE_MAX = 1_000
#: Bounds on what a request may carry.
MAX_ARGUMENTS = 16
MAX_ARGUMENT_CHARS = 1_000
MAX_TOKEN_CHARS = 1_000
MAX_BODY_BYTES = 16_384
#: The first passage goes into dc:description, cut to about this many characters.
DESCRIPTION_MAX_CHARS = 2_000
MEDIA_TYPE = "text/xml; charset=utf-8"

P = ParamSpec("P")
T = TypeVar("T")

#: verb -> (required arguments, optional arguments); resumptionToken is always exclusive.
_VERBS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "Identify": (frozenset(), frozenset()),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"})),
    "ListSets": (frozenset(), frozenset({"resumptionToken"})),
    "ListIdentifiers": (
        frozenset({"metadataPrefix"}),
        frozenset({"from", "until", "set", "resumptionToken"}),
    ),
    "ListRecords": (
        frozenset({"metadataPrefix"}),
        frozenset({"from", "until", "set", "resumptionToken"}),
    ),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset()),
}
#: Characters that stand for themselves in a set spec part; everything else is ``~XX`` (UTF-8).
_SET_SAFE = frozenset(string.ascii_letters + string.digits + "-_.!*'()")
_SET_SPEC = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(?::[A-Za-z0-9\-_.!~*'()]+)*")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SECOND = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_COUNTRY_CODE = re.compile(r"[A-Z]{2}")
#: The repositoryIdentifier of the oai-identifier scheme must be a domain name.
_DOMAIN = re.compile(r"[a-zA-Z][a-zA-Z0-9\-]*(?:\.[a-zA-Z][a-zA-Z0-9\-]*)+")
_TOKEN_KEYS = frozenset({"v", "verb", "p", "f", "u", "s", "t", "k", "c"})
_MAX_INT = 2**63 - 1  # what the store's keys can hold
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class OAIError(Exception):
    """One or more OAI-PMH error conditions: (code, message) pairs."""

    def __init__(self, code: str, message: str, more: Sequence[tuple[str, str]] = ()) -> None:
        self.errors = [(code, message), *more]
        super().__init__(message)


def clean_text(text: str) -> str:
    """Text without the characters XML 1.0 cannot carry (control characters, lone surrogates)."""
    return _NOT_XML.sub("", text)


def _quote(value: str, limit: int = 60) -> str:
    """A user-supplied value for an error message, shortened."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def datestamp(value: datetime) -> str:
    """An OAI-PMH datestamp: UTC, to the second, with Z."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- sets ----------------------------------------------------------------------------------------
def encode_set_part(name: str) -> str:
    """A collection name as a set spec part: safe characters kept, others as ``~XX`` bytes."""
    out: list[str] = []
    for char in name:
        if char in _SET_SAFE:
            out.append(char)
        else:
            out.extend(f"~{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out)


def decode_set_part(part: str) -> str | None:
    """The collection name a set spec part stands for, or None when it is not one we issue."""
    raw = bytearray()
    i = 0
    while i < len(part):
        char = part[i]
        if char == "~":
            pair = part[i + 1 : i + 3]
            if len(pair) != 2 or any(c not in string.hexdigits for c in pair):
                return None
            raw.append(int(pair, 16))
            i += 3
        elif char in _SET_SAFE:
            raw.append(ord(char))
            i += 1
        else:
            return None
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    # one set, one spec: "~41" for "A" is not ours
    return name if name and encode_set_part(name) == part else None


def set_specs(doc: Document) -> list[str]:
    """The sets a document belongs to (leaf sets; their parents are implied)."""
    specs = [f"collection:{encode_set_part(doc.collection)}"] if doc.collection else []
    specs += [f"country:{code}" for code in doc.countries if _COUNTRY_CODE.fullmatch(code)]
    return specs


def _selection_for_set(spec: str | None) -> HarvestFilter | None:
    """The filter for a set spec; None when the spec names no set we could hold."""
    if spec is None:
        return HarvestFilter()
    if spec == "collection":
        return HarvestFilter(any_collection=True)
    if spec == "country":
        return HarvestFilter(any_country=True)
    kind, _, value = spec.partition(":")
    if kind == "collection":
        name = decode_set_part(value)
        return HarvestFilter(collection=name) if name is not None else None
    if kind == "country" and _COUNTRY_CODE.fullmatch(value):
        return HarvestFilter(country=value)
    return None


# --- arguments -----------------------------------------------------------------------------------
def parse_arguments(pairs: Sequence[tuple[str, str]]) -> tuple[str, dict[str, str]]:
    """The verb and its arguments, or OAIError (badVerb, badArgument)."""
    verbs = [value for key, value in pairs if key == "verb"]
    if not verbs:
        raise OAIError("badVerb", "the verb argument is missing")
    if len(verbs) > 1:
        raise OAIError("badVerb", "the verb argument is repeated")
    verb = verbs[0]
    if verb not in _VERBS:
        raise OAIError("badVerb", f"{_quote(verb)} is not an OAI-PMH verb")
    required, optional = _VERBS[verb]
    args: dict[str, str] = {}
    problems: list[str] = []
    for key, value in pairs:
        if key == "verb":
            continue
        if key not in required and key not in optional:
            problems.append(f"{_quote(key)} is not an argument of {verb}")
        elif key in args:
            problems.append(f"the {key} argument is repeated")
        elif not value:
            problems.append(f"the {key} argument is empty")
        elif len(value) > MAX_ARGUMENT_CHARS and key != "resumptionToken":  # bounded apart
            problems.append(f"the {key} argument is longer than {MAX_ARGUMENT_CHARS} characters")
        else:
            args[key] = value
    if "resumptionToken" in args:
        if len(args) > 1:
            problems.append("resumptionToken is an exclusive argument: send it alone with the verb")
    else:
        problems += [f"the {key} argument is required" for key in sorted(required - set(args))]
    if problems:
        raise OAIError("badArgument", problems[0], [("badArgument", p) for p in problems[1:]])
    return verb, args


def parse_datestamp(value: str, name: str, end: bool) -> tuple[datetime, str]:
    """(UTC time, granularity) of a from/until argument; a day means its first or last second."""
    try:
        if _DAY.fullmatch(value):
            day = date.fromisoformat(value)
            moment = time(23, 59, 59, 999_999) if end else time(0, 0, 0)
            return datetime.combine(day, moment, UTC), "day"
        if _SECOND.fullmatch(value):
            stamp = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            # the whole second: a record changed at 12:00:00.4 has the datestamp 12:00:00
            return (stamp.replace(microsecond=999_999) if end else stamp), "second"
    except ValueError:
        pass
    raise OAIError(
        "badArgument", f"{name}={_quote(value)} is not a date (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ)"
    )


@dataclass(frozen=True)
class ListQuery:
    """The arguments of ListIdentifiers and ListRecords, as sent (a token repeats them)."""

    metadata_prefix: str
    from_: str | None = None
    until: str | None = None
    set_spec: str | None = None

    def selection(self) -> HarvestFilter | None:
        """The harvest filter; raises badArgument; None when the set names nothing we hold."""
        since = until = None
        granularities = set()
        if self.from_ is not None:
            since, grain = parse_datestamp(self.from_, "from", end=False)
            granularities.add(grain)
        if self.until is not None:
            until, grain = parse_datestamp(self.until, "until", end=True)
            granularities.add(grain)
        if len(granularities) > 1:
            raise OAIError("badArgument", "from and until must have the same granularity")
        if since is not None and until is not None and since > until:
            raise OAIError("badArgument", "from is later than until")
        if self.set_spec is not None and not _SET_SPEC.fullmatch(self.set_spec):
            raise OAIError("badArgument", f"set={_quote(self.set_spec)} is not a set spec")
        selection = _selection_for_set(self.set_spec)
        if selection is None:
            return None
        return HarvestFilter(
            since=since,
            until=until,
            collection=selection.collection,
            country=selection.country,
            any_collection=selection.any_collection,
            any_country=selection.any_country,
        )


@dataclass(frozen=True)
class Resumption:
    """What a resumption token carries: the query, the last position sent, the count so far."""

    verb: str
    query: ListQuery
    after: HarvestPosition
    cursor: int

    def encode(self) -> str:
        payload = {
            "v": 1,
            "verb": self.verb,
            "p": self.query.metadata_prefix,
            "f": self.query.from_,
            "u": self.query.until,
            "s": self.query.set_spec,
            "t": self.after[0].isoformat(),
            "k": self.after[1],
            "c": self.cursor,
        }
        raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, token: str, verb: str) -> Resumption:
        """The token's content; raises badResumptionToken for anything we did not issue."""
        bad = OAIError("badResumptionToken", "the resumption token is invalid")
        if len(token) > MAX_TOKEN_CHARS or not _TOKEN.fullmatch(token):
            raise bad
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            payload = json.loads(raw.decode("utf-8"))
        except (binascii.Error, ValueError, RecursionError) as exc:
            raise bad from exc
        if not isinstance(payload, dict) or set(payload) != _TOKEN_KEYS:
            raise bad
        if (
            any(type(payload[k]) is not int or not 0 <= payload[k] <= _MAX_INT for k in "vkc")
            or any(not isinstance(payload[k], str) for k in ("verb", "p", "t"))
            or any(payload[k] is not None and not isinstance(payload[k], str) for k in "fus")
        ):
            raise bad
        if payload["v"] != 1 or payload["verb"] != verb or payload["p"] not in METADATA_FORMATS:
            raise bad
        try:
            after = datetime.fromisoformat(payload["t"])
            if after.tzinfo is None:
                raise bad
            after = after.astimezone(UTC)
        except (ValueError, OverflowError) as exc:
            raise bad from exc
        query = ListQuery(payload["p"], payload["f"], payload["u"], payload["s"])
        try:
            query.selection()  # a token passes the checks a fresh request passes
        except OAIError as exc:
            raise bad from exc
        return cls(verb=verb, query=query, after=(after, payload["k"]), cursor=payload["c"])


#: Identify's adminEmail when none is configured: undeliverable by design (RFC 2606 ``.invalid``),
#: so harvesters see that nobody was named rather than a guessed ``postmaster@`` of our host.
UNKNOWN_ADMIN_EMAIL = "unknown@example.invalid"


# --- responses -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Context:
    """Where the request came in: the endpoint's URL, the site's base, the repository host."""

    endpoint: str
    site: str
    host: str

    def oai_identifier(self, docid: str) -> str:
        return f"oai:{self.host}:{docid}"

    def docid(self, identifier: str) -> str | None:
        prefix = f"oai:{self.host}:"
        if not identifier.startswith(prefix):
            return None
        docid = identifier[len(prefix) :]
        return docid if is_valid_docid(docid) else None

    def record_url(self, docid: str) -> str:
        return f"{self.site}/record/{docid}"


def _sub(parent: Any, tag: str, text: str | None = None, ns: str = OAI_NS) -> Any:
    element = etree.SubElement(parent, f"{{{ns}}}{tag}")
    if text is not None:
        element.text = clean_text(text)
    return element


def envelope(ctx: Context, echo: dict[str, str] | None) -> Any:
    """The OAI-PMH root with responseDate and the request element (``echo``: its attributes)."""
    root = etree.Element(f"{{{OAI_NS}}}OAI-PMH", nsmap={None: OAI_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_NS} {OAI_SCHEMA}")
    _sub(root, "responseDate", datestamp(datetime.now(UTC)))
    request = _sub(root, "request", ctx.endpoint)
    for key, value in (echo or {}).items():
        request.set(key, clean_text(value))
    return root


def error_document(ctx: Context, echo: dict[str, str] | None, error: OAIError) -> Any:
    # badVerb and badArgument echo no arguments: the request was not a valid one
    if any(code in ("badVerb", "badArgument") for code, _ in error.errors):
        echo = None
    root = envelope(ctx, echo)
    for code, message in error.errors:
        _sub(root, "error", message).set("code", code)
    return root


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut + " …"


def add_oai_dc(parent: Any, doc: Document, ctx: Context) -> None:
    """Simple Dublin Core for a record (see docs/protocols.md for the field mapping)."""
    dc = etree.SubElement(
        parent, f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS}
    )
    dc.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_DC_NS} {OAI_DC_SCHEMA}")

    def add(name: str, value: str, lang: bool = False) -> None:
        value = clean_text(value).strip()
        if value:
            element = _sub(dc, name, value, ns=DC_NS)
            if lang and doc.language:
                element.set(f"{{{XML_NS}}}lang", doc.language)

    add("title", doc.title, lang=True)
    for author in doc.authors:
        add("creator", author)
    add("publisher", doc.publisher)
    if doc.publication_date is not None:
        add("date", doc.publication_date.isoformat())
    for url in dict.fromkeys((ctx.record_url(doc.docid), doc.source_url, doc.original_url)):
        add("identifier", url)
    add("source", doc.cite_as)
    add("language", doc.language)
    for code in doc.countries:
        add("coverage", country_name(code))
        add("coverage", code)
    add("type", doc.document_type)
    add("type", "Text")  # DCMI Type Vocabulary
    first = doc.passages[0].text if doc.passages else doc.body
    add("description", _shorten(first, DESCRIPTION_MAX_CHARS), lang=True)
    add("rights", doc.copyright)
    if doc.collection:
        query = {
            "verb": "ListRecords",
            "metadataPrefix": "oai_dc",
            "set": f"collection:{encode_set_part(doc.collection)}",
        }
        add("relation", f"{ctx.endpoint}?{urlencode(query)}")  # the collection it is part of


def add_header(parent: Any, record: HarvestedRecord, ctx: Context) -> None:
    header = _sub(parent, "header")
    if record.deleted:
        header.set("status", "deleted")
    _sub(header, "identifier", ctx.oai_identifier(record.document.docid))
    _sub(header, "datestamp", datestamp(record.updated_at))
    for spec in set_specs(record.document):
        _sub(header, "setSpec", spec)


def add_record(parent: Any, record: HarvestedRecord, ctx: Context) -> None:
    element = _sub(parent, "record")
    add_header(element, record, ctx)
    if not record.deleted:  # a deleted record is its header alone
        add_oai_dc(_sub(element, "metadata"), record.document, ctx)


def _plural(n: int) -> str:
    return f"{n:,} record" if n == 1 else f"{n:,} records"


class Repository:
    """Answers OAI-PMH requests from one archive (the router builds one per app)."""

    def __init__(
        self,
        page_size: int = PAGE_SIZE,
        repository_host: str | None = None,
        repository_name: str = "Sourcebook",
        admin_email: str | None = None,
        public_url: str = "",
    ) -> None:
        if not 1 <= page_size <= PAGE_SIZE_MAX:
            raise ValueError(f"page_size must be between 1 and {PAGE_SIZE_MAX}")
        self.page_size = page_size
        self.repository_host = repository_host or urlsplit(public_url).hostname or None
        self.repository_name = repository_name
        self.admin_email = admin_email
        self.public_url = public_url.rstrip("/")

    def context(self, request: Request) -> Context:
        host = self.repository_host or request.url.hostname or "localhost"
        if self.public_url:
            endpoint = self.public_url + request.url.path
            return Context(endpoint=endpoint, site=self.public_url, host=host)
        endpoint = str(request.url).split("?", 1)[0]
        return Context(endpoint=endpoint, site=str(request.base_url).rstrip("/"), host=host)

    def respond(
        self, archive: ArchiveView, ctx: Context, pairs: Sequence[tuple[str, str]]
    ) -> bytes:
        """The XML answer to one request (errors included: OAI-PMH errors are HTTP 200)."""
        echo: dict[str, str] | None = None
        try:
            verb, args = parse_arguments(pairs)
            echo = {"verb": verb, **args}
            handlers: dict[str, Callable[[ArchiveView, Context, dict[str, str], Any], Any]] = {
                "Identify": self.identify,
                "ListMetadataFormats": self.list_metadata_formats,
                "ListSets": self.list_sets,
                "GetRecord": self.get_record,
                "ListIdentifiers": self.list_identifiers,
                "ListRecords": self.list_records,
            }
            root = handlers[verb](archive, ctx, args, envelope(ctx, echo))
        except OAIError as error:
            root = error_document(ctx, echo, error)
        return bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True))

    # --- verbs ---------------------------------------------------------------------------
    def identify(self, archive: ArchiveView, ctx: Context, args: dict[str, str], root: Any) -> Any:
        first = archive.harvest(HarvestFilter(), None, 1)
        earliest = first[0].updated_at if first else datetime.now(UTC)
        identify = _sub(root, "Identify")
        _sub(identify, "repositoryName", self.repository_name)
        _sub(identify, "baseURL", ctx.endpoint)
        _sub(identify, "protocolVersion", "2.0")
        # OAI-PMH requires one; we never make one up from the host name (nobody reads it)
        _sub(identify, "adminEmail", self.admin_email or UNKNOWN_ADMIN_EMAIL)
        _sub(identify, "earliestDatestamp", datestamp(earliest))
        _sub(identify, "deletedRecord", "persistent")
        _sub(identify, "granularity", GRANULARITY)
        if _DOMAIN.fullmatch(ctx.host):
            description = _sub(identify, "description")
            scheme = etree.SubElement(
                description, f"{{{OAI_ID_NS}}}oai-identifier", nsmap={None: OAI_ID_NS}
            )
            scheme.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_ID_NS} {OAI_ID_SCHEMA}")
            _sub(scheme, "scheme", "oai", ns=OAI_ID_NS)
            _sub(scheme, "repositoryIdentifier", ctx.host, ns=OAI_ID_NS)
            _sub(scheme, "delimiter", ":", ns=OAI_ID_NS)
            sample = first[0].document.docid if first else "abcdefgh23"
            _sub(scheme, "sampleIdentifier", ctx.oai_identifier(sample), ns=OAI_ID_NS)
        return root

    def list_metadata_formats(
        self, archive: ArchiveView, ctx: Context, args: dict[str, str], root: Any
    ) -> Any:
        if "identifier" in args:
            self._find(archive, ctx, args["identifier"])
        formats = _sub(root, "ListMetadataFormats")
        for prefix, (schema, namespace) in METADATA_FORMATS.items():
            element = _sub(formats, "metadataFormat")
            _sub(element, "metadataPrefix", prefix)
            _sub(element, "schema", schema)
            _sub(element, "metadataNamespace", namespace)
        return root

    def list_sets(self, archive: ArchiveView, ctx: Context, args: dict[str, str], root: Any) -> Any:
        if "resumptionToken" in args:  # every set fits in one response: we never issue one
            raise OAIError("badResumptionToken", "ListSets issues no resumption tokens")
        counts = archive.harvest_sets()
        sets = _sub(root, "ListSets")

        def add(spec: str, name: str) -> None:
            element = _sub(sets, "set")
            _sub(element, "setSpec", spec)
            _sub(element, "setName", name)

        with_country = archive.harvest_count(HarvestFilter(any_country=True))
        add("collection", f"Collections ({_plural(sum(counts.collections.values()))})")
        for name, n in counts.collections.items():
            add(f"collection:{encode_set_part(name)}", f"Collection: {name} ({_plural(n)})")
        add("country", f"Countries ({_plural(with_country)})")
        for code, n in counts.countries.items():
            if _COUNTRY_CODE.fullmatch(code):
                add(f"country:{code}", f"Country: {country_name(code)} [{code}] ({_plural(n)})")
        return root

    def get_record(
        self, archive: ArchiveView, ctx: Context, args: dict[str, str], root: Any
    ) -> Any:
        self._check_format(args["metadataPrefix"])
        record = self._find(archive, ctx, args["identifier"])
        add_record(_sub(root, "GetRecord"), record, ctx)
        return root

    def list_identifiers(
        self, archive: ArchiveView, ctx: Context, args: dict[str, str], root: Any
    ) -> Any:
        return self._list(archive, ctx, "ListIdentifiers", args, root)

    def list_records(
        self, archive: ArchiveView, ctx: Context, args: dict[str, str], root: Any
    ) -> Any:
        return self._list(archive, ctx, "ListRecords", args, root)

    # --- helpers -------------------------------------------------------------------------
    @staticmethod
    def _check_format(prefix: str) -> None:
        if prefix not in METADATA_FORMATS:
            raise OAIError(
                "cannotDisseminateFormat",
                f"{_quote(prefix)} is not a metadata format of this repository; use oai_dc",
            )

    @staticmethod
    def _find(archive: ArchiveView, ctx: Context, identifier: str) -> HarvestedRecord:
        docid = ctx.docid(identifier)
        found = archive.harvest_records([docid]) if docid else {}
        if docid is None or docid not in found:
            raise OAIError("idDoesNotExist", f"no record has the identifier {_quote(identifier)}")
        return found[docid]

    def _list(
        self, archive: ArchiveView, ctx: Context, verb: str, args: dict[str, str], root: Any
    ) -> Any:
        if "resumptionToken" in args:
            resume = Resumption.decode(args["resumptionToken"], verb)
            query, after, cursor = resume.query, resume.after, resume.cursor
        else:
            query = ListQuery(
                args["metadataPrefix"], args.get("from"), args.get("until"), args.get("set")
            )
            after, cursor = None, 0
        selection = query.selection()
        self._check_format(query.metadata_prefix)
        records = archive.harvest(selection, after, self.page_size + 1) if selection else []
        if not records:
            raise OAIError("noRecordsMatch", "no records match these arguments")
        more = len(records) > self.page_size
        records = records[: self.page_size]
        listing = _sub(root, verb)
        for record in records:
            if verb == "ListRecords":
                add_record(listing, record, ctx)
            else:
                add_header(listing, record, ctx)
        if more or cursor:
            assert selection is not None
            following = Resumption(verb, query, records[-1].position, cursor + len(records))
            token = _sub(listing, "resumptionToken", following.encode() if more else "")
            token.set("completeListSize", str(archive.harvest_count(selection)))
            token.set("cursor", str(cursor))
        return root


async def read_archive(
    request: Request,
    fn: Callable[Concatenate[ArchiveView, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """``fn(view, ...)`` off the event loop, with the app's archive (``app.state.archive``) as
    this request's viewer may read it.

    When the app keeps a runtime with reader threads (``app.state.runtime``), the call runs on
    them: their SQLite connections live as long as the app.
    """
    state = request.app.state
    runtime = getattr(state, "runtime", None)
    archive: Archive | None = getattr(state, "archive", None)
    if archive is None and runtime is not None:
        archive = runtime.archive
    if archive is None:
        raise RuntimeError("the app has no archive (app.state.archive)")
    view = archive.view(viewer_of(request))
    if runtime is not None and hasattr(runtime, "read"):
        result: T = await runtime.read(fn, view, *args, **kwargs)
        return result
    return await run_in_threadpool(fn, view, *args, **kwargs)


def make_router(
    *,
    page_size: int = PAGE_SIZE,
    repository_host: str | None = None,
    repository_name: str = "Sourcebook",
    admin_email: str | None = None,
    public_url: str = "",
) -> APIRouter:
    """A router serving ``/oai``.

    ``repository_host`` names the repository in OAI identifiers (``oai:HOST:DOCID``); without it
    the host the request was sent to is used, so set it when the archive has more than one name.
    ``public_url`` (``SOURCEBOOK_PUBLIC_URL``) is the archive's address: the base URL and record
    links start with it, and its host names the repository when ``repository_host`` is not given.
    ``admin_email`` (``SOURCEBOOK_ADMIN_EMAIL``): without it Identify names
    :data:`UNKNOWN_ADMIN_EMAIL`, an address of the reserved ``.invalid`` domain.
    """
    repository = Repository(
        page_size, repository_host, repository_name, admin_email, public_url=public_url
    )
    router = APIRouter()

    async def answer(request: Request, pairs: Sequence[tuple[str, str]]) -> Response:
        ctx = repository.context(request)
        body = await read_archive(request, repository.respond, ctx, pairs)
        return Response(content=body, media_type=MEDIA_TYPE)

    def error(request: Request, message: str) -> Response:
        root = error_document(repository.context(request), None, OAIError("badArgument", message))
        body = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
        return Response(content=bytes(body), media_type=MEDIA_TYPE)

    def parse(text: str) -> list[tuple[str, str]]:
        return parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_ARGUMENTS)

    @router.get("/oai", summary="OAI-PMH 2.0 endpoint", response_class=Response)
    async def oai_get(request: Request) -> Response:
        try:
            pairs = parse(request.url.query)
        except ValueError:
            return error(request, f"a request carries at most {MAX_ARGUMENTS} arguments")
        return await answer(request, pairs)

    @router.post("/oai", summary="OAI-PMH 2.0 endpoint (form-encoded)", response_class=Response)
    async def oai_post(request: Request) -> Response:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return error(request, f"the request body is larger than {MAX_BODY_BYTES} bytes")
        try:
            pairs = parse(body.decode("utf-8", errors="replace"))
        except ValueError:
            return error(request, f"a request carries at most {MAX_ARGUMENTS} arguments")
        return await answer(request, pairs)

    return router


router = make_router()
