package store

import (
	"context"
	"time"
)

// Operator is a person who runs the platform through the console at
// /admin/ (created with `thaili admin create`).
type Operator struct {
	ID           int64
	Email        string
	PasswordHash string
	CreatedAt    time.Time
}

// OperatorSession is a signed-in console session, stored by the SHA-256
// of its cookie value like a merchant's Session.
type OperatorSession struct {
	IDHash     string
	OperatorID int64
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// AuditEntry is one operator action: who (a console operator's id and
// email at the time, or another actor's name such as "command line
// (alice)"), what (action), on what (subject, e.g. a merchant idx or a
// mobile) and how (detail).
type AuditEntry struct {
	ID int64
	// OperatorID is the console operator who acted, or 0 when the actor
	// is not a console operator (the command line); stored as NULL.
	OperatorID int64
	Operator   string // the actor's name: the operator's email, or e.g. "command line (alice)"
	Action     string
	Subject    string
	Detail     string
	At         time.Time
}

// MerchantSummary is a merchant as the console lists it.
type MerchantSummary struct {
	Merchant
	KYCReason string
}

// OperatorTx is the operator-console part of Tx.
type OperatorTx interface {
	// CreateOperator sets o.ID; ErrDuplicate if the email is taken.
	CreateOperator(ctx context.Context, o *Operator) error
	// Operator and OperatorByEmail return ErrNotFound for no operator.
	Operator(ctx context.Context, id int64) (Operator, error)
	OperatorByEmail(ctx context.Context, email string) (Operator, error)

	CreateOperatorSession(ctx context.Context, s OperatorSession) error
	// OperatorSession returns the session with that id hash, or ErrNotFound.
	OperatorSession(ctx context.Context, idHash string) (OperatorSession, error)
	TouchOperatorSession(ctx context.Context, idHash string, at time.Time) error
	DeleteOperatorSession(ctx context.Context, idHash string) error
	PurgeOperatorSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int, error)

	// SetMerchantKYCReason stores why the KYC state was set (a rejection's reason).
	SetMerchantKYCReason(ctx context.Context, id int64, reason string) error
	// SearchMerchants lists up to limit merchants whose name or email
	// contains q (case-insensitively; all if q is empty), only those in
	// state kyc if it is set, newest first.
	SearchMerchants(ctx context.Context, q string, kyc KYC, limit int) ([]MerchantSummary, error)
	// SearchConsumers lists up to limit wallets whose mobile contains q, newest first.
	SearchConsumers(ctx context.Context, q string, limit int) ([]Consumer, error)

	// AddAudit records e and sets its ID.
	AddAudit(ctx context.Context, e *AuditEntry) error
	// AuditLog returns the newest limit entries, newest first.
	AuditLog(ctx context.Context, limit int) ([]AuditEntry, error)
}
