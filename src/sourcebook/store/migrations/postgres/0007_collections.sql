-- Who may read each collection (docs/security.md): public, internal (any signed-in user) or
-- restricted (members of the named groups). A collection without a row is public.
CREATE TABLE collections (
    name       text PRIMARY KEY,
    title      text NOT NULL DEFAULT '',
    visibility text NOT NULL DEFAULT 'public'
               CHECK (visibility IN ('public', 'internal', 'restricted')),
    groups     text[] NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now()
);
