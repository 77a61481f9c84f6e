-- The certificate authorities client certificates may chain to, in the
-- database so that every node trusts the same ones: isx's own client CA
-- (with its key: it issues) and CAs of the operator's (certificate only:
-- the operator issues, isx registers each certificate it accepts).
CREATE TABLE client_cas (
    fingerprint  TEXT    PRIMARY KEY,
    origin       TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    cert_pem     TEXT    NOT NULL,
    key_pem      TEXT,
    created_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX client_cas_one_isx ON client_cas(origin) WHERE origin = 'isx';
