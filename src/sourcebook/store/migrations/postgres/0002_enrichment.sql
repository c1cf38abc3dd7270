-- What enrichment derives: places, people, organisations, near-duplicate groups, passage languages.
ALTER TABLE documents ADD COLUMN places JSONB NOT NULL DEFAULT '[]';
ALTER TABLE documents ADD COLUMN people TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE documents ADD COLUMN organisations TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE documents ADD COLUMN dup_group TEXT NOT NULL DEFAULT '';
-- the MinHash signature (little-endian uint32s), so the dedup index rebuilds without re-reading text
ALTER TABLE documents ADD COLUMN minhash BYTEA;
-- true once the (slow, optional) entity job has processed the current revision
ALTER TABLE documents ADD COLUMN entities_done BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE passages ADD COLUMN language TEXT NOT NULL DEFAULT '';
CREATE INDEX documents_dup_group ON documents (dup_group);
CREATE INDEX documents_entities_pending ON documents (id) WHERE NOT entities_done;
