-- The payment hot path's indexes (issue 14); the reasons are in
-- docs/storage.md, "Indexes and plans".
-- The index changes are kept equal in the SQLite and PostgreSQL schemas.
-- The PostgreSQL twin also sets autovacuum thresholds and fill factors,
-- storage parameters SQLite does not have.
--
-- The sweeper's indexes and the daily totals' index become partial, so
-- that a payment is in them only while the query that reads them can
-- want it. The sweeper's queries and the daily totals name these
-- predicates word for word (internal/store/sqlstore): SQLite uses a
-- partial index only when the query's WHERE has the index's own terms.
DROP INDEX payments_due;
DROP INDEX payments_expiry;
CREATE INDEX payments_wallet_open ON payments (state, created_at)
	WHERE kind = 'wallet' AND state IN ('Initiated', 'Confirmed');
CREATE INDEX payments_epayment_open ON payments (state, expires_at)
	WHERE kind = 'epayment' AND state IN ('Initiated', 'Pending');
DROP INDEX payments_completed;
CREATE INDEX payments_completed ON payments (merchant_id, book, completed_at) WHERE completed_at > 0;

-- No query finds postings by account: the ledger audit sums them for all
-- accounts at once, and accounts are never deleted.
DROP INDEX postings_account;
