-- Core schema: merchants, keys, fees, consumers, the ledger and payments.
-- Times are Unix microseconds (0 = unset); money is integer paisa.
-- Kept column-for-column equal to the SQLite schema: both stores run the
-- same SQL (internal/store/sqlstore).

CREATE TABLE merchants (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	idx           TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	email         TEXT NOT NULL UNIQUE,
	mobile        TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL DEFAULT '',
	kyc           TEXT NOT NULL DEFAULT 'none',
	created_at    BIGINT NOT NULL
);

CREATE TABLE api_keys (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	merchant_id BIGINT NOT NULL REFERENCES merchants(id),
	book        TEXT NOT NULL CHECK (book IN ('test', 'live')),
	kind        TEXT NOT NULL CHECK (kind IN ('public', 'secret')),
	lookup      TEXT NOT NULL UNIQUE,
	prefix      TEXT NOT NULL,
	sealed      BYTEA,
	created_at  BIGINT NOT NULL,
	revoked_at  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_merchant ON api_keys (merchant_id, book);

CREATE TABLE fee_tiers (
	merchant_id BIGINT NOT NULL REFERENCES merchants(id),
	book        TEXT NOT NULL,
	min_amount  BIGINT NOT NULL,
	max_amount  BIGINT NOT NULL,
	percent_bps BIGINT NOT NULL,
	flat        BIGINT NOT NULL
);
CREATE INDEX fee_tiers_merchant ON fee_tiers (merchant_id, book);

CREATE TABLE consumers (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	idx         TEXT NOT NULL UNIQUE,
	mobile      TEXT NOT NULL UNIQUE,
	name        TEXT NOT NULL,
	mpin_hash   TEXT NOT NULL,
	failed_mpin BIGINT NOT NULL DEFAULT 0,
	locked      BOOLEAN NOT NULL DEFAULT false,
	created_at  BIGINT NOT NULL
);

CREATE TABLE accounts (
	id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	book    TEXT NOT NULL CHECK (book IN ('test', 'live')),
	kind    TEXT NOT NULL,
	owner   BIGINT NOT NULL,
	shard   INTEGER NOT NULL DEFAULT 0,
	balance BIGINT NOT NULL DEFAULT 0,
	UNIQUE (book, kind, owner, shard),
	CHECK (balance >= 0 OR kind = 'funding')
);

CREATE TABLE ledger_txns (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	book       TEXT NOT NULL,
	reason     TEXT NOT NULL,
	payment_id BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL
);
CREATE INDEX ledger_txns_payment ON ledger_txns (payment_id);

CREATE TABLE postings (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	ledger_txn_id BIGINT NOT NULL REFERENCES ledger_txns(id),
	account_id    BIGINT NOT NULL REFERENCES accounts(id),
	amount        BIGINT NOT NULL CHECK (amount <> 0)
);
CREATE INDEX postings_account ON postings (account_id);
CREATE INDEX postings_txn ON postings (ledger_txn_id);

CREATE TABLE payments (
	id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	idx              TEXT NOT NULL UNIQUE,
	token            TEXT NOT NULL UNIQUE,
	fee_idx          TEXT NOT NULL,
	book             TEXT NOT NULL CHECK (book IN ('test', 'live')),
	merchant_id      BIGINT NOT NULL REFERENCES merchants(id),
	consumer_id      BIGINT REFERENCES consumers(id), -- NULL until an ePayment payer signs in
	state            TEXT NOT NULL,
	amount           BIGINT NOT NULL CHECK (amount > 0),
	fee_amount       BIGINT NOT NULL CHECK (fee_amount >= 0),
	refunded         BIGINT NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= amount),
	product_identity TEXT NOT NULL,
	product_name     TEXT NOT NULL,
	product_url      TEXT NOT NULL,
	extra            BYTEA,
	otp_hash         TEXT NOT NULL,
	otp_expires_at   BIGINT NOT NULL,
	otp_tries        BIGINT NOT NULL DEFAULT 0,
	created_at       BIGINT NOT NULL,
	confirmed_at     BIGINT NOT NULL DEFAULT 0,
	completed_at     BIGINT NOT NULL DEFAULT 0,
	updated_at       BIGINT NOT NULL,
	version          BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX payments_list ON payments (merchant_id, book, created_at);
CREATE INDEX payments_due ON payments (state, created_at);
