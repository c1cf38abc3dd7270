"""OAI-PMH 2.0: a real archive served by uvicorn, harvested by a real client (Sickle).

Every raw response is validated against an XML Schema of the protocol's structure (below, a
transcription of the parts of OAI-PMH.xsd that a response can exercise).
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from lxml import etree
from sickle import Sickle
from sickle.oaiexceptions import (
    BadArgument,
    CannotDisseminateFormat,
    IdDoesNotExist,
    NoRecordsMatch,
)

from sourcebook.config import Settings
from sourcebook.model import Document
from sourcebook.services import Archive, IngestOptions
from sourcebook.web import oai

NS = {"o": oai.OAI_NS, "dc": oai.DC_NS, "oai_dc": oai.OAI_DC_NS}
PAGE = 20
#: The store's clock for each ingest batch: five days, 50 records each.
STAMPS = [datetime(2024, 3, day, 12, 0, 0, tzinfo=UTC) for day in range(1, 6)]
COLLECTIONS = ("refworld", "UK Home Office", "")
COUNTRIES = (["TJ"], ["AF", "TJ"], ["RU"], [], ["SY", "TR"])
TRICKY_TITLE = 'Report <b>"7"</b> & <script>alert(1)</script>\x0b on Tajikistan'
DC_ELEMENTS = {
    "title", "creator", "subject", "description", "publisher", "contributor", "date", "type",
    "format", "identifier", "source", "language", "relation", "coverage", "rights",
}  # fmt: skip

OAI_XSD = r"""<schema xmlns="http://www.w3.org/2001/XMLSchema"
    xmlns:oai="http://www.openarchives.org/OAI/2.0/"
    targetNamespace="http://www.openarchives.org/OAI/2.0/"
    elementFormDefault="qualified" attributeFormDefault="unqualified">
  <element name="OAI-PMH">
    <complexType><sequence>
      <element name="responseDate" type="dateTime"/>
      <element name="request" type="oai:requestType"/>
      <choice>
        <element name="error" type="oai:errorType" maxOccurs="unbounded"/>
        <element name="Identify" type="oai:IdentifyType"/>
        <element name="ListMetadataFormats" type="oai:ListMetadataFormatsType"/>
        <element name="ListSets" type="oai:ListSetsType"/>
        <element name="GetRecord" type="oai:GetRecordType"/>
        <element name="ListIdentifiers" type="oai:ListIdentifiersType"/>
        <element name="ListRecords" type="oai:ListRecordsType"/>
      </choice>
    </sequence></complexType>
  </element>
  <simpleType name="UTCdatetimeType">
    <restriction base="string">
      <pattern value="[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)?"/>
    </restriction>
  </simpleType>
  <simpleType name="setSpecType">
    <restriction base="string">
      <pattern value="([A-Za-z0-9\-_\.!~\*'\(\)])+(:[A-Za-z0-9\-_\.!~\*'\(\)]+)*"/>
    </restriction>
  </simpleType>
  <simpleType name="metadataPrefixType">
    <restriction base="string"><pattern value="[A-Za-z0-9\-_\.!~\*'\(\)]+"/></restriction>
  </simpleType>
  <simpleType name="verbType">
    <restriction base="string">
      <enumeration value="Identify"/><enumeration value="ListMetadataFormats"/>
      <enumeration value="ListSets"/><enumeration value="GetRecord"/>
      <enumeration value="ListIdentifiers"/><enumeration value="ListRecords"/>
    </restriction>
  </simpleType>
  <complexType name="requestType">
    <simpleContent><extension base="anyURI">
      <attribute name="verb" type="oai:verbType"/>
      <attribute name="identifier" type="anyURI"/>
      <attribute name="metadataPrefix" type="oai:metadataPrefixType"/>
      <attribute name="from" type="oai:UTCdatetimeType"/>
      <attribute name="until" type="oai:UTCdatetimeType"/>
      <attribute name="set" type="oai:setSpecType"/>
      <attribute name="resumptionToken" type="string"/>
    </extension></simpleContent>
  </complexType>
  <complexType name="errorType">
    <simpleContent><extension base="string">
      <attribute name="code" use="required">
        <simpleType><restriction base="string">
          <enumeration value="cannotDisseminateFormat"/><enumeration value="idDoesNotExist"/>
          <enumeration value="badArgument"/><enumeration value="badVerb"/>
          <enumeration value="noMetadataFormats"/><enumeration value="noRecordsMatch"/>
          <enumeration value="badResumptionToken"/><enumeration value="noSetHierarchy"/>
        </restriction></simpleType>
      </attribute>
    </extension></simpleContent>
  </complexType>
  <complexType name="IdentifyType"><sequence>
    <element name="repositoryName" type="string"/>
    <element name="baseURL" type="anyURI"/>
    <element name="protocolVersion">
      <simpleType><restriction base="string"><enumeration value="2.0"/></restriction></simpleType>
    </element>
    <element name="adminEmail" maxOccurs="unbounded">
      <simpleType><restriction base="string"><pattern value="\S+@(\S+\.)+\S+"/></restriction></simpleType>
    </element>
    <element name="earliestDatestamp" type="oai:UTCdatetimeType"/>
    <element name="deletedRecord">
      <simpleType><restriction base="string">
        <enumeration value="no"/><enumeration value="persistent"/><enumeration value="transient"/>
      </restriction></simpleType>
    </element>
    <element name="granularity">
      <simpleType><restriction base="string">
        <enumeration value="YYYY-MM-DD"/><enumeration value="YYYY-MM-DDThh:mm:ssZ"/>
      </restriction></simpleType>
    </element>
    <element name="compression" type="string" minOccurs="0" maxOccurs="unbounded"/>
    <element name="description" type="oai:descriptionType" minOccurs="0" maxOccurs="unbounded"/>
  </sequence></complexType>
  <complexType name="ListMetadataFormatsType"><sequence>
    <element name="metadataFormat" maxOccurs="unbounded"><complexType><sequence>
      <element name="metadataPrefix" type="oai:metadataPrefixType"/>
      <element name="schema" type="anyURI"/>
      <element name="metadataNamespace" type="anyURI"/>
    </sequence></complexType></element>
  </sequence></complexType>
  <complexType name="ListSetsType"><sequence>
    <element name="set" maxOccurs="unbounded"><complexType><sequence>
      <element name="setSpec" type="oai:setSpecType"/>
      <element name="setName" type="string"/>
      <element name="setDescription" type="oai:descriptionType" minOccurs="0" maxOccurs="unbounded"/>
    </sequence></complexType></element>
    <element name="resumptionToken" type="oai:resumptionTokenType" minOccurs="0"/>
  </sequence></complexType>
  <complexType name="GetRecordType"><sequence>
    <element name="record" type="oai:recordType"/>
  </sequence></complexType>
  <complexType name="ListRecordsType"><sequence>
    <element name="record" type="oai:recordType" maxOccurs="unbounded"/>
    <element name="resumptionToken" type="oai:resumptionTokenType" minOccurs="0"/>
  </sequence></complexType>
  <complexType name="ListIdentifiersType"><sequence>
    <element name="header" type="oai:headerType" maxOccurs="unbounded"/>
    <element name="resumptionToken" type="oai:resumptionTokenType" minOccurs="0"/>
  </sequence></complexType>
  <complexType name="recordType"><sequence>
    <element name="header" type="oai:headerType"/>
    <element name="metadata" type="oai:metadataType" minOccurs="0"/>
    <element name="about" type="oai:metadataType" minOccurs="0" maxOccurs="unbounded"/>
  </sequence></complexType>
  <complexType name="headerType">
    <sequence>
      <element name="identifier" type="anyURI"/>
      <element name="datestamp" type="oai:UTCdatetimeType"/>
      <element name="setSpec" type="oai:setSpecType" minOccurs="0" maxOccurs="unbounded"/>
    </sequence>
    <attribute name="status">
      <simpleType><restriction base="string"><enumeration value="deleted"/></restriction></simpleType>
    </attribute>
  </complexType>
  <complexType name="metadataType"><sequence>
    <any namespace="##other" processContents="lax"/>
  </sequence></complexType>
  <complexType name="descriptionType"><sequence>
    <any namespace="##any" processContents="lax"/>
  </sequence></complexType>
  <complexType name="resumptionTokenType">
    <simpleContent><extension base="string">
      <attribute name="expirationDate" type="dateTime"/>
      <attribute name="completeListSize" type="positiveInteger"/>
      <attribute name="cursor" type="nonNegativeInteger"/>
    </extension></simpleContent>
  </complexType>
