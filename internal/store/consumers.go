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

// ConsumerCode is one code the notifier delivered to a consumer: the
// sandbox's OTP inbox, as no SMS gateway is reachable.
type ConsumerCode struct {
	ConsumerID int64
	Purpose    string
	Code       string
	CreatedAt  time.Time
}

// ConsumerAccountTx is the wallet-page part of Tx: phone confirmation,
// sessions, the OTP inbox and a consumer's payments.
type ConsumerAccountTx interface {
	// ConsumerAccount returns the consumer's phone state, or ErrNotFound.
	ConsumerAccount(ctx context.Context, consumerID int64) (Account, error)
	SetConsumerAccount(ctx context.Context, consumerID int64, a Account) error

	CreateConsumerSession(ctx context.Context, s ConsumerSession) error
	// ConsumerSession returns the session with that id hash, or ErrNotFound.
	ConsumerSession(ctx context.Context, idHash string) (ConsumerSession, error)
	TouchConsumerSession(ctx context.Context, idHash string, at time.Time) error
	DeleteConsumerSession(ctx context.Context, idHash string) error
	// DeleteConsumerSessions removes every session of the consumer except
	// the one with id hash except.
	DeleteConsumerSessions(ctx context.Context, consumerID int64, except string) (int, error)
	PurgeConsumerSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int, error)

	AddConsumerCode(ctx context.Context, c ConsumerCode) error
	// ConsumerCodes returns the consumer's codes created at or after
	// since, newest first.
	ConsumerCodes(ctx context.Context, consumerID int64, since time.Time) ([]ConsumerCode, error)
	// PurgeConsumerCodes removes every code created before before.
	PurgeConsumerCodes(ctx context.Context, before time.Time) error

	// ConsumerPayments returns up to limit payments the consumer signed
	// in to, newest first.
	ConsumerPayments(ctx context.Context, consumerID int64, limit int) ([]Payment, error)
}
