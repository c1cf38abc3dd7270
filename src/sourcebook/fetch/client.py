"""A bounded, polite HTTP fetch: size and time limits, content-type checks, redirects followed
hop by hop (each one checked by the guard again), robots.txt honoured, one request per host per
interval, no credentials sent.

The connection itself is made by :mod:`sourcebook.fetch.guard`, which refuses forbidden
addresses after DNS resolution and pins the checked address. No cookie is kept between requests,
no proxy from the environment is used, and a URL with a user name or password is refused.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from sourcebook.config import Settings
from sourcebook.errors import FetchError, FetchRefused, InputTooLarge
from sourcebook.fetch.guard import GuardedTransport
from sourcebook.store.codec import now_utc

log = logging.getLogger(__name__)

#: Largest robots.txt read (Google reads 500 KiB).
ROBOTS_MAX_BYTES = 512 * 1024
#: Longest Crawl-delay honoured; a longer one is taken as this.
MAX_CRAWL_DELAY = 60.0
#: robots.txt files are read again after this long.
ROBOTS_TTL_SECONDS = 3600.0
REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class FetchLimits:
    """What one fetch may do (options object, from the settings)."""

    max_bytes: int = 20 * 1024 * 1024
    timeout_seconds: float = 30.0
    max_redirects: int = 5
    host_interval_seconds: float = 1.0
    user_agent: str = "Sourcebook/0.1 (COI archive harvester)"
    allow_hosts: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchLimits:
        return cls(
            max_bytes=settings.fetch_max_bytes,
            timeout_seconds=settings.fetch_timeout_seconds,
            max_redirects=settings.fetch_max_redirects,
            host_interval_seconds=settings.fetch_host_interval_seconds,
            user_agent=settings.fetch_user_agent,
            allow_hosts=tuple(settings.fetch_allow_hosts),
        )


@dataclass
class Fetched:
    """A response as received: the bytes, the final URL after redirects, the headers."""

    url: str
    final_url: str
    status: int
    fetched_at: datetime
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def media_type(self) -> str:
        return self.content_type.split(";", 1)[0].strip().lower()


def check_url(url: str) -> str:
    """``url`` when it may be fetched at all: http(s), a host, no user name or password."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchRefused(f"refused to fetch {url!r}: only http and https URLs are fetched")
    if not parts.hostname:
        raise FetchRefused(f"refused to fetch {url!r}: the URL names no host")
    if parts.username is not None or parts.password is not None:
        raise FetchRefused(f"refused to fetch {url!r}: credentials in URLs are never sent")
    return url


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _headers(response: httpx.Response) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in response.headers.multi_items():
        name = name.lower()
        if name == "set-cookie":  # a session cookie is not part of what the source said
            continue
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


