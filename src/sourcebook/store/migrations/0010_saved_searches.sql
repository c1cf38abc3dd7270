-- Saved searches and their e-mail alerts (docs/alerts.md). last_position: the change-log
-- position up to which documents were considered by the last digest (or when it was saved).
CREATE TABLE saved_searches (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    owner         TEXT NOT NULL DEFAULT '',
    name          TEXT NOT NULL,
    query         TEXT NOT NULL DEFAULT '',
    filters       TEXT NOT NULL DEFAULT '{}',
    schedule      TEXT NOT NULL DEFAULT 'none' CHECK (schedule IN ('none', 'daily', 'weekly')),
    email         TEXT NOT NULL DEFAULT '',
    last_position INTEGER NOT NULL DEFAULT 0,
    last_sent_at  TEXT,
    created_at    TEXT NOT NULL,
    UNIQUE (owner, name)
);
