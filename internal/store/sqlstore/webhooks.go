package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/thaili/thaili/internal/store"
)

const endpointColumns = `id, idx, merchant_id, book, url, secret, events, created_at, disabled_at`

func scanEndpoint(row scanner) (store.WebhookEndpoint, error) {
	var e store.WebhookEndpoint
	var events string
	var created, disabled int64
	err := row.Scan(&e.ID, &e.Idx, &e.MerchantID, &e.Book, &e.URL, &e.Secret, &events, &created, &disabled)
	if events != "" {
		e.Events = strings.Split(events, ",")
	}
	e.CreatedAt, e.DisabledAt = fromMicros(created), fromMicros(disabled)
	return e, noRows(err)
}

func (t *txn) CreateWebhookEndpoint(ctx context.Context, e *store.WebhookEndpoint) error {
	var err error
	e.ID, err = t.insert(ctx, `INSERT INTO webhook_endpoints (idx, merchant_id, book, url, secret, events, created_at, disabled_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Idx, e.MerchantID, e.Book, e.URL, e.Secret, strings.Join(e.Events, ","), micros(e.CreatedAt), micros(e.DisabledAt))
	return err
}

func (t *txn) WebhookEndpoints(ctx context.Context, scope store.Scope) ([]store.WebhookEndpoint, error) {
	rows, err := t.query(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints
		WHERE merchant_id = ? AND book = ? AND disabled_at = 0 ORDER BY id`, scope.MerchantID, scope.Book)
	out, err := collect(rows, err, scanEndpoint)
	return out, t.d.MapErr(err)
}

func (t *txn) WebhookEndpointByIdx(ctx context.Context, scope store.Scope, idx string) (store.WebhookEndpoint, error) {
	e, err := scanEndpoint(t.queryRow(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints
		WHERE idx = ? AND merchant_id = ? AND book = ?`, idx, scope.MerchantID, scope.Book))
	return e, t.d.MapErr(err)
}

func (t *txn) WebhookEndpointByID(ctx context.Context, id int64) (store.WebhookEndpoint, error) {
	e, err := scanEndpoint(t.queryRow(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE id = ?`, id))
	return e, t.d.MapErr(err)
}

func (t *txn) DisableWebhookEndpoint(ctx context.Context, id int64, at time.Time) error {
	return t.execOne(ctx, `UPDATE webhook_endpoints SET disabled_at = ? WHERE id = ? AND disabled_at = 0`, micros(at), id)
}

func (t *txn) CreateWebhookEvent(ctx context.Context, e *store.WebhookEvent) error {
	var err error
	e.ID, err = t.insert(ctx, `INSERT INTO webhook_events (idx, merchant_id, book, type, payment_id, payload, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.Idx, e.MerchantID, e.Book, e.Type, e.PaymentID, string(e.Payload), micros(e.CreatedAt))
	return err
}

func (t *txn) WebhookEvent(ctx context.Context, id int64) (store.WebhookEvent, error) {
	var e store.WebhookEvent
	var payload string
	var created int64
	err := t.queryRow(ctx, `SELECT id, idx, merchant_id, book, type, payment_id, payload, created_at
		FROM webhook_events WHERE id = ?`, id).
		Scan(&e.ID, &e.Idx, &e.MerchantID, &e.Book, &e.Type, &e.PaymentID, &payload, &created)
	if err != nil {
		return store.WebhookEvent{}, noRows(t.d.MapErr(err))
	}
	e.Payload, e.CreatedAt = []byte(payload), fromMicros(created)
	return e, nil
}

func (t *txn) WebhookEventTimes(ctx context.Context, merchantID int64, typ string, since time.Time, limit int) ([]time.Time, error) {
	rows, err := t.query(ctx, `SELECT created_at FROM webhook_events
		WHERE merchant_id = ? AND type = ? AND created_at > ? ORDER BY created_at, id LIMIT ?`, merchantID, typ, micros(since), limit)
	out, err := collect(rows, err, func(row scanner) (time.Time, error) {
		var us int64
		err := row.Scan(&us)
		return fromMicros(us), err
	})
	return out, t.d.MapErr(err)
}

const deliveryColumns = `id, idx, event_id, endpoint_id, attempt, status, next_attempt_at, last_status_code,
	last_error, response_body, response_truncated, created_at, updated_at, locked_until`

func scanDelivery(row scanner) (store.WebhookDelivery, error) {
	var d store.WebhookDelivery
	var next, created, updated, locked int64
	var truncated int
	err := row.Scan(&d.ID, &d.Idx, &d.EventID, &d.EndpointID, &d.Attempt, &d.Status, &next, &d.LastStatusCode,
		&d.LastError, &d.ResponseBody, &truncated, &created, &updated, &locked)
	d.ResponseTruncated = truncated != 0
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt, d.LockedUntil = fromMicros(next), fromMicros(created), fromMicros(updated), fromMicros(locked)
	return d, noRows(err)
}

func (t *txn) CreateWebhookDelivery(ctx context.Context, d *store.WebhookDelivery) error {
	if d.Status == "" {
		d.Status = store.DeliveryPending
	}
	var err error
	d.ID, err = t.insert(ctx, `INSERT INTO webhook_deliveries (idx, event_id, endpoint_id, attempt, status, next_attempt_at,
		last_status_code, last_error, response_body, response_truncated, created_at, updated_at, locked_until)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.Idx, d.EventID, d.EndpointID, d.Attempt, d.Status, micros(d.NextAttemptAt), d.LastStatusCode, d.LastError,
		d.ResponseBody, flag(d.ResponseTruncated), micros(d.CreatedAt), micros(d.UpdatedAt), micros(d.LockedUntil))
	return err
}

