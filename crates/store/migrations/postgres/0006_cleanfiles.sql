-- Clean file metadata: one row per known-good SHA-256 (raw bytes), with
-- its SHA-1/MD5 indexed for lookups by those, and the log of changes to the
-- set (what the hash set files follow and the 3-hourly deltas publish).
CREATE TABLE clean_files (
    sha256     BYTEA   NOT NULL PRIMARY KEY,
    sha1       BYTEA,
    md5        BYTEA,
    size       BIGINT,
    file_name  TEXT    NOT NULL,
    product    TEXT,
    version    TEXT,
    vendor     TEXT,
    source     TEXT    NOT NULL,
    published  BIGINT,
    added_at   BIGINT  NOT NULL
);
CREATE INDEX clean_files_sha1 ON clean_files(sha1);
CREATE INDEX clean_files_md5 ON clean_files(md5);

CREATE TABLE clean_file_changes (
    seq     BIGSERIAL PRIMARY KEY,
    sha256  BYTEA   NOT NULL,
    sha1    BYTEA,
    md5     BYTEA,
    -- 1: added to the set; 0: removed from it.
    added   BIGINT  NOT NULL,
    at      BIGINT  NOT NULL
);
CREATE INDEX clean_file_changes_at ON clean_file_changes(at);
