-- Users and their browser sessions. Keep in step with migrations/postgres (tests compare both).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'user')),
    display_name  TEXT    NOT NULL DEFAULT '',
    created_at    BIGINT  NOT NULL
);

-- The cookie holds a random token; only its SHA-256 digest is stored, so a database leak
-- does not hand out live sessions.
CREATE TABLE sessions (
    id_hash    BLOB   NOT NULL PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
