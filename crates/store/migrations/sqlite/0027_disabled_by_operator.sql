-- Whether the operator's administrators disabled a user: then only they
-- enable it again, not its organisation's administrators (red team,
-- 2026-12-07: a member administrator could undo the operator's lock-out).
ALTER TABLE users ADD COLUMN disabled_by_operator INTEGER NOT NULL DEFAULT 0;
