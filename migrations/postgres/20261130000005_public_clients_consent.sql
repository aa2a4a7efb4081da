-- A public client (auth method none) always shows the allow/deny screen: any program can present
-- its client_id, so only the user's decision tells the real app apart (RFC 8252 §8.6, RFC 6749
-- §10.2). Keep in step with migrations/sqlite. Existing public clients get the screen back.
UPDATE clients SET consent = 1 WHERE auth_method = 'none';

ALTER TABLE clients ADD CONSTRAINT clients_public_consent CHECK (auth_method <> 'none' OR consent = 1);
