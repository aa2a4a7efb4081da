-- Clients that register themselves (RFC 7591/7592) and client ID metadata documents. Keep in step
-- with the other migrations folder (tests compare both).

-- The policy, off by default: nothing changes for existing installs.
ALTER TABLE settings ADD COLUMN registration TEXT NOT NULL DEFAULT 'off'
    CHECK (registration IN ('off', 'open', 'token'));
ALTER TABLE settings ADD COLUMN client_metadata_documents INTEGER NOT NULL DEFAULT 0
    CHECK (client_metadata_documents IN (0, 1));
-- Host names whose metadata documents may be fetched although they resolve to private or local
-- addresses (space-separated, exact; empty: none).
ALTER TABLE settings ADD COLUMN metadata_document_hosts TEXT NOT NULL DEFAULT '';
-- At most this many self-registered clients exist at once.
ALTER TABLE settings ADD COLUMN max_self_registered BIGINT NOT NULL DEFAULT 1000
    CHECK (max_self_registered BETWEEN 0 AND 1000000);

-- Who registered a client: an administrator, the client itself (RFC 7591), or its metadata
-- document. Self-registered clients keep PKCE and the consent screen, always.
ALTER TABLE clients ADD COLUMN origin TEXT NOT NULL DEFAULT 'admin'
    CHECK (origin IN ('admin', 'registered', 'metadata_document'));
-- RFC 7592: the digest of the registration access token (rotated on each update).
ALTER TABLE clients ADD COLUMN registration_token_digest BLOB;
-- The registered metadata Clavis keeps beyond the client's settings (client_uri, logo_uri,
-- contacts, tos_uri, policy_uri, software_id, software_version), as a JSON object.
ALTER TABLE clients ADD COLUMN metadata TEXT;
-- A client known by its metadata document: until when the fetched document may be used.
ALTER TABLE clients ADD COLUMN metadata_expires_at BIGINT;
-- When a code of this client was last exchanged: self-registered clients unused for 30 days go.
ALTER TABLE clients ADD COLUMN last_used_at BIGINT;
CREATE INDEX clients_by_origin ON clients (origin, created_at, id);

-- Initial access tokens (RFC 7591 §3) an administrator issued for registration = token.
CREATE TABLE registration_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    digest     BLOB   NOT NULL UNIQUE,
    created_at BIGINT  NOT NULL,
    -- NULL: never expires
    expires_at BIGINT,
    -- NULL: unlimited
    max_uses   BIGINT  CHECK (max_uses IS NULL OR max_uses >= 1),
    uses       BIGINT  NOT NULL CHECK (uses >= 0)
);

-- SQLite cannot add a CHECK to an existing table; these triggers refuse the same rows.
CREATE TRIGGER clients_self_registered_insert BEFORE INSERT ON clients
WHEN NEW.origin <> 'admin' AND (NEW.require_pkce = 0 OR NEW.consent = 0)
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: clients_self_registered');
END;

CREATE TRIGGER clients_self_registered_update BEFORE UPDATE ON clients
WHEN NEW.origin <> 'admin' AND (NEW.require_pkce = 0 OR NEW.consent = 0)
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: clients_self_registered');
END;
