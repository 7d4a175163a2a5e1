package store

import (
	"context"
	"time"
)

// ConsumerSession is a signed-in wallet-page session (issue 6). IDHash is
// the SHA-256 of the cookie value.
type ConsumerSession struct {
	IDHash     string
	ConsumerID int64
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// ConsumerNotice is something the wallet's owner is told on the wallet
// page: a lock, an MPIN change, a sign-up or reset asked for with the
// number. Notices never hold codes.
type ConsumerNotice struct {
	ConsumerID int64
	Text       string
	CreatedAt  time.Time
}

// MPINGuard is the count of wrong MPINs given for a mobile number that
// has no wallet, kept like a wallet's (Consumer.FailedMPIN and the
// fields beside it) so that a stranger is answered alike whether or not
// the number has a wallet.
type MPINGuard struct {
	Mobile      string
	Failed      int
	LockedUntil time.Time
	LockLevel   int
	UpdatedAt   time.Time
}

// ConsumerAccountTx is the wallet-page part of Tx: phone confirmation,
// wrong-MPIN counts, sessions, notices and a consumer's payments.
type ConsumerAccountTx interface {
	// ConfirmConsumer marks the consumer's phone confirmed.
	ConfirmConsumer(ctx context.Context, consumerID int64) error
	// DeleteUnconfirmedConsumer deletes a consumer whose phone is not
	// confirmed and that was never used (no payment, no ledger account),
	// with its sessions, notices and codes, and reports whether it did.
	DeleteUnconfirmedConsumer(ctx context.Context, consumerID int64) (bool, error)

	// ConsumerForUpdate is ConsumerByMobile, and where the database has
	// row locks it locks the consumer's row to the end of the
	// transaction: wrong and right MPINs for one wallet are then decided
	// one after the other, so a burst of guesses cannot all read the
	// wallet unlocked.
	ConsumerForUpdate(ctx context.Context, mobile string) (Consumer, error)
	// SetConsumerGuard stores the consumer's count of wrong MPINs and
	// its timed lock (FailedMPIN, MPINLockedUntil, MPINLockLevel).
	SetConsumerGuard(ctx context.Context, c Consumer) error
	// ResetConsumerSecurity sets the MPIN hash and the lock until reset
	// (Consumer.Locked), and clears the wrong-MPIN count and timed lock.
	ResetConsumerSecurity(ctx context.Context, consumerID int64, mpinHash string, locked bool) error
	// ReplaceMPINHash sets the consumer's MPIN hash to newHash if it is
	// still oldHash (a hash of the same MPIN in an older scheme), and
	// returns ErrNotFound otherwise: a concurrent MPIN change wins.
	ReplaceMPINHash(ctx context.Context, consumerID int64, oldHash, newHash string) error
	// MPINGuard returns the guard of a mobile without a wallet; a mobile
	// never guessed at has the zero guard (with Mobile set).
	MPINGuard(ctx context.Context, mobile string) (MPINGuard, error)
	// SetMPINGuard stores g, replacing the mobile's guard.
	SetMPINGuard(ctx context.Context, g MPINGuard) error
	// DeleteMPINGuard forgets a mobile's guard (the number got a wallet).
	DeleteMPINGuard(ctx context.Context, mobile string) error
	// PurgeMPINGuards forgets guards last changed before before whose
	// lock has ended.
	PurgeMPINGuards(ctx context.Context, before time.Time) error

	CreateConsumerSession(ctx context.Context, s ConsumerSession) error
	// ConsumerSession returns the session with that id hash, or ErrNotFound.
	ConsumerSession(ctx context.Context, idHash string) (ConsumerSession, error)
	TouchConsumerSession(ctx context.Context, idHash string, at time.Time) error
	DeleteConsumerSession(ctx context.Context, idHash string) error
	// DeleteConsumerSessions removes every session of the consumer except
	// the one with id hash except.
	DeleteConsumerSessions(ctx context.Context, consumerID int64, except string) (int, error)
	PurgeConsumerSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int, error)

	AddConsumerNotice(ctx context.Context, n ConsumerNotice) error
	// ConsumerNotices returns up to limit of the consumer's notices
	// created at or after since, newest first.
	ConsumerNotices(ctx context.Context, consumerID int64, since time.Time, limit int) ([]ConsumerNotice, error)
	// PurgeConsumerNotices removes every notice created before before.
	PurgeConsumerNotices(ctx context.Context, before time.Time) error

	// ConsumerPayments returns up to limit payments the consumer signed
	// in to, newest first.
	ConsumerPayments(ctx context.Context, consumerID int64, limit int) ([]Payment, error)
}
