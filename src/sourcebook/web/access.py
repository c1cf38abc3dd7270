"""Who may reach the server and who may write to the archive (until accounts exist).

- **Host names.** The server answers only the names it is told (``SOURCEBOOK_ALLOWED_HOSTS``);
  on loopback, the loopback names as well. Any other ``Host`` gets 400, so a site whose domain is
  made to resolve to this server (DNS rebinding) can neither read the archive through a
  visitor's browser nor post to it, and no foreign name is copied into links or identifiers.
- **Writes.** With a write token set (``SOURCEBOOK_WRITE_TOKEN`` or ``SOURCEBOOK_WRITE_TOKEN_FILE``)
  every write carries ``Authorization: Bearer <token>``. Without one, writes are accepted only
  from this machine: the server listens on loopback, the connection comes from a loopback
  address, no proxy forwarded it, and a browser sent it from our own pages (cross-site check).
"""

from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import urlsplit

from starlette.requests import Request

from sourcebook.config import Settings
from sourcebook.errors import AccessDenied, ConfigError

#: The names of this machine's loopback interface, as browsers write them in ``Host``.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")
#: Headers a reverse proxy adds: a forwarded request may come from anywhere.
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is this machine."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def allowed_hosts_for(settings: Settings, listen_host: str) -> list[str]:
    """The ``Host`` names to answer when listening on ``listen_host``: the loopback names (on
    loopback) and ``settings.allowed_hosts``.

    Raises ConfigError when the server would listen on another address with no names given.
    """
    names = list(settings.allowed_hosts)
    if is_loopback(listen_host):
        return names + [n for n in LOOPBACK_HOSTS if n not in names]
    if not names:
        raise ConfigError(
            f"serving on {listen_host} answers other machines: name the host names it is "
            "reached by with SOURCEBOOK_ALLOWED_HOSTS (comma-separated, e.g. "
            "coi.example.org), so that requests for other names are refused"
        )
    return names


def check_write(request: Request) -> None:
    """Refuses a write the caller may not make (a FastAPI dependency of every write route)."""
    settings: Settings = request.app.state.settings
    token = settings.token()
    if token is not None:
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            value.strip().encode("utf-8"), token.encode("utf-8")
        ):
            raise AccessDenied("writes need the archive's token: Authorization: Bearer <token>")
        return
    listen: str = request.app.state.listen_host
    client = request.client.host if request.client else ""
    if not (is_loopback(listen) and is_loopback(client)):
        raise AccessDenied(
            "writes from other machines are refused until the archive has a write token "
            "(SOURCEBOOK_WRITE_TOKEN)"
        )
    if any(name in request.headers for name in FORWARDING_HEADERS):
        raise AccessDenied(
            "a forwarded write is refused until the archive has a write token "
            "(SOURCEBOOK_WRITE_TOKEN)"
        )
    same_origin(request)


def has_token(request: Request) -> bool:
    """Whether the archive has a write token (and so the request, past :func:`check_write`,
    carried it)."""
    settings: Settings = request.app.state.settings
    return settings.token() is not None


def same_origin(request: Request) -> None:
    """Refuses a write a browser sends from another site (cross-site request forgery).

    A page elsewhere can make a visitor's browser post a form to this archive, even one served on
    127.0.0.1; browsers say where such a request comes from (``Sec-Fetch-Site``, ``Origin``).
    Clients that are not browsers (curl, scripts) send neither and are let through.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise AccessDenied(f"uploads from another site ({site}) are refused")
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise AccessDenied(f"uploads from another origin ({origin[:100]}) are refused")
