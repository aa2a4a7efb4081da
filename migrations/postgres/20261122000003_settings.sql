-- Instance-wide settings: exactly one row. Keep in step with the other migrations folder.
CREATE TABLE settings (
    id                          INTEGER PRIMARY KEY CHECK (id = 1),
    access_token_lifetime_secs  BIGINT  NOT NULL CHECK (access_token_lifetime_secs BETWEEN 1 AND 2147483647),
    refresh_token_lifetime_secs BIGINT  NOT NULL CHECK (refresh_token_lifetime_secs BETWEEN 1 AND 2147483647),
    session_cap                 BIGINT  NOT NULL CHECK (session_cap BETWEEN 1 AND 1000),
    api_enabled                 INTEGER NOT NULL CHECK (api_enabled IN (0, 1)),
    updated_at                  BIGINT  NOT NULL
);
-- The defaults: access tokens 12 hours, refresh tokens 30 days, 10 sessions per user and client.
INSERT INTO settings (id, access_token_lifetime_secs, refresh_token_lifetime_secs, session_cap, api_enabled, updated_at)
VALUES (1, 43200, 2592000, 10, 1, 0);
