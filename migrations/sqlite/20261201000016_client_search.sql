-- Searching clients by any part of their name or client ID at a million clients: a trigram
-- index (FTS5, case-insensitive) over the two columns, kept in step with the table by triggers.
-- Postgres has pg_trgm indexes instead (tests/migrations.rs knows the difference).
CREATE VIRTUAL TABLE clients_search USING fts5(
    name_key, client_id, content = 'clients', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO clients_search (clients_search) VALUES ('rebuild');

CREATE TRIGGER clients_search_insert AFTER INSERT ON clients BEGIN
    INSERT INTO clients_search (rowid, name_key, client_id) VALUES (new.id, new.name_key, new.client_id);
END;
CREATE TRIGGER clients_search_delete AFTER DELETE ON clients BEGIN
    INSERT INTO clients_search (clients_search, rowid, name_key, client_id)
    VALUES ('delete', old.id, old.name_key, old.client_id);
END;
CREATE TRIGGER clients_search_update AFTER UPDATE OF name_key, client_id ON clients BEGIN
    INSERT INTO clients_search (clients_search, rowid, name_key, client_id)
    VALUES ('delete', old.id, old.name_key, old.client_id);
    INSERT INTO clients_search (rowid, name_key, client_id) VALUES (new.id, new.name_key, new.client_id);
END;

-- How many clients each trigram is in: a search starts from its rarest trigram.
CREATE VIRTUAL TABLE clients_search_terms USING fts5vocab(clients_search, 'row');
