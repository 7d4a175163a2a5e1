package store

import (
	"context"
	"time"
)

// Account is the sign-in state of a merchant beside its Merchant record:
// whether the owner's phone is confirmed and the pending confirmation
// code (its keyed hash, expiry and wrong tries so far).
type Account struct {
	PhoneConfirmed bool
	CodeHash       string // empty when no code is pending
	CodeExpiresAt  time.Time
	CodeTries      int
}

// Session is a signed-in dashboard session. IDHash is the SHA-256 of the
// cookie value, so the table does not hold usable session ids.
type Session struct {
	IDHash     string
	MerchantID int64
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// AccountTx is the merchant-account part of Tx: passwords, phone
// confirmation, sessions and failed sign-ins.
type AccountTx interface {
	SetMerchantPassword(ctx context.Context, merchantID int64, hash string) error
	// MerchantAccount returns the merchant's account state, or ErrNotFound.
	MerchantAccount(ctx context.Context, merchantID int64) (Account, error)
	SetMerchantAccount(ctx context.Context, merchantID int64, a Account) error

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
