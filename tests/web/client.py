"""A synchronous client for the ASGI app, with its lifespan, for the web and API tests.

httpx's ``ASGITransport`` runs the app in-process; a blocking portal (an event loop in a thread,
as Starlette's TestClient uses) lets plain test functions call it. The lifespan runs for real, so
the app opens and closes its archive as in production.
"""

from __future__ import annotations

import functools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import uvicorn
from fastapi import FastAPI

from sourcebook.config import Settings
from sourcebook.model import Document
from sourcebook.services import Archive, IngestOptions
from sourcebook.web.app import create_app

BASE_URL = "http://127.0.0.1"


class Client(AbstractContextManager["Client"]):
    def __init__(self, app: FastAPI, peer: tuple[str, int] = ("127.0.0.1", 123)) -> None:
        """``peer``: the address the requests come from (the app sees it as the client)."""
        self.app = app
        self.peer = peer
        self._stack = ExitStack()

    def __enter__(self) -> Client:
        portal = self._stack.enter_context(anyio.from_thread.start_blocking_portal())
        self._portal = portal
        self._stack.enter_context(
            portal.wrap_async_context_manager(self.app.router.lifespan_context(self.app))
        )
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app, client=self.peer), base_url=BASE_URL
        )
        self._stack.callback(portal.call, self._client.aclose)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        call = functools.partial(self._client.request, method, url, **kwargs)
        return self._portal.call(call)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def gather(self, *calls: tuple[str, str, dict[str, Any]]) -> list[httpx.Response]:
        """Send several ``(method, url, kwargs)`` requests at once (concurrently, in the app)."""

        async def send_all() -> list[httpx.Response]:
            import asyncio

            return list(
                await asyncio.gather(*(self._client.request(m, u, **kw) for m, u, kw in calls))
            )

        return self._portal.call(send_all)


SEED_BODY = """Russian President Vladimir Putin has said in the midst of a three-nation tour of Central Asia that he has agreed with Tajikistan's president to jointly bolster security along the Tajik-Afghan border.

Putin told reporters in Dushanbe on February 27 after his talks with President Emomali Rahmon that "Tajikistan is a key country" for regional security in Central Asia.

About 7,000 troops from Russia's 201st Motor Rifle Division are stationed at three facilities in Tajikistan that are considered part of a single Russian base."""


def sample_documents() -> list[Document]:
    """Real-looking records: the seed, a report, an escaping trap, and enough for two pages."""
    docs = [
        Document(
            source_key="refworld:5975a5b29",
            source_id="5975a5b29",
            title="Putin and Rahmon agree to bolster Tajik-Afghan border security",
            publisher="Radio Free Europe/Radio Liberty",
            publication_date=date(2017, 2, 27),
            source_url="https://www.refworld.org/docid/5975a5b29.html",
            original_url="https://www.rferl.org/a/putin-rahmon-tajik-afghan-border/28335893.html",
            disclaimer="This is not a UNHCR publication.",
            copyright="Copyright (c) 2007-2009. RFE/RL, Inc.",
            body=SEED_BODY,
            document_type="News",
            language="en",
            countries=["TJ", "AF", "RU"],
        ),
        Document(
            source_key="test:report-tj",
            title="Tajikistan: treatment of returnees from Russia",
            publisher="Illustrative Research Unit",
            publication_date=date(2019, 6, 1),
            authors=["McAdam, Jane"],
            body="Returnees from Russia face questioning by the security services when they "
            "arrive at the airport in Dushanbe, according to several lawyers and human rights "
            "groups.\n\nLawyers report that returnees were detained at the border crossing and "
            "that some of them were held for several days without access to their families.",
            document_type="Country Report",
            countries=["TJ"],
            original_url="javascript:alert('original')",
        ),
        Document(
            source_key="test:xss",
            title="Border <script>alert('x')</script> & security",
            publisher="Publisher <b>bold</b>",
            publication_date=date(2021, 9, 15),
            body="Text with <img src=x onerror=alert(1)> markup about border security.",
            countries=["AF"],
            language="en",
        ),
    ]
    for n in range(1, 13):
        docs.append(
            Document(
                source_key=f"test:flood-{n}",
                title=f"Floods in Kulob, bulletin {n}",
                publisher="UNHCR",
                publication_date=date(2020, 1, n),
                body=f"Bulletin {n}: heavy rain caused floods near the border in Khatlon.\n\n"
                "Aid agencies said returnees were among those affected.",
                countries=["TJ"],
                language="en",
                document_type="News",
            )
        )
    return docs


def build_archive(home: Path, **settings: Any) -> Settings:
    """An archive at ``home`` holding :func:`sample_documents`; returns its settings.

    Passages are kept short (200 characters) so the seed record has three of them.
    """
    config = Settings(home=home, **{"passage_target_chars": 200, **settings})
    with Archive(config) as archive:
        # near-duplicate collapsing is tested in tests/test_enrichment.py; the page tests count
        # every templated bulletin
        report = archive.add_documents(sample_documents(), IngestOptions(enrich=False))
        assert report.total("failed") == 0, report
    return config


def open_client(config: Settings) -> Client:
    return Client(create_app(config))


@contextmanager
def serve_in_thread(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on a free port of 127.0.0.1; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()
