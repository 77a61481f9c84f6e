-- Botnet events (all four products), the members each one concerns (the
-- matcher's answer at ingest), the serials of the RPZ zones, and the
-- member a feed file is for.
CREATE TABLE botnet_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    product      TEXT    NOT NULL,
    seen_at      INTEGER  NOT NULL,
    received_at  INTEGER  NOT NULL,
    ip           TEXT,
    port         INTEGER,
    dst_ip       TEXT,
    dst_port     INTEGER,
    domain       TEXT,
    family       TEXT    NOT NULL,
    threat_code  TEXT,
    confidence   INTEGER,
    protocol     TEXT,
    sensor       TEXT,
    device_type  TEXT,
    status       TEXT,
    purpose      TEXT,
    asn          INTEGER,
    country      TEXT,
    latitude     REAL,
    longitude    REAL,
    count        INTEGER  NOT NULL,
    first_seen   INTEGER  NOT NULL,
    last_seen    INTEGER  NOT NULL,
    source       TEXT    NOT NULL,
    marking      TEXT    NOT NULL,
    recipients   TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL UNIQUE
);
CREATE INDEX botnet_events_seen ON botnet_events(seen_at);
CREATE INDEX botnet_events_product ON botnet_events(product, last_seen);

CREATE TABLE botnet_recipients (
    member_id  INTEGER NOT NULL,
    event_id   INTEGER NOT NULL REFERENCES botnet_events(id) ON DELETE CASCADE,
    PRIMARY KEY (member_id, event_id)
);

CREATE TABLE botnet_zone_serials (
    name     TEXT    PRIMARY KEY,
    serial   INTEGER  NOT NULL,
    sha256   TEXT    NOT NULL
);

ALTER TABLE feed_files ADD COLUMN member_id INTEGER;
CREATE INDEX feed_files_member ON feed_files(member_id, product, slot);
