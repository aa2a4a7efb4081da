-- Refresh reuse grace (off by default): within a client's grace, a rotated refresh token that
-- comes back gets the same successor instead of revoking its session. The successor is derived
-- from the presented token and a random salt kept on the rotated row while the grace lasts, so
-- only the holder of the old token can get it, and only then. Keep in step with the other folder.
ALTER TABLE clients ADD COLUMN refresh_reuse_grace_secs BIGINT
    CHECK (refresh_reuse_grace_secs IS NULL OR refresh_reuse_grace_secs BETWEEN 1 AND 300);
ALTER TABLE tokens ADD COLUMN rotated_at BIGINT;
ALTER TABLE tokens ADD COLUMN successor_salt BYTEA;
