-- An advisory is known by its CVE id or, for a vulnerability without one,
-- by another id (GHSA, a vendor's id, a CSAF tracking id): the key column
-- is named for what it holds. The EPSS, SSVC and KEV tables stay keyed by
-- CVE id.
ALTER TABLE advisories RENAME COLUMN cve TO advisory_id;
-- Two ids that a CSAF file name writes alike (`GHSA-Abc`, `ghsa-abc`) are
-- one id: `AdvisoryId::key`, unique. The ids stored so far are CVE ids,
-- whose key is their lower case.
ALTER TABLE advisories ADD COLUMN advisory_key TEXT;
UPDATE advisories SET advisory_key = lower(advisory_id);
CREATE UNIQUE INDEX advisories_key ON advisories(advisory_key);
