-- C2 servers and malicious domains as followed indicators in TAXII
-- (isx_botnet::indicator): each event's link to its key's indicator
-- (NULL for events stored before: an indicator of their own; '-' for an
-- event that adds no version; else the version, as JSON), and where each
-- key's indicator stands.
ALTER TABLE botnet_events ADD COLUMN indicator TEXT;
CREATE TABLE botnet_indicators (
    key    TEXT PRIMARY KEY,
    state  TEXT NOT NULL
);
