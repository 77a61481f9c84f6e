-- Botnet events by arrival: the TAXII collection pages by it (a client's
-- added_after is an arrival instant), and finding the event at an instant
-- should not scan every event received since.
CREATE INDEX botnet_events_received_at ON botnet_events(received_at);
