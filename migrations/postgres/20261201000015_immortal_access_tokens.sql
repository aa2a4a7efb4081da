-- A refresh replaces its session's never-expiring access token (if any) instead of adding one
-- more: found through this (usually empty) partial index rather than by reading every token the
-- session ever had, which grows with each rotation.
CREATE INDEX tokens_immortal_access ON tokens (grant_id) WHERE kind = 'access' AND expires_at IS NULL;
