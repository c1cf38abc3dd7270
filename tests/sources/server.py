"""A real HTTP server for the fetch and harvest tests, on a free port of 127.0.0.1.

Each route answers with a fixed response, or with a function of the request (conditional GETs,
redirects, slow or oversized bodies). Requests are recorded, so a test can say what was asked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds to wait between chunks of ``chunk`` bytes (a slow server).
    trickle: float = 0.0
    chunk: int = 1024
    #: Send no Content-Length (the client learns the size only by reading).
    no_length: bool = False


Route = Reply | Callable[[BaseHTTPRequestHandler], Reply]


@dataclass
class Site:
    base: str
    routes: dict[str, Route]
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [path for path, _headers in self.requests]


def etag_reply(
    body: bytes, etag: str, media_type: str
) -> Callable[[BaseHTTPRequestHandler], Reply]:
    """A resource with an ETag: 304 to a request that names it."""

    def answer(request: BaseHTTPRequestHandler) -> Reply:
        if request.headers.get("If-None-Match") == etag:
            return Reply(304, headers={"ETag": etag})
        return Reply(200, body, {"Content-Type": media_type, "ETag": etag})

    return answer


@contextmanager
def serve(routes: dict[str, Route]) -> Iterator[Site]:
    site = Site("", routes)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            site.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            route = site.routes.get(self.path) or site.routes.get(self.path.split("?", 1)[0])
            if route is None:
                reply = Reply(404, b"not here", {"Content-Type": "text/plain"})
            else:
                reply = route(self) if callable(route) else route
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.no_length:
                self.send_header("Connection", "close")
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            try:
                for start in range(0, len(reply.body), reply.chunk):
                    self.wfile.write(reply.body[start : start + reply.chunk])
                    self.wfile.flush()
                    if reply.trickle:
                        time.sleep(reply.trickle)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
