CREATE TABLE releases (
    id          BIGSERIAL PRIMARY KEY,
    title       TEXT    NOT NULL,
    release_at  BIGINT  NOT NULL,
    notes       TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    marking     TEXT    NOT NULL,
    revisions   TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE advisories (
    cve         TEXT    PRIMARY KEY,
    release_id  BIGINT  NOT NULL REFERENCES releases(id),
    body        TEXT    NOT NULL,
    revision    BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
CREATE INDEX advisories_release ON advisories(release_id);

CREATE TABLE known_exploited (
    cve      TEXT PRIMARY KEY,
    vendor   TEXT NOT NULL,
    product  TEXT NOT NULL,
    name     TEXT NOT NULL,
    body     TEXT NOT NULL
);
