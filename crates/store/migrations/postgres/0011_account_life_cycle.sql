-- A user can be disabled (sign-in refused, sessions ended) and enabled again.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
CREATE INDEX sessions_user ON sessions(user_id);
