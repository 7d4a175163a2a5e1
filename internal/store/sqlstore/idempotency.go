package sqlstore

import (
	"context"
	"time"

	"github.com/thaili/thaili/internal/store"
)

func (t *txn) BeginIdempotency(ctx context.Context, r *store.IdempotencyRecord, now time.Time) error {
	res, err := t.exec(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, status, created_at, lease_until)
		VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT (scope, key) DO NOTHING`,
		r.Scope, r.Key, r.RequestHash, micros(r.CreatedAt), micros(r.LeaseUntil))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	// Take over a running row whose request did nothing and no longer
	// runs. The condition is re-checked on the locked row, so of two nodes
	// only one wins, and a request that commits its effects first keeps
	// its key.
	res, err = t.exec(ctx, `UPDATE idempotency_keys SET request_hash = ?, created_at = ?, lease_until = ?, response_status = 0,
		response_headers = '', response_body = NULL, completed_at = 0
		WHERE scope = ? AND key = ? AND status = 0 AND effects = 0 AND lease_until < ?`,
		r.RequestHash, micros(r.CreatedAt), micros(r.LeaseUntil), r.Scope, r.Key, micros(now))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	return store.ErrDuplicate
}

// idempotencyByKey reads a key by its primary key (scope, key).
const idempotencyByKey = `SELECT request_hash, status, effects, response_status, response_headers, response_body, created_at, completed_at, lease_until
	FROM idempotency_keys WHERE scope = ? AND key = ?`

func (t *txn) Idempotency(ctx context.Context, scope, key string) (store.IdempotencyRecord, error) {
	r := store.IdempotencyRecord{Scope: scope, Key: key}
	var status, effects int
	var created, completed, lease int64
	err := t.queryRow(ctx, idempotencyByKey, scope, key).
		Scan(&r.RequestHash, &status, &effects, &r.ResponseStatus, &r.ResponseHeaders, &r.ResponseBody, &created, &completed, &lease)
	if err != nil {
		return store.IdempotencyRecord{}, noRows(t.d.MapErr(err))
	}
	r.Completed, r.Effects = status != 0, effects != 0
	r.CreatedAt, r.CompletedAt, r.LeaseUntil = fromMicros(created), fromMicros(completed), fromMicros(lease)
	if r.ResponseBody == nil {
		r.ResponseBody = []byte{}
	}
	return r, nil
}

func (t *txn) CompleteIdempotency(ctx context.Context, r *store.IdempotencyRecord) error {
	body := r.ResponseBody
	if body == nil {
		body = []byte{}
	}
	err := t.execOne(ctx, `UPDATE idempotency_keys SET status = 1, response_status = ?, response_headers = ?,
		response_body = ?, completed_at = ? WHERE scope = ? AND key = ? AND status = 0 AND created_at = ?`,
		r.ResponseStatus, r.ResponseHeaders, body, micros(r.CompletedAt), r.Scope, r.Key, micros(r.CreatedAt))
	if err == nil {
		r.Completed = true
	}
	return err
}

func (t *txn) RenewIdempotency(ctx context.Context, scope, key string, createdAt, leaseUntil time.Time) error {
	return t.execOne(ctx, `UPDATE idempotency_keys SET lease_until = ? WHERE scope = ? AND key = ? AND status = 0 AND created_at = ?`,
		micros(leaseUntil), scope, key, micros(createdAt))
}

func (t *txn) MarkIdempotencyEffects(ctx context.Context, scope, key string, createdAt time.Time) error {
	return t.execOne(ctx, `UPDATE idempotency_keys SET effects = 1 WHERE scope = ? AND key = ? AND status = 0 AND created_at = ?`,
		scope, key, micros(createdAt))
}

func (t *txn) DeleteIdempotency(ctx context.Context, scope, key string, createdAt time.Time) error {
	return t.execOne(ctx, `DELETE FROM idempotency_keys WHERE scope = ? AND key = ? AND status = 0 AND effects = 0 AND created_at = ?`,
		scope, key, micros(createdAt))
}

func (t *txn) PurgeIdempotency(ctx context.Context, before time.Time) (int, error) {
	res, err := t.exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, micros(before))
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
