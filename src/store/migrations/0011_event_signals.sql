-- 0011: machine-event signals stored with each event at ingest (SPEC F6,
-- issue 7): a bit set of enum event_signal (store.h).  0 for every event
-- recorded before.
ALTER TABLE events ADD COLUMN signals INTEGER NOT NULL DEFAULT 0;
