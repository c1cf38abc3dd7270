"""The guarded fetch against a real local server: addresses, redirects, limits, types, robots.txt,
rate; each test bounded in time."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterator

import pytest

from sourcebook.errors import FetchError, FetchRefused, InputTooLarge
from sourcebook.fetch.client import Fetcher, FetchLimits
from sourcebook.fetch.guard import forbidden_reason
from tests.sources.server import Reply, Site, serve

TEXT = {"Content-Type": "text/html"}


@pytest.fixture
def site() -> Iterator[Site]:
    routes = {
        "/ok": Reply(200, b"<html>fine</html>", {**TEXT, "Set-Cookie": "session=1"}),
        "/hop": Reply(302, headers={"Location": "/ok"}),
        "/to-localhost": lambda request: Reply(
            302, headers={"Location": f"http://localhost:{request.server.server_address[1]}/ok"}
        ),
        "/to-metadata": Reply(302, headers={"Location": "http://169.254.169.254/latest/"}),
        "/to-credentials": Reply(302, headers={"Location": "http://user:pw@example.org/"}),
        "/loop": Reply(302, headers={"Location": "/loop"}),
        "/big": Reply(200, b"x" * 5000, TEXT),
        "/big-unsized": Reply(200, b"x" * 5000, TEXT, no_length=True),
        "/slow": Reply(200, b"x" * 400, TEXT, trickle=0.1, chunk=10),
        "/pdf": Reply(200, b"%PDF-1.4", {"Content-Type": "application/pdf"}),
        "/gone": Reply(410, b"gone", TEXT),
    }
    with serve(routes) as running:  # type: ignore[arg-type]
        yield running


def _fetcher(**limits: object) -> Fetcher:
    base = {"allow_hosts": ("127.0.0.1",), "host_interval_seconds": 0.0, "timeout_seconds": 5.0}
    return Fetcher(FetchLimits(**{**base, **limits}))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("169.254.169.254", "link-local"),
        ("224.0.0.251", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("::ffff:10.0.0.1", "private"),
        ("100.64.0.1", "not public"),  # carrier-grade NAT
        ("93.184.216.34", ""),
        ("2606:4700::1111", ""),
    ],
)
def test_forbidden_addresses(address: str, reason: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) == reason


def test_allowed_host_redirects_and_no_cookies_kept(site: Site) -> None:
    with _fetcher() as fetcher:
        got = fetcher.get(f"{site.base}/hop", ("text/html",), robots=False)
        assert got.status == 200 and got.body == b"<html>fine</html>"
        assert got.url == f"{site.base}/hop" and got.final_url == f"{site.base}/ok"
        assert "set-cookie" not in got.headers
        fetcher.get(f"{site.base}/ok", robots=False)
        assert "cookie" not in site.requests[-1][1]  # the cookie was never sent back


def test_the_loopback_server_is_refused_when_not_listed(site: Site) -> None:
    with _fetcher(allow_hosts=()) as fetcher, pytest.raises(FetchRefused, match="loopback"):
        fetcher.get(f"{site.base}/ok", robots=False)
    assert site.requests == []


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/to-localhost", "loopback"),  # another name for an allowed address is not allowed
        ("/to-metadata", "link-local"),
        ("/to-credentials", "credentials"),
        ("/loop", "more than 5 redirects"),
    ],
)
def test_every_redirect_hop_is_checked(site: Site, path: str, message: str) -> None:
    with _fetcher() as fetcher, pytest.raises(FetchError, match=message):
        fetcher.get(f"{site.base}{path}", robots=False)


def test_size_time_type_and_status_limits(site: Site) -> None:
    with _fetcher(max_bytes=4096, timeout_seconds=1.0) as fetcher:
        for path in ("/big", "/big-unsized"):
            with pytest.raises(InputTooLarge):
                fetcher.get(f"{site.base}{path}", robots=False)
        started = time.monotonic()
        with pytest.raises(FetchError, match="time limit"):
            fetcher.get(f"{site.base}/slow", robots=False)  # 4 s of trickle
        assert time.monotonic() - started < 3.0
        with pytest.raises(FetchRefused, match="application/pdf"):
            fetcher.get(f"{site.base}/pdf", ("text/html",), robots=False)
        with pytest.raises(FetchError, match="HTTP 410"):
            fetcher.get(f"{site.base}/gone", robots=False)


def test_robots_txt_and_the_polite_rate(site: Site) -> None:
    site.routes["/robots.txt"] = Reply(
        200, b"User-agent: *\nDisallow: /big\nCrawl-delay: 0.3\n", {"Content-Type": "text/plain"}
    )
    with _fetcher() as fetcher:
        with pytest.raises(FetchRefused, match=r"robots\.txt disallows"):
            fetcher.get(f"{site.base}/big")
        started = time.monotonic()
        fetcher.get(f"{site.base}/ok")
        fetcher.get(f"{site.base}/ok")
        assert time.monotonic() - started >= 0.55  # two waits of the Crawl-delay
    assert site.paths().count("/robots.txt") == 1 and "/big" not in site.paths()


def test_an_unreadable_robots_txt_means_stay_away(site: Site) -> None:
    site.routes["/robots.txt"] = Reply(503, b"busy", TEXT)
    with _fetcher() as fetcher, pytest.raises(FetchRefused, match=r"robots\.txt answered HTTP 503"):
        fetcher.get(f"{site.base}/ok")
    site.routes.pop("/robots.txt")  # a 404: no rules, everything allowed
    with _fetcher() as fetcher:
        assert fetcher.get(f"{site.base}/ok").status == 200


def test_the_checked_address_is_pinned_for_the_connection(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One DNS answer per connection: the socket connects to the address that was checked, so
    a name that resolves differently the second time (DNS rebinding) gets no second chance."""
    real = socket.getaddrinfo
    answers: list[str] = []

    def rebinding_dns(host: str, *args: object, **kwargs: object) -> object:
        if host != "rebind.test":
            return real(host, *args, **kwargs)  # type: ignore[arg-type]
        answers.append(host)
        if len(answers) > 1:
            raise socket.gaierror("a second lookup would now answer a private address")
        return real("127.0.0.1", *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    port = site.base.rsplit(":", 1)[1]
    with _fetcher(allow_hosts=("rebind.test",)) as fetcher:
        got = fetcher.get(f"http://rebind.test:{port}/ok", robots=False)
    assert got.status == 200 and answers == ["rebind.test"]
    assert site.requests[-1][1]["host"] == f"rebind.test:{port}"
