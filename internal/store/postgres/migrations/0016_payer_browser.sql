-- The hosted payment page binds a payment to the browser that signed in
-- to pay it (issue 11): payer_browser is the SHA-256 of that browser's
-- page cookie. While its code is fresh, only that browser may enter the
-- code, cancel, or sign in again, so a stranger who knows the pidx can
-- neither spend the payer's code tries nor take the payment over.
-- Kept equal in the SQLite and PostgreSQL schemas.

ALTER TABLE payments ADD COLUMN payer_browser TEXT NOT NULL DEFAULT '';
