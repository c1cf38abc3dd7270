"""Settings: one object, built by the caller (CLI, web app, tests) and passed down.

Every field is documented in ``docs/configuration.md`` (a test checks this).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path.home() / ".sourcebook"


class Settings(BaseSettings):
    """Sourcebook settings, read from ``SOURCEBOOK_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="SOURCEBOOK_", extra="ignore")

    home: Path = Field(
        default_factory=_default_home,
        description="Archive directory: holds sourcebook.db (SQLite) and index/ (Tantivy).",
    )
    max_file_bytes: int = Field(
        default=200 * 1024 * 1024,
        description="Largest input file ingest accepts; larger files fail with a recorded error.",
    )
    max_record_chars: int = Field(
        default=20_000_000,
        description="Largest body (characters) one document may have.",
    )
    max_query_chars: int = Field(
        default=2_000,
        description="Longest search query accepted.",
    )
    index_heap_bytes: int = Field(
        default=128_000_000,
        description="Memory budget of the Tantivy index writer.",
    )
    ingest_batch_size: int = Field(
        default=500,
        description="Documents written to the store and index per transaction during ingest.",
    )
    default_language: str = Field(
        default="en",
        description="Language (ISO 639-1) whose stemmer analyses documents of unknown language.",
    )
    passage_target_chars: int = Field(
        default=800,
        description="Passages are paragraphs, merged or split towards this many characters.",
    )
    page_size_max: int = Field(
        default=100,
        description="Largest page of search results a caller may ask for.",
    )

    @property
    def db_path(self) -> Path:
        return self.home / "sourcebook.db"

    @property
    def index_path(self) -> Path:
        return self.home / "index"
