-- The change log: every write (added, updated, deleted) appends a row in the same transaction.
-- Appends are serialised by a transaction-level advisory lock taken just before them and held
-- until commit, so positions become visible in order: a follower reading "position > N" never
-- skips a row that commits later with a smaller position (see docs/organisation.md).
CREATE TABLE changes (
    position   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    docid      TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('added', 'updated', 'deleted')),
    changed_at TIMESTAMPTZ NOT NULL
);

-- What stays of a deleted document, for OAI-PMH (deletedRecord persistent): its docid, when it
-- was deleted and the sets it belonged to. ``key`` orders it in harvests: 2^62 + the position of
-- its deletion in the change log (never a live document's key).
CREATE TABLE tombstones (
    docid      TEXT PRIMARY KEY,
    key        BIGINT NOT NULL,
    deleted_at TIMESTAMPTZ NOT NULL,
    collection TEXT NOT NULL DEFAULT '',
    countries  TEXT[] NOT NULL DEFAULT '{}'
);
CREATE INDEX tombstones_deleted_at ON tombstones (deleted_at, key);

-- running, finished or interrupted (closed by the next writer when a run never finished)
ALTER TABLE ingest_runs ADD COLUMN status TEXT NOT NULL DEFAULT 'running';
-- the server process of the liveness connection of the store that started the run: while it is
-- connected the run's writer is alive, and another writer does not close the run as interrupted
ALTER TABLE ingest_runs ADD COLUMN backend_pid INTEGER;
