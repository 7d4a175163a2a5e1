-- The payment hot path's indexes and vacuuming (issue 14); the reasons
-- are in docs/storage.md, "Indexes and plans".
-- The index changes are kept equal in the SQLite and PostgreSQL schemas;
-- the storage parameters at the end exist in PostgreSQL only.
--
-- Every update of a payment that changes its state writes a new row
-- version with an entry in every index of payments (state and the times
-- are indexed, so such an update is never HOT). The sweeper's indexes
-- and the daily totals' index become partial, so that a payment is in
-- them only while the query that reads them can want it: a wallet
-- payment while Initiated or Confirmed, an ePayment while Initiated or
-- Pending, and a payment in payments_completed once it has completed.
-- The sweeper's queries and the daily totals name these predicates word
-- for word (internal/store/sqlstore), which SQLite needs to use them.
DROP INDEX payments_due;
DROP INDEX payments_expiry;
CREATE INDEX payments_wallet_open ON payments (state, created_at)
	WHERE kind = 'wallet' AND state IN ('Initiated', 'Confirmed');
CREATE INDEX payments_epayment_open ON payments (state, expires_at)
	WHERE kind = 'epayment' AND state IN ('Initiated', 'Pending');
DROP INDEX payments_completed;
CREATE INDEX payments_completed ON payments (merchant_id, book, completed_at) WHERE completed_at > 0;

-- No query finds postings by account: the ledger audit sums them for all
-- accounts at once (a hash join), and accounts are never deleted. Each
-- entry's two to four postings no longer pay for the index.
DROP INDEX postings_account;

-- Autovacuum by default waits for 20% of a table to be dead (10% for
-- analyze, 20% inserted for an insert-only table): on a table that grows
-- all day that is ever longer between runs, with bloat and stale
-- statistics in between. These tables are vacuumed and analyzed after
-- about 2% and 1% of their rows instead.
ALTER TABLE payments SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.01,
	autovacuum_vacuum_insert_scale_factor = 0.02);
ALTER TABLE ledger_txns SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.01,
	autovacuum_vacuum_insert_scale_factor = 0.02);
ALTER TABLE postings SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.01,
	autovacuum_vacuum_insert_scale_factor = 0.02);
ALTER TABLE webhook_events SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.01,
	autovacuum_vacuum_insert_scale_factor = 0.02);

-- Tables whose common updates change no indexed column, so the new row
-- version can stay on its page (a HOT update, without index entries) if
-- the page has room: leave 15% (10% for deliveries) of each page free
-- for it. An account's balance is not indexed; an idempotency key's
-- lease, effects mark and stored response are not; a delivery's claim
-- changes only locked_until. The fill factor applies to pages written
-- from now on.
ALTER TABLE accounts SET (fillfactor = 85, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.01);
ALTER TABLE idempotency_keys SET (fillfactor = 85, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.01,
	autovacuum_vacuum_insert_scale_factor = 0.02);
ALTER TABLE webhook_deliveries SET (fillfactor = 90, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.01,
	autovacuum_vacuum_insert_scale_factor = 0.02);
