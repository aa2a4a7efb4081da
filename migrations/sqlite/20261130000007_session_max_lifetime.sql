-- The longest a session (a refresh-token family) may live from its authorization, whatever its
-- refreshes (default 90 days). Keep in step with the other migrations folder.
ALTER TABLE settings ADD COLUMN session_max_lifetime_secs BIGINT NOT NULL DEFAULT 7776000
    CHECK (session_max_lifetime_secs BETWEEN 1 AND 2147483647);
