package store

import (
	"context"
	"time"
)

// IdempotencyRecord is a request remembered under an Idempotency-Key and,
// once it has finished, its response.
type IdempotencyRecord struct {
	Scope       string // whose key it is: the authenticating key's kind, merchant and book
	Key         string
	RequestHash string // a keyed hash of method, path and body
	Completed   bool   // false while the first request is still running
	// Effects is set in the same transaction as the first write the
	// request commits. A running row with effects was not abandoned
	// before doing anything: it may never be taken over, since running
	// the request again could repeat what it did.
	Effects bool
	// LeaseUntil is how long a running row's claim holds: the request
	// running under the key keeps moving it a few seconds ahead. A running
	// row without effects whose lease ended was left by a request that did
	// nothing and no longer runs, and a retry may take it over.
	LeaseUntil time.Time
	// The stored response, once Completed.
	ResponseStatus  int
	ResponseHeaders string // the handler's headers as a JSON object of lists
	ResponseBody    []byte
	CreatedAt       time.Time
	CompletedAt     time.Time
}

// IdempotencyTx is the idempotency-key part of Tx.
type IdempotencyTx interface {
	// BeginIdempotency stores r as running, held until r.LeaseUntil. If a
	// row with the same scope and key exists it is ErrDuplicate, unless
	// that row is still running without effects and its lease ended before
	// now: such a row (its request did nothing and no longer runs) is
	// replaced by r, in one compare-and-set, so of two retries one wins.
	BeginIdempotency(ctx context.Context, r *IdempotencyRecord, now time.Time) error
	// RenewIdempotency moves the lease of the running row of scope and key
	// created at createdAt to leaseUntil. Anything else is ErrNotFound:
	// the row was completed, released, or taken over by a retry.
	RenewIdempotency(ctx context.Context, scope, key string, createdAt, leaseUntil time.Time) error
	// Idempotency returns the row of scope and key, or ErrNotFound.
	Idempotency(ctx context.Context, scope, key string) (IdempotencyRecord, error)
	// CompleteIdempotency stores r's response on the running row of r's
	// scope and key created at r.CreatedAt; anything else is ErrNotFound.
	CompleteIdempotency(ctx context.Context, r *IdempotencyRecord) error
	// MarkIdempotencyEffects records, in the transaction of the request's
	// writes, that the running row of scope and key created at createdAt
	// has effects. Anything else is ErrNotFound: the row was taken over
	// by a retry, and the caller must roll its writes back.
	MarkIdempotencyEffects(ctx context.Context, scope, key string, createdAt time.Time) error
	// DeleteIdempotency removes the running row of scope and key created
	// at createdAt without effects, so a retry runs anew; anything else is
	// ErrNotFound.
	DeleteIdempotency(ctx context.Context, scope, key string, createdAt time.Time) error
	// PurgeIdempotency removes rows created before before and returns how many.
	PurgeIdempotency(ctx context.Context, before time.Time) (int, error)
}
