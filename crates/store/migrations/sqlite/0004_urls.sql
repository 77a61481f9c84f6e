-- Malicious URLs: one record per canonical URL, its sightings, the import
-- batches that order changes, and the feed files produced from them.
CREATE TABLE url_batches (
    seq          INTEGER PRIMARY KEY,
    imported_at  INTEGER NOT NULL,
    source       TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    created      INTEGER NOT NULL,
    updated      INTEGER NOT NULL,
    unchanged    INTEGER NOT NULL
);
CREATE INDEX url_batches_imported ON url_batches(imported_at);

CREATE TABLE url_records (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    url          TEXT    NOT NULL UNIQUE,
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
    changed_at   INTEGER NOT NULL
);
CREATE INDEX url_records_host ON url_records(host);
CREATE INDEX url_records_domain ON url_records(domain);
CREATE INDEX url_records_ip ON url_records(ip);
CREATE INDEX url_records_asn ON url_records(asn);
CREATE INDEX url_records_country ON url_records(country);
CREATE INDEX url_records_last_seen ON url_records(last_seen);
CREATE INDEX url_records_changed ON url_records(changed_seq);

-- A sighting key hashes the URL, the source and its times: unique on its own.
CREATE TABLE url_sightings (
    sighting  TEXT    PRIMARY KEY,
    url_id    INTEGER NOT NULL REFERENCES url_records(id)
);
CREATE INDEX url_sightings_url ON url_sightings(url_id);

CREATE TABLE feed_runs (
    product      TEXT    NOT NULL,
    slot         INTEGER NOT NULL,
    state        TEXT    NOT NULL,
    lease_until  INTEGER NOT NULL,
    node         TEXT    NOT NULL,
    from_seq     INTEGER,
    to_seq       INTEGER,
    finished_at  INTEGER,
    PRIMARY KEY (product, slot)
);

CREATE TABLE feed_files (
    name          TEXT    PRIMARY KEY,
    product       TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    format        TEXT    NOT NULL,
    slot          INTEGER NOT NULL,
    period_start  INTEGER NOT NULL,
    period_end    INTEGER NOT NULL,
    records       INTEGER NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT    NOT NULL,
    marking       TEXT    NOT NULL,
    signature     TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX feed_files_slot ON feed_files(product, slot);
