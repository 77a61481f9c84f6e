-- Client certificates (mTLS) that authenticate machines as a member, by
-- the SHA-256 of the certificate: issued by isx's client CA or registered
-- from the operator's own CA. Revocation is a row, read on every request
-- by every node.
CREATE TABLE client_certs (
    fingerprint  TEXT    PRIMARY KEY,
    member_id    BIGINT NOT NULL REFERENCES members(id),
    subject      TEXT    NOT NULL,
    serial       TEXT    NOT NULL,
    not_after    BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX client_certs_member ON client_certs(member_id);
