package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/store"
)

func (t *txn) ConfirmConsumer(ctx context.Context, consumerID int64) error {
	return t.execOne(ctx, `UPDATE consumers SET phone_confirmed = 1 WHERE id = ?`, consumerID)
}

// unusedConsumer is the condition under which an unconfirmed consumer
// may be deleted: nothing refers to it but what DeleteUnconfirmedConsumer
// deletes with it.
const unusedConsumer = `phone_confirmed = 0
	AND NOT EXISTS (SELECT 1 FROM payments WHERE consumer_id = consumers.id)
	AND NOT EXISTS (SELECT 1 FROM accounts WHERE kind = 'wallet' AND owner = consumers.id)`

func (t *txn) DeleteUnconfirmedConsumer(ctx context.Context, consumerID int64) (bool, error) {
	return t.deleteUnused(ctx, `SELECT count(*) FROM consumers WHERE id = ? AND `+unusedConsumer, consumerID, store.CodeSubjectConsumer(consumerID),
		`DELETE FROM consumer_sessions WHERE consumer_id = ?`,
		`DELETE FROM consumer_notices WHERE consumer_id = ?`,
		`DELETE FROM consumers WHERE id = ?`)
}

func (t *txn) MPINGuard(ctx context.Context, mobile string) (store.MPINGuard, error) {
	g := store.MPINGuard{Mobile: mobile}
	var until, updated int64
	err := t.queryRow(ctx, `SELECT failed, locked_until, lock_level, updated_at FROM mpin_guards WHERE mobile = ?`, mobile).
		Scan(&g.Failed, &until, &g.LockLevel, &updated)
	if err := noRows(t.d.MapErr(err)); errors.Is(err, store.ErrNotFound) {
		return g, nil
	} else if err != nil {
		return store.MPINGuard{}, err
	}
	g.LockedUntil, g.UpdatedAt = fromMicros(until), fromMicros(updated)
	return g, nil
}

func (t *txn) SetMPINGuard(ctx context.Context, g store.MPINGuard) error {
	_, err := t.exec(ctx, `INSERT INTO mpin_guards (mobile, failed, locked_until, lock_level, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (mobile) DO UPDATE SET failed = excluded.failed, locked_until = excluded.locked_until,
		lock_level = excluded.lock_level, updated_at = excluded.updated_at`,
		g.Mobile, g.Failed, micros(g.LockedUntil), g.LockLevel, micros(g.UpdatedAt))
	return err
}

func (t *txn) DeleteMPINGuard(ctx context.Context, mobile string) error {
	_, err := t.exec(ctx, `DELETE FROM mpin_guards WHERE mobile = ?`, mobile)
	return err
}

