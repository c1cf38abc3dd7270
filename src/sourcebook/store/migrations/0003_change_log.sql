-- The change log: every write (added, updated, deleted) appends a row in the same transaction.
-- The search index records the last position it holds and replays the rest on open, so a crash
-- between the store and the index heals itself. Future index followers (PostgreSQL) read it too.
CREATE TABLE changes (
    position   INTEGER PRIMARY KEY AUTOINCREMENT,
    docid      TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('added', 'updated', 'deleted')),
    changed_at TEXT NOT NULL
);
-- the archive's documents as they stand, in the order they were written
INSERT INTO changes (docid, kind, changed_at) SELECT docid, 'added', updated_at FROM documents ORDER BY id;

-- What stays of a deleted document, for OAI-PMH (deletedRecord persistent): its docid, when it
-- was deleted and the sets it belonged to. ``key`` orders it in harvests: 2^62 + the position of
-- its deletion in the change log (never a live document's key).
CREATE TABLE tombstones (
    docid      TEXT PRIMARY KEY,
    key        INTEGER NOT NULL,
    deleted_at TEXT NOT NULL,
    collection TEXT NOT NULL DEFAULT '',
    countries  TEXT NOT NULL DEFAULT '[]'
) WITHOUT ROWID;
CREATE INDEX tombstones_deleted_at ON tombstones (deleted_at, key);

-- running, finished or interrupted (closed by the next writer when a run never finished)
ALTER TABLE ingest_runs ADD COLUMN status TEXT NOT NULL DEFAULT 'running';
UPDATE ingest_runs SET status = CASE WHEN finished_at IS NULL THEN 'interrupted' ELSE 'finished' END;
