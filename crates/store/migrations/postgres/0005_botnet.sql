-- Botnet events (all four products), the members each one concerns (the
-- matcher's answer at ingest), the serials of the RPZ zones, and the
-- member a feed file is for.
--
-- An event is stored as its JSON body, with the columns that reads filter
-- on beside it: streams decode rows by the thousand, and one text value
-- reads much faster than twenty-seven.
CREATE TABLE botnet_events (
    id           BIGSERIAL PRIMARY KEY,
    product      TEXT    NOT NULL,
    seen_at      BIGINT  NOT NULL,
    last_seen    BIGINT  NOT NULL,
    received_at  BIGINT  NOT NULL,
    ip           TEXT,
    family       TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    recipients   TEXT    NOT NULL,
    fp           BIGINT  NOT NULL,
    -- The same event twice has the same time and fingerprint (64 bits of
    -- the SHA-256 of its body). Time first: inserts land at the end of
    -- the index, not at random pages.
    UNIQUE (seen_at, fp)
);
-- Reads go by id (streams, batches: the primary key); pruning by last seen.
CREATE INDEX botnet_events_last_seen ON botnet_events(last_seen);

CREATE TABLE botnet_recipients (
    member_id  BIGINT NOT NULL,
    event_id   BIGINT NOT NULL REFERENCES botnet_events(id) ON DELETE CASCADE,
    PRIMARY KEY (member_id, event_id)
);

CREATE TABLE botnet_zone_serials (
    name     TEXT    PRIMARY KEY,
    serial   BIGINT  NOT NULL,
    sha256   TEXT    NOT NULL,
    -- The slot the serial was last set for: a late, older slot leaves it.
    slot     BIGINT  NOT NULL
);

ALTER TABLE feed_files ADD COLUMN member_id BIGINT;
CREATE INDEX feed_files_member ON feed_files(member_id, product, slot);
