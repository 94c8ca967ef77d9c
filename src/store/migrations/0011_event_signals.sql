-- 0011: machine-event signals stored with each event at ingest (SPEC F6,
-- issue 7): a bit set of enum event_signal (store.h).  0 for every event
-- recorded before.
ALTER TABLE events ADD COLUMN signals INTEGER NOT NULL DEFAULT 0;
-- With signals, a target reaches a step in two ways (store_campaign_reach):
-- with machine events included, by any event that is no probe
-- (last_<kind>_ms, now kept without probes); with them excluded, by an
-- event with no signal (human_<kind>_ms), the seconds rule applied when
-- read.  Every event before this had no signal: human = last.
ALTER TABLE targets ADD COLUMN human_opened_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE targets ADD COLUMN human_clicked_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE targets ADD COLUMN human_file_opened_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE targets ADD COLUMN human_submitted_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE targets ADD COLUMN human_reported_ms INTEGER NOT NULL DEFAULT 0;
UPDATE targets SET human_opened_ms = last_opened_ms, human_clicked_ms = last_clicked_ms,
	human_file_opened_ms = last_file_opened_ms, human_submitted_ms = last_submitted_ms,
	human_reported_ms = last_reported_ms;
