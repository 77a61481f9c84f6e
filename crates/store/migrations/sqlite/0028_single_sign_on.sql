-- OpenID Connect single sign-on: the providers the operator trusts (with
-- the mapping of a claim's values to members and roles), the sign-ins in
-- progress (state, nonce and PKCE verifier, keyed by the hash of a token
-- only the browser holds), and which provider identity is which user.
CREATE TABLE sso_providers (
    name           TEXT    PRIMARY KEY,
    display_name   TEXT    NOT NULL,
    issuer         TEXT    NOT NULL,
    client_id      TEXT    NOT NULL,
    client_secret  TEXT    NOT NULL,
    scopes         TEXT    NOT NULL,
    claim          TEXT    NOT NULL,
    login_claim    TEXT    NOT NULL,
    mappings       TEXT    NOT NULL,
    create_users   INTEGER NOT NULL,
    ca_pem         TEXT,
    created_at     INTEGER NOT NULL
);
CREATE TABLE sso_pending (
    token_hash     TEXT    PRIMARY KEY,
    provider       TEXT    NOT NULL REFERENCES sso_providers(name) ON DELETE CASCADE,
    state          TEXT    NOT NULL,
    nonce          TEXT    NOT NULL,
    verifier       TEXT    NOT NULL,
    redirect_uri   TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
);
CREATE INDEX sso_pending_expiry ON sso_pending(expires_at);
CREATE TABLE sso_identities (
    issuer         TEXT    NOT NULL,
    subject        TEXT    NOT NULL,
    provider       TEXT    NOT NULL REFERENCES sso_providers(name) ON DELETE CASCADE,
    user_id        INTEGER NOT NULL REFERENCES users(id),
    linked_at      INTEGER NOT NULL,
    PRIMARY KEY (issuer, subject)
);
-- One provider identity per user: binding another takes an administrator
-- (`isx sso unlink`), so a second provider, or a recycled login at the
-- same one, cannot claim a user already bound.
CREATE UNIQUE INDEX sso_identities_user ON sso_identities(user_id);
-- A first sign-in's binding waits for the second factor: it is kept with
-- the sign-in step and made only when the step succeeds.
ALTER TABLE sign_in_challenges ADD COLUMN pending_link TEXT;
