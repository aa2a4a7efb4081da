-- OAuth2 client registrations. Keep in step with the other migrations folder (tests compare both).
-- One row holds everything the authorize and token endpoints need, so each loads a client in one
-- indexed lookup. The domain layer (src/domain/client) enforces every rule; the CHECKs repeat the
-- ones that must never be broken, whoever writes.
CREATE TABLE clients (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id             TEXT    NOT NULL UNIQUE,
    name                  TEXT    NOT NULL,
    -- lower(name), for case-insensitive search and sorting through an index on both databases
    name_key              TEXT    NOT NULL,
    -- JSON array of strings, parsed once on load
    redirect_uris         TEXT    NOT NULL,
    auth_method           TEXT    NOT NULL
        CHECK (auth_method IN ('client_secret_post', 'client_secret_basic', 'none')),
    require_pkce          INTEGER NOT NULL CHECK (require_pkce IN (0, 1)),
    scope                 TEXT    NOT NULL CHECK (scope IN ('full', 'read')),
    description           TEXT,
    version               TEXT,
    -- NULL: the instance setting; -1: never expires; otherwise seconds
    access_lifetime_secs  BIGINT  CHECK (access_lifetime_secs IS NULL OR access_lifetime_secs = -1
                                         OR access_lifetime_secs BETWEEN 1 AND 2147483647),
    -- NULL: the instance setting; otherwise seconds
    refresh_lifetime_secs BIGINT  CHECK (refresh_lifetime_secs IS NULL
                                         OR refresh_lifetime_secs BETWEEN 1 AND 2147483647),
    -- NULL: unlimited; 0: no refresh token is issued
    refresh_count_limit   BIGINT  CHECK (refresh_count_limit IS NULL
                                         OR refresh_count_limit BETWEEN 0 AND 2147483647),
    consent               INTEGER NOT NULL CHECK (consent IN (0, 1)),
    -- API requests per minute; NULL: unlimited
    rate_limit            BIGINT  CHECK (rate_limit IS NULL OR rate_limit BETWEEN 1 AND 2147483647),
    active                INTEGER NOT NULL CHECK (active IN (0, 1)),
    -- SHA-256 of the secret; NULL exactly when auth_method is 'none'
    secret_digest         BYTEA ,
    secret_last4          TEXT,
    secret_created_at     BIGINT,
    -- the secret replaced by a regeneration, accepted until old_secret_expires_at
    old_secret_digest     BYTEA ,
    old_secret_expires_at BIGINT,
    created_at            BIGINT  NOT NULL,
    updated_at            BIGINT  NOT NULL,
    CHECK (auth_method <> 'none' OR require_pkce = 1),
    CHECK ((auth_method = 'none') = (secret_digest IS NULL))
);
CREATE INDEX clients_by_name ON clients (name_key, id);
CREATE INDEX clients_by_created ON clients (created_at, id);
CREATE INDEX clients_by_state ON clients (active, created_at, id);