</schema>"""
SCHEMA = etree.XMLSchema(etree.fromstring(OAI_XSD.encode("utf-8")))


# --- the archive and the server ----------------------------------------------------------------
def make_doc(i: int) -> Document:
    return Document(
        source_key=f"oai-test:{i}",
        source_id=str(i),
        title=TRICKY_TITLE if i == 7 else f"Report {i} on country conditions",
        publisher=f"Publisher {i % 4}",
        authors=[f"Author {i % 7}", "Second Author"] if i % 2 else [],
        publication_date=date(2010 + i % 12, 1 + i % 12, 1 + i % 28),
        source_url=f"https://example.org/source/{i}",
        original_url=f"https://publisher.example/{i}" if i % 3 == 0 else "",
        body=f"First paragraph of report {i}, on security & <borders>.\n\nSecond paragraph.",
        document_type="report",
        language="en",
        countries=list(COUNTRIES[i % len(COUNTRIES)]),
        collection=COLLECTIONS[i % len(COLLECTIONS)],
        copyright="© Example Publisher" if i % 5 == 0 else "",
    )


def build_archive(home: Path, batches: list[tuple[datetime, list[Document]]]) -> Archive:
    archive = Archive(Settings(home=home))
    for stamp, docs in batches:
        add_at(archive, stamp, docs)
    return archive


def add_at(archive: Archive, stamp: datetime, docs: list[Document]) -> None:
    """Ingest with the store's clock set to ``stamp`` (the records' datestamp)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("sourcebook.store.sqlite.now_utc", lambda: stamp)
        report = archive.add_documents(docs, IngestOptions(detect_language=False))
    assert report.failed_files == 0


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run the app with uvicorn on a free port of 127.0.0.1 in a thread; yield its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def make_app(archive: Archive, page_size: int = PAGE, host: str | None = None) -> FastAPI:
    app = FastAPI()
    app.state.archive = archive
    app.include_router(oai.make_router(page_size=page_size, repository_host=host))
    return app


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    docs = [make_doc(i) for i in range(250)]
    batches = [(stamp, docs[n * 50 : (n + 1) * 50]) for n, stamp in enumerate(STAMPS)]
    archive = build_archive(tmp_path_factory.mktemp("oai"), batches)
    yield archive
    archive.close()


