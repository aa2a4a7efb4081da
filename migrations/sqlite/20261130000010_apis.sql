-- Registered APIs (resource servers, RFC 8707) and the audience of what is issued. Keep in step
-- with the other migrations folder (tests compare both).
--
-- An API has its own credentials (client_id and a secret digest) with which it introspects the
-- tokens issued for it. The built-in API (/api/v1) is row 1: its identifier is {issuer}/api/v1,
-- known only at run time, so it is stored as NULL; it has no credentials (it is Clavis itself)
-- and cannot be deleted.
CREATE TABLE apis (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    identifier        TEXT    UNIQUE,
    name              TEXT    NOT NULL,
    -- lower(name), for case-insensitive search and sorting through an index on both databases
    name_key          TEXT    NOT NULL,
    description       TEXT,
    client_id         TEXT    UNIQUE,
    secret_digest     BLOB,
    secret_last4      TEXT,
    secret_created_at BIGINT,
    active            INTEGER NOT NULL CHECK (active IN (0, 1)),
    builtin           INTEGER NOT NULL CHECK (builtin IN (0, 1)),
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL,
    CHECK ((builtin = 1) = (id = 1)),
    CHECK ((builtin = 1) = (identifier IS NULL)),
    CHECK ((builtin = 1) = (client_id IS NULL)),
    CHECK ((client_id IS NULL) = (secret_digest IS NULL))
);
CREATE INDEX apis_by_name ON apis (name_key, id);
INSERT INTO apis (id, identifier, name, name_key, description, client_id, secret_digest, secret_last4,
                  secret_created_at, active, builtin, created_at, updated_at)
VALUES (1, NULL, 'Clavis API', 'clavis api', 'The built-in API: /api/v1/me (the signed-in user''s profile).',
        NULL, NULL, NULL, NULL, 1, 1, 0, 0);

-- Audiences: API row ids, space-separated in ascending order ('1' is the built-in API). Row ids
-- are never reused, so a token never counts for an API registered after another was deleted.
-- On a refresh token: the APIs its session was granted; on an access token: the APIs it is for.
ALTER TABLE tokens ADD COLUMN audience TEXT NOT NULL DEFAULT '1';
ALTER TABLE authorization_codes ADD COLUMN audience TEXT NOT NULL DEFAULT '1';
ALTER TABLE authorization_requests ADD COLUMN audience TEXT NOT NULL DEFAULT '1';
-- The APIs a client may ask tokens for (same format); NULL: any active API.
ALTER TABLE clients ADD COLUMN apis TEXT;
