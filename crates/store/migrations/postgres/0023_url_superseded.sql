-- The final versions of the looser records whose readers now read a
-- record (JSON array, at most one per looser marking): a reader who moved
-- over several records between two reads gets every indicator it held
-- revoked (red team, 2026-12-07).
ALTER TABLE url_records ADD COLUMN superseded TEXT;