@pytest.fixture(scope="module")
def base(archive: Archive) -> Iterator[str]:
    with serve(make_app(archive)) as url:
        yield url


@pytest.fixture(scope="module")
def url(base: str) -> str:
    return base + "/oai"


@pytest.fixture(scope="module")
def stored(archive: Archive) -> list[Document]:
    """Every document, in the order a harvest must give them (batches in time order)."""
    return list(archive.store.iter_documents())


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def fetch(http: httpx.Client, url: str, method: str = "GET", **params: str) -> etree._Element:
    """A raw request; checks the media type and the schema, returns the parsed response."""
    response = http.get(url, params=params) if method == "GET" else http.post(url, data=params)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    root = etree.fromstring(response.content)
    SCHEMA.assertValid(root)
    for dc in root.iterfind(".//oai_dc:dc", NS):
        for element in dc:
            assert etree.QName(element).namespace == oai.DC_NS
            assert etree.QName(element).localname in DC_ELEMENTS
    return root


def error_codes(root: etree._Element) -> list[str]:
    return [e.get("code") for e in root.iterfind("o:error", NS)]


def oai_id(docid: str) -> str:
    return f"oai:127.0.0.1:{docid}"


# --- harvesting ----------------------------------------------------------------------------------
def test_identify(http: httpx.Client, url: str, stored: list[Document]) -> None:
    identify = Sickle(url).Identify()
    assert identify.repositoryName == "Sourcebook"
    assert identify.baseURL == url
    assert identify.protocolVersion == "2.0"
    assert identify.deletedRecord == "persistent"
    assert identify.granularity == "YYYY-MM-DDThh:mm:ssZ"
    assert identify.earliestDatestamp == "2024-03-01T12:00:00Z"
    root = fetch(http, url, verb="Identify")
    assert root.find("o:request", NS).attrib == {"verb": "Identify"}
    assert root.find("o:request", NS).text == url


