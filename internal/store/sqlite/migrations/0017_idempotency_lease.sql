-- A running idempotency key is held by a short lease (issue 12):
-- lease_until (microseconds, like created_at) is renewed every few
-- seconds by the request that runs under the key. A running key without
-- effects whose lease ended belongs to a request that did nothing and no
-- longer runs (its node stopped, or it failed and could not release the
-- key because the database was unreachable), and a retry may take it over
-- at once instead of after ten minutes. Keys already running when this
-- migration runs keep the old rule: ten minutes from their creation.
-- Kept equal in the SQLite and PostgreSQL schemas.

ALTER TABLE idempotency_keys ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
UPDATE idempotency_keys SET lease_until = created_at + 600000000 WHERE status = 0;
