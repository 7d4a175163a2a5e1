-- ePayment (KPG-2): payments created by the merchant's server and paid on
-- the hosted page. They share the payments table, id space and ledger
-- with legacy wallet payments; the pidx is kept in token.
ALTER TABLE payments ADD COLUMN kind TEXT NOT NULL DEFAULT 'wallet';
ALTER TABLE payments ADD COLUMN purchase_order_id TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN purchase_order_name TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN return_url TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN website_url TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN details BYTEA;
CREATE INDEX payments_expiry ON payments (state, expires_at);
