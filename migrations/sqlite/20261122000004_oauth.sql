-- What the authorization server issues. Keep in step with the other migrations folder (tests
-- compare both). Secrets (codes, tokens, consent request ids) are stored only as SHA-256 digests,
-- and every row hangs off its client and user, so deleting either removes what was issued.

-- A consent screen waiting for the user's decision: single use, bound to the browser session.
CREATE TABLE authorization_requests (
    id_hash        BLOB   NOT NULL PRIMARY KEY,
    session_hash   BLOB   NOT NULL,
    user_id        BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_pk      BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    redirect_uri   TEXT   NOT NULL,
    scope          TEXT   NOT NULL,
    state          TEXT,
    code_challenge TEXT,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX authorization_requests_by_client ON authorization_requests (client_pk);
CREATE INDEX authorization_requests_by_expiry ON authorization_requests (expires_at);

-- A session: the family of tokens issued from one authorization (one code, then its refreshes).
-- The id orders sessions by creation, for the per-user-per-client cap.
CREATE TABLE grants (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    client_pk     BIGINT  NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id       BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- granted scope values, space-separated in canonical order
    scope         TEXT    NOT NULL,
    -- refreshes done so far (checked against the client's refresh count limit)
    refresh_count BIGINT  NOT NULL CHECK (refresh_count >= 0),
    created_at    BIGINT  NOT NULL,
    -- when its last token expires; NULL: never
    expires_at    BIGINT
);
CREATE INDEX grants_by_user_client ON grants (user_id, client_pk, id);
CREATE INDEX grants_by_client ON grants (client_pk);
CREATE INDEX grants_by_expiry ON grants (expires_at);

-- Access and refresh tokens, looked up by digest. A used (rotated) refresh token stays, marked,
-- so that its reuse is recognised and ends the session.
CREATE TABLE tokens (
    digest     BLOB    NOT NULL PRIMARY KEY,
    grant_id   BIGINT  NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('access', 'refresh')),
    -- granted scope values; a refresh may narrow them
    scope      TEXT    NOT NULL,
    issued_at  BIGINT  NOT NULL,
    -- NULL: never expires
    expires_at BIGINT,
    rotated    INTEGER NOT NULL CHECK (rotated IN (0, 1))
);
CREATE INDEX tokens_by_grant ON tokens (grant_id);
CREATE INDEX tokens_by_expiry ON tokens (expires_at);

-- Authorization codes: single use, 60 seconds. A redeemed code keeps the session it started, so
-- a replay can revoke it.
CREATE TABLE authorization_codes (
    code_hash      BLOB    NOT NULL PRIMARY KEY,
    client_pk      BIGINT  NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id        BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri   TEXT    NOT NULL,
    scope          TEXT    NOT NULL,
    code_challenge TEXT,
    expires_at     BIGINT  NOT NULL,
    used           INTEGER NOT NULL CHECK (used IN (0, 1)),
    grant_id       BIGINT  REFERENCES grants (id) ON DELETE SET NULL
);
CREATE INDEX authorization_codes_by_grant ON authorization_codes (grant_id);
CREATE INDEX authorization_codes_by_client ON authorization_codes (client_pk);
CREATE INDEX authorization_codes_by_expiry ON authorization_codes (expires_at);
