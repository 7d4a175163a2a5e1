-- The delivery log shows what each delivery got back (issue 13): the
-- first 4 KB of the last answer's body (response_body, valid UTF-8,
-- without NUL bytes) and whether the body was longer (response_truncated,
-- 0 or 1); last_status_code already holds its status. A delivery made
-- before this migration shows no body. The payload sent is the event's
-- (webhook_events.payload), the same for every attempt.
-- Test events (type webhook.test) are limited per merchant by counting
-- its recent ones: webhook_events_merchant_type finds them.
-- Kept equal in the SQLite and PostgreSQL schemas.

ALTER TABLE webhook_deliveries ADD COLUMN response_body TEXT NOT NULL DEFAULT '';
ALTER TABLE webhook_deliveries ADD COLUMN response_truncated INTEGER NOT NULL DEFAULT 0;
CREATE INDEX webhook_events_merchant_type ON webhook_events (merchant_id, type, created_at);
