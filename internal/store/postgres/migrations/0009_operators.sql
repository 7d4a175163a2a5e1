-- The operator console (issue 6): operators sign in at /admin/ with their
-- own accounts and sessions (never a merchant's); a merchant's KYC
-- decision keeps its reason; every operator action is written to the
-- audit log in the same transaction as the action. Failed operator
-- sign-ins share login_failures under an "operator:" prefix. Times are
-- Unix microseconds.
-- Kept column-for-column equal to the SQLite schema.

CREATE TABLE operators (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	created_at    BIGINT NOT NULL
);

CREATE TABLE operator_sessions (
	id_hash      TEXT PRIMARY KEY,
	operator_id  BIGINT NOT NULL REFERENCES operators(id),
	created_at   BIGINT NOT NULL,
	last_seen_at BIGINT NOT NULL
);
CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);

ALTER TABLE merchants ADD COLUMN kyc_reason TEXT NOT NULL DEFAULT '';

CREATE TABLE audit_log (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	operator_id BIGINT NOT NULL REFERENCES operators(id),
	operator    TEXT NOT NULL,
	action      TEXT NOT NULL,
	subject     TEXT NOT NULL,
	detail      TEXT NOT NULL,
	at          BIGINT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
