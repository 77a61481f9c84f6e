-- TLP:RED in a trust group's TAXII collection: the members an object
-- version is for (comma-separated member ids, its author among them);
-- empty for every other marking.
ALTER TABLE exchange_objects ADD COLUMN recipients TEXT NOT NULL DEFAULT '';
