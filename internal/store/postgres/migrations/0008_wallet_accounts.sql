-- Consumer sign-up and wallet pages (issue 6): a web sign-up confirms the
-- consumer's phone with a one-time code (its keyed hash, expiry and wrong
-- tries kept on the consumer; wallets made before this, by the CLI or the
-- sandbox seed, count as confirmed); wallet sessions are stored by the
-- SHA-256 of their cookie value in their own table (sessions.merchant_id
-- references merchants); consumer_codes is the sandbox OTP inbox: the
-- codes the notifier delivered, shown only to the signed-in consumer and
-- kept one hour. Times are Unix microseconds.
-- Kept column-for-column equal to the SQLite schema.

ALTER TABLE consumers ADD COLUMN phone_confirmed INTEGER NOT NULL DEFAULT 1;
ALTER TABLE consumers ADD COLUMN phone_code_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE consumers ADD COLUMN phone_code_expires_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE consumers ADD COLUMN phone_code_tries INTEGER NOT NULL DEFAULT 0;

CREATE TABLE consumer_sessions (
	id_hash      TEXT PRIMARY KEY,
	consumer_id  BIGINT NOT NULL REFERENCES consumers(id),
	created_at   BIGINT NOT NULL,
	last_seen_at BIGINT NOT NULL
);
CREATE INDEX consumer_sessions_consumer ON consumer_sessions (consumer_id);

CREATE TABLE consumer_codes (
	consumer_id BIGINT NOT NULL REFERENCES consumers(id),
	purpose     TEXT NOT NULL,
	code        TEXT NOT NULL,
	created_at  BIGINT NOT NULL
);
CREATE INDEX consumer_codes_consumer ON consumer_codes (consumer_id, created_at);