class Fetcher:
    """Fetches for one harvest run (or one server thread): one connection pool, one robots.txt
    cache, one clock per host. Not shared between threads."""

    def __init__(self, limits: FetchLimits) -> None:
        self.limits = limits
        self._client = httpx.Client(
            transport=GuardedTransport(limits.allow_hosts),
            follow_redirects=False,
            trust_env=False,
            headers={"user-agent": limits.user_agent},
        )
        self._robots: dict[str, tuple[float, Protego | None, str]] = {}
        self._last_request: dict[str, float] = {}
        self._lock = threading.Lock()
        #: Requests sent (robots.txt included), for reports.
        self.requests = 0

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- public ---------------------------------------------------------------------------
    def get(
        self,
        url: str,
        accept: tuple[str, ...] = (),
        etag: str = "",
        last_modified: str = "",
        robots: bool = True,
    ) -> Fetched:
        """GET ``url`` within the limits; a 304 comes back as is (``not_modified``).

        ``accept``: media types (or prefixes ending in ``/``) the answer may have; another type
        is refused. ``robots``: ask robots.txt first, on every hop.
        """
        deadline = time.monotonic() + self.limits.timeout_seconds
        conditional: dict[str, str] = {}
        if etag:
            conditional["if-none-match"] = etag
        if last_modified:
            conditional["if-modified-since"] = last_modified
        current = check_url(url)
        for _hop in range(self.limits.max_redirects + 1):
            if robots:
                self._check_robots(current, deadline)
            fetched = self._request(current, conditional, deadline, url)
            location = fetched.headers.get("location", "")
            if fetched.status in REDIRECTS and location:
                current = check_url(urljoin(current, location))
                continue
            if fetched.not_modified:
                return fetched
            if not 200 <= fetched.status < 300:
                raise FetchError(f"{current} answered HTTP {fetched.status}")
            if accept and not _accepted(fetched.media_type, accept):
                raise FetchRefused(
                    f"{current} is {fetched.media_type or 'of no stated type'}, not "
                    f"{' or '.join(accept)}"
                )
            return fetched
        raise FetchError(f"{url}: more than {self.limits.max_redirects} redirects")

    def allowed_by_robots(self, url: str) -> bool:
        """Whether robots.txt lets our user agent fetch ``url`` (reads it when not cached)."""
        try:
            self._check_robots(url, time.monotonic() + self.limits.timeout_seconds)
        except FetchRefused:
            return False
        return True

    # --- internals ------------------------------------------------------------------------
    def _wait_turn(self, url: str, delay: float) -> None:
        host = urlsplit(url).netloc.lower()
        with self._lock:
            last = self._last_request.get(host)
            now = time.monotonic()
            wait = 0.0 if last is None else last + delay - now
            self._last_request[host] = now + max(0.0, wait)
        if wait > 0:
            time.sleep(wait)

    def _request(
        self,
        url: str,
        headers: dict[str, str],
        deadline: float,
        asked: str,
        max_bytes: int | None = None,
    ) -> Fetched:
        limit = max_bytes or self.limits.max_bytes
        self._wait_turn(url, self._interval(url))
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError(f"{url}: past the time limit of {self.limits.timeout_seconds:g} s")
        self.requests += 1
        stamp = now_utc()
        try:
            with self._client.stream(
                "GET", url, headers=headers, timeout=httpx.Timeout(remaining)
            ) as response:
                got = _headers(response)
                declared = got.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise InputTooLarge(f"{url} is {int(declared):,} bytes; the limit is {limit:,}")
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise InputTooLarge(f"{url} is larger than the limit of {limit:,} bytes")
                    if time.monotonic() > deadline:
                        raise FetchError(
                            f"{url}: past the time limit of {self.limits.timeout_seconds:g} s"
                        )
                    chunks.append(chunk)
                status = response.status_code
        except httpx.TimeoutException as exc:
            raise FetchError(
                f"{url}: past the time limit of {self.limits.timeout_seconds:g} s"
            ) from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc
        finally:
            self._client.cookies.clear()
        return Fetched(asked, url, status, stamp, got, b"".join(chunks))

    def _interval(self, url: str) -> float:
        cached = self._robots.get(origin_of(url))
        delay = self.limits.host_interval_seconds
        if cached is not None and cached[1] is not None:
            crawl = cached[1].crawl_delay(self.limits.user_agent)
            if crawl:
                delay = max(delay, min(float(crawl), MAX_CRAWL_DELAY))
        return delay

    def _check_robots(self, url: str, deadline: float) -> None:
        origin = origin_of(url)
        cached = self._robots.get(origin)
        if cached is None or time.monotonic() - cached[0] > ROBOTS_TTL_SECONDS:
            cached = (time.monotonic(), *self._read_robots(origin, deadline))
            self._robots[origin] = cached
        _read, rules, problem = cached
        if problem:
            raise FetchRefused(f"refused to fetch {url}: {problem}")
        if rules is not None and not rules.can_fetch(url, self.limits.user_agent):
            raise FetchRefused(f"refused to fetch {url}: robots.txt disallows it")

    def _read_robots(self, origin: str, deadline: float) -> tuple[Protego | None, str]:
        """The rules of ``origin`` (None: no robots.txt, all allowed) or why nothing may be
        fetched there. A 4xx means no rules; a 5xx or no answer means stay away for now (the
        convention of the major crawlers)."""
        url = f"{origin}/robots.txt"
        try:
            current = url
            for _hop in range(self.limits.max_redirects + 1):
                got = self._request(current, {}, deadline, url, ROBOTS_MAX_BYTES)
                location = got.headers.get("location", "")
                if got.status in REDIRECTS and location:
                    current = check_url(urljoin(current, location))
                    continue
                break
        except InputTooLarge:
            return None, ""  # read as if there were none, like a 4xx
        except FetchRefused:
            raise
        except FetchError as exc:
            return None, f"robots.txt could not be read ({exc})"
        if 400 <= got.status < 500:
            return None, ""
        if got.status >= 300:
            return None, f"robots.txt answered HTTP {got.status}"
        text = got.body.decode("utf-8", errors="replace")
        return Protego.parse(text), ""


def _accepted(media_type: str, accept: tuple[str, ...]) -> bool:
    return any(media_type.startswith(a) if a.endswith("/") else media_type == a for a in accept)
