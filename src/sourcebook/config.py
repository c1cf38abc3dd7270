"""Settings: one object, built by the caller (CLI, web app, tests) and passed down.

Every field is documented in ``docs/configuration.md`` (a test checks this).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from sourcebook.search.fusion import DEFAULT_FUSION, Fusion


def _default_home() -> Path:
    return Path.home() / ".sourcebook"


class Settings(BaseSettings):
    """Sourcebook settings, read from ``SOURCEBOOK_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="SOURCEBOOK_", extra="ignore")

    home: Path = Field(
        default_factory=_default_home,
        description="Archive directory: holds sourcebook.db (SQLite) and index/ (Tantivy).",
    )
    database_url: str = Field(
        default="",
        description="PostgreSQL connection URL (postgresql://user@host/db) of an organisation "
        "archive; empty: SQLite (sourcebook.db) in the archive directory.",
    )
    database_pool_size: int = Field(
        default=8,
        ge=1,
        description="Most connections one process opens to PostgreSQL (the connection pool).",
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
    index_commit_seconds: float = Field(
        default=1.0,
        ge=0.0,
        description="During ingest the search index is committed at least this often (0: after "
        "every batch); a crash loses nothing, the next start replays the store's change log.",
    )
    writer_wait_seconds: float = Field(
        default=5.0,
        ge=0.0,
        description="How long a second writer (ingest, delete, upload...) waits for the archive's "
        "writer lock before it is refused with a conflict.",
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
    facet_exact_limit: int = Field(
        default=10_000,
        ge=1,
        description="Facets of queries matching more documents than this are estimated from a "
        "sample of about this many (marked approximate); the total stays exact.",
    )
    semantic_model: str = Field(
        default="minilm",
        description="Embedding model of semantic search: minilm (all-MiniLM-L6-v2), e5, static:DIR.",
    )
    semantic_unit: Literal["document", "passage"] = Field(
        default="document",
        description="What one vector stands for: a document (title and start) or each passage.",
    )
    vectors_dir: Path | None = Field(
        default=None,
        description="Folder of the vector index (default: vectors/ in the archive directory).",
    )
    hybrid: bool = Field(
        default=True,
        description="Fuse BM25 with vector search for plain-text queries when vectors exist.",
    )
    hybrid_fusion: Literal["zscore", "minmax", "rrf"] = Field(
        default=DEFAULT_FUSION.method,  # type: ignore[arg-type]  # one of the three
        description="How the BM25 and vector lists are fused.",
    )
    hybrid_vector_weight: float = Field(
        default=DEFAULT_FUSION.weights[1],
        ge=0.0,
        le=1.0,
        description="Weight of the vector list in the fusion; BM25 gets the rest.",
    )
    hybrid_depth: int = Field(
        default=DEFAULT_FUSION.depth,
        ge=1,
        le=1000,
        description="How many hits of each list are fused.",
    )
    hybrid_rrf_k: float = Field(
        default=DEFAULT_FUSION.k,
        gt=0,
        description="k of reciprocal rank fusion (when hybrid_fusion is rrf).",
    )

    @property
    def db_path(self) -> Path:
        return self.home / "sourcebook.db"

    @property
    def index_path(self) -> Path:
        return self.home / "index"

    @property
    def vectors_path(self) -> Path:
        return self.vectors_dir or self.home / "vectors"

    def fusion(self) -> Fusion:
        """The fusion of hybrid search (``DEFAULT_FUSION`` unless the settings change it)."""
        weight = self.hybrid_vector_weight
        return Fusion(
            method=self.hybrid_fusion,
            weights=(round(1.0 - weight, 6), weight),
            k=self.hybrid_rrf_k,
            depth=self.hybrid_depth,
        )
