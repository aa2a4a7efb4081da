-- A public client (auth method none) always shows the allow/deny screen: any program can present
-- its client_id, so only the user's decision tells the real app apart (RFC 8252 §8.6, RFC 6749
-- §10.2). Keep in step with migrations/postgres. Existing public clients get the screen back.
-- SQLite cannot add a CHECK to an existing table; these triggers refuse the same rows.
UPDATE clients SET consent = 1 WHERE auth_method = 'none';

CREATE TRIGGER clients_public_consent_insert BEFORE INSERT ON clients
WHEN NEW.auth_method = 'none' AND NEW.consent = 0
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: clients_public_consent');
END;

CREATE TRIGGER clients_public_consent_update BEFORE UPDATE ON clients
WHEN NEW.auth_method = 'none' AND NEW.consent = 0
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: clients_public_consent');
END;
