"""The viewer of a request: who is reading, for the one access filter (``sourcebook.viewer``).

The authentication middleware (accounts: session cookie or API token) puts a
:class:`~sourcebook.viewer.Viewer` on ``request.state.viewer``; every route that reads the
archive asks :func:`viewer_of` and passes the result down to the services. A request that no
middleware identified is an anonymous visitor.
"""

from __future__ import annotations

from starlette.requests import Request

from sourcebook.viewer import Viewer


def viewer_of(request: Request) -> Viewer:
    """The viewer the authentication middleware found for this request, or an anonymous one."""
    viewer = getattr(request.state, "viewer", None)
    return viewer if isinstance(viewer, Viewer) else Viewer.anonymous()
