-- The audit log: every administrative change, written in the transaction that makes it.
-- `changes` is a JSON list of {field, from, to}, never a secret.
CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          BIGINT  NOT NULL,
    actor       TEXT    NOT NULL,
    address     TEXT,
    action      TEXT    NOT NULL,
    target_type TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    changes     TEXT    NOT NULL
);
CREATE INDEX audit_events_target ON audit_events (target_type, target, id);
CREATE INDEX audit_events_actor ON audit_events (actor, id);
CREATE INDEX audit_events_at ON audit_events (at);
