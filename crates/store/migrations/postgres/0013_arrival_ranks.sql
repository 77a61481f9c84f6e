-- Where a URL record sits in the import that last changed it, so the
-- TAXII date_added a member sees counts only the records that member may
-- see. Every record an import changes takes the import's one arrival
-- instant (changed_at); added_pos is its place in that import, and
-- added_ranks how many records of each marking came before it in the
-- import ("clear,green,amber,amber+strict,red" counts; empty for rows
-- written before this migration, each of which has an instant of its own).
ALTER TABLE url_records ADD COLUMN added_pos BIGINT NOT NULL DEFAULT 0;
ALTER TABLE url_records ADD COLUMN added_ranks TEXT NOT NULL DEFAULT '';
DROP INDEX url_records_changed_at;
CREATE INDEX url_records_added ON url_records(changed_at, added_pos);
