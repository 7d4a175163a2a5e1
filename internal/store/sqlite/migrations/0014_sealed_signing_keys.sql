-- Redirect signing keys are kept sealed like secret keys and webhook
-- secrets: AES-GCM under the server secret's sealing key, with the key's
-- lookup as associated data (payment.sealSigningKey). A row written
-- before this migration still holds its signing key in clear in
-- signing_key; sealing needs the server secret, which SQL does not have,
-- so `thaili serve` seals those rows when it starts and empties
-- signing_key (payment.SealRedirectKeys). A key has its signing key in
-- at most one of the two columns.
-- Kept equal in the SQLite and PostgreSQL schemas.

ALTER TABLE api_keys ADD COLUMN signing_key_sealed BLOB;
