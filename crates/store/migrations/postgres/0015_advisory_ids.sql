-- An advisory is known by its CVE id or, for a vulnerability without one,
-- by another id (GHSA, a vendor's id, a CSAF tracking id): the key column
-- is named for what it holds. The EPSS, SSVC and KEV tables stay keyed by
-- CVE id.
ALTER TABLE advisories RENAME COLUMN cve TO advisory_id;
