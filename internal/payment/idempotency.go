package payment

import (
	"context"
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/store"
)

// Idempotency-Key timing. Keys are kept at least IdempotencyTTL. A running
// key is held by a lease of IdempotencyLease, which the request running
// under it renews every IdempotencyRenewEvery (RenewIdempotent). A lease
// that ran out means nobody runs the request any more: without effects its
// key is free for a retry; with effects its retries are told the response
// was lost.
const (
	IdempotencyTTL = 24 * time.Hour
	// IdempotencyLease bounds how long a key whose request did nothing
	// stays "in progress" once that request stopped, even when it could
	// not release the key (its database was unreachable).
	IdempotencyLease = 10 * time.Second
	// IdempotencyRenewEvery leaves a running request four renewals per
	// lease, so a slow or briefly failing renewal does not lose its key.
	IdempotencyRenewEvery = IdempotencyLease / 4
	// IdempotencyMaxHold caps renewals: no request holds its key longer
	// (the server's write timeout is 60 s), so a request stuck for good
	// does not keep its key from retries.
	IdempotencyMaxHold = 10 * time.Minute
)

// Idempotency outcomes that are not a replay.
var (
	// ErrIdempotencyMismatch: the key was used with a different request.
	ErrIdempotencyMismatch = errors.New("payment: idempotency key used with a different request")
	// ErrIdempotencyBusy: the first request with the key is still running.
	ErrIdempotencyBusy = errors.New("payment: idempotent request still in progress")
	// ErrIdempotencyLost: the first request with the key committed work
	// but its response was never stored (its node stopped in between),
	// and running it again could repeat that work.
	ErrIdempotencyLost = errors.New("payment: idempotent request done but its response lost")
	// ErrIdempotencyNotHeld: RenewIdempotent found the request's claim
	// gone: a retry took the key over (the lease had run out), or the
	// request was finished. Renewing is pointless from then on.
	ErrIdempotencyNotHeld = errors.New("payment: idempotency key no longer held by this request")
)

// IdempotentRequest is a request made under an Idempotency-Key.
type IdempotentRequest struct {
	Scope string // whose namespace the key is in: IdempotencyScope
	Key   string
	Hash  string // IdempotencyHash of the request
	began time.Time
}

// IdempotencyScope names the namespace of a caller's keys: one per key
// kind, merchant and book, so a public key (which anyone may hold) can
// never claim or read keys used with the secret key.
func IdempotencyScope(c Caller) string {
	return string(c.Kind) + ":" + strconv.FormatInt(c.Merchant.ID, 10) + ":" + string(c.Book)
}

// IdempotencyHash is a keyed hash of a request's method, path and body.
// It is keyed with the server secret because bodies may hold an MPIN.
func (s *Service) IdempotencyHash(method, path string, body []byte) string {
	m := s.ring.HMAC()
	m.Write([]byte("idempotency\x00" + method + "\x00" + path + "\x00"))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// BeginIdempotent claims req's key. It returns nil, nil when the caller
// should run the request, renewing its lease with RenewIdempotent while it
// runs, and then call FinishIdempotent; the stored record when the same
// request already finished (to replay); ErrIdempotencyMismatch,
// ErrIdempotencyBusy or ErrIdempotencyLost otherwise. A key still running
// without effects whose lease ran out is taken over: its request did
// nothing and no longer runs.
func (s *Service) BeginIdempotent(ctx context.Context, req *IdempotentRequest) (*store.IdempotencyRecord, error) {
	ctx = withoutIdempotentRequest(ctx)
	for attempt := 0; attempt < 5; attempt++ {
		now := s.now()
		rec := store.IdempotencyRecord{Scope: req.Scope, Key: req.Key, RequestHash: req.Hash, CreatedAt: now,
			LeaseUntil: now.Add(IdempotencyLease)}
		err := s.store.InTx(ctx, func(tx store.Tx) error {
			return tx.BeginIdempotency(ctx, &rec, now)
		})
		if err == nil {
			req.began = now
			return nil, nil
		}
		if !errors.Is(err, store.ErrDuplicate) {
			return nil, err
		}
		var old store.IdempotencyRecord
		err = s.store.View(ctx, func(tx store.Tx) error {
			var err error
			old, err = tx.Idempotency(ctx, req.Scope, req.Key)
			return err
		})
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue // deleted (a 5xx) or purged in between: claim it again
		case err != nil:
			return nil, err
		case !hmac.Equal([]byte(old.RequestHash), []byte(req.Hash)):
			return nil, ErrIdempotencyMismatch
		case !old.Completed && old.Effects && old.LeaseUntil.Before(now):
			return nil, ErrIdempotencyLost
		case !old.Completed:
			return nil, ErrIdempotencyBusy
		}
		return &old, nil
	}
	return nil, ErrIdempotencyBusy
}

