-- CIRCL hashlookup parity: the CRC32, operating system and NSRL special
-- code of a clean file; every source that named a file (the trust score
-- counts them); which files contain which (packages and their files, by
-- SHA-256: `/parents`, `/children`); each member's lookup sessions and
-- the counts behind its own `/stats/top` (never shared between members).
ALTER TABLE clean_files ADD COLUMN crc32 INTEGER;
ALTER TABLE clean_files ADD COLUMN os_name TEXT;
ALTER TABLE clean_files ADD COLUMN os_version TEXT;
ALTER TABLE clean_files ADD COLUMN special_code TEXT;

CREATE TABLE clean_file_sources (
    sha256  BLOB NOT NULL,
    source  TEXT NOT NULL,
    PRIMARY KEY (sha256, source)
);
INSERT INTO clean_file_sources (sha256, source) SELECT sha256, source FROM clean_files;

CREATE TABLE clean_file_parents (
    child   BLOB NOT NULL,
    parent  BLOB NOT NULL,
    PRIMARY KEY (child, parent)
);
CREATE INDEX clean_file_parents_parent ON clean_file_parents(parent, child);

CREATE TABLE hashlookup_sessions (
    member_id   INTEGER NOT NULL,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (member_id, name)
);
CREATE TABLE hashlookup_session_hashes (
    member_id  INTEGER NOT NULL,
    name       TEXT NOT NULL,
    hash       TEXT NOT NULL,
    known      INTEGER NOT NULL,
    PRIMARY KEY (member_id, name, hash)
);

-- Single lookups per member, hash and day (UTC days since the epoch).
CREATE TABLE clean_lookup_counts (
    member_id  INTEGER NOT NULL,
    day        INTEGER NOT NULL,
    hash       TEXT NOT NULL,
    known      INTEGER NOT NULL,
    hits       INTEGER NOT NULL,
    PRIMARY KEY (member_id, day, hash)
);
CREATE INDEX clean_lookup_counts_day ON clean_lookup_counts(day);
