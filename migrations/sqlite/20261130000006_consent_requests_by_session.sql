-- Open consent screens are counted and trimmed per browser session (at most 16 each).
-- Keep in step with the other migrations folder.
CREATE INDEX authorization_requests_by_session ON authorization_requests (session_hash, expires_at);
