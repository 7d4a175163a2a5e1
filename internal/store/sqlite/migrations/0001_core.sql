-- Core schema: merchants, keys, fees, consumers, the ledger and payments.
-- Times are Unix microseconds (0 = unset); money is integer paisa.

CREATE TABLE merchants (
	id            INTEGER PRIMARY KEY,
	idx           TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	email         TEXT NOT NULL UNIQUE,
	mobile        TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL DEFAULT '',
	kyc           TEXT NOT NULL DEFAULT 'none',
	created_at    INTEGER NOT NULL
);

CREATE TABLE api_keys (
	id          INTEGER PRIMARY KEY,
	merchant_id INTEGER NOT NULL REFERENCES merchants(id),
	book        TEXT NOT NULL CHECK (book IN ('test', 'live')),
	kind        TEXT NOT NULL CHECK (kind IN ('public', 'secret')),
	lookup      TEXT NOT NULL UNIQUE,
	prefix      TEXT NOT NULL,
	sealed      BLOB,
	created_at  INTEGER NOT NULL,
	revoked_at  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_merchant ON api_keys (merchant_id, book);

CREATE TABLE fee_tiers (
	merchant_id INTEGER NOT NULL REFERENCES merchants(id),
	book        TEXT NOT NULL,
	min_amount  INTEGER NOT NULL,
	max_amount  INTEGER NOT NULL,
	percent_bps INTEGER NOT NULL,
	flat        INTEGER NOT NULL
);
CREATE INDEX fee_tiers_merchant ON fee_tiers (merchant_id, book);

CREATE TABLE consumers (
	id          INTEGER PRIMARY KEY,
	idx         TEXT NOT NULL UNIQUE,
	mobile      TEXT NOT NULL UNIQUE,
	name        TEXT NOT NULL,
	mpin_hash   TEXT NOT NULL,
	failed_mpin INTEGER NOT NULL DEFAULT 0,
	locked      INTEGER NOT NULL DEFAULT 0,
	created_at  INTEGER NOT NULL
);

CREATE TABLE accounts (
	id      INTEGER PRIMARY KEY,
	book    TEXT NOT NULL CHECK (book IN ('test', 'live')),
	kind    TEXT NOT NULL,
	owner   INTEGER NOT NULL,
	shard   INTEGER NOT NULL DEFAULT 0,
	balance INTEGER NOT NULL DEFAULT 0,
	UNIQUE (book, kind, owner, shard),
	CHECK (balance >= 0 OR kind = 'funding')
);

CREATE TABLE ledger_txns (
	id         INTEGER PRIMARY KEY,
	book       TEXT NOT NULL,
	reason     TEXT NOT NULL,
	payment_id INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL
);
CREATE INDEX ledger_txns_payment ON ledger_txns (payment_id);

CREATE TABLE postings (
	id            INTEGER PRIMARY KEY,
	ledger_txn_id INTEGER NOT NULL REFERENCES ledger_txns(id),
	account_id    INTEGER NOT NULL REFERENCES accounts(id),
	amount        INTEGER NOT NULL CHECK (amount <> 0)
);
CREATE INDEX postings_account ON postings (account_id);
CREATE INDEX postings_txn ON postings (ledger_txn_id);

CREATE TABLE payments (
	id               INTEGER PRIMARY KEY,
	idx              TEXT NOT NULL UNIQUE,
	token            TEXT NOT NULL UNIQUE,
	fee_idx          TEXT NOT NULL,
	book             TEXT NOT NULL CHECK (book IN ('test', 'live')),
	merchant_id      INTEGER NOT NULL REFERENCES merchants(id),
	consumer_id      INTEGER REFERENCES consumers(id), -- NULL until an ePayment payer signs in
	state            TEXT NOT NULL,
	amount           INTEGER NOT NULL CHECK (amount > 0),
	fee_amount       INTEGER NOT NULL CHECK (fee_amount >= 0),
	refunded         INTEGER NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= amount),
	product_identity TEXT NOT NULL,
	product_name     TEXT NOT NULL,
	product_url      TEXT NOT NULL,
	extra            BLOB,
	otp_hash         TEXT NOT NULL,
	otp_expires_at   INTEGER NOT NULL,
	otp_tries        INTEGER NOT NULL DEFAULT 0,
	created_at       INTEGER NOT NULL,
	confirmed_at     INTEGER NOT NULL DEFAULT 0,
	completed_at     INTEGER NOT NULL DEFAULT 0,
	updated_at       INTEGER NOT NULL,
	version          INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX payments_list ON payments (merchant_id, book, created_at);
CREATE INDEX payments_due ON payments (state, created_at);
