-- Each of a URL's records is a lineage of STIX indicators of its own, its
-- marking in their ids (red team, 2026-12-07: generations numbered per URL
-- told a reader, through the ids it saw, that a stricter record existed).
-- Records stored before keep the ids they had, keyed by the URL alone.
ALTER TABLE url_records ADD COLUMN legacy_ids INTEGER NOT NULL DEFAULT 0;
UPDATE url_records SET legacy_ids = 1;
