-- Migration 20 kept the ids of every stored URL record, but a database of
-- version 19 could hold several records of one URL, all keyed by the URL:
-- only the loosest keeps them; the stricter ones start lineages of their
-- own (red team, 2026-12-07: one id must not carry two contents).
UPDATE url_records SET legacy_ids = 0
WHERE legacy_ids = 1 AND EXISTS (
    SELECT 1 FROM url_records l
    WHERE l.url = url_records.url AND l.legacy_ids = 1
      AND (CASE l.tlp WHEN 'clear' THEN 0 WHEN 'green' THEN 1 WHEN 'amber' THEN 2
                      WHEN 'amber+strict' THEN 3 ELSE 4 END)
        < (CASE url_records.tlp WHEN 'clear' THEN 0 WHEN 'green' THEN 1 WHEN 'amber' THEN 2
                                WHEN 'amber+strict' THEN 3 ELSE 4 END)
);
-- The loosest marking a sighting was seen with: a sighting that started
-- no record (old news) is filed under another record's id, and its own
-- marking decides whether the same sighting seen again looser is news.
-- Older rows: the marking of the record they are filed under.
ALTER TABLE url_sightings ADD COLUMN marking TEXT;
