-- The ledger check sums every payment's capture and refund entries in one
-- pass over their postings, each posting finding its entry by the entry's
-- primary key (internal/store/sqlstore, snapshotPayments), so no query
-- finds an entry by its payment or a posting by its entry. Every entry on
-- a payment's hot path (two per legacy payment: the hold and the capture)
-- paid for both indexes; issue 14's measurements are in docs/storage.md,
-- "Indexes and plans". The index changes are kept equal in the SQLite and
-- PostgreSQL schemas.
DROP INDEX ledger_txns_payment;
DROP INDEX postings_txn;
