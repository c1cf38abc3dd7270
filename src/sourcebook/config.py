"""Settings: one object, built by the caller (CLI, web app, tests) and passed down.

Every field is documented in ``docs/configuration.md`` (a test checks this).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from sourcebook.errors import ConfigError
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
    job_heartbeat_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How often a `sourcebook worker` tells the queue it is alive.",
    )
    job_stalled_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A worker silent this long is taken for dead and its running jobs are "
        "queued again for another worker.",
    )
    max_file_bytes: int = Field(
        default=200 * 1024 * 1024,
        description="Largest input file ingest accepts; larger files fail with a recorded error.",
    )
    max_record_chars: int = Field(
        default=20_000_000,
        description="Largest body (characters) one document may have.",
    )
    parse_sandbox: bool = Field(
        default=True,
        description="Parse files in a worker process under the memory and time limits below.",
    )
    parse_memory_mb: int = Field(
        default=1024,
        ge=0,
        description="Address space (MB) the parser worker may use per file; 0: no limit.",
    )
    parse_seconds: float = Field(
        default=60.0,
        ge=0.0,
        description="Seconds one file may take to parse; 0: no limit.",
    )
    archive_max_bytes: int = Field(
        default=1024**3,
        ge=0,
        description="Most bytes one ZIP or TAR archive may unpack to, nested archives included.",
    )
    archive_max_files: int = Field(
        default=10_000, ge=0, description="Most members one archive may hold, nested included."
    )
    archive_max_ratio: float = Field(
        default=100.0,
        gt=0,
        description="Largest compression ratio of an archive member (past 1 MiB unpacked).",
    )
    archive_max_depth: int = Field(
        default=2, ge=1, description="How deep archives inside archives are read (1: not)."
    )
    max_query_chars: int = Field(
        default=2_000,
        description="Longest search query accepted.",
    )
    query_max_slop: int = Field(
        default=100,
        ge=0,
        le=100,
        description='Largest proximity N in "a b"~N (at most 100).',
    )
    query_max_phrase_words: int = Field(
        default=64,
        ge=1,
        description="Most words in one quoted phrase.",
    )
    query_max_phrase_repeats: int = Field(
        default=4,
        ge=0,
        description='Most repeated words in a phrase with ~N ("a b a"~5 repeats one); each '
        "repeat doubles the memory Tantivy's proximity matching needs.",
    )
    query_max_wildcards: int = Field(
        default=10,
        ge=0,
        description="Most words with * or ? in one query.",
    )
    query_max_wildcard_chars: int = Field(
        default=4,
        ge=1,
        description="Most * and ? characters in one word.",
    )
    query_max_wildcard_terms: int = Field(
        default=20_000,
        ge=1,
        description="Most index terms the wildcards of one query may match (counted in the term "
        "dictionary before the query runs).",
    )
    query_max_clauses: int = Field(
        default=2_000,
        ge=1,
        description="Most index clauses one query may compile to (each word counts once per "
        "language of the archive and per text field).",
    )
    query_max_depth: int = Field(
        default=20,
        ge=1,
        description="Deepest nesting of groups and operators in a query.",
    )
    search_timeout_seconds: float = Field(
        default=5.0,
        ge=0.0,
        description='Time budget of one search: past it the search is refused with "this search '
        'took too long: narrow it" (0 = no budget).',
    )
    search_overdue_max: int = Field(
        default=2,
        ge=1,
        description="Searches past their budget that may still be running in the background; "
        "while that many are, new searches are refused at once.",
    )
    serve_memory_mb: int = Field(
        default=1536,
        ge=0,
        description="Memory ceiling of `sourcebook serve` (RLIMIT_DATA, megabytes; 0 = none).",
    )
    index_heap_bytes: int = Field(
        default=128_000_000,
        description="Memory budget of the Tantivy index writer.",
    )
    ingest_batch_size: int = Field(
        default=500,
        description="Documents written to the store and index per transaction during ingest.",
    )
    ocr: bool = Field(
        default=True,
        description="Read scanned PDF pages and TIFF/PNG/JPEG images with Tesseract OCR (when "
        "Tesseract is installed).",
    )
    ocr_tesseract: str = Field(
        default="tesseract",
        description="The Tesseract command or its path.",
    )
    ocr_page_seconds: float = Field(
        default=60.0,
        ge=0.0,
        description="Time limit of rendering or reading one page by OCR; a page over it fails "
        "its document (0 = no limit).",
    )
    ocr_max_pages: int = Field(
        default=100,
        ge=1,
        description="Most pages of one document read by OCR; a document needing more is refused.",
    )
    ocr_dpi: int = Field(
        default=300,
        ge=72,
        le=600,
        description="Resolution at which PDF pages without text are rendered for OCR.",
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
    follow_seconds: float = Field(
        default=1.0,
        ge=0.0,
        description="How often `sourcebook serve` applies the store's new changes to its search "
        "index (0: never; the index then catches up only when a writer opens the archive).",
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

    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names the web server answers to (comma-separated); required to "
        "serve on an address other than loopback.",
    )
    write_token: SecretStr | None = Field(
        default=None,
        description="Bearer token that uploads and other writes must carry.",
    )
    write_token_file: Path | None = Field(
        default=None,
        description="File holding the write token (instead of write_token).",
    )
    public_url: str = Field(
        default="",
        description="The archive's canonical address (https://coi.example.org), used in "
        "citations, Atom, OAI-PMH and record links instead of the request's host.",
    )
    admin_email: str = Field(
        default="",
        description="Administrator's e-mail address that OAI-PMH Identify gives harvesters.",
    )

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("public_url must start with https:// or http://")
        return value

    def token(self) -> str | None:
        """The write token (from ``write_token`` or ``write_token_file``), or None when unset."""
        if self.write_token is not None and self.write_token.get_secret_value().strip():
            return self.write_token.get_secret_value().strip()
        if self.write_token_file is not None:
            try:
                text = self.write_token_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"cannot read the write token file: {exc}") from exc
            if not text:
                raise ConfigError(f"the write token file {self.write_token_file} is empty")
            return text
        return None

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
