-- The rows bench/payment.pgbench pays with, on a freshly migrated Thaili
-- database (`thaili migrate`): merchant 1, which has no webhook endpoint, and
-- payers 1 to :payers (psql -v payers=N; mobile 98 followed by the id in
-- eight digits), each wallet holding Rs 10 crore moved from the funding
-- account by one ledger entry, as a top-up would, so the ledger check holds;
-- and the shards of the holds, fees and merchant accounts, so that no
-- payment creates an account. pgbench's client k pays as payer k + 1, as
-- each `thaili bench` payer keeps to its own wallet.
INSERT INTO merchants (id, idx, name, email, kyc, created_at) OVERRIDING SYSTEM VALUE
	VALUES (1, 'pgbench-merchant', 'pgbench merchant', 'merchant@pgbench.thaili.local', 'approved', 1);
INSERT INTO consumers (id, idx, mobile, name, mpin_hash, phone_confirmed, created_at) OVERRIDING SYSTEM VALUE
	SELECT g, 'pgbench-payer-' || g, '98' || lpad(CAST(g AS TEXT), 8, '0'), 'pgbench payer ' || g, 'unused', 1, 1
	FROM generate_series(1, :payers) AS g;
SELECT setval(pg_get_serial_sequence('merchants', 'id'), 1), setval(pg_get_serial_sequence('consumers', 'id'), :payers);
INSERT INTO accounts (book, kind, owner, shard, balance)
	SELECT 'test', k.kind, k.owner, s, 0 FROM (VALUES ('holds', 0), ('fees', 0), ('merchant', 1)) AS k (kind, owner), generate_series(0, 15) AS s;
INSERT INTO accounts (book, kind, owner, shard, balance) SELECT 'test', 'wallet', id, 0, 10000000000 FROM consumers;
INSERT INTO accounts (book, kind, owner, shard, balance) VALUES ('test', 'funding', 0, 0, -10000000000 * :payers);
INSERT INTO ledger_txns (book, reason, payment_id, created_at) VALUES ('test', 'topup', 0, 1);
INSERT INTO postings (ledger_txn_id, account_id, amount)
	SELECT (SELECT max(id) FROM ledger_txns), id, balance FROM accounts WHERE book = 'test' AND kind IN ('funding', 'wallet');
