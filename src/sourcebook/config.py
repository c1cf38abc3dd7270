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
    upload_jobs: Literal["auto", "queue", "inline"] = Field(
        default="auto",
        description="Files uploaded through the API: queue (an `upload` job that `sourcebook "
        "worker` runs; the API answers 202 with the job), inline (ingested in the server's "
        "process, the answer is the report), or auto (queue in organisation mode, where the "
        "job queue is installed; inline in an embedded archive).",
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
    follow_notify: bool = Field(
        default=True,
        description="On PostgreSQL, `sourcebook serve` also LISTENs for the store's commits and "
        "applies them at once (false: polling only, e.g. behind a transaction-pooling proxy).",
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
    entity_model: Literal["small", "large"] = Field(
        default="small",
        description="spaCy pipeline of people and organisations: small (en_core_web_sm, fast) "
        "or large (en_core_web_md, better, slower; extra entities-large).",
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
    semantic_runtime: Literal["auto", "onnx", "onnx-int8", "torch"] = Field(
        default="auto",
        description="How MiniLM runs: auto (ONNX Runtime with int8 weights when onnxruntime "
        "and onnx are installed: twice as fast, the same nDCG on the test collections, with "
        "fp32 vectors too; else fp32 ONNX, else torch), onnx-int8, onnx (ONNX Runtime fp32) "
        "or torch.",
    )
    model_cache_dir: Path | None = Field(
        default=None,
        description="Folder of the MiniLM ONNX graph exported from the packaged weights "
        "(default: $XDG_CACHE_HOME/sourcebook/models or ~/.cache/sourcebook/models).",
    )
    semantic_threads: int = Field(
        default=0,
        ge=0,
        le=256,
        description="CPU threads of the embedding model (0: one per core).",
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
    crosslang: bool = Field(
        default=True,
        description="Cross-language search by default when the vectors are multilingual (e5): "
        "a query finds documents in other languages; a search may turn it off.",
    )
    crosslang_vector_weight: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="Weight of the vector list in cross-language search (1: vectors alone); "
        "BM25 gets the rest.",
    )

    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names the web server answers to (comma-separated); required to "
        "serve on an address other than loopback.",
    )
    anonymous_access: Literal["public", "none"] = Field(
        default="public",
        description="What visitors who are not signed in may read: public collections "
        "(public), or nothing (none). See docs/security.md.",
    )
    smtp_url: SecretStr | None = Field(
        default=None,
        description="The SMTP server alerts are sent through: smtp://host:25, "
        "smtp://user:password@host:587?starttls=true or smtps://host:465. Unset: no e-mail.",
    )
    mail_from: str = Field(
        default="Sourcebook <sourcebook@localhost>",
        description="The From address of alert e-mails.",
    )
    digest_max_documents: int = Field(
        default=50,
        ge=1,
        le=1000,
        description="Most documents one alert e-mail lists; it links to the rest.",
    )
    fetch_allow_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Hosts (names or addresses, comma-separated) that sources may fetch from "
        "even though they resolve to loopback, private or link-local addresses; empty: none.",
    )
    fetch_max_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        description="Largest response body one fetch of a source accepts.",
    )
    fetch_timeout_seconds: float = Field(
        default=30.0,
        gt=0.0,
        description="Seconds one fetch (connection, redirects and body) may take.",
    )
    fetch_max_redirects: int = Field(
        default=5, ge=0, description="Redirects one fetch follows (each one checked again)."
    )
    fetch_host_interval_seconds: float = Field(
        default=1.0,
        ge=0.0,
        description="Least seconds between two requests to one host (a longer robots.txt "
        "Crawl-delay wins, up to 60 s).",
    )
    fetch_user_agent: str = Field(
        default="Sourcebook/0.1 (COI archive harvester)",
        description="The User-Agent sent with every fetch, and matched against robots.txt.",
    )
    serve_harvest: bool = Field(
        default=False,
        description="``sourcebook serve`` also runs due sources on their schedule, on a "
        "background thread (``serve --harvest`` sets it).",
    )
    vector_pull_seconds: float = Field(
        default=60.0,
        ge=0.0,
        description="Organisation mode: how often `sourcebook serve` copies the vectors that "
        "queued `embed` jobs wrote into this node's vector index (only when they or the store "
        "changed); 0: only by `sourcebook jobs pull-vectors`.",
    )
    harvest_poll_seconds: float = Field(
        default=60.0,
        gt=0.0,
        description="How often ``serve --harvest`` looks for sources that are due.",
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
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key that signs session cookies; default: a random key generated on first "
        "start in the archive folder (secret.key, mode 0600). Set the same key on every server "
        "of an organisation.",
    )
    session_hours: float = Field(
        default=12.0,
        gt=0,
        le=24 * 90,
        description="How long a sign-in lasts before the user signs in again.",
    )
    login_max_failures: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins allowed per account and per client address in "
        "login_window_seconds; past them sign-in answers 429 until the window passes.",
    )
    password_hash_memory_kib: int = Field(
        default=65536,
        ge=1024,
        le=4 * 1024 * 1024,
        description="Memory (KiB) of one argon2id password hash; lower only on a small machine.",
    )
    password_hash_time_cost: int = Field(
        default=3,
        ge=1,
        le=20,
        description="Passes of one argon2id password hash.",
    )
    oidc_issuer: str = Field(
        default="",
        description="Single sign-on: the OpenID Connect provider's issuer URL (its discovery "
        "document is <issuer>/.well-known/openid-configuration); empty: off.",
    )
    oidc_client_id: str = Field(default="", description="This archive's client id there.")
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="This archive's client secret there."
    )
    oidc_scopes: str = Field(
        default="openid email profile", description="Scopes asked for at sign-in."
    )
    oidc_create_users: bool = Field(
        default=False,
        description="Make a reader account for a provider user with a verified e-mail address "
        "that matches no account (default: refuse them).",
    )
    login_window_seconds: float = Field(
        default=900.0,
        gt=0,
        description="The window over which failed sign-ins are counted (seconds).",
    )

    @field_validator("allowed_hosts", "fetch_allow_hosts", mode="before")
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

    def crosslang_fusion(self) -> Fusion:
        """The fusion of cross-language search: z-scores, the vectors weighted by
        ``crosslang_vector_weight`` (vectors alone by default; docs/semantic.md)."""
        weight = self.crosslang_vector_weight
        return Fusion(
            method="zscore", weights=(round(1.0 - weight, 6), weight), depth=self.hybrid_depth
        )
