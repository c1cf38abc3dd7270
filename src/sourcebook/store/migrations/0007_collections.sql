-- Who may read each collection (docs/security.md): public, internal (any signed-in user) or
-- restricted (members of the named groups). A collection without a row is public.
CREATE TABLE collections (
    name       TEXT PRIMARY KEY,
    title      TEXT NOT NULL DEFAULT '',
    visibility TEXT NOT NULL DEFAULT 'public'
               CHECK (visibility IN ('public', 'internal', 'restricted')),
    groups     TEXT NOT NULL DEFAULT '[]',  -- JSON list of group names
    updated_at TEXT NOT NULL
);
