package sqlstore

import (
	"context"
	"time"

	"github.com/thaili/thaili/internal/store"
)

func (t *txn) ConsumerAccount(ctx context.Context, consumerID int64) (store.Account, error) {
	var a store.Account
	var confirmed int
	var expires int64
	err := t.queryRow(ctx, `SELECT phone_confirmed, phone_code_hash, phone_code_expires_at, phone_code_tries
		FROM consumers WHERE id = ?`, consumerID).Scan(&confirmed, &a.CodeHash, &expires, &a.CodeTries)
	if err != nil {
		return store.Account{}, noRows(t.d.MapErr(err))
	}
	a.PhoneConfirmed, a.CodeExpiresAt = confirmed != 0, fromMicros(expires)
	return a, nil
}

func (t *txn) SetConsumerAccount(ctx context.Context, consumerID int64, a store.Account) error {
	confirmed := 0
	if a.PhoneConfirmed {
		confirmed = 1
	}
	return t.execOne(ctx, `UPDATE consumers SET phone_confirmed = ?, phone_code_hash = ?, phone_code_expires_at = ?,
		phone_code_tries = ? WHERE id = ?`, confirmed, a.CodeHash, micros(a.CodeExpiresAt), a.CodeTries, consumerID)
}

func (t *txn) CreateConsumerSession(ctx context.Context, s store.ConsumerSession) error {
	_, err := t.exec(ctx, `INSERT INTO consumer_sessions (id_hash, consumer_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)`,
		s.IDHash, s.ConsumerID, micros(s.CreatedAt), micros(s.LastSeenAt))
	return err
}

func (t *txn) ConsumerSession(ctx context.Context, idHash string) (store.ConsumerSession, error) {
	s := store.ConsumerSession{IDHash: idHash}
	var created, seen int64
	err := t.queryRow(ctx, `SELECT consumer_id, created_at, last_seen_at FROM consumer_sessions WHERE id_hash = ?`, idHash).
		Scan(&s.ConsumerID, &created, &seen)
	if err != nil {
		return store.ConsumerSession{}, noRows(t.d.MapErr(err))
	}
	s.CreatedAt, s.LastSeenAt = fromMicros(created), fromMicros(seen)
	return s, nil
}

func (t *txn) TouchConsumerSession(ctx context.Context, idHash string, at time.Time) error {
	return t.execOne(ctx, `UPDATE consumer_sessions SET last_seen_at = ? WHERE id_hash = ?`, micros(at), idHash)
}

func (t *txn) DeleteConsumerSession(ctx context.Context, idHash string) error {
	_, err := t.exec(ctx, `DELETE FROM consumer_sessions WHERE id_hash = ?`, idHash)
	return err
}

func (t *txn) DeleteConsumerSessions(ctx context.Context, consumerID int64, except string) (int, error) {
	res, err := t.exec(ctx, `DELETE FROM consumer_sessions WHERE consumer_id = ? AND id_hash <> ?`, consumerID, except)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func (t *txn) PurgeConsumerSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int, error) {
	res, err := t.exec(ctx, `DELETE FROM consumer_sessions WHERE last_seen_at < ? OR created_at < ?`, micros(idleBefore), micros(createdBefore))
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func (t *txn) AddConsumerCode(ctx context.Context, c store.ConsumerCode) error {
	_, err := t.exec(ctx, `INSERT INTO consumer_codes (consumer_id, purpose, code, created_at) VALUES (?, ?, ?, ?)`,
		c.ConsumerID, c.Purpose, c.Code, micros(c.CreatedAt))
	return err
}

func (t *txn) ConsumerCodes(ctx context.Context, consumerID int64, since time.Time) ([]store.ConsumerCode, error) {
	rows, err := t.query(ctx, `SELECT purpose, code, created_at FROM consumer_codes WHERE consumer_id = ? AND created_at >= ?
		ORDER BY created_at DESC`, consumerID, micros(since))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.ConsumerCode
	for rows.Next() {
		c := store.ConsumerCode{ConsumerID: consumerID}
		var at int64
		if err := rows.Scan(&c.Purpose, &c.Code, &at); err != nil {
			return nil, t.d.MapErr(err)
		}
		c.CreatedAt = fromMicros(at)
		out = append(out, c)
	}
	return out, t.d.MapErr(rows.Err())
}

func (t *txn) PurgeConsumerCodes(ctx context.Context, before time.Time) error {
	_, err := t.exec(ctx, `DELETE FROM consumer_codes WHERE created_at < ?`, micros(before))
	return err
}

func (t *txn) ConsumerPayments(ctx context.Context, consumerID int64, limit int) ([]store.Payment, error) {
	rows, err := t.query(ctx, `SELECT `+paymentColumns+` FROM payments WHERE consumer_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`,
		consumerID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Payment
	for rows.Next() {
		p, err := scanPayment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, t.d.MapErr(rows.Err())
}
