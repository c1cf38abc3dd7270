-- The archive: documents are the source of truth; the search index is derived from them.
CREATE TABLE documents (
    id               INTEGER PRIMARY KEY,
    docid            TEXT NOT NULL UNIQUE,
    source_key       TEXT NOT NULL UNIQUE,
    source_id        TEXT NOT NULL DEFAULT '',
    title            TEXT NOT NULL DEFAULT '',
    publisher        TEXT NOT NULL DEFAULT '',
    authors          TEXT NOT NULL DEFAULT '[]',
    publication_date TEXT,
    last_updated     TEXT,
    source_url       TEXT NOT NULL DEFAULT '',
    original_url     TEXT NOT NULL DEFAULT '',
    accessed_date    TEXT,
    cite_as          TEXT NOT NULL DEFAULT '',
    disclaimer       TEXT NOT NULL DEFAULT '',
    copyright        TEXT NOT NULL DEFAULT '',
    body             TEXT NOT NULL DEFAULT '',
    document_type    TEXT NOT NULL DEFAULT '',
    language         TEXT NOT NULL DEFAULT '',
    countries        TEXT NOT NULL DEFAULT '[]',
    collection       TEXT NOT NULL DEFAULT '',
    source_tags      TEXT NOT NULL DEFAULT '{}',
    derived          TEXT NOT NULL DEFAULT '[]',
    origin           TEXT NOT NULL DEFAULT '',
    content_hash     TEXT NOT NULL,
    revision         INTEGER NOT NULL DEFAULT 1,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX documents_publication_date ON documents (publication_date);
CREATE INDEX documents_publisher ON documents (publisher);
CREATE INDEX documents_updated_at ON documents (updated_at);

-- Passages are offsets into documents.body (the text is body[start:end]).
CREATE TABLE passages (
    document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    start       INTEGER NOT NULL,
    end         INTEGER NOT NULL,
    PRIMARY KEY (document_id, seq)
) WITHOUT ROWID;

CREATE TABLE document_countries (
    document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    code        TEXT NOT NULL,
    rank        INTEGER NOT NULL,
    PRIMARY KEY (document_id, code)
) WITHOUT ROWID;
CREATE INDEX document_countries_code ON document_countries (code);

-- Every version of a document. The current version's content lives in documents; a superseded
-- revision keeps a full JSON snapshot of what it said.
CREATE TABLE revisions (
    document_id    INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    number         INTEGER NOT NULL,
    content_hash   TEXT NOT NULL,
    recorded_at    TEXT NOT NULL,
    changed_fields TEXT NOT NULL DEFAULT '[]',
    snapshot       TEXT,
    PRIMARY KEY (document_id, number)
) WITHOUT ROWID;

-- Every docid ever issued, so that none is ever handed out twice.
CREATE TABLE docids (
    docid      TEXT PRIMARY KEY,
    source_key TEXT NOT NULL,
    issued_at  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE ingest_runs (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    inputs      TEXT NOT NULL DEFAULT '[]',
    added       INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE ingest_errors (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER REFERENCES ingest_runs (id) ON DELETE CASCADE,
    origin      TEXT NOT NULL,
    message     TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
