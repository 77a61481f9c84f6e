-- TAXII collections of trust groups: the STIX objects members post, one
-- row per version, in the order they entered the collection. `added` is
-- the TAXII date_added: microseconds, distinct and ascending within a
-- collection (assigned under the exchange write lock).
CREATE TABLE exchange_objects (
    collection    TEXT    NOT NULL,
    added         INTEGER NOT NULL,
    object_id     TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    spec_version  TEXT    NOT NULL,
    object_type   TEXT    NOT NULL,
    marking       TEXT    NOT NULL,
    author        INTEGER NOT NULL,
    body          TEXT    NOT NULL,
    PRIMARY KEY (collection, added),
    UNIQUE (collection, object_id, version)
);

-- The status resources of TAXII POSTs (the poster reads them back).
CREATE TABLE exchange_status (
    id         TEXT    PRIMARY KEY,
    member_id  INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    body       TEXT    NOT NULL
);

-- The product collections page by when a record entered the collection
-- (or last changed in it): URL records by changed_at, clean files by
-- added_at, botnet events by id (received_at ascends with it).
CREATE INDEX url_records_changed_at ON url_records(changed_at);
CREATE INDEX clean_files_added_at ON clean_files(added_at);
