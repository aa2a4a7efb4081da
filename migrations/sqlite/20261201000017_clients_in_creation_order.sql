-- "Created" lists clients in the order they were stored (their id), which the table and the
-- trigram index both keep: the state and origin indexes follow that order, and the created_at
-- index and the trigram counts (searches now count through the index itself) are no longer used.
DROP INDEX clients_by_created;
DROP INDEX clients_by_state;
CREATE INDEX clients_by_state ON clients (active, id);
DROP INDEX clients_by_origin;
CREATE INDEX clients_by_origin ON clients (origin, id);
DROP TABLE clients_search_terms;