func (t *txn) deliveries(rows *sql.Rows, err error) ([]store.WebhookDelivery, error) {
	out, err := collect(rows, err, scanDelivery)
	return out, t.d.MapErr(err)
}

func (t *txn) WebhookDeliveries(ctx context.Context, endpointID int64, limit int) ([]store.WebhookDelivery, error) {
	return t.deliveries(t.query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE endpoint_id = ? ORDER BY id DESC LIMIT ?`, endpointID, limit))
}

func (t *txn) WebhookDeliveryByIdx(ctx context.Context, idx string) (store.WebhookDelivery, error) {
	d, err := scanDelivery(t.queryRow(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE idx = ?`, idx))
	return d, t.d.MapErr(err)
}

func (t *txn) ClaimWebhookDeliveries(ctx context.Context, now, until time.Time, limit int) ([]store.WebhookDelivery, error) {
	lock := ""
	if t.d.SkipLocked {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	// The outer WHERE repeats the condition: under READ COMMITTED a row
	// another worker claimed meanwhile is re-checked, and skipped.
	out, err := t.deliveries(t.query(ctx, `UPDATE webhook_deliveries SET locked_until = ?
		WHERE id IN (SELECT id FROM webhook_deliveries
			WHERE status = 'pending' AND next_attempt_at <= ? AND locked_until <= ?
			ORDER BY next_attempt_at, id LIMIT ?`+lock+`)
		AND status = 'pending' AND locked_until <= ?
		RETURNING `+deliveryColumns, micros(until), micros(now), micros(now), limit, micros(now)))
	if err != nil {
		return nil, err
	}
	// RETURNING has no order of its own.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && deliveryBefore(out[j], out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

func deliveryBefore(a, b store.WebhookDelivery) bool {
	if !a.NextAttemptAt.Equal(b.NextAttemptAt) {
		return a.NextAttemptAt.Before(b.NextAttemptAt)
	}
	return a.ID < b.ID
}

func (t *txn) FinishWebhookDelivery(ctx context.Context, d *store.WebhookDelivery, heldUntil time.Time) error {
	err := t.execOne(ctx, `UPDATE webhook_deliveries SET attempt = ?, status = ?, next_attempt_at = ?, last_status_code = ?,
		last_error = ?, response_body = ?, response_truncated = ?, updated_at = ?, locked_until = 0
		WHERE id = ? AND locked_until = ?`,
		d.Attempt, d.Status, micros(d.NextAttemptAt), d.LastStatusCode, d.LastError, d.ResponseBody, flag(d.ResponseTruncated),
		micros(d.UpdatedAt), d.ID, micros(heldUntil))
	if err == nil {
		d.LockedUntil = time.Time{}
	}
	return err
}

func (t *txn) ReplayWebhookDelivery(ctx context.Context, id int64, now time.Time) error {
	return t.execOne(ctx, `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?, updated_at = ?, locked_until = 0
		WHERE id = ?`, micros(now), micros(now), id)
}
