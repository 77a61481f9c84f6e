-- Second factors of web sign-in (issue 20): a user's TOTP secret and the
-- last step whose code was used (a code is accepted once), its recovery
-- codes (SHA-256 only, each usable once), which members require a second
-- factor, and the sign-in step between a right password and the factor.
CREATE TABLE user_totp (
    user_id     BIGINT PRIMARY KEY REFERENCES users(id),
    secret      TEXT    NOT NULL,
    last_step   BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE TABLE user_recovery_codes (
    user_id     BIGINT NOT NULL REFERENCES users(id),
    code_hash   TEXT    NOT NULL,
    created_at  BIGINT NOT NULL,
    used_at     BIGINT,
    PRIMARY KEY (user_id, code_hash)
);
CREATE TABLE member_second_factor (
    member_id   BIGINT PRIMARY KEY REFERENCES members(id),
    required    BIGINT NOT NULL
);
CREATE TABLE sign_in_challenges (
    token_hash      TEXT    PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users(id),
    pending_secret  TEXT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX sign_in_challenges_expiry ON sign_in_challenges(expires_at);
