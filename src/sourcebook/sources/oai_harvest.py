"""Harvesting another OAI-PMH repository (oai_dc): selective by set and date, page by page
through resumption tokens, the same protocol Sourcebook serves (``web/oai.py``), so one
Sourcebook harvests another.

Each run asks for the records changed since the ``responseDate`` of the last complete run
(``from``, inclusive, at the repository's granularity); a run cut short keeps its resumption
token, tried first by the next run (a token the repository no longer knows restarts the list
from ``from``). A record the repository reports deleted is counted, never deleted here: the
archive keeps what the source said. The client is httpx + lxml over the guarded fetcher (an
OAI client of its own would connect past the address guard).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from lxml import etree

from sourcebook.countries import resolve_language
from sourcebook.dates import parse_date
from sourcebook.errors import FetchError
from sourcebook.fetch.client import Fetched, Fetcher
from sourcebook.ingest.text import clean_inline
from sourcebook.model import Document
from sourcebook.sources.items import Item
from sourcebook.sources.model import Source

OAI = "http://www.openarchives.org/OAI/2.0/"
DC = "http://purl.org/dc/elements/1.1/"
NS = {"oai": OAI, "dc": DC}
XML_TYPES = ("text/xml", "application/xml")
#: Most list pages one run reads (a resumption token keeps the place for the next run).
MAX_PAGES = 1000
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@dataclass
class OaiResult:
    """How a run ended: the next ``from`` once complete, or the token to resume with."""

    next_from: str = ""
    token: str = ""
    complete: bool = False
    records: int = 0
    deleted: int = 0
    errors: list[str] = field(default_factory=list)


def _get(fetcher: Fetcher, endpoint: str, params: dict[str, str]) -> tuple[Any, Fetched]:
    fetched = fetcher.get(f"{endpoint}?{urlencode(params)}", XML_TYPES, robots=False)
    try:
        root = etree.fromstring(fetched.body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise FetchError(f"{endpoint} sent XML that cannot be read: {exc}") from exc
    if root.tag != f"{{{OAI}}}OAI-PMH":
        raise FetchError(f"{endpoint} is not an OAI-PMH endpoint (root <{root.tag}>)")
    return root, fetched


def _errors(root: Any) -> list[tuple[str, str]]:
    return [(e.get("code", ""), (e.text or "").strip()) for e in root.findall("oai:error", NS)]


def _granularity(fetcher: Fetcher, endpoint: str) -> str:
    root, _ = _get(fetcher, endpoint, {"verb": "Identify"})
    return str(root.findtext("oai:Identify/oai:granularity", "", NS)).strip()


def harvest_oai(
    source: Source,
    fetcher: Fetcher,
    write: Callable[[list[Item]], None],
    result: OaiResult,
    until: str = "",
) -> None:
    """Harvest ``source`` (ListRecords, oai_dc), handing each page's documents to ``write``.

    ``result`` is filled as pages come, so a run that fails midway still says where it was
    (``result.token``); a complete run sets ``complete`` and ``next_from``."""
    endpoint = source.url
    day_only = _granularity(fetcher, endpoint) == "YYYY-MM-DD"
    start = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
    for name, value in (("set", source.oai_set), ("from", source.oai_from), ("until", until)):
        if value:
            start[name] = value[:10] if day_only else value
    # a list cut short: "RESPONSEDATE<tab>TOKEN", the date its first page was answered (the
    # next list starts there, so records changed while it was read are asked for again)
    response_date, _, token = source.oai_token.rpartition("\t")
    params = {"verb": "ListRecords", "resumptionToken": token} if token else start
    for _page in range(MAX_PAGES):
        root, fetched = _get(fetcher, endpoint, params)
        problems = _errors(root)
        if problems and params is not start and problems[0][0] == "badResumptionToken":
            params, response_date = start, ""  # the token is forgotten: again, from ``from``
            continue
        response_date = response_date or root.findtext("oai:responseDate", "", NS).strip()
        if problems:
            code, text = problems[0]
            if code == "noRecordsMatch":
                break
            raise FetchError(f"{endpoint} answered {code}: {text}")
        listing = root.find("oai:ListRecords", NS)
        items = []
        for record in listing.findall("oai:record", NS) if listing is not None else []:
            result.records += 1
            header = record.find("oai:header", NS)
            if header is None or header.get("status") == "deleted":
                result.deleted += 1
                continue
            try:
                items.append(
                    Item(record_document(record, endpoint), _record_original(record, fetched))
                )
            except FetchError as exc:
                result.errors.append(str(exc))
        write(items)
        token = (
            listing.findtext("oai:resumptionToken", "", NS).strip() if listing is not None else ""
        )
        if not token:
            break
        result.token = f"{response_date}\t{token}"
        params = {"verb": "ListRecords", "resumptionToken": token}
    else:
        return  # more pages than one run reads: the token resumes the list next time
    result.token, result.complete = "", True
    result.next_from = response_date or source.oai_from


def _record_original(record: Any, fetched: Fetched) -> Fetched:
    """The record's own XML as received (in the page it came in)."""
    body = etree.tostring(record, encoding="utf-8", xml_declaration=True)
    headers = {**fetched.headers, "content-type": "application/xml; charset=utf-8"}
    headers.pop("content-length", None)
    return Fetched(
        fetched.url, fetched.final_url, fetched.status, fetched.fetched_at, headers, body
    )


def _values(dc: Any, name: str) -> list[str]:
    out = []
    for element in dc.iterfind(f".//dc:{name}", NS):
        text = clean_inline(element.text or "")
        if text and text not in out:
            out.append(text)
    return out


def record_document(record: Any, endpoint: str) -> Document:
    """A document from one oai_dc record: title, creators, publisher, date, identifiers,
    language, coverage (countries), type, description (the body), rights, sets."""
    identifier = record.findtext("oai:header/oai:identifier", "", NS).strip()
    if not identifier:
        raise FetchError(f"{endpoint}: a record without an identifier was left out")
    dc = record.find("oai:metadata", NS)
    if dc is None:
        raise FetchError(f"{endpoint}: record {identifier} has no metadata")
    urls = [u for u in _values(dc, "identifier") if u.startswith(("http://", "https://"))]
    types = [t for t in _values(dc, "type") if t.lower() != "text"]
    dates = _values(dc, "date")
    sets = [s.text.strip() for s in record.iterfind("oai:header/oai:setSpec", NS) if s.text]
    language = _values(dc, "language")
    return Document(
        source_id=identifier,
        title=next(iter(_values(dc, "title")), ""),
        publisher=next(iter(_values(dc, "publisher")), ""),
        authors=_values(dc, "creator"),
        publication_date=parse_date(dates[0]) if dates else None,
        source_url=urls[0] if urls else "",
        cite_as=next(iter(_values(dc, "source")), ""),
        copyright=next(iter(_values(dc, "rights")), ""),
        body="\n\n".join(_values(dc, "description")),
        document_type=types[0] if types else "",
        language=(resolve_language(language[0]) or "") if language else "",
        countries=_values(dc, "coverage"),
        source_tags={"oai_sets": sets} if sets else {},
        source_key=f"oai:{identifier}",
        origin=f"{endpoint} {identifier}",
    )
