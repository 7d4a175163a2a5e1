-- The tables bench/ledger-floor.pgbench pays with, on an empty database:
-- the least a wallet payment with a double-entry ledger can write, as a
-- floor under Thaili's own statements (bench/payment.pgbench). A payment
-- is a row of five columns; an account is an id and a balance; an entry
-- is a row naming its payment, with one posting per account it moves. No
-- product fields, no lookups, no indexes but the keys. Payers 1 to
-- :payers (psql -v payers=N) each hold Rs 10 crore moved from the funding
-- account (0) by one entry; the holds, merchant and fees accounts have 16
-- shards each (100-115, 120-135, 140-155), as Thaili's do.
CREATE TABLE floor_accounts (id bigint PRIMARY KEY, balance bigint NOT NULL) WITH (fillfactor = 85);
CREATE TABLE floor_payments (id bigserial PRIMARY KEY, token text NOT NULL UNIQUE, payer bigint NOT NULL,
	amount bigint NOT NULL, state text NOT NULL) WITH (fillfactor = 85);
CREATE TABLE floor_entries (id bigserial PRIMARY KEY, payment_id bigint NOT NULL, reason text NOT NULL);
CREATE TABLE floor_postings (id bigserial PRIMARY KEY, entry_id bigint NOT NULL, account_id bigint NOT NULL,
	amount bigint NOT NULL);
INSERT INTO floor_accounts (id, balance) SELECT g, 10000000000 FROM generate_series(1, :payers) AS g;
INSERT INTO floor_accounts (id, balance) SELECT b + s, 0 FROM (VALUES (100), (120), (140)) AS k (b), generate_series(0, 15) AS s;
INSERT INTO floor_accounts (id, balance) VALUES (0, -10000000000 * :payers);
INSERT INTO floor_entries (payment_id, reason) VALUES (0, 'topup');
-- The top-up's postings: the funding account (0) and the wallets.
INSERT INTO floor_postings (entry_id, account_id, amount)
	SELECT (SELECT max(id) FROM floor_entries), id, balance FROM floor_accounts WHERE id BETWEEN 0 AND :payers;
