-- "Created" lists clients in the order they were stored (their id): the state and origin indexes
-- follow that order, and the created_at index is no longer used.
DROP INDEX clients_by_created;
DROP INDEX clients_by_state;
CREATE INDEX clients_by_state ON clients (active, id);
DROP INDEX clients_by_origin;
CREATE INDEX clients_by_origin ON clients (origin, id);
