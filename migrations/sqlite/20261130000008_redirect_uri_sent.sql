-- Whether the authorization request named its redirect_uri: it may leave it out when the client
-- has exactly one registered (RFC 6749 §3.1.2.3), and then the token request need not repeat it
-- (§4.1.3). Keep in step with the other migrations folder.
ALTER TABLE authorization_requests ADD COLUMN redirect_uri_sent INTEGER NOT NULL DEFAULT 1
    CHECK (redirect_uri_sent IN (0, 1));
ALTER TABLE authorization_codes ADD COLUMN redirect_uri_sent INTEGER NOT NULL DEFAULT 1
    CHECK (redirect_uri_sent IN (0, 1));
