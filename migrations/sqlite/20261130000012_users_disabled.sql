-- A disabled user cannot sign in; disabling also ends everything issued to them. Keep in step
-- with the other migrations folder.
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1));
