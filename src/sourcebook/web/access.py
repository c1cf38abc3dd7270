"""Who may reach the server, and the cross-site check of writes (who may write: ``web/auth.py``).

- **Host names.** The server answers only the names it is told (``SOURCEBOOK_ALLOWED_HOSTS``);
  on loopback, the loopback names as well. Any other ``Host`` gets 400, so a site whose domain is
  made to resolve to this server (DNS rebinding) can neither read the archive through a
  visitor's browser nor post to it, and no foreign name is copied into links or identifiers.
- **Writes** need an editor (a session or an API token) or the archive's legacy write token;
  an archive with no users and no write token takes writes only from this machine: the server
  listens on loopback, the connection comes from a loopback address, no proxy forwarded it, and
  a browser sent it from our own pages (cross-site check, :func:`same_origin`). See
  :mod:`sourcebook.web.auth` and docs/security.md.
"""

from __future__ import annotations

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
