"""SOURCEBOOK_PUBLIC_URL and SOURCEBOOK_ADMIN_EMAIL: what the archive publishes names its own
address, whatever Host a request came with."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from sourcebook.web import oai
from sourcebook.web.app import create_app
from tests.web.client import Client, build_archive

PUBLIC = "https://coi.example.org"
OAI = {"o": "http://www.openarchives.org/OAI/2.0/"}
ATOM = {"a": "http://www.w3.org/2005/Atom"}


def docid_of(client: Client, query: str) -> str:
    return str(client.get("/api/search", params={"q": query}).json()["hits"][0]["docid"])


def test_the_public_url_is_used_instead_of_the_request_host(tmp_path: Path) -> None:
    config = build_archive(
        tmp_path / "archive", public_url=PUBLIC + "/", admin_email="coi-admin@example.org"
    )
    with Client(create_app(config)) as client:
        # a record with no URL of its own is cited at its page in the archive
        docid = docid_of(client, "markup")
        page = client.get(f"/record/{docid}").text
        assert f"available at: {PUBLIC}/record/{docid}" in page
        assert "127.0.0.1" not in page
        api = client.get(f"/api/records/{docid}/citation").json()["text"]
        assert f"{PUBLIC}/record/{docid}" in api
        bib = client.get(f"/record/{docid}/cite.bib").text
        assert f"{PUBLIC}/record/{docid}" in bib

        feed = etree.fromstring(client.get("/search.atom", params={"q": "floods"}).content)
        assert feed.findtext("a:id", namespaces=ATOM) == f"{PUBLIC}/search.atom?q=floods"
        links = [link.get("href") for link in feed.iterfind(".//a:link", ATOM)]
        assert links and all(href.startswith(PUBLIC + "/") for href in links), links
        assert all(
            i.startswith(PUBLIC + "/record/")
            for i in feed.xpath("//a:entry/a:id/text()", namespaces=ATOM)
        )

        identify = etree.fromstring(client.get("/oai", params={"verb": "Identify"}).content)
        assert identify.findtext("o:Identify/o:baseURL", namespaces=OAI) == PUBLIC + "/oai"
        assert identify.findtext("o:Identify/o:adminEmail", namespaces=OAI) == (
            "coi-admin@example.org"
        )
        assert identify.findtext("o:request", namespaces=OAI) == PUBLIC + "/oai"
        listed = etree.fromstring(
            client.get(
                "/oai", params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}
            ).content
        )
        identifiers = listed.xpath("//o:header/o:identifier/text()", namespaces=OAI)
        assert identifiers and all(i.startswith("oai:coi.example.org:") for i in identifiers)
        record = etree.fromstring(
            client.get(
                "/oai",
                params={
                    "verb": "GetRecord",
                    "metadataPrefix": "oai_dc",
                    "identifier": f"oai:coi.example.org:{docid}",
                },
            ).content
        )
        assert f"{PUBLIC}/record/{docid}" in etree.tostring(record).decode()


def test_without_an_admin_email_none_is_invented(tmp_path: Path) -> None:
    config = build_archive(tmp_path / "archive")
    with Client(create_app(config)) as client:
        identify = etree.fromstring(client.get("/oai", params={"verb": "Identify"}).content)
        email = identify.findtext("o:Identify/o:adminEmail", namespaces=OAI)
        assert email == oai.UNKNOWN_ADMIN_EMAIL
        assert "postmaster" not in email and email.endswith(".invalid")
        # without a public URL, the request's own address (one of the allowed names)
        assert identify.findtext("o:Identify/o:baseURL", namespaces=OAI) == "http://127.0.0.1/oai"