def test_sickle_harvests_the_whole_archive(url: str, stored: list[Document]) -> None:
    records = list(Sickle(url).ListRecords(metadataPrefix="oai_dc"))
    assert len(records) == len(stored) == 250
    assert [r.header.identifier for r in records] == [oai_id(d.docid) for d in stored]
    for record, doc in zip(records, stored, strict=True):
        stamp = STAMPS[int(doc.source_id) // 50]
        assert record.header.datestamp == stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert not record.header.deleted
        md = record.metadata
        expected_title = doc.title.replace("\x0b", "")
        assert md["title"] == [expected_title]
        assert md.get("creator", []) == doc.authors
        assert md["publisher"] == [doc.publisher]
        assert md["date"] == [doc.publication_date.isoformat()]  # type: ignore[union-attr]
        identifiers = [f"{url.removesuffix('/oai')}/record/{doc.docid}", doc.source_url]
        assert md["identifier"] == identifiers + ([doc.original_url] if doc.original_url else [])
        assert md["language"] == ["en"]
        assert md["type"] == ["report", "Text"]
        assert md["description"] == [" ".join(doc.passages[0].text.split())]
        assert md.get("rights", []) == ([doc.copyright] if doc.copyright else [])
        assert [c for c in md.get("coverage", []) if len(c) == 2] == doc.countries
        specs = [f"country:{c}" for c in doc.countries]
        if doc.collection:
            specs.insert(0, "collection:" + doc.collection.replace(" ", "~20"))
        assert record.header.setSpecs == specs
    tricky = records[7].metadata
    assert tricky["title"] == ['Report <b>"7"</b> & <script>alert(1)</script> on Tajikistan']
    assert "& <borders>" in tricky["description"][0]
    assert tricky["coverage"] == ["Russian Federation", "RU"]


def test_resumption_tokens_page_through_with_size_and_cursor(http: httpx.Client, url: str) -> None:
    seen: list[str] = []
    root = fetch(http, url, verb="ListIdentifiers", metadataPrefix="oai_dc")
    tokens = []
    while True:
        listing = root.find("o:ListIdentifiers", NS)
        seen += [
            h.findtext("o:identifier", namespaces=NS) for h in listing.iterfind("o:header", NS)
        ]
        token = listing.find("o:resumptionToken", NS)
        tokens.append(token)
        assert token.get("completeListSize") == "250"
        assert token.get("cursor") == str((len(tokens) - 1) * PAGE)
        if not token.text:
            break
        assert len(token.text) <= oai.MAX_TOKEN_CHARS
        root = fetch(http, url, verb="ListIdentifiers", resumptionToken=token.text)
        assert root.find("o:request", NS).attrib == {
            "verb": "ListIdentifiers",
            "resumptionToken": token.text,
        }
    assert len(tokens) == 13  # 12 full pages of 20 and one of 10
    assert len(seen) == len(set(seen)) == 250


def test_post_harvest_matches_get(http: httpx.Client, url: str, stored: list[Document]) -> None:
    headers = list(Sickle(url, http_method="POST").ListIdentifiers(metadataPrefix="oai_dc"))
    assert [h.identifier for h in headers] == [oai_id(d.docid) for d in stored]
    root = fetch(http, url, method="POST", verb="GetRecord", metadataPrefix="oai_dc",
                 identifier=oai_id(stored[0].docid))  # fmt: skip
    assert root.find("o:GetRecord/o:record", NS) is not None


def test_list_sets_names_every_set_with_counts(
    http: httpx.Client, url: str, stored: list[Document]
) -> None:
    sets = {s.setSpec: s.setName for s in Sickle(url).ListSets()}
    fetch(http, url, verb="ListSets")
    expected_specs = {
        "collection",
        "country",
        "collection:refworld",
        "collection:UK~20Home~20Office",
    }
    expected_specs |= {f"country:{c}" for c in ("AF", "RU", "SY", "TJ", "TR")}
    assert set(sets) == expected_specs
    assert sets["collection:UK~20Home~20Office"] == "Collection: UK Home Office (83 records)"
    assert sets["country:TJ"] == "Country: Tajikistan [TJ] (100 records)"
    assert sets["country"] == "Countries (200 records)"
    assert sets["collection"] == "Collections (167 records)"


@pytest.mark.parametrize(
    "spec",
    ["collection", "country", "collection:refworld", "collection:UK~20Home~20Office", "country:SY"],
)
def test_harvest_a_set(url: str, stored: list[Document], spec: str) -> None:
    kind, _, value = spec.partition(":")
    if kind == "collection":
        name = value.replace("~20", " ")
        members = [d for d in stored if (d.collection == name if value else d.collection)]
    else:
        members = [d for d in stored if (value in d.countries if value else d.countries)]
    records = list(Sickle(url).ListRecords(metadataPrefix="oai_dc", set=spec))
    assert [r.header.identifier for r in records] == [oai_id(d.docid) for d in members]
    count = re.search(
        r"\((\d+) records?\)", {s.setSpec: s.setName for s in Sickle(url).ListSets()}[spec]
    )
    assert count and int(count.group(1)) == len(members)


def test_selective_harvest_by_datestamp(url: str, stored: list[Document]) -> None:
    sickle = Sickle(url)
    days = list(
        sickle.ListIdentifiers(
            metadataPrefix="oai_dc", **{"from": "2024-03-02", "until": "2024-03-03"}
        )
    )
    assert [h.identifier for h in days] == [oai_id(d.docid) for d in stored[50:150]]
    second = "2024-03-04T12:00:00Z"
    exact = list(
        sickle.ListIdentifiers(metadataPrefix="oai_dc", **{"from": second, "until": second})
    )
    assert [h.identifier for h in exact] == [oai_id(d.docid) for d in stored[150:200]]
    since = list(sickle.ListRecords(metadataPrefix="oai_dc", **{"from": "2024-03-04T12:00:01Z"}))
    assert [r.header.identifier for r in since] == [oai_id(d.docid) for d in stored[200:]]
    until = list(
        sickle.ListIdentifiers(
            metadataPrefix="oai_dc", until="2024-03-01T12:00:00Z", set="country:TJ"
        )
    )
    assert [h.identifier for h in until] == [
        oai_id(d.docid) for d in stored[:50] if "TJ" in d.countries
    ]
    with pytest.raises(NoRecordsMatch):
        list(sickle.ListIdentifiers(metadataPrefix="oai_dc", **{"from": "2024-03-05T12:00:01Z"}))
    with pytest.raises(NoRecordsMatch):
        list(sickle.ListIdentifiers(metadataPrefix="oai_dc", until="2024-02-29"))


def test_get_record_and_metadata_formats(url: str, stored: list[Document]) -> None:
    sickle = Sickle(url)
    doc = stored[7]
    record = sickle.GetRecord(identifier=oai_id(doc.docid), metadataPrefix="oai_dc")
    assert record.header.identifier == oai_id(doc.docid)
    assert record.header.datestamp == "2024-03-01T12:00:00Z"
    assert record.metadata["title"] == [TRICKY_TITLE.replace("\x0b", "")]
    formats = list(sickle.ListMetadataFormats())
    assert [(f.metadataPrefix, f.schema, f.metadataNamespace) for f in formats] == [
        ("oai_dc", oai.OAI_DC_SCHEMA, oai.OAI_DC_NS)
    ]
    for_one = list(sickle.ListMetadataFormats(identifier=oai_id(doc.docid)))
    assert [f.metadataPrefix for f in for_one] == ["oai_dc"]
    with pytest.raises(IdDoesNotExist):
        sickle.GetRecord(identifier=oai_id("aaaaaaaaaa"), metadataPrefix="oai_dc")
    with pytest.raises(CannotDisseminateFormat):
        sickle.GetRecord(identifier=oai_id(doc.docid), metadataPrefix="marc21")
    with pytest.raises(BadArgument):
        sickle.GetRecord(identifier=oai_id(doc.docid))


# --- errors --------------------------------------------------------------------------------------
def _token(**changes: object) -> str:
    payload: dict[str, object] = {
        "v": 1, "verb": "ListRecords", "p": "oai_dc", "f": None, "u": None, "s": None,
        "t": "2024-03-01T12:00:00+00:00", "k": 20, "c": 20,
    }  # fmt: skip
    payload.update(changes)
    raw = json.dumps(payload).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


ERRORS: list[tuple[str, list[tuple[str, str]]]] = [
    ("badVerb", []),
    ("badVerb", [("verb", "Harvest")]),
    ("badVerb", [("verb", "Identify"), ("verb", "Identify")]),
    ("badVerb", [("verb", "")]),
    ("badArgument", [("verb", "Identify"), ("extra", "1")]),
    ("badArgument", [("verb", "ListRecords")]),
    ("badArgument", [("verb", "GetRecord"), ("metadataPrefix", "oai_dc")]),
    ("badArgument", [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("metadataPrefix", "oai_dc")]),
    ("badArgument", [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("set", "")]),
    ("badArgument", [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("from", "yesterday")]),
    ("badArgument", [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("from", "2024-13-01")]),
    ("badArgument", [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("from", "2024-03-01T12:00:00.5Z")]),
    ("badArgument", [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("from", "2024-03-01T12:00:00+01:00")]),
    ("badArgument", [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("from", "2024-03-02"), ("until", "2024-03-01")]),
    ("badArgument", [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("from", "2024-03-01"), ("until", "2024-03-02T00:00:00Z")]),
    ("badArgument", [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("set", "no spaces allowed")]),
    ("badArgument", [("verb", "ListRecords"), ("resumptionToken", _token()), ("metadataPrefix", "oai_dc")]),
    ("badArgument", [("verb", "ListRecords"), ("metadataPrefix", "x" * 2000)]),
    ("badArgument", [("verb", "Identify")] + [(f"a{i}", "1") for i in range(20)]),
    ("badResumptionToken", [("verb", "ListRecords"), ("resumptionToken", "not-a-token")]),
    ("badResumptionToken", [("verb", "ListRecords"), ("resumptionToken", "%%%")]),
    ("badResumptionToken", [("verb", "ListIdentifiers"), ("resumptionToken", _token())]),
    ("badResumptionToken", [("verb", "ListRecords"), ("resumptionToken", _token(k=-1))]),
    ("badResumptionToken", [("verb", "ListRecords"), ("resumptionToken", _token(k=True))]),
    ("badResumptionToken", [("verb", "ListRecords"), ("resumptionToken", _token(p="marc21"))]),
    ("badResumptionToken", [("verb", "ListRecords"), ("resumptionToken", _token(f="2024-01-02", u="2024-01-01"))]),
    ("badResumptionToken", [("verb", "ListRecords"), ("resumptionToken", _token(t="2024-03-01T12:00:00"))]),
    ("badResumptionToken", [("verb", "ListRecords"), ("resumptionToken", _token(extra=1))]),
    ("badResumptionToken", [("verb", "ListRecords"), ("resumptionToken", _token(p=[]))]),
    ("badResumptionToken", [("verb", "ListRecords"), ("resumptionToken", _token(k=2**70))]),
    ("badResumptionToken", [("verb", "ListRecords"), ("resumptionToken", _token(v=True))]),
    ("badResumptionToken", [("verb", "ListRecords"), ("resumptionToken", _token(t="0001-01-01T00:00:00+01:00"))]),
    ("badResumptionToken", [("verb", "ListRecords"), ("resumptionToken", _token(s=7))]),
    ("badResumptionToken", [("verb", "ListRecords"), ("resumptionToken", base64.urlsafe_b64encode(b"[" * 700).decode())]),
    ("badResumptionToken", [("verb", "ListRecords"), ("resumptionToken", "A" * 1001)]),
    ("badResumptionToken", [("verb", "ListSets"), ("resumptionToken", _token())]),
    ("cannotDisseminateFormat", [("verb", "ListRecords"), ("metadataPrefix", "marc21")]),
    ("cannotDisseminateFormat", [("verb", "ListIdentifiers"), ("metadataPrefix", "oai_DC")]),
    ("idDoesNotExist", [("verb", "GetRecord"), ("metadataPrefix", "oai_dc"), ("identifier", "oai:127.0.0.1:aaaaaaaaaa")]),
    ("idDoesNotExist", [("verb", "GetRecord"), ("metadataPrefix", "oai_dc"), ("identifier", "oai:127.0.0.1:not a docid\x01")]),
    ("idDoesNotExist", [("verb", "ListMetadataFormats"), ("identifier", "https://example.org/record/1")]),
    ("noRecordsMatch", [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("set", "country:ZZ")]),
    ("noRecordsMatch", [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("set", "collection:nothing")]),
    ("noRecordsMatch", [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("set", "collection:bad~zz")]),
    ("noRecordsMatch", [("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc"), ("set", "topic:x")]),
    ("noRecordsMatch", [("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc"), ("from", "2099-01-01")]),
]  # fmt: skip


@pytest.mark.parametrize(("code", "params"), ERRORS)
def test_error_codes(
    http: httpx.Client, url: str, code: str, params: list[tuple[str, str]]
) -> None:
    response = http.get(url, params=params)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    root = etree.fromstring(response.content)
    SCHEMA.assertValid(root)
    assert set(error_codes(root)) == {code}
    assert all(e.text for e in root.iterfind("o:error", NS))
    request = root.find("o:request", NS)
    assert request.text == url
    if code in ("badVerb", "badArgument"):
        assert request.attrib == {}  # a request that is not valid is not echoed
    else:
        assert request.get("verb") == dict(params)["verb"]


def test_each_bad_argument_is_reported(http: httpx.Client, url: str) -> None:
    root = fetch(http, url, verb="ListRecords", extra="1", until="soon")
    assert error_codes(root) == ["badArgument", "badArgument"]


def test_oversized_post_body_is_refused(http: httpx.Client, url: str) -> None:
    response = http.post(url, data={"verb": "Identify", "padding": "x" * 20_000})
    root = etree.fromstring(response.content)
    SCHEMA.assertValid(root)
    assert error_codes(root) == ["badArgument"]


# --- a harvest while the archive changes -----------------------------------------------------------
def test_resumption_survives_changes_and_a_configured_host(
    http: httpx.Client, tmp_path: Path
) -> None:
    docs = [make_doc(i) for i in range(30)]
    archive = build_archive(tmp_path, [(STAMPS[0], docs[:15]), (STAMPS[1], docs[15:])])
    try:
        with serve(make_app(archive, page_size=10, host="coi.example.org")) as base:
            url = base + "/oai"
            order = [d.docid for d in archive.store.iter_documents()]
            first = fetch(http, url, verb="ListIdentifiers", metadataPrefix="oai_dc")
            token = first.find("o:ListIdentifiers/o:resumptionToken", NS).text
            # while the harvester is away: one record it has seen changes, one it has not, and
            # a new one arrives; all three belong at the end of the list
            changed_seen, changed_unseen = make_doc(2), make_doc(20)
            changed_seen.title = changed_unseen.title = "Corrected title"
            add_at(archive, STAMPS[2], [changed_seen, changed_unseen, make_doc(99)])
            new_docid = next(
                d.docid for d in archive.store.iter_documents() if d.source_key == "oai-test:99"
            )
            rest = list(Sickle(url).ListIdentifiers(resumptionToken=token))
            headers = [
                h.findtext("o:identifier", namespaces=NS) for h in first.iterfind(".//o:header", NS)
            ]
            harvested = headers + [h.identifier for h in rest]
            moved = [order[2], order[20], new_docid]
            expected = order[:10] + [d for d in order[10:] if d not in moved] + moved
            assert harvested == [f"oai:coi.example.org:{d}" for d in expected]
            assert rest[-1].datestamp == "2024-03-03T12:00:00Z"
            identify = fetch(http, url, verb="Identify")
            description = identify.find("o:Identify/o:description", NS)
            assert description is not None
            assert (
                description.findtext(
                    f"{{{oai.OAI_ID_NS}}}oai-identifier/{{{oai.OAI_ID_NS}}}repositoryIdentifier"
                )
                == "coi.example.org"
            )
            assert (
                identify.findtext("o:Identify/o:adminEmail", namespaces=NS)
                == oai.UNKNOWN_ADMIN_EMAIL  # none configured: none made up from the host
            )
            with pytest.raises(IdDoesNotExist):
                Sickle(url).GetRecord(
                    identifier=f"oai:127.0.0.1:{order[0]}", metadataPrefix="oai_dc"
                )
    finally:
        archive.close()


def test_an_empty_archive_answers_identify_and_no_records(
    http: httpx.Client, tmp_path: Path
) -> None:
    archive = Archive(Settings(home=tmp_path))
    try:
        with serve(make_app(archive)) as base:
            root = fetch(http, base + "/oai", verb="Identify")
            assert root.findtext("o:Identify/o:earliestDatestamp", namespaces=NS)
            sets = fetch(http, base + "/oai", verb="ListSets")
            assert [
                s.findtext("o:setSpec", namespaces=NS) for s in sets.iterfind(".//o:set", NS)
            ] == [
                "collection",
                "country",
            ]
            with pytest.raises(NoRecordsMatch):
                list(Sickle(base + "/oai").ListRecords(metadataPrefix="oai_dc"))
    finally:
        archive.close()


# --- pieces --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["refworld", "UK Home Office", "Ünïcode/~:% 名前", "a~41"])
def test_collection_set_specs_round_trip(name: str) -> None:
    part = oai.encode_set_part(name)
    assert re.fullmatch(r"[A-Za-z0-9\-_.!~*'()]+", part)
    assert oai.decode_set_part(part) == name


def test_set_spec_decoding_refuses_what_we_never_issue() -> None:
    assert oai.decode_set_part("~41") is None  # "A" is written as itself
    assert oai.decode_set_part("~FF") is None  # not UTF-8
    assert oai.decode_set_part("~4") is None
    assert oai.decode_set_part("") is None
