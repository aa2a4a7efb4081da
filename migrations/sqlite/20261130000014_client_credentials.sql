-- Unattended jobs: the client_credentials grant (RFC 6749 §4.4), opted into per client by an
-- administrator. Keep in step with migrations/postgres. Only a confidential client may have it:
-- a public client's ID is no credential. SQLite cannot add that CHECK to an existing table;
-- these triggers refuse the same rows.
ALTER TABLE clients ADD COLUMN client_credentials INTEGER NOT NULL DEFAULT 0
    CHECK (client_credentials IN (0, 1));

CREATE TRIGGER clients_client_credentials_insert BEFORE INSERT ON clients
WHEN NEW.auth_method = 'none' AND NEW.client_credentials = 1
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: clients_client_credentials');
END;

CREATE TRIGGER clients_client_credentials_update BEFORE UPDATE ON clients
WHEN NEW.auth_method = 'none' AND NEW.client_credentials = 1
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: clients_client_credentials');
END;

-- Access tokens a client got for itself: no user, no session, no refresh token. Looked up by
-- digest like the tokens of sessions; they go with their client.
CREATE TABLE client_tokens (
    digest     BLOB   NOT NULL PRIMARY KEY,
    client_pk  BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    -- granted scope values, space-separated in canonical order
    scope      TEXT   NOT NULL,
    -- the APIs it is for
    audience   TEXT   NOT NULL,
    issued_at  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX client_tokens_by_client ON client_tokens (client_pk);
CREATE INDEX client_tokens_by_expiry ON client_tokens (expires_at);
