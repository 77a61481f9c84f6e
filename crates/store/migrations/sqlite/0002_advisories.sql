CREATE TABLE releases (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    title       TEXT    NOT NULL,
    release_at  INTEGER NOT NULL,
    notes       TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    marking     TEXT    NOT NULL,
    revisions   TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE advisories (
    cve         TEXT    PRIMARY KEY,
    release_id  INTEGER NOT NULL REFERENCES releases(id),
    body        TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX advisories_release ON advisories(release_id);

CREATE TABLE known_exploited (
    cve      TEXT PRIMARY KEY,
    vendor   TEXT NOT NULL,
    product  TEXT NOT NULL,
    name     TEXT NOT NULL,
    body     TEXT NOT NULL
);
