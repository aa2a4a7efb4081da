-- Searching clients by any part of their name or client ID at a million clients: trigram
-- indexes serve `LIKE '%…%'`. SQLite has an FTS5 table instead (tests/migrations.rs knows the
-- difference). pg_trgm ships with Postgres and is a trusted extension: a database owner may
-- create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX clients_search_name ON clients USING gin (name_key gin_trgm_ops);
CREATE INDEX clients_search_id ON clients USING gin (client_id gin_trgm_ops);
