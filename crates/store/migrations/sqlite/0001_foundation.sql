CREATE TABLE members (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL UNIQUE,
    kind          TEXT    NOT NULL,
    country       TEXT,
    tier          TEXT    NOT NULL,
    clearance     TEXT    NOT NULL,
    constituency  TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    login          TEXT    NOT NULL UNIQUE,
    member_id      INTEGER NOT NULL REFERENCES members(id),
    role           TEXT    NOT NULL,
    password_hash  TEXT    NOT NULL,
    created_at     INTEGER NOT NULL
);

CREATE TABLE api_keys (
    key_id        TEXT    PRIMARY KEY,
    member_id     INTEGER NOT NULL REFERENCES members(id),
    name          TEXT    NOT NULL,
    secret_hash   TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    revoked_at    INTEGER,
    last_used_at  INTEGER
);
CREATE INDEX api_keys_member ON api_keys(member_id);

CREATE TABLE trust_groups (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL UNIQUE,
    description    TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    agreement      TEXT,
    min_clearance  TEXT    NOT NULL,
    ends_at        INTEGER,
    hide_members   BOOLEAN NOT NULL,
    created_at     INTEGER NOT NULL
);

CREATE TABLE group_members (
    group_id   INTEGER NOT NULL REFERENCES trust_groups(id),
    member_id  INTEGER NOT NULL REFERENCES members(id),
    role       TEXT    NOT NULL,
    joined_at  INTEGER NOT NULL,
    PRIMARY KEY (group_id, member_id)
);
CREATE INDEX group_members_member ON group_members(member_id);

CREATE TABLE sessions (
    token_hash  TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    csrf_token  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    member_id  INTEGER,
    action     TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    source_ip  TEXT,
    outcome    TEXT    NOT NULL
);
CREATE INDEX audit_log_member ON audit_log(member_id, id);
