-- Wrong second-factor codes in a row, per user, on every node alike: past
-- a hundred the second step is locked until an administrator resets the
-- factor (red team, 2026-12-07: a per-node rate alone let a holder of the
-- password guess for days).
ALTER TABLE user_totp ADD COLUMN failures BIGINT NOT NULL DEFAULT 0;
