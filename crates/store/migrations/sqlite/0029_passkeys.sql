-- WebAuthn passkeys as a second factor: each credential of a user (the
-- public key and its signature counter, as webauthn-rs keeps them, JSON),
-- and the ceremonies in progress (registration on the account page,
-- authentication at sign-in), keyed by the hash of a token the page holds
-- and taken once.
CREATE TABLE user_passkeys (
    credential_id  TEXT    PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users(id),
    name           TEXT    NOT NULL,
    passkey        TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER
);
CREATE INDEX user_passkeys_user ON user_passkeys(user_id);
CREATE TABLE webauthn_ceremonies (
    token_hash     TEXT    PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users(id),
    kind           TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
);
CREATE INDEX webauthn_ceremonies_expiry ON webauthn_ceremonies(expires_at);
