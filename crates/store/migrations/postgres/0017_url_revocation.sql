-- Revocation of URL indicators: a URL that leaves the rolling feed (a
-- window after its last sighting) is revoked in TAXII, as a new version
-- that arrives like an import; a URL seen again after that is a new
-- indicator (generation), valid from the new activity (live_since).
ALTER TABLE url_records ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
ALTER TABLE url_records ADD COLUMN live BIGINT NOT NULL DEFAULT 1;
ALTER TABLE url_records ADD COLUMN revoked_at BIGINT;
ALTER TABLE url_records ADD COLUMN live_since BIGINT;
-- The generation before the current one as it ended (JSON), so its final
-- revoked version reaches readers that did not poll in between.
ALTER TABLE url_records ADD COLUMN ended TEXT;
-- A generation's start is fixed: the first one began at first_seen.
UPDATE url_records SET live_since = first_seen;
-- The revocation job walks only the live records, oldest sighting first.
CREATE INDEX url_records_live ON url_records(last_seen) WHERE live = 1;
