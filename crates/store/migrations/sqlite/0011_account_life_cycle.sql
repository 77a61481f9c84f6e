-- A user can be disabled (sign-in refused, sessions ended) and enabled again.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
CREATE INDEX sessions_user ON sessions(user_id);

-- What /healthz writes: proof that the store still accepts writes (a
-- 64 KiB row added and removed in one committed transaction).
CREATE TABLE isx_health (id INTEGER PRIMARY KEY, checked_at BIGINT NOT NULL, pad BLOB);
