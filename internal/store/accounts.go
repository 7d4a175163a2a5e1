package store

import (
	"context"
	"time"
)

// Session is a signed-in dashboard session. IDHash is the SHA-256 of the
// cookie value, so the table does not hold usable session ids.
type Session struct {
	IDHash     string
	MerchantID int64
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// AccountTx is the merchant-account part of Tx: passwords, phone
// confirmation, sessions, failed sign-ins and sign-ups that expired.
type AccountTx interface {
	SetMerchantPassword(ctx context.Context, merchantID int64, hash string) error
	// ConfirmMerchant marks the merchant's phone confirmed.
	ConfirmMerchant(ctx context.Context, merchantID int64) error
	// DeleteUnconfirmedMerchant deletes a merchant whose phone is not
	// confirmed and that was never used (no payment, ledger account,
	// webhook or KYC submission), with its keys, fee schedule, sessions
	// and codes, and reports whether it did; a confirmed or used merchant
	// is left alone.
	DeleteUnconfirmedMerchant(ctx context.Context, merchantID int64) (bool, error)
	// UnconfirmedBefore lists up to limit merchants and consumers whose
	// phone is not confirmed, that were never used (as the Delete methods
	// define it) and that were created before before: the sign-ups that
	// expired.
	UnconfirmedBefore(ctx context.Context, before time.Time, limit int) (merchantIDs, consumerIDs []int64, err error)

	CreateSession(ctx context.Context, s Session) error
	// Session returns the session with that id hash, or ErrNotFound.
	Session(ctx context.Context, idHash string) (Session, error)
	TouchSession(ctx context.Context, idHash string, at time.Time) error
	DeleteSession(ctx context.Context, idHash string) error
	// DeleteSessions removes every session of the merchant except the one
	// with id hash except (none if empty) and returns how many it removed.
	DeleteSessions(ctx context.Context, merchantID int64, except string) (int, error)
	// PurgeSessions removes sessions last seen before idleBefore or
	// created before createdBefore.
	PurgeSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int, error)

	AddLoginFailure(ctx context.Context, email string, at time.Time) error
	// LoginFailures counts email's failures at or after since.
	LoginFailures(ctx context.Context, email string, since time.Time) (int, error)
	// ClearLoginFailures removes email's failures before before.
	ClearLoginFailures(ctx context.Context, email string, before time.Time) error
}
