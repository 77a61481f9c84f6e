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
    fp           INTEGER  NOT NULL,
    -- The same event twice has the same time and fingerprint (64 bits of
    -- the SHA-256 of its content). Time first: inserts land at the end of
    -- the index, not at random pages.
    UNIQUE (seen_at, fp)
);
-- Reads go by id (streams, batches: the primary key); pruning by last seen.
CREATE INDEX botnet_events_last_seen ON botnet_events(last_seen);

CREATE TABLE botnet_recipients (
    member_id  INTEGER NOT NULL,
    event_id   INTEGER NOT NULL REFERENCES botnet_events(id) ON DELETE CASCADE,
    PRIMARY KEY (member_id, event_id)
);

CREATE TABLE botnet_zone_serials (
    name     TEXT    PRIMARY KEY,
    serial   INTEGER  NOT NULL,
    sha256   TEXT    NOT NULL,
    -- The slot the serial was last set for: a late, older slot leaves it.
    slot     INTEGER  NOT NULL
);

ALTER TABLE feed_files ADD COLUMN member_id INTEGER;
CREATE INDEX feed_files_member ON feed_files(member_id, product, slot);
