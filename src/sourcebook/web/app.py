"""The web application: pages, the JSON API under ``/api``, static files, security headers.

``create_app(settings)`` builds the app; its lifespan opens one :class:`Archive` on startup
(``app.state.archive``), starts loading the embedding model in the background when the archive
has vectors (hybrid search), and closes the archive on shutdown. Run it with ``sourcebook serve`` or any ASGI
server (``uvicorn --factory`` with a function that builds the settings).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.staticfiles import StaticFiles

from sourcebook import __version__
from sourcebook.accounts.oidc import enabled as oidc_enabled
from sourcebook.api import exports as api_exports
from sourcebook.api import jobs as api_jobs
from sourcebook.api import saved_searches as api_saved_searches
from sourcebook.api import workspace as api_workspace
from sourcebook.api.routes import build_router
from sourcebook.config import Settings
from sourcebook.services import Archive
from sourcebook.sources.scheduler import start_harvester
from sourcebook.web import (
    apidocs,
    atom,
    oai,
    pages,
    pages_account,
    pages_admin,
    pages_folders,
    pages_jobs,
    pages_original,
    pages_saved,
    pages_sso,
)
from sourcebook.web.access import allowed_hosts_for
from sourcebook.web.auth import LOCAL_TOKEN_VARIABLE, Authentication
from sourcebook.web.problems import PROBLEM_MEDIA_TYPE, install_error_handlers
from sourcebook.web.runtime import Runtime
from sourcebook.web.security import BodyLimit, HeadAsGet, SecurityHeaders
from sourcebook.web.templating import STATIC_DIR, build_templates

log = logging.getLogger(__name__)

API_DESCRIPTION = """\
Search, read, cite and export the records of a Sourcebook archive; add documents by upload.
Errors are [RFC 9457](https://www.rfc-editor.org/rfc/rfc9457) problem details
(`application/problem+json`) whose `type` names the problem.
"""
#: Room for the multipart framing around the files of one upload.
UPLOAD_OVERHEAD_BYTES = 1024 * 1024


def create_app(
    settings: Settings,
    *,
    allowed_hosts: Sequence[str] | None = None,
    listen_host: str = "127.0.0.1",
    local_token: str | None = None,
) -> FastAPI:
    """The Sourcebook web app for the archive at ``settings.home``.

    ``listen_host``: the address the server listens on (``sourcebook serve --host``). On loopback
    the app answers its loopback names and ``SOURCEBOOK_ALLOWED_HOSTS``; elsewhere only the
    latter, which must then be set (ConfigError otherwise), and writes need the write token.
    ``allowed_hosts`` overrides the names. Other ``Host`` headers get 400, so a web page whose
    domain is made to resolve to us (DNS rebinding) cannot use the archive through the
    visitor's browser. See :mod:`sourcebook.web.access`.
    """
    if allowed_hosts is None:
        allowed_hosts = allowed_hosts_for(settings, listen_host)
    settings.token()  # an unreadable token file stops the app here, not at the first upload

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(settings=settings, archive=Archive(settings))
        app.state.runtime = runtime
        app.state.archive = runtime.archive
        # hybrid search's model loads in the background (seconds); until then, and without
        # vectors, queries are answered as usual
        runtime.archive.warm_up()
        runtime.follow()  # the index applies what other writers add to the store
        harvester = start_harvester(runtime.archive)  # serve --harvest: due sources, in turn
        puller = _vector_puller(runtime.archive)  # organisation mode: vectors of embed jobs
        log.info("serving the archive at %s", settings.home)
        try:
            yield
        finally:
            if harvester is not None:
                harvester.stop()
            if puller is not None:
                puller.stop()
            runtime.close()

    app = FastAPI(
        title="Sourcebook",
        version=__version__,
        description=API_DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.listen_host = listen_host
    # the token `sourcebook serve` wrote in the archive's serve.json: the local CLI's requests
    # carry it and are the operator's (sourcebook.local_server)
    app.state.local_token = local_token
    app.state.templates = build_templates()
    app.openapi = _problem_openapi(app)  # type: ignore[method-assign]
    install_error_handlers(app)

    app.include_router(build_router(settings))
    app.include_router(api_exports.router)
    app.include_router(api_workspace.router)  # folders
    app.include_router(api_saved_searches.router)
    app.include_router(apidocs.router)
    app.include_router(pages.router)
    app.include_router(pages_original.router)  # originals kept from sources, revision diffs
    app.include_router(pages_account.router)
    app.include_router(pages_admin.router)
    app.include_router(pages_folders.router)  # folders, quotes, the research bundle
    app.include_router(pages_saved.router)  # saved searches, their feeds and digests
    if oidc_enabled(settings):  # single sign-on's pages exist only when it is set up
        app.include_router(pages_sso.router)
    app.include_router(api_jobs.router)
    app.include_router(pages_jobs.router)
    oai_router = oai.make_router(
        admin_email=settings.admin_email or None, public_url=settings.public_url
    )
    app.include_router(oai_router, include_in_schema=False)  # XML protocols, not the JSON API
    app.include_router(atom.router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    upload_limit = settings.max_file_bytes + UPLOAD_OVERHEAD_BYTES

    def body_limit(path: str, method: str) -> int | None:
        return upload_limit if method == "POST" and path == "/api/ingest" else None

    app.add_middleware(Authentication)  # inside the host check: a foreign Host never gets here
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    app.add_middleware(BodyLimit, limit_for=body_limit)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(HeadAsGet)
    return app


def _problem_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """The OpenAPI schema, with error responses declared as ``application/problem+json``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                if not isinstance(operation, dict):
                    continue
                for code, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if code.isdigit() and int(code) >= 400 and "application/json" in content:
                        content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
        app.openapi_schema = schema
        return schema

    return openapi


def _vector_puller(archive: Archive) -> Any:
    """The thread that copies queued embed jobs' vectors (organisation mode), or None."""
    if not archive.settings.database_url:
        return None  # the embedded default imports nothing of the queue
    from sourcebook.jobs.vector_puller import start_vector_puller

    return start_vector_puller(archive)


def app_from_environment() -> FastAPI:
    """The app for the archive named by ``SOURCEBOOK_*`` variables (for ``uvicorn --factory``
    and ``sourcebook serve --reload``)."""
    settings = Settings()
    # set by ``sourcebook serve --reload``; a server started otherwise is taken to be on loopback
    listen_host = os.environ.get("SOURCEBOOK_LISTEN_HOST", "127.0.0.1")
    local_token = os.environ.get(LOCAL_TOKEN_VARIABLE) or None
    return create_app(settings, listen_host=listen_host, local_token=local_token)
