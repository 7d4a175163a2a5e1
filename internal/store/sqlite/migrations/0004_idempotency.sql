-- Idempotency keys (Idempotency-Key header): one row per key and caller
-- scope. status is 0 while the first request runs and 1 once its response
-- is stored; a response of 5xx is never stored (the row is deleted, so a
-- retry runs again). Rows are purged once older than 24 hours.
-- Kept column-for-column equal to the PostgreSQL schema.

CREATE TABLE idempotency_keys (
	scope            TEXT NOT NULL,
	key              TEXT NOT NULL,
	request_hash     TEXT NOT NULL,
	status           INTEGER NOT NULL DEFAULT 0,
	response_status  INTEGER NOT NULL DEFAULT 0,
	response_headers TEXT NOT NULL DEFAULT '',
	response_body    BLOB,
	created_at       INTEGER NOT NULL,
	completed_at     INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