func (t *txn) PurgeMPINGuards(ctx context.Context, before time.Time) error {
	_, err := t.exec(ctx, `DELETE FROM mpin_guards WHERE updated_at < ? AND locked_until < ?`, micros(before), micros(before))
	return err
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

func (t *txn) AddConsumerNotice(ctx context.Context, n store.ConsumerNotice) error {
	_, err := t.exec(ctx, `INSERT INTO consumer_notices (consumer_id, text, created_at) VALUES (?, ?, ?)`,
		n.ConsumerID, n.Text, micros(n.CreatedAt))
	return err
}

func (t *txn) ConsumerNotices(ctx context.Context, consumerID int64, since time.Time, limit int) ([]store.ConsumerNotice, error) {
	rows, err := t.query(ctx, `SELECT text, created_at FROM consumer_notices WHERE consumer_id = ? AND created_at >= ?
		ORDER BY created_at DESC, id DESC LIMIT ?`, consumerID, micros(since), limit)
	return collect(rows, t.d.MapErr(err), func(row scanner) (store.ConsumerNotice, error) {
		n := store.ConsumerNotice{ConsumerID: consumerID}
		var at int64
		err := row.Scan(&n.Text, &at)
		n.CreatedAt = fromMicros(at)
		return n, err
	})
}

func (t *txn) PurgeConsumerNotices(ctx context.Context, before time.Time) error {
	_, err := t.exec(ctx, `DELETE FROM consumer_notices WHERE created_at < ?`, micros(before))
	return err
}

func (t *txn) ConsumerPayments(ctx context.Context, consumerID int64, limit int) ([]store.Payment, error) {
	rows, err := t.query(ctx, `SELECT `+paymentColumns+` FROM payments WHERE consumer_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`,
		consumerID, limit)
	out, err := collect(rows, err, scanPayment)
	return out, t.d.MapErr(err)
}

const consumerColumns = `id, idx, mobile, name, mpin_hash, failed_mpin, mpin_locked_until, mpin_lock_level, locked, phone_confirmed, created_at`

// scanConsumer reads consumerColumns, then extra.
func scanConsumer(row scanner, extra ...any) (store.Consumer, error) {
	var c store.Consumer
	var lockedUntil, created int64
	err := row.Scan(append([]any{&c.ID, &c.Idx, &c.Mobile, &c.Name, &c.MPINHash, &c.FailedMPIN, &lockedUntil, &c.MPINLockLevel,
		&c.Locked, &c.Confirmed, &created}, extra...)...)
	c.MPINLockedUntil, c.CreatedAt = fromMicros(lockedUntil), fromMicros(created)
	return c, noRows(err)
}

func (t *txn) CreateConsumer(ctx context.Context, c *store.Consumer) error {
	var err error
	c.ID, err = t.insert(ctx, `INSERT INTO consumers (idx, mobile, name, mpin_hash, failed_mpin, mpin_locked_until, mpin_lock_level, locked,
		phone_confirmed, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Idx, c.Mobile, c.Name, c.MPINHash, c.FailedMPIN, micros(c.MPINLockedUntil), c.MPINLockLevel, c.Locked, flag(c.Confirmed), micros(c.CreatedAt))
	return err
}

func (t *txn) Consumer(ctx context.Context, id int64) (store.Consumer, error) {
	return scanConsumer(t.queryRow(ctx, `SELECT `+consumerColumns+` FROM consumers WHERE id = ?`, id))
}

// consumerByMobile finds a payer by the unique mobile; the wallet's
// balance is summed over its shards through the unique account key
// (book, kind, owner, shard).
const (
	consumerByMobile    = `SELECT ` + consumerColumns + ` FROM consumers WHERE mobile = ?`
	consumerWithBalance = `SELECT ` + consumerColumns + `,
		(SELECT COALESCE(SUM(a.balance), 0) FROM accounts a WHERE a.book = ? AND a.kind = ? AND a.owner = consumers.id)
		FROM consumers WHERE mobile = ?`
)

func (t *txn) ConsumerByMobile(ctx context.Context, mobile string) (store.Consumer, error) {
	return scanConsumer(t.queryRow(ctx, consumerByMobile, mobile))
}

func (t *txn) ConsumerForUpdate(ctx context.Context, mobile string) (store.Consumer, error) {
	return scanConsumer(t.queryRow(ctx, consumerByMobile+t.d.forUpdate(), mobile))
}

func (t *txn) ConsumerWithBalance(ctx context.Context, mobile string, book ledger.Book) (store.Consumer, money.Paisa, error) {
	var bal money.Paisa
	c, err := scanConsumer(t.queryRow(ctx, consumerWithBalance+t.d.forUpdate(), book, ledger.Wallet, mobile), &bal)
	if err != nil {
		return store.Consumer{}, 0, err
	}
	return c, bal, nil
}

func (t *txn) SetConsumerGuard(ctx context.Context, c store.Consumer) error {
	return t.execOne(ctx, `UPDATE consumers SET failed_mpin = ?, mpin_locked_until = ?, mpin_lock_level = ? WHERE id = ?`,
		c.FailedMPIN, micros(c.MPINLockedUntil), c.MPINLockLevel, c.ID)
}

func (t *txn) ReplaceMPINHash(ctx context.Context, id int64, oldHash, newHash string) error {
	return t.execOne(ctx, `UPDATE consumers SET mpin_hash = ? WHERE id = ? AND mpin_hash = ?`, newHash, id, oldHash)
}

func (t *txn) ResetConsumerSecurity(ctx context.Context, id int64, mpinHash string, locked bool) error {
	return t.execOne(ctx, `UPDATE consumers SET mpin_hash = ?, locked = ?, failed_mpin = 0, mpin_locked_until = 0, mpin_lock_level = 0
		WHERE id = ?`, mpinHash, locked, id)
}
