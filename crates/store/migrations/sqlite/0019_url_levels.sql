-- A URL has one record per marking its sightings had (F1 of the red team,
-- 2026-12-05): each holds the sightings of its marking or a looser one,
-- and a reader reads the strictest record it may see, so a stricter
-- sighting no longer takes a URL away from the readers of a looser
-- marking. `above` is the marking of the URL's next stricter record.
-- SQLite cannot drop the column's UNIQUE constraint: the table is built
-- again, and the sightings' table that refers to it too (dropping a parent
-- table that still has children fails at commit with foreign keys on, and
-- the pragma that turns them off does nothing inside a transaction).
CREATE TABLE url_records_levels (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    url          TEXT    NOT NULL,
    host         TEXT    NOT NULL,
    domain       TEXT,
    ip           TEXT,
    asn          INTEGER,
    as_org       TEXT,
    country      TEXT,
    city         TEXT,
    latitude     REAL,
    longitude    REAL,
    threat       TEXT    NOT NULL,
    tags         TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    confidence   INTEGER NOT NULL,
    tlp          TEXT    NOT NULL,
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    times_seen   INTEGER NOT NULL,
    changed_seq  INTEGER NOT NULL,
    changed_at   INTEGER NOT NULL,
    added_pos    INTEGER NOT NULL DEFAULT 0,
    added_ranks  TEXT    NOT NULL DEFAULT '',
    generation   INTEGER NOT NULL DEFAULT 0,
    live         INTEGER NOT NULL DEFAULT 1,
    revoked_at   INTEGER,
    live_since   INTEGER,
    ended        TEXT,
    above        TEXT,
    UNIQUE (url, tlp)
);
INSERT INTO url_records_levels (id, url, host, domain, ip, asn, as_org, country, city, latitude,
    longitude, threat, tags, source, confidence, tlp, first_seen, last_seen, times_seen,
    changed_seq, changed_at, added_pos, added_ranks, generation, live, revoked_at, live_since, ended)
SELECT id, url, host, domain, ip, asn, as_org, country, city, latitude,
    longitude, threat, tags, source, confidence, tlp, first_seen, last_seen, times_seen,
    changed_seq, changed_at, added_pos, added_ranks, generation, live, revoked_at, live_since, ended
FROM url_records;
CREATE TABLE url_sightings_levels (
    sighting  TEXT    PRIMARY KEY,
    url_id    INTEGER NOT NULL REFERENCES url_records_levels(id)
);
INSERT INTO url_sightings_levels (sighting, url_id) SELECT sighting, url_id FROM url_sightings;
DROP TABLE url_sightings;
DROP TABLE url_records;
-- Renaming a parent rewrites its children's references.
ALTER TABLE url_records_levels RENAME TO url_records;
ALTER TABLE url_sightings_levels RENAME TO url_sightings;
CREATE INDEX url_sightings_url ON url_sightings(url_id);
CREATE INDEX url_records_host ON url_records(host);
CREATE INDEX url_records_domain ON url_records(domain);
CREATE INDEX url_records_ip ON url_records(ip);
CREATE INDEX url_records_asn ON url_records(asn);
CREATE INDEX url_records_country ON url_records(country);
CREATE INDEX url_records_last_seen ON url_records(last_seen);
CREATE INDEX url_records_changed ON url_records(changed_seq);
CREATE INDEX url_records_added ON url_records(changed_at, added_pos);
CREATE INDEX url_records_live ON url_records(last_seen) WHERE live = 1;
