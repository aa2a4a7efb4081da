-- A search's matches in creation order, the admin list's default, at a million clients.
-- pg_trgm's indexes find the clients holding a search's trigrams but cannot yield them in any
-- order: `client 4` among a million "Bench client N" has 111,111 matches, all among the older
-- half, and a page of the newest had to collect and sort them all (160 ms). SQLite's FTS5 index
-- yields its matches in rowid order. This is that for Postgres: for each three-character piece
-- ("gram") of a client's lower-cased name and client ID, the clients holding it, by id, in rows of
-- 1,024 ids (`block` = id / 1024; `ids` sorted, `n` how many). A search walks its rarest gram's
-- rows in block order and each row's ids in order, and keeps the clients whose name or client ID
-- holds the whole search: the first page comes after a few dozen lookups. `n` in the index tells
-- how rare a gram is without reading the arrays. Kept by the triggers below, whoever writes.
CREATE TABLE clients_search_grams (
    gram  TEXT     NOT NULL,
    block BIGINT   NOT NULL,
    ids   BIGINT[] NOT NULL,
    n     INTEGER  NOT NULL,
    PRIMARY KEY (gram, block) INCLUDE (n)
);
-- Arrays of up to 8 KB, stored apart from the row and not compressed: a new client rewrites the
-- newest row of each of its grams, and compressing those again took three quarters of the time.
ALTER TABLE clients_search_grams ALTER COLUMN ids SET STORAGE EXTERNAL;

-- The distinct grams of a client: of its name key (lower-cased by the server) and of its client
-- ID with ASCII letters lower-cased (not lower(), whose answer depends on the database's locale):
-- an ASCII search, lower-cased, finds its grams in the name or client ID it matches.
CREATE FUNCTION clients_search_grams_of(name_key TEXT, client_id TEXT) RETURNS SETOF TEXT
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT DISTINCT substr(t, i, 3)
    FROM (VALUES (name_key),
                 (translate(client_id, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'))) v(t),
         generate_series(1, length(t) - 2) i
$$;

-- Adds (gram, client id) pairs, given as two arrays of the same length, to the lists.
CREATE FUNCTION clients_search_grams_add(grams_in TEXT[], ids_in BIGINT[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO clients_search_grams AS s (gram, block, ids, n)
        SELECT gram, id / 1024, array_agg(id ORDER BY id), count(*)
        FROM unnest(grams_in, ids_in) p(gram, id) GROUP BY gram, id / 1024
        ON CONFLICT (gram, block) DO UPDATE SET (ids, n) =
            (SELECT array_agg(DISTINCT x ORDER BY x), count(DISTINCT x) FROM unnest(s.ids || excluded.ids) x);
END $$;

-- Removes (gram, client id) pairs from the lists; a list left empty goes.
CREATE FUNCTION clients_search_grams_remove(grams_in TEXT[], ids_in BIGINT[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE clients_search_grams s SET (ids, n) =
            (SELECT COALESCE(array_agg(x ORDER BY x), '{}'), count(*) FROM unnest(s.ids) x WHERE x <> ALL (g.ids))
        FROM (SELECT gram, id / 1024 AS block, array_agg(id) AS ids
              FROM unnest(grams_in, ids_in) p(gram, id) GROUP BY gram, id / 1024) g
        WHERE s.gram = g.gram AND s.block = g.block;
    DELETE FROM clients_search_grams s
        USING (SELECT DISTINCT gram, id / 1024 AS block FROM unnest(grams_in, ids_in) p(gram, id)) g
        WHERE s.gram = g.gram AND s.block = g.block AND s.n = 0;
END $$;

-- The trigger functions gather their statement's pairs (transition tables are visible only in
-- the trigger function itself) and hand them on; no pairs make two NULL arrays, which add and
-- remove nothing.
CREATE FUNCTION clients_search_grams_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM clients_search_grams_add(array_agg(g), array_agg(c.id))
        FROM inserted c, clients_search_grams_of(c.name_key, c.client_id) g;
    RETURN NULL;
END $$;

CREATE FUNCTION clients_search_grams_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM clients_search_grams_remove(array_agg(g), array_agg(c.id))
        FROM deleted c, clients_search_grams_of(c.name_key, c.client_id) g;
    RETURN NULL;
END $$;

-- A renamed client (a row trigger: a statement trigger with transition tables cannot be limited
-- to the columns that matter, and every other update, such as a token request's `last_used_at`,
-- must not pay for it): only the grams that changed.
CREATE FUNCTION clients_search_grams_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM clients_search_grams_remove(array_agg(g), array_agg(OLD.id)) FROM (
        SELECT clients_search_grams_of(OLD.name_key, OLD.client_id)
        EXCEPT SELECT clients_search_grams_of(NEW.name_key, NEW.client_id)) p(g);
    PERFORM clients_search_grams_add(array_agg(g), array_agg(NEW.id)) FROM (
        SELECT clients_search_grams_of(NEW.name_key, NEW.client_id)
        EXCEPT SELECT clients_search_grams_of(OLD.name_key, OLD.client_id)) p(g);
    RETURN NULL;
END $$;

CREATE TRIGGER clients_search_grams_insert AFTER INSERT ON clients
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION clients_search_grams_inserted();
CREATE TRIGGER clients_search_grams_delete AFTER DELETE ON clients
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION clients_search_grams_deleted();
CREATE TRIGGER clients_search_grams_update AFTER UPDATE OF name_key, client_id ON clients
    FOR EACH ROW WHEN (OLD.name_key IS DISTINCT FROM NEW.name_key OR OLD.client_id IS DISTINCT FROM NEW.client_id)
    EXECUTE FUNCTION clients_search_grams_renamed();

-- The clients already stored.
SELECT clients_search_grams_add(array_agg(g), array_agg(c.id))
    FROM clients c, clients_search_grams_of(c.name_key, c.client_id) g;
