-- The dashboard's chart of daily volume (issue 6) sums a merchant's
-- payments by completion time; this index keeps that a range scan.
-- Kept equal in the SQLite and PostgreSQL schemas.

CREATE INDEX payments_completed ON payments (merchant_id, book, completed_at);
