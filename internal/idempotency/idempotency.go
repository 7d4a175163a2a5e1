// Package idempotency makes a request safe to retry under an
// Idempotency-Key: a request claims its key, runs, and stores its
// answer, which a retry with the same key and body gets again. Its Fence
// makes every transaction a request commits also mark the key "has
// effects", atomically, so a request whose answer was lost is never run
// again and one whose key a retry took over cannot commit anything
// (docs/payments.md, Idempotency).
package idempotency

import (
	"context"
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/keyring"
	"github.com/thaili/thaili/internal/store"
)

// Idempotency-Key timing. Keys are kept at least TTL. A running key is
// held by a lease of Lease, which the request running under it renews
// every RenewEvery (Keys.Renew). A lease
// that ran out means nobody runs the request any more: without effects its
// key is free for a retry; with effects its retries are told the response
// was lost.
const (
	TTL = 24 * time.Hour
	// Lease bounds how long a key whose request did nothing
	// stays "in progress" once that request stopped, even when it could
	// not release the key (its database was unreachable).
	Lease = 10 * time.Second
	// RenewEvery leaves a running request four renewals per
	// lease, so a slow or briefly failing renewal does not lose its key.
	RenewEvery = Lease / 4
	// MaxHold caps renewals: no request holds its key longer
	// (the server's write timeout is 60 s), so a request stuck for good
	// does not keep its key from retries.
	MaxHold = 10 * time.Minute
)

// Idempotency outcomes that are not a replay.
var (
	// ErrMismatch: the key was used with a different request.
	ErrMismatch = errors.New("idempotency: key used with a different request")
	// ErrBusy: the first request with the key is still running.
	ErrBusy = errors.New("idempotency: request still in progress")
	// ErrLost: the first request with the key committed work
	// but its response was never stored (its node stopped in between),
	// and running it again could repeat that work.
	ErrLost = errors.New("idempotency: request done but its response lost")
	// ErrNotHeld: Renew found the request's claim
	// gone: a retry took the key over (the lease had run out), or the
	// request was finished. Renewing is pointless from then on.
	ErrNotHeld = errors.New("idempotency: key no longer held by this request")
)

// Request is a request made under an Idempotency-Key.
type Request struct {
	Scope string // whose namespace the key is in: ScopeOf
	Key   string
	Hash  string // Keys.Hash of the request
	began time.Time
}

// ScopeOf names the namespace of a caller's keys: one per key kind,
// merchant and book, so a public key (which anyone may hold) can never
// claim or read keys used with the secret key.
func ScopeOf(kind store.KeyKind, scope store.Scope) string {
	return string(kind) + ":" + strconv.FormatInt(scope.MerchantID, 10) + ":" + string(scope.Book)
}

// Keys keeps the Idempotency-Keys of requests in a store.
type Keys struct {
	store store.Store
	now   func() time.Time
	ring  *keyring.Ring
}

// NewKeys returns the keys kept in st, with now as the clock and ring to
// hash request bodies.
func NewKeys(st store.Store, now func() time.Time, ring *keyring.Ring) *Keys {
	return &Keys{store: st, now: now, ring: ring}
}

// Hash is a keyed hash of a request's method, path and body. It is keyed
// with the server secret because bodies may hold an MPIN.
func (s *Keys) Hash(method, path string, body []byte) string {
	m := s.ring.HMAC()
	m.Write([]byte("idempotency\x00" + method + "\x00" + path + "\x00"))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Begin claims req's key. It returns nil, nil when the caller should run
// the request under WithRequest, renewing its lease with Renew while it
// runs, and then call Finish; the stored record when the same request
// already finished (to replay); ErrMismatch, ErrBusy or ErrLost
// otherwise. A key still running
// without effects whose lease ran out is taken over: its request did
// nothing and no longer runs.
func (s *Keys) Begin(ctx context.Context, req *Request) (*store.IdempotencyRecord, error) {
	ctx = withoutRequest(ctx)
	for attempt := 0; attempt < 5; attempt++ {
		now := s.now()
		rec := store.IdempotencyRecord{Scope: req.Scope, Key: req.Key, RequestHash: req.Hash, CreatedAt: now,
			LeaseUntil: now.Add(Lease)}
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
			return nil, ErrMismatch
		case !old.Completed && old.Effects && old.LeaseUntil.Before(now):
			return nil, ErrLost
		case !old.Completed:
			return nil, ErrBusy
		}
		return &old, nil
	}
	return nil, ErrBusy
}

// Renew moves the lease of req, which Begin let run, Lease ahead (but
// never past MaxHold after the claim), so no retry takes the key over
// while the request still runs. It is ErrNotHeld once the claim is gone.
func (s *Keys) Renew(ctx context.Context, req *Request) error {
	until := s.now().Add(Lease)
	if limit := req.began.Add(MaxHold); until.After(limit) {
		until = limit
	}
	ctx = withoutRequest(ctx)
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		return tx.RenewIdempotency(ctx, req.Scope, req.Key, req.began, until)
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotHeld
	}
	return err
}

// Finish stores the response of a request Begin let run. A server error (5xx) is not kept: the key is released so a retry
// runs again, unless the request committed some work first; then the key
// stays running, and once its lease runs out its retries get
// ErrLost. If the release itself fails (the database is
// unreachable), the key is free anyway once its lease runs out.
func (s *Keys) Finish(ctx context.Context, req *Request, status int, headers string, body []byte) error {
	ctx = withoutRequest(ctx)
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

// Purge forgets keys older than TTL and returns how many. Several nodes
// may run it at once.
func (s *Keys) Purge(ctx context.Context) (int, error) {
	var n int
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		n, err = tx.PurgeIdempotency(ctx, s.now().Add(-TTL))
		return err
	})
	return n, err
}

// WithRequest returns ctx for running req, which Begin let run: every
// transaction a fenced store (Fence) commits under it also marks req's
// key as having effects, atomically with its writes.
func WithRequest(ctx context.Context, req *Request) context.Context {
	return context.WithValue(ctx, idempotentRequestKey{}, req)
}

type idempotentRequestKey struct{}

// withoutRequest returns ctx for the key's own bookkeeping, whose
// transactions must not be fenced and marked as the request's effects.
func withoutRequest(ctx context.Context) context.Context {
	if ctx.Value(idempotentRequestKey{}) == nil {
		return ctx
	}
	return context.WithValue(ctx, idempotentRequestKey{}, (*Request)(nil))
}

// Fence returns st fenced: under WithRequest its
// write transactions mark the request's key as having effects before they
// commit. That closes the window between a request's work and the storing
// of its response: if the node stops in between, the key keeps its mark,
// so a retry is told the response was lost instead of doing the work
// again. And a request whose key a retry took over (its lease ran out:
// its renewals failed, or it ran past MaxHold) can no longer
// commit anything: its mark fails and its writes roll back. Every
// service that writes for a request runs on a fenced store.
func Fence(st store.Store) store.Store { return fencedStore{st} }

type fencedStore struct{ store.Store }

func (f fencedStore) InTx(ctx context.Context, fn func(store.Tx) error) error {
	req, _ := ctx.Value(idempotentRequestKey{}).(*Request)
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
