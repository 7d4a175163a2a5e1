-- Signed redirects: a secret key's redirect signing key,
-- HMAC-SHA256(secret key, "thaili-redirect-v1"). It signs the hosted
-- page's return_url redirects and cannot give back the secret. Keys issued
-- before this migration have none, and their redirects are unsigned.
ALTER TABLE api_keys ADD COLUMN signing_key BYTEA;
