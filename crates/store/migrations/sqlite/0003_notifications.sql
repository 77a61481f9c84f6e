CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id   INTEGER NOT NULL REFERENCES members(id),
    release_id  INTEGER NOT NULL REFERENCES releases(id),
    kind        TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    message     TEXT    NOT NULL,
    UNIQUE (member_id, release_id, kind, version)
);

CREATE TABLE webhooks (
    member_id   INTEGER PRIMARY KEY REFERENCES members(id),
    url         TEXT    NOT NULL,
    secret      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id  INTEGER NOT NULL REFERENCES notifications(id),
    member_id        INTEGER NOT NULL,
    url              TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    status           TEXT    NOT NULL,
    last_error       TEXT,
    delivered_at     INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
