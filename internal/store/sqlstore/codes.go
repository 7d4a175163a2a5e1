package sqlstore

import (
	"context"
	"time"

	"github.com/thaili/thaili/internal/store"
)

func (t *txn) CreateCode(ctx context.Context, c store.Code) error {
	_, err := t.exec(ctx, `INSERT INTO account_codes (challenge_hash, subject, purpose, target, code_hash, tries, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.ChallengeHash, c.Subject, c.Purpose, c.Target, c.CodeHash, c.Tries,
		micros(c.ExpiresAt), micros(c.CreatedAt))
	return err
}

func (t *txn) RetireCodes(ctx context.Context, subject, purpose string) error {
	_, err := t.exec(ctx, `UPDATE account_codes SET code_hash = '' WHERE subject = ? AND purpose = ? AND code_hash <> ''`, subject, purpose)
	return err
}

func (t *txn) TryCode(ctx context.Context, challengeHash string, maxTries int, now time.Time) (store.Code, error) {
	c := store.Code{ChallengeHash: challengeHash}
	var expires, created int64
	err := t.queryRow(ctx, `UPDATE account_codes SET tries = tries + 1
		WHERE challenge_hash = ? AND code_hash <> '' AND tries < ? AND expires_at > ?
		RETURNING subject, purpose, target, code_hash, tries, expires_at, created_at`, challengeHash, maxTries, micros(now)).
		Scan(&c.Subject, &c.Purpose, &c.Target, &c.CodeHash, &c.Tries, &expires, &created)
	if err != nil {
		return store.Code{}, noRows(t.d.MapErr(err))
	}
	c.ExpiresAt, c.CreatedAt = fromMicros(expires), fromMicros(created)
	return c, nil
}

func (t *txn) UseCode(ctx context.Context, challengeHash string) error {
	return t.execOne(ctx, `UPDATE account_codes SET code_hash = '' WHERE challenge_hash = ? AND code_hash <> ''`, challengeHash)
}

func (t *txn) CodesSince(ctx context.Context, target string, since time.Time) (int, error) {
	var n int
	err := t.queryRow(ctx, `SELECT count(*) FROM account_codes WHERE target = ? AND created_at >= ?`, target, micros(since)).Scan(&n)
	return n, t.d.MapErr(err)
}

func (t *txn) PurgeCodes(ctx context.Context, before time.Time) error {
	_, err := t.exec(ctx, `DELETE FROM account_codes WHERE created_at < ?`, micros(before))
	return err
}
