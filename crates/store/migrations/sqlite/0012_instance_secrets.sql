-- Secrets of the instance as a whole, the same for every node on this
-- database (e.g. the key that turns stored ids into the opaque ids the
-- API shows). Created once, on first use, and never changed.
CREATE TABLE instance_secrets (
    name    TEXT PRIMARY KEY,
    secret  TEXT NOT NULL
);
