package sqlstore

import (
	"context"
	"time"

	"github.com/thaili/thaili/internal/store"
)

func (t *txn) SetMerchantPassword(ctx context.Context, merchantID int64, hash string) error {
	return t.execOne(ctx, `UPDATE merchants SET password_hash = ? WHERE id = ?`, hash, merchantID)
}

func (t *txn) LockKey(ctx context.Context, key string) error {
	if !t.d.KeyLocks {
		return nil
	}
	_, err := t.exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, key)
	return err
}

func (t *txn) MerchantAccount(ctx context.Context, merchantID int64) (store.Account, error) {
	var a store.Account
	var confirmed int
	var expires int64
	err := t.queryRow(ctx, `SELECT phone_confirmed, phone_code_hash, phone_code_expires_at, phone_code_tries
		FROM merchants WHERE id = ?`, merchantID).Scan(&confirmed, &a.CodeHash, &expires, &a.CodeTries)
	if err != nil {
		return store.Account{}, noRows(t.d.MapErr(err))
	}
	a.PhoneConfirmed, a.CodeExpiresAt = confirmed != 0, fromMicros(expires)
	return a, nil
}

func (t *txn) SetMerchantAccount(ctx context.Context, merchantID int64, a store.Account) error {
	confirmed := 0
	if a.PhoneConfirmed {
		confirmed = 1
	}
	return t.execOne(ctx, `UPDATE merchants SET phone_confirmed = ?, phone_code_hash = ?, phone_code_expires_at = ?,
		phone_code_tries = ? WHERE id = ?`, confirmed, a.CodeHash, micros(a.CodeExpiresAt), a.CodeTries, merchantID)
}

func (t *txn) CreateSession(ctx context.Context, s store.Session) error {
	_, err := t.exec(ctx, `INSERT INTO sessions (id_hash, merchant_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)`,
		s.IDHash, s.MerchantID, micros(s.CreatedAt), micros(s.LastSeenAt))
	return err
}

func (t *txn) Session(ctx context.Context, idHash string) (store.Session, error) {
	s := store.Session{IDHash: idHash}
	var created, seen int64
	err := t.queryRow(ctx, `SELECT merchant_id, created_at, last_seen_at FROM sessions WHERE id_hash = ?`, idHash).
		Scan(&s.MerchantID, &created, &seen)
	if err != nil {
		return store.Session{}, noRows(t.d.MapErr(err))
	}
	s.CreatedAt, s.LastSeenAt = fromMicros(created), fromMicros(seen)
	return s, nil
}

func (t *txn) TouchSession(ctx context.Context, idHash string, at time.Time) error {
	return t.execOne(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?`, micros(at), idHash)
}

func (t *txn) DeleteSession(ctx context.Context, idHash string) error {
	_, err := t.exec(ctx, `DELETE FROM sessions WHERE id_hash = ?`, idHash)
	return err
}

func (t *txn) DeleteSessions(ctx context.Context, merchantID int64, except string) (int, error) {
	res, err := t.exec(ctx, `DELETE FROM sessions WHERE merchant_id = ? AND id_hash <> ?`, merchantID, except)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func (t *txn) PurgeSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int, error) {
	res, err := t.exec(ctx, `DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?`, micros(idleBefore), micros(createdBefore))
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func (t *txn) AddLoginFailure(ctx context.Context, email string, at time.Time) error {
	_, err := t.exec(ctx, `INSERT INTO login_failures (email, at) VALUES (?, ?)`, email, micros(at))
	return err
}

func (t *txn) LoginFailures(ctx context.Context, email string, since time.Time) (int, error) {
	var n int
	err := t.queryRow(ctx, `SELECT COUNT(*) FROM login_failures WHERE email = ? AND at >= ?`, email, micros(since)).Scan(&n)
	return n, t.d.MapErr(err)
}

func (t *txn) ClearLoginFailures(ctx context.Context, email string, before time.Time) error {
	_, err := t.exec(ctx, `DELETE FROM login_failures WHERE email = ? AND at < ?`, email, micros(before))
	return err
}
