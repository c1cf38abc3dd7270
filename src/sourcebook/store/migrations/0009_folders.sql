-- Folders (case files) of documents and quoted passages, and who they are shared with
-- (docs/workspace.md). Owners and share targets are user and group names.
CREATE TABLE folders (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    owner      TEXT NOT NULL,
    title      TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX folders_owner ON folders (owner);
CREATE TABLE folder_items (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    folder_id INTEGER NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
    docid     TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('document', 'quote')),
    start     INTEGER NOT NULL DEFAULT 0,
    "end"     INTEGER NOT NULL DEFAULT 0,
    revision  INTEGER NOT NULL DEFAULT 0,
    passage   INTEGER NOT NULL DEFAULT 0,
    text      TEXT NOT NULL DEFAULT '',
    note      TEXT NOT NULL DEFAULT '',
    added_at  TEXT NOT NULL
);
CREATE INDEX folder_items_folder ON folder_items (folder_id, id);
CREATE TABLE folder_shares (
    folder_id INTEGER NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
    target    TEXT NOT NULL CHECK (target IN ('user', 'group')),
    name      TEXT NOT NULL,
    mode      TEXT NOT NULL CHECK (mode IN ('read', 'edit')),
    PRIMARY KEY (folder_id, target, name)
);
CREATE INDEX folder_shares_name ON folder_shares (target, name);
