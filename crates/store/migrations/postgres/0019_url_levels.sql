-- A URL has one record per marking its sightings had (F1 of the red team,
-- 2026-12-05): each holds the sightings of its marking or a looser one,
-- and a reader reads the strictest record it may see, so a stricter
-- sighting no longer takes a URL away from the readers of a looser
-- marking. `above` is the marking of the URL's next stricter record.
ALTER TABLE url_records DROP CONSTRAINT url_records_url_key;
ALTER TABLE url_records ADD CONSTRAINT url_records_url_tlp_key UNIQUE (url, tlp);
ALTER TABLE url_records ADD COLUMN above TEXT;
