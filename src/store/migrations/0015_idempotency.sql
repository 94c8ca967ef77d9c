-- 0015: idempotency keys (issue 11, docs/API.md "Idempotency keys").  An
-- authenticated POST on /api/v1 with an Idempotency-Key header is remembered
-- for 24 hours per tenant (0: the operator), credential and key: the first
-- answer is kept and replayed to a repeat of the same request.
--   credential   hex HMAC-SHA256 (server key) of the session token or API
--                key; never the credential itself
--   fingerprint  hex HMAC-SHA256 (server key) of the method, the request target and the body
--   owner        while the first request runs: the serving process's random
--                instance id (a row left running by a process that died is
--                taken over by the next one); 0 once its answer is kept
--   body         the answer's body, sealed with the server key (it may hold
--                a new API key or webhook secret)
-- No foreign key: the operator's rows have tenant 0.  Tenant deletion purges
-- a tenant's rows (store tenant_tables); expired rows go on the next claim.
CREATE TABLE idempotency_keys (
	tenant_id INTEGER NOT NULL,
	credential TEXT NOT NULL,
	key TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	owner INTEGER NOT NULL DEFAULT 0,
	status INTEGER NOT NULL DEFAULT 0,
	content_type TEXT NOT NULL DEFAULT '',
	headers TEXT NOT NULL DEFAULT '[]',
	body BLOB,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, credential, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
