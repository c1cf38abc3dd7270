"""No fetch to loopback, private, link-local, multicast or reserved addresses.

The check runs where the connection is made (an httpcore network backend): the host name is
resolved once, every address it resolves to is checked, and the socket connects to the checked
address itself. A redirect opens a new connection and is checked again, and DNS rebinding (a
name that resolves to a public address for the check and a private one for the connection)
cannot slip through, because there is no second resolution. Hosts listed in
``fetch_allow_hosts`` are exempt (tests allow the loopback servers they start).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from sourcebook.errors import FetchError, FetchRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def forbidden_reason(address: IPAddress) -> str:
    """Why this address may not be fetched from ("" when it may)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return forbidden_reason(address.ipv4_mapped)
    for reason, flag in (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if flag:
            return reason
    return "" if address.is_global else "not public"


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an address literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def checked_address(host: str, port: int, allow_hosts: frozenset[str]) -> str:
    """The address to connect to: refused when any address of ``host`` is forbidden."""
    addresses = resolve(host, port)
    if not addresses:
        raise FetchError(f"{host} resolves to no address")
    if host.lower().strip("[]") in allow_hosts:
        return addresses[0]
    for text in addresses:
        reason = forbidden_reason(ipaddress.ip_address(text.split("%", 1)[0]))
        if reason:
            raise FetchRefused(
                f"refused to fetch from {host}: it resolves to {text}, a {reason} address "
                "(setting SOURCEBOOK_FETCH_ALLOW_HOSTS lists hosts allowed anyway)"
            )
    return addresses[0]


class GuardedBackend(httpcore.SyncBackend):
    """Connects only to checked addresses, pinned for the connection."""

    def __init__(self, allow_hosts: Iterable[str]) -> None:
        self.allow_hosts = frozenset(h.lower().strip("[]") for h in allow_hosts)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        address = checked_address(host, port, self.allow_hosts)
        # TLS still verifies the certificate against ``host``: httpcore passes the URL's host
        # as the server name, not the address connected to
        return super().connect_tcp(address, port, timeout, local_address, socket_options)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise FetchRefused("fetching over a Unix socket is not allowed")


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with its connection pool on a :class:`GuardedBackend` (no proxies:
    a proxy would make the connection for us, past the check)."""

    def __init__(self, allow_hosts: Iterable[str]) -> None:
        super().__init__(trust_env=False, retries=0)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=10,
            max_keepalive_connections=5,
            keepalive_expiry=5.0,
            http1=True,
            http2=False,
            network_backend=GuardedBackend(allow_hosts),
        )
