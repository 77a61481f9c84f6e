-- The authority a key carries (never more than its maker's), the key that
-- minted it and the user that made it. Existing keys of the operator keep
-- the administrator authority they had; every other key is a member key.
ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
ALTER TABLE api_keys ADD COLUMN parent_key TEXT REFERENCES api_keys(key_id);
ALTER TABLE api_keys ADD COLUMN creator_user BIGINT REFERENCES users(id);
UPDATE api_keys SET role = 'admin'
 WHERE member_id IN (SELECT id FROM members WHERE kind = 'operator');
CREATE INDEX api_keys_parent ON api_keys(parent_key);
