"""A running ``sourcebook serve`` of an archive, announced in the archive's folder for the CLI.

A hybrid search needs the embedding model; the CLI would load it for each command (a second
with ONNX Runtime on a quiet machine, far more under load or with torch), while ``serve`` keeps
it loaded. So ``serve`` writes ``<home>/serve.json`` when it starts (its URL, its process id and
a random token; readable by the owner only) and removes it when it stops, and ``sourcebook
search --hybrid`` sends its search to that server's JSON API (``/api/search``, the same filters,
page and options) instead of loading the model, then prints the answer as its own.

* The token makes the request the operator's (``web/auth.py``), so the CLI sees what it sees
  when it searches by itself: every collection. Whoever can read the archive's folder can read
  the archive anyway; the token never leaves the machine's file system.
* A file whose process is gone (a server that was killed) is ignored; so is a server that does
  not answer, or answers with an error: the CLI then searches by itself, as without a server.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sourcebook.model import SearchResult
from sourcebook.search.request import FILTER_PARAMETERS, SearchRequest

log = logging.getLogger(__name__)

#: The file ``serve`` writes in the archive's folder while it runs.
SERVER_FILE = "serve.json"
#: Seconds the CLI waits for the server's answer before searching by itself.
ASK_TIMEOUT = 30.0


@dataclass(frozen=True)
class LocalServer:
    """A server of this archive running on this machine, as its file describes it."""

    url: str
    pid: int
    token: str


def server_url(host: str, port: int) -> str:
    """The URL a local client uses for a server listening on ``host``:``port``."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


@contextmanager
def announce(home: Path, url: str) -> Iterator[str]:
    """Write ``home/serve.json`` for the life of the block (yields the token); remove it after.

    The file is created readable by its owner only, beside its final name and renamed into
    place. It is removed only while it is still this process's (a second server of the same
    archive may have replaced it). When it replaced the file of another server of the archive
    that still runs, that server's file is put back on exit, so the command line keeps finding a
    running server whichever of the two stops first.
    """
    token = secrets.token_urlsafe(32)
    path = home / SERVER_FILE
    earlier = running_server(home)
    if earlier is not None and earlier.pid == os.getpid():
        earlier = None
    written = _write(path, {"url": url, "pid": os.getpid(), "token": token})
    try:
        yield token
    finally:
        if written:
            current = _read(path)
            if current is not None and current.pid == os.getpid():
                if earlier is not None and _alive(earlier.pid):
                    _write(path, {"url": earlier.url, "pid": earlier.pid, "token": earlier.token})
                else:
                    with suppress(OSError):
                        path.unlink()


def _write(path: Path, announcement: dict[str, Any]) -> bool:
    """Write an announcement, owner-only, through a temporary file renamed into place."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(json.dumps(announcement).encode())
        os.replace(tmp, path)
        return True
    except OSError as exc:  # a read-only folder: the server runs, the CLI just will not find it
        log.warning("could not write %s: %s", path, exc)
        with suppress(OSError):
            tmp.unlink()
        return False


def running_server(home: Path) -> LocalServer | None:
    """The server announced in ``home``, when its process is still alive (else None)."""
    server = _read(home / SERVER_FILE)
    if server is None or not _alive(server.pid):
        return None
    return server


def _read(path: Path) -> LocalServer | None:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        return LocalServer(url=str(data["url"]), pid=int(data["pid"]), token=str(data["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive, but its token is not ours to use
        return False
    return True


def search_params(request: SearchRequest) -> list[tuple[str, str]]:
    """``/api/search`` parameters for ``request`` (the API's names; filters repeated)."""
    params: list[tuple[str, str]] = [
        ("q", request.query),
        ("mode", request.mode),
        ("sort", request.sort),
        ("page", str(request.page)),
        ("size", str(request.page_size)),
    ]
    for field, name in FILTER_PARAMETERS.items():
        params += [(name, value) for value in getattr(request, field)]
    if request.date_from is not None:
        params.append(("from", request.date_from.isoformat()))
    if request.date_to is not None:
        params.append(("to", request.date_to.isoformat()))
    if request.explain:
        params.append(("explain", "true"))
    if request.crosslang is not None:
        params.append(("crosslang", "true" if request.crosslang else "false"))
    return params


def ask_server(
    server: LocalServer, request: SearchRequest, timeout: float = ASK_TIMEOUT
) -> dict[str, Any] | None:
    """The server's ``/api/search`` answer for ``request`` (the JSON), or None when it does not
    answer with one (the caller then searches by itself)."""
    import httpx

    try:
        response = httpx.get(
            f"{server.url}/api/search",
            params=tuple(search_params(request)),  # tuples: covariant, as httpx types them
            headers={"Authorization": f"Bearer {server.token}"},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        log.info("the local server at %s did not answer: %s", server.url, exc)
        return None
    if response.status_code != 200:
        log.info("the local server at %s answered %d", server.url, response.status_code)
        return None
    try:
        answer: dict[str, Any] = response.json()
    except ValueError:
        return None
    return answer


def search_on_server(home: Path, request: SearchRequest) -> tuple[SearchResult, str] | None:
    """``request`` answered by the archive's running server: (the result, the server's URL);
    None when no server runs or it did not answer."""
    server = running_server(home)
    if server is None:
        return None
    answer = ask_server(server, request)
    if answer is None:
        return None
    from pydantic import ValidationError

    from sourcebook.api.schemas import SearchOut

    try:
        return SearchOut.model_validate(answer).to_result(), server.url
    except ValidationError as exc:  # a server of another version: search here instead
        log.info("the local server's answer has another shape: %s", exc)
        return None


__all__ = [
    "SERVER_FILE",
    "LocalServer",
    "announce",
    "ask_server",
    "running_server",
    "search_on_server",
    "search_params",
    "server_url",
]
