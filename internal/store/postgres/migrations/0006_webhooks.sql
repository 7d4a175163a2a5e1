-- Signed webhooks. A merchant registers endpoints per book and chooses
-- event types (a comma list). The endpoint's signing secret is kept
-- sealed (AES-GCM under the server secret), so a database leak does not
-- leak it. Events are the outbox: written in the same transaction as the
-- payment's state change, with one delivery per subscribed endpoint,
-- which a background worker claims (locked_until is its lease) and posts.
-- Delivery status is pending, succeeded or failed.
-- Kept column-for-column equal to the SQLite schema.

CREATE TABLE webhook_endpoints (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	idx         TEXT NOT NULL UNIQUE,
	merchant_id BIGINT NOT NULL REFERENCES merchants(id),
	book        TEXT NOT NULL CHECK (book IN ('test', 'live')),
	url         TEXT NOT NULL,
	secret      BYTEA NOT NULL,
	events      TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	disabled_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webhook_endpoints_merchant ON webhook_endpoints (merchant_id, book);

CREATE TABLE webhook_events (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	idx         TEXT NOT NULL UNIQUE,
	merchant_id BIGINT NOT NULL REFERENCES merchants(id),
	book        TEXT NOT NULL,
	type        TEXT NOT NULL,
	payment_id  BIGINT NOT NULL DEFAULT 0,
	payload     TEXT NOT NULL,
	created_at  BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
	id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	idx              TEXT NOT NULL UNIQUE,
	event_id         BIGINT NOT NULL REFERENCES webhook_events(id),
	endpoint_id      BIGINT NOT NULL REFERENCES webhook_endpoints(id),
	attempt          INTEGER NOT NULL DEFAULT 0,
	status           TEXT NOT NULL DEFAULT 'pending',
	next_attempt_at  BIGINT NOT NULL,
	last_status_code INTEGER NOT NULL DEFAULT 0,
	last_error       TEXT NOT NULL DEFAULT '',
	created_at       BIGINT NOT NULL,
	updated_at       BIGINT NOT NULL,
	locked_until     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
