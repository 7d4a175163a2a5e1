-- Identity security (issue 11). Times are Unix microseconds.
-- Kept column-for-column equal to the SQLite schema.
--
-- account_codes: one row per code sent to a phone (confirm a sign-up,
-- reset an MPIN). The page that asked for it holds a random challenge,
-- of which only the SHA-256 is kept; the code only as a keyed hash bound
-- to the challenge, the account (subject) and the purpose. A code is
-- usable while code_hash is not empty, it has not expired and has had
-- fewer tries than the limit; using it, or sending a newer one for the
-- same account and purpose, empties code_hash. A decoy row (subject '')
-- answers a sign-up or reset for an account that may not get a code, so
-- that the answers do not tell which accounts exist. target is the
-- email or mobile a code was asked for: codes sent per target are
-- counted from these rows. The codes that used to be kept on merchants
-- and consumers go, and so does the OTP inbox that kept codes in clear.
CREATE TABLE account_codes (
	challenge_hash TEXT PRIMARY KEY,
	subject        TEXT NOT NULL,
	purpose        TEXT NOT NULL,
	target         TEXT NOT NULL,
	code_hash      TEXT NOT NULL,
	tries          INTEGER NOT NULL DEFAULT 0,
	expires_at     BIGINT NOT NULL,
	created_at     BIGINT NOT NULL
);
CREATE INDEX account_codes_subject ON account_codes (subject, purpose);
CREATE INDEX account_codes_target ON account_codes (target, created_at);
CREATE INDEX account_codes_created ON account_codes (created_at);

ALTER TABLE merchants DROP COLUMN phone_code_hash;
ALTER TABLE merchants DROP COLUMN phone_code_expires_at;
ALTER TABLE merchants DROP COLUMN phone_code_tries;
ALTER TABLE consumers DROP COLUMN phone_code_hash;
ALTER TABLE consumers DROP COLUMN phone_code_expires_at;
ALTER TABLE consumers DROP COLUMN phone_code_tries;
DROP TABLE consumer_codes;

-- A merchant an operator made (no password: the CLI, the sandbox seed)
-- is vouched for and counts as confirmed; an unconfirmed web sign-up can
-- neither receive payments nor keep its email, and expires.
UPDATE merchants SET phone_confirmed = 1 WHERE password_hash = '';
CREATE INDEX merchants_unconfirmed ON merchants (created_at) WHERE phone_confirmed = 0;
CREATE INDEX consumers_unconfirmed ON consumers (created_at) WHERE phone_confirmed = 0;

-- Wrong MPINs lock a wallet for a while (30 minutes, then longer while
-- locks follow each other: internal/lockout) instead of until a reset.
-- consumers.locked now means locked until the MPIN is reset (the
-- sandbox's locked payer, and locks from before this migration).
ALTER TABLE consumers ADD COLUMN mpin_locked_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE consumers ADD COLUMN mpin_lock_level INTEGER NOT NULL DEFAULT 0;
-- The same count for numbers without a wallet, so that initiate answers
-- a stranger alike whether or not a number has a wallet.
CREATE TABLE mpin_guards (
	mobile       TEXT PRIMARY KEY,
	failed       INTEGER NOT NULL DEFAULT 0,
	locked_until BIGINT NOT NULL DEFAULT 0,
	lock_level   INTEGER NOT NULL DEFAULT 0,
	updated_at   BIGINT NOT NULL
);
CREATE INDEX mpin_guards_updated ON mpin_guards (updated_at);

-- What the wallet's owner is told on the wallet page: locks, MPIN
-- changes, sign-ups and resets asked for with the number. No codes.
CREATE TABLE consumer_notices (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	consumer_id BIGINT NOT NULL REFERENCES consumers(id),
	text        TEXT NOT NULL,
	created_at  BIGINT NOT NULL
);
CREATE INDEX consumer_notices_consumer ON consumer_notices (consumer_id, created_at);
CREATE INDEX consumer_notices_created ON consumer_notices (created_at);
