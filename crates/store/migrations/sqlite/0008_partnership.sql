-- Partnership: what members contribute to trust groups. A contribution's
-- content (title, description, marking, anonymity, kind-specific details)
-- is one JSON document; the columns beside it are what reads filter on.
CREATE TABLE contributions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id    INTEGER NOT NULL REFERENCES trust_groups(id),
    author      INTEGER NOT NULL REFERENCES members(id),
    kind        TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    origin      INTEGER,
    stix_id     TEXT    NOT NULL UNIQUE,
    body        TEXT    NOT NULL
);
CREATE INDEX contributions_group ON contributions(group_id, id);

-- Every version, the current one included (editing keeps history).
CREATE TABLE contribution_versions (
    contribution_id  INTEGER NOT NULL REFERENCES contributions(id) ON DELETE CASCADE,
    version          INTEGER NOT NULL,
    edited_at        INTEGER NOT NULL,
    editor           INTEGER NOT NULL,
    body             TEXT    NOT NULL,
    PRIMARY KEY (contribution_id, version)
);

CREATE TABLE contribution_comments (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    contribution_id  INTEGER NOT NULL REFERENCES contributions(id) ON DELETE CASCADE,
    parent_id        INTEGER,
    author           INTEGER NOT NULL,
    anonymous        BOOLEAN NOT NULL,
    text             TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    stix_id          TEXT    NOT NULL
);
CREATE INDEX contribution_comments_contribution ON contribution_comments(contribution_id);

CREATE TABLE contribution_attachments (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    contribution_id  INTEGER NOT NULL REFERENCES contributions(id) ON DELETE CASCADE,
    name             TEXT    NOT NULL,
    media_type       TEXT    NOT NULL,
    size             INTEGER NOT NULL,
    sha256           TEXT    NOT NULL,
    content          BLOB    NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX contribution_attachments_contribution ON contribution_attachments(contribution_id);

-- Requests to share a contribution wider than its group.
CREATE TABLE share_requests (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    contribution_id  INTEGER NOT NULL REFERENCES contributions(id) ON DELETE CASCADE,
    target           TEXT    NOT NULL,
    requested_by     INTEGER NOT NULL,
    requested_at     INTEGER NOT NULL,
    reason           TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    decided_at       INTEGER,
    copy_id          INTEGER
);
CREATE INDEX share_requests_contribution ON share_requests(contribution_id);

-- A group's retention period and reporting duties (JSON).
CREATE TABLE group_rules (
    group_id  INTEGER PRIMARY KEY REFERENCES trust_groups(id),
    body      TEXT    NOT NULL
);
