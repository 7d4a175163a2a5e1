-- An idempotent request marks its key in the same transaction as the
-- first write it commits. A running key with effects is never taken over
-- by a retry (which could repeat the work) nor released on a 5xx: its
-- retries are told the response was lost instead. The mark also fences a
-- request whose key a retry took over: its writes roll back.
-- Kept equal in the SQLite and PostgreSQL schemas.

ALTER TABLE idempotency_keys ADD COLUMN effects INTEGER NOT NULL DEFAULT 0;
