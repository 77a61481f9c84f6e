-- Malicious URLs: one record per canonical URL, its sightings, the import
-- batches that order changes, and the feed files produced from them.
CREATE TABLE url_batches (
    seq          BIGINT  PRIMARY KEY,
    imported_at  BIGINT  NOT NULL,
    source       TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    created      BIGINT  NOT NULL,
    updated      BIGINT  NOT NULL,
    unchanged    BIGINT  NOT NULL
);
CREATE INDEX url_batches_imported ON url_batches(imported_at);

CREATE TABLE url_records (
    id           BIGSERIAL PRIMARY KEY,
    url          TEXT    NOT NULL UNIQUE,
    host         TEXT    NOT NULL,
    domain       TEXT,
    ip           TEXT,
    asn          BIGINT,
    as_org       TEXT,
    country      TEXT,
    city         TEXT,
    latitude     DOUBLE PRECISION,
    longitude    DOUBLE PRECISION,
    threat       TEXT    NOT NULL,
    tags         TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    confidence   BIGINT  NOT NULL,
    tlp          TEXT    NOT NULL,
    first_seen   BIGINT  NOT NULL,
    last_seen    BIGINT  NOT NULL,
    times_seen   BIGINT  NOT NULL,
    changed_seq  BIGINT  NOT NULL,
    changed_at   BIGINT  NOT NULL
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
    url_id    BIGINT  NOT NULL REFERENCES url_records(id)
);
CREATE INDEX url_sightings_url ON url_sightings(url_id);

CREATE TABLE feed_runs (
    product      TEXT    NOT NULL,
    slot         BIGINT  NOT NULL,
    state        TEXT    NOT NULL,
    lease_until  BIGINT  NOT NULL,
    node         TEXT    NOT NULL,
    from_seq     BIGINT,
    to_seq       BIGINT,
    finished_at  BIGINT,
    PRIMARY KEY (product, slot)
);

CREATE TABLE feed_files (
    name          TEXT    PRIMARY KEY,
    product       TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    format        TEXT    NOT NULL,
    slot          BIGINT  NOT NULL,
    period_start  BIGINT  NOT NULL,
    period_end    BIGINT  NOT NULL,
    records       BIGINT  NOT NULL,
    size          BIGINT  NOT NULL,
    sha256        TEXT    NOT NULL,
    marking       TEXT    NOT NULL,
    signature     TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX feed_files_slot ON feed_files(product, slot);
