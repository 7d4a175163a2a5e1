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

func (t *txn) ConfirmMerchant(ctx context.Context, merchantID int64) error {
	return t.execOne(ctx, `UPDATE merchants SET phone_confirmed = 1 WHERE id = ?`, merchantID)
}

// unusedMerchant is the condition under which an unconfirmed merchant
// may be deleted: nothing refers to it but what DeleteUnconfirmedMerchant
// deletes with it.
const unusedMerchant = `phone_confirmed = 0
	AND NOT EXISTS (SELECT 1 FROM payments WHERE merchant_id = merchants.id)
	AND NOT EXISTS (SELECT 1 FROM accounts WHERE kind = 'merchant' AND owner = merchants.id)
	AND NOT EXISTS (SELECT 1 FROM webhook_endpoints WHERE merchant_id = merchants.id)
	AND NOT EXISTS (SELECT 1 FROM webhook_events WHERE merchant_id = merchants.id)
	AND NOT EXISTS (SELECT 1 FROM kyc_details WHERE merchant_id = merchants.id)
	AND NOT EXISTS (SELECT 1 FROM kyc_documents WHERE merchant_id = merchants.id)`

func (t *txn) DeleteUnconfirmedMerchant(ctx context.Context, merchantID int64) (bool, error) {
	return t.deleteUnused(ctx, `SELECT count(*) FROM merchants WHERE id = ? AND `+unusedMerchant, merchantID, store.CodeSubjectMerchant(merchantID),
		`DELETE FROM api_keys WHERE merchant_id = ?`,
		`DELETE FROM fee_tiers WHERE merchant_id = ?`,
		`DELETE FROM sessions WHERE merchant_id = ?`,
		`DELETE FROM merchants WHERE id = ?`)
}

// deleteUnused deletes the account id with the deletes, in order, and its
// codes (subject), if check counts it as an unconfirmed, unused account.
func (t *txn) deleteUnused(ctx context.Context, check string, id int64, subject string, deletes ...string) (bool, error) {
	var n int
	if err := t.queryRow(ctx, check, id).Scan(&n); err != nil {
		return false, t.d.MapErr(err)
	}
	if n == 0 {
		return false, nil
	}
	for _, q := range deletes {
		if _, err := t.exec(ctx, q, id); err != nil {
			return false, err
		}
	}
	_, err := t.exec(ctx, `DELETE FROM account_codes WHERE subject = ?`, subject)
	return err == nil, err
}

func (t *txn) UnconfirmedBefore(ctx context.Context, before time.Time, limit int) ([]int64, []int64, error) {
	scanID := func(row scanner) (int64, error) {
		var id int64
		return id, row.Scan(&id)
	}
	rows, err := t.query(ctx, `SELECT id FROM merchants WHERE created_at < ? AND `+unusedMerchant+` ORDER BY created_at LIMIT ?`, micros(before), limit)
	merchants, err := collect(rows, t.d.MapErr(err), scanID)
	if err != nil {
		return nil, nil, err
	}
	rows, err = t.query(ctx, `SELECT id FROM consumers WHERE created_at < ? AND `+unusedConsumer+` ORDER BY created_at LIMIT ?`, micros(before), limit)
	consumers, err := collect(rows, t.d.MapErr(err), scanID)
	return merchants, consumers, err
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