// RenewIdempotent moves the lease of req, which BeginIdempotent let run,
// IdempotencyLease ahead (but never past IdempotencyMaxHold after the
// claim), so no retry takes the key over while the request still runs.
// It is ErrIdempotencyNotHeld once the claim is gone.
func (s *Service) RenewIdempotent(ctx context.Context, req *IdempotentRequest) error {
	until := s.now().Add(IdempotencyLease)
	if limit := req.began.Add(IdempotencyMaxHold); until.After(limit) {
		until = limit
	}
	ctx = withoutIdempotentRequest(ctx)
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		return tx.RenewIdempotency(ctx, req.Scope, req.Key, req.began, until)
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrIdempotencyNotHeld
	}
	return err
}

// FinishIdempotent stores the response of a request BeginIdempotent let
// run. A server error (5xx) is not kept: the key is released so a retry
// runs again, unless the request committed some work first; then the key
// stays running, and once its lease runs out its retries get
// ErrIdempotencyLost. If the release itself fails (the database is
// unreachable), the key is free anyway once its lease runs out.
func (s *Service) FinishIdempotent(ctx context.Context, req *IdempotentRequest, status int, headers string, body []byte) error {
	ctx = withoutIdempotentRequest(ctx)
	return s.store.InTx(ctx, func(tx store.Tx) error {
		if status >= 500 {
			if err := tx.DeleteIdempotency(ctx, req.Scope, req.Key, req.began); !errors.Is(err, store.ErrNotFound) {
				return err
			}
			return nil
		}
		return tx.CompleteIdempotency(ctx, &store.IdempotencyRecord{Scope: req.Scope, Key: req.Key, RequestHash: req.Hash,
			ResponseStatus: status, ResponseHeaders: headers, ResponseBody: body, CreatedAt: req.began, CompletedAt: s.now()})
	})
}

// PurgeIdempotency forgets keys older than IdempotencyTTL and returns how
// many. Several nodes may run it at once.
func (s *Service) PurgeIdempotency(ctx context.Context) (int, error) {
	var n int
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		n, err = tx.PurgeIdempotency(ctx, s.now().Add(-IdempotencyTTL))
		return err
	})
	return n, err
}

// WithIdempotentRequest returns ctx for running req, which BeginIdempotent
// let run: every transaction the service commits under it also marks
// req's key as having effects, atomically with its writes.
func WithIdempotentRequest(ctx context.Context, req *IdempotentRequest) context.Context {
	return context.WithValue(ctx, idempotentRequestKey{}, req)
}

type idempotentRequestKey struct{}

// withoutIdempotentRequest returns ctx for the key's own bookkeeping, whose
// transactions must not be fenced and marked as the request's effects.
func withoutIdempotentRequest(ctx context.Context) context.Context {
	if ctx.Value(idempotentRequestKey{}) == nil {
		return ctx
	}
	return context.WithValue(ctx, idempotentRequestKey{}, (*IdempotentRequest)(nil))
}

// fencedStore is the service's store. Under WithIdempotentRequest its
// write transactions mark the request's key as having effects before they
// commit. That closes the window between a request's work and the storing
// of its response: if the node stops in between, the key keeps its mark,
// so a retry is told the response was lost instead of doing the work
// again. And a request whose key a retry took over (its lease ran out:
// its renewals failed, or it ran past IdempotencyMaxHold) can no longer
// commit anything: its mark fails and its writes roll back.
type fencedStore struct{ store.Store }

func (f fencedStore) InTx(ctx context.Context, fn func(store.Tx) error) error {
	req, _ := ctx.Value(idempotentRequestKey{}).(*IdempotentRequest)
	if req == nil {
		return f.Store.InTx(ctx, fn)
	}
	return f.Store.InTx(ctx, func(tx store.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		err := tx.MarkIdempotencyEffects(ctx, req.Scope, req.Key, req.began)
		if errors.Is(err, store.ErrNotFound) {
			return &fault.Error{Kind: fault.KindConflict, ErrorKey: "idempotency_error",
				Detail: "A retry with this Idempotency-Key took this request over; this one did nothing."}
		}
		return err
	})
}
