-- Merchant accounts (issue 6): sign-up confirms the owner's phone with a
-- one-time code (its keyed hash, expiry and wrong tries are kept on the
-- merchant until it is confirmed); dashboard sessions are stored by the
-- SHA-256 of their cookie value; failed sign-ins are counted per email so
-- the lockout holds across nodes. Times are Unix microseconds.
-- Kept column-for-column equal to the PostgreSQL schema.

ALTER TABLE merchants ADD COLUMN phone_confirmed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE merchants ADD COLUMN phone_code_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE merchants ADD COLUMN phone_code_expires_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE merchants ADD COLUMN phone_code_tries INTEGER NOT NULL DEFAULT 0;

CREATE TABLE sessions (
	id_hash      TEXT PRIMARY KEY,
	merchant_id  INTEGER NOT NULL REFERENCES merchants(id),
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_merchant ON sessions (merchant_id);

CREATE TABLE login_failures (
	email TEXT NOT NULL,
	at    INTEGER NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email, at);
