CREATE TABLE notifications (
    id          BIGSERIAL PRIMARY KEY,
    member_id   BIGINT  NOT NULL REFERENCES members(id),
    release_id  BIGINT  NOT NULL REFERENCES releases(id),
    kind        TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    at          BIGINT  NOT NULL,
    message     TEXT    NOT NULL,
    UNIQUE (member_id, release_id, kind, version)
);

CREATE TABLE webhooks (
    member_id   BIGINT PRIMARY KEY REFERENCES members(id),
    url         TEXT    NOT NULL,
    secret      TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE webhook_deliveries (
    id               BIGSERIAL PRIMARY KEY,
    notification_id  BIGINT  NOT NULL REFERENCES notifications(id),
    member_id        BIGINT  NOT NULL,
    url              TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    attempts         BIGINT  NOT NULL,
    next_attempt_at  BIGINT  NOT NULL,
    status           TEXT    NOT NULL,
    last_error       TEXT,
    delivered_at     BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
