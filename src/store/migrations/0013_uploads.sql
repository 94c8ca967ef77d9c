-- 0013: trainers' own attachment files (SPEC D5, issue 5): a docx, xlsx or
-- pdf as uploaded and checked (attach_check), kept whole so every target
-- gets a copy with its own beacon.  A scenario names one by id in its
-- attachment declaration ("upload": id); deleting an upload a scenario
-- still names is refused by the store, not by a foreign key (the reference
-- lives inside the declaration's JSON).
CREATE TABLE uploads (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('docx','xlsx','pdf')),
	size INTEGER NOT NULL,
	sha256 TEXT NOT NULL,
	data BLOB NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX uploads_tenant ON uploads (tenant_id, id);
