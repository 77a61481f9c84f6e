-- A user can be disabled (sign-in refused, sessions ended) and enabled again.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
CREATE INDEX sessions_user ON sessions(user_id);

-- What /healthz writes: proof that the store still accepts writes (a
-- 64 KiB row added and removed in one committed transaction).
CREATE TABLE isx_health (id INTEGER PRIMARY KEY, checked_at BIGINT NOT NULL, pad BYTEA);

-- Who first posted each object id of a collection. Kept when versions are
-- deleted, so that an id deleted over TAXII (while its contribution lives
-- on in REST) cannot be taken over by another member.
CREATE TABLE exchange_owners (
    collection TEXT   NOT NULL,
    object_id  TEXT   NOT NULL,
    author     BIGINT NOT NULL,
    PRIMARY KEY (collection, object_id)
);
INSERT INTO exchange_owners (collection, object_id, author)
SELECT e.collection, e.object_id, e.author FROM exchange_objects e
 WHERE e.added = (SELECT MIN(f.added) FROM exchange_objects f
                   WHERE f.collection = e.collection AND f.object_id = e.object_id);
