-- The merchant KYC form (issue 6): the submitted details (one row per
-- merchant, replaced on resubmission) and the uploaded documents, kept in
-- the database so every node can serve them. Document types are sniffed
-- from the content; uploaded file names are never stored. Times are Unix
-- microseconds.
-- Kept column-for-column equal to the PostgreSQL schema.

CREATE TABLE kyc_details (
	merchant_id         INTEGER PRIMARY KEY REFERENCES merchants(id),
	business_name       TEXT NOT NULL,
	registration_number TEXT NOT NULL,
	tax_number          TEXT NOT NULL,
	address             TEXT NOT NULL,
	submitted_at        INTEGER NOT NULL
);

CREATE TABLE kyc_documents (
	id           INTEGER PRIMARY KEY,
	merchant_id  INTEGER NOT NULL REFERENCES merchants(id),
	content_type TEXT NOT NULL,
	size         INTEGER NOT NULL,
	sha256       TEXT NOT NULL,
	data         BLOB NOT NULL,
	created_at   INTEGER NOT NULL
);
CREATE INDEX kyc_documents_merchant ON kyc_documents (merchant_id);
