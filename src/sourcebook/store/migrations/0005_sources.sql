-- Sources harvested on a schedule (feeds, OAI-PMH, pages, sitemaps) and their state.
CREATE TABLE sources (
    name            TEXT PRIMARY KEY,
    url             TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('feed', 'oai', 'page', 'sitemap')),
    every_seconds   INTEGER NOT NULL,
    collection      TEXT NOT NULL DEFAULT '',
    oai_set         TEXT NOT NULL DEFAULT '',
    follow          TEXT NOT NULL DEFAULT '',
    max_pages       INTEGER NOT NULL DEFAULT 100,
    created_at      TEXT NOT NULL,
    etag            TEXT NOT NULL DEFAULT '',
    last_modified   TEXT NOT NULL DEFAULT '',
    oai_from        TEXT NOT NULL DEFAULT '',
    oai_token       TEXT NOT NULL DEFAULT '',
    last_run_at     TEXT,
    last_success_at TEXT,
    last_error      TEXT NOT NULL DEFAULT '',
    runs            INTEGER NOT NULL DEFAULT 0,
    fetched         INTEGER NOT NULL DEFAULT 0,
    added           INTEGER NOT NULL DEFAULT 0,
    updated         INTEGER NOT NULL DEFAULT 0,
    unchanged       INTEGER NOT NULL DEFAULT 0,
    failed          INTEGER NOT NULL DEFAULT 0
);

-- Every fetched page or file kept as received, by content (one copy of equal bytes) ...
CREATE TABLE original_blobs (
    sha256 TEXT PRIMARY KEY,
    body   BLOB NOT NULL
) WITHOUT ROWID;

-- ... and each time it was read into a document version.
CREATE TABLE originals (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    docid        TEXT NOT NULL,
    revision     INTEGER NOT NULL,
    source       TEXT NOT NULL,
    url          TEXT NOT NULL,
    final_url    TEXT NOT NULL,
    fetched_at   TEXT NOT NULL,
    status       INTEGER NOT NULL,
    content_type TEXT NOT NULL DEFAULT '',
    sha256       TEXT NOT NULL REFERENCES original_blobs (sha256),
    size         INTEGER NOT NULL,
    headers      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX originals_docid ON originals (docid, id);
CREATE INDEX originals_sha256 ON originals (sha256);
