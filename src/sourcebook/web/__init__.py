"""The web layer: server-rendered pages and the JSON API, over one :class:`Archive`.

``from sourcebook.web import create_app``; see docs/web.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from sourcebook.config import Settings

__all__ = ["create_app"]


def create_app(settings: Settings) -> FastAPI:
    """Build the app (FastAPI is imported on the first call, so ``import sourcebook`` stays light)."""
    from sourcebook.web.app import create_app as build

    return build(settings)
