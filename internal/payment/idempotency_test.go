package payment_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/idempotency"
	"github.com/thaili/thaili/internal/servicetest"
	"github.com/thaili/thaili/internal/store"
)

// A node that stops after a request's work committed but before its
// response was stored: a retry must not do the work again.
func TestIdempotencyLostResponseIsNotRunAgain(t *testing.T) {
	f := newLC(t)
	token := f.initiate(t, 2000)
	tr, err := f.confirm(token, "987654")
	if err != nil {
		t.Fatal(err)
	}
	begin := func() (*idempotency.Request, error) {
		req := &idempotency.Request{Scope: idempotency.ScopeOf(f.caller.Kind, f.caller.Scope()), Key: "verify-1", Hash: "same request"}
		replay, err := f.keys.Begin(f.ctx, req)
		if replay != nil {
			t.Fatalf("replayed %+v", replay)
		}
		return req, err
	}
	req, err := begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Verify(idempotency.WithRequest(f.ctx, req), f.caller, token, 2000); err != nil {
		t.Fatal(err)
	}
	// The node stops here: Finish never runs, nor do renewals.
	if _, err := begin(); !errors.Is(err, idempotency.ErrBusy) {
		t.Fatalf("retry while the lease holds: %v, want busy", err)
	}
	f.clock.Advance(idempotency.Lease + time.Second)
	if _, err := begin(); !errors.Is(err, idempotency.ErrLost) {
		t.Fatalf("retry once the lease ran out: %v, want the response-lost answer, not a second run", err)
	}
	f.clock.Advance(time.Hour)
	if _, err := begin(); !errors.Is(err, idempotency.ErrLost) {
		t.Fatalf("retry an hour later: %v, want the response-lost answer, not a second run", err)
	}
	if got := f.state(t, tr.Payment.Idx, 2000); got != store.Completed {
		t.Fatalf("state %s", got)
	}
	f.ledgerOK(t)
}

// A request whose lease ran out (its renewals failed), so that a retry
// took its key over, can no longer commit anything nor renew: only the
// retry's work happens.
func TestIdempotencyTakenOverRequestIsFenced(t *testing.T) {
	f := newLC(t)
	token := f.initiate(t, 2000)
	tr, err := f.confirm(token, "987654")
	if err != nil {
		t.Fatal(err)
	}
	slow := &idempotency.Request{Scope: idempotency.ScopeOf(f.caller.Kind, f.caller.Scope()), Key: "refund-1", Hash: "h"}
	if _, err := f.keys.Begin(f.ctx, slow); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(idempotency.Lease + time.Second)
	retry := &idempotency.Request{Scope: slow.Scope, Key: slow.Key, Hash: slow.Hash}
	if replay, err := f.keys.Begin(f.ctx, retry); err != nil || replay != nil {
		t.Fatalf("take-over of an abandoned key without effects: %v %v", replay, err)
	}
	if err := f.keys.Renew(f.ctx, slow); !errors.Is(err, idempotency.ErrNotHeld) {
		t.Fatalf("renewal by the request taken over: %v, want idempotency.ErrNotHeld", err)
	}
	_, err = f.svc.Verify(idempotency.WithRequest(f.ctx, slow), f.caller, token, 2000)
	if e := fault.AsError(err); err == nil || e.Kind != fault.KindConflict {
		t.Fatalf("the fenced request: %v, want a conflict", err)
	}
	if got := f.state(t, tr.Payment.Idx, 2000); got != store.Confirmed {
		t.Fatalf("the fenced request changed the payment: %s", got)
	}
	if _, err := f.svc.Verify(idempotency.WithRequest(f.ctx, retry), f.caller, token, 2000); err != nil {
		t.Fatalf("the retry: %v", err)
	}
	if err := f.keys.Finish(f.ctx, retry, 200, "{}", []byte(`{"ok":true}`)); err != nil {
		t.Fatal(err)
	}
	replay, err := f.keys.Begin(f.ctx, &idempotency.Request{Scope: slow.Scope, Key: slow.Key, Hash: slow.Hash})
	if err != nil || replay == nil || string(replay.ResponseBody) != `{"ok":true}` {
		t.Fatalf("replay after the retry: %+v %v", replay, err)
	}
	f.ledgerOK(t)
}

// A 5xx after the request committed work keeps the key: releasing it
// would let a retry repeat the work.
func TestIdempotencyServerErrorAfterEffectsKeepsKey(t *testing.T) {
	f := newLC(t)
	token := f.initiate(t, 2000)
	if _, err := f.confirm(token, "987654"); err != nil {
		t.Fatal(err)
	}
	tr, err := f.svc.Verify(f.ctx, f.caller, token, 2000)
	if err != nil {
		t.Fatal(err)
	}
	before := f.wallet(t)
	req := &idempotency.Request{Scope: idempotency.ScopeOf(f.caller.Kind, f.caller.Scope()), Key: "refund-2", Hash: "h"}
	if _, err := f.keys.Begin(f.ctx, req); err != nil {
		t.Fatal(err)
	}
	half := tr.Payment.Amount / 2
	if err := f.svc.Refund(idempotency.WithRequest(f.ctx, req), f.caller, tr.Payment.Idx, &half); err != nil {
		t.Fatal(err)
	}
	if err := f.keys.Finish(f.ctx, req, 500, "", nil); err != nil {
		t.Fatalf("finishing with a 5xx after effects: %v", err)
	}
	f.clock.Advance(idempotency.Lease + time.Second)
	if _, err := f.keys.Begin(f.ctx, &idempotency.Request{Scope: req.Scope, Key: req.Key, Hash: req.Hash}); !errors.Is(err, idempotency.ErrLost) {
		t.Fatalf("retry after a 5xx with effects: %v, want the response-lost answer", err)
	}
	if got := f.wallet(t) - before; got != half {
		t.Fatalf("the payer got %d back, want one refund of %d", got, half)
	}

	// Without effects (the request failed before writing), a 5xx releases
	// the key and a retry runs.
	other := &idempotency.Request{Scope: req.Scope, Key: "refund-3", Hash: "h"}
	if _, err := f.keys.Begin(f.ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := f.keys.Finish(f.ctx, other, 503, "", nil); err != nil {
		t.Fatal(err)
	}
	if replay, err := f.keys.Begin(f.ctx, &idempotency.Request{Scope: req.Scope, Key: "refund-3", Hash: "h"}); err != nil || replay != nil {
		t.Fatalf("retry after a 5xx without effects: %v %v", replay, err)
	}
	f.ledgerOK(t)
}

// downStore is a real store whose database can be made unreachable: while
// down, every transaction fails before it starts, as when PostgreSQL's
// connections are cut.
type downStore struct {
	store.Store
	down atomic.Bool
}

var errDatabaseDown = errors.New("test: the database is unreachable")

func (d *downStore) InTx(ctx context.Context, fn func(store.Tx) error) error {
	if d.down.Load() {
		return errDatabaseDown
	}
	return d.Store.InTx(ctx, fn)
}

func (d *downStore) View(ctx context.Context, fn func(store.Tx) error) error {
	if d.down.Load() {
		return errDatabaseDown
	}
	return d.Store.View(ctx, fn)
}

// newDownLC is newLC on a downStore.
func newDownLC(t *testing.T) (*lcFixture, *downStore) {
	t.Helper()
	ds := &downStore{}
	f := newLC(t, func(d *servicetest.Deps) { ds.Store = d.Payment.Store; d.Payment.Store, d.Identity.Store = ds, ds })
	return f, ds
}

// A request that failed because the database went away, and whose release
// of the key failed too, did nothing: once the database is back, a retry
// with its key runs within seconds instead of being told "still in
// progress" for minutes.
func TestIdempotencyFailedReleaseFreesKeyWithinSeconds(t *testing.T) {
	f, db := newDownLC(t)
	token := f.initiate(t, 2000)
	tr, err := f.confirm(token, "987654")
	if err != nil {
		t.Fatal(err)
	}
	req := &idempotency.Request{Scope: idempotency.ScopeOf(f.caller.Kind, f.caller.Scope()), Key: "verify-down", Hash: "h"}
	if replay, err := f.keys.Begin(f.ctx, req); err != nil || replay != nil {
		t.Fatalf("claim: %v %v", replay, err)
	}
	db.down.Store(true)
	if _, err := f.svc.Verify(idempotency.WithRequest(f.ctx, req), f.caller, token, 2000); err == nil {
		t.Fatal("verify succeeded with the database down")
	}
	if err := f.keys.Renew(f.ctx, req); !errors.Is(err, errDatabaseDown) {
		t.Fatalf("renewal with the database down: %v", err)
	}
	if err := f.keys.Finish(f.ctx, req, 500, "", nil); err == nil {
		t.Fatal("the release succeeded with the database down")
	}
	db.down.Store(false)

	// Right away nobody can tell the request stopped: its lease holds.
	retry := &idempotency.Request{Scope: req.Scope, Key: req.Key, Hash: req.Hash}
	if _, err := f.keys.Begin(f.ctx, retry); !errors.Is(err, idempotency.ErrBusy) {
		t.Fatalf("retry within the lease: %v, want busy", err)
	}
	// Seconds later the lease ran out, not renewed: the retry runs.
	f.clock.Advance(15 * time.Second)
	if replay, err := f.keys.Begin(f.ctx, retry); err != nil || replay != nil {
		t.Fatalf("retry 15 s after a failed request whose release failed: %v %v, want it to run", replay, err)
	}
	if _, err := f.svc.Verify(idempotency.WithRequest(f.ctx, retry), f.caller, token, 2000); err != nil {
		t.Fatalf("the retry: %v", err)
	}
	if err := f.keys.Finish(f.ctx, retry, 200, "{}", []byte(`{"ok":true}`)); err != nil {
		t.Fatal(err)
	}
	replay, err := f.keys.Begin(f.ctx, &idempotency.Request{Scope: req.Scope, Key: req.Key, Hash: req.Hash})
	if err != nil || replay == nil || string(replay.ResponseBody) != `{"ok":true}` {
		t.Fatalf("replay after the retry: %+v %v", replay, err)
	}
	if got := f.state(t, tr.Payment.Idx, 2000); got != store.Completed {
		t.Fatalf("state %s", got)
	}
	f.ledgerOK(t)
}

// A request that committed its work before the database went away, so
// that its response could not be stored, keeps its key for good: retries
// are told the response was lost, never run again.
func TestIdempotencyFailedStoreAfterEffectsIsNeverTakenOver(t *testing.T) {
	f, db := newDownLC(t)
	token := f.initiate(t, 2000)
	if _, err := f.confirm(token, "987654"); err != nil {
		t.Fatal(err)
	}
	tr, err := f.svc.Verify(f.ctx, f.caller, token, 2000)
	if err != nil {
		t.Fatal(err)
	}
	before := f.wallet(t)
	req := &idempotency.Request{Scope: idempotency.ScopeOf(f.caller.Kind, f.caller.Scope()), Key: "refund-down", Hash: "h"}
	if _, err := f.keys.Begin(f.ctx, req); err != nil {
		t.Fatal(err)
	}
	half := tr.Payment.Amount / 2
	if err := f.svc.Refund(idempotency.WithRequest(f.ctx, req), f.caller, tr.Payment.Idx, &half); err != nil {
		t.Fatal(err)
	}
	db.down.Store(true)
	if err := f.keys.Finish(f.ctx, req, 200, "{}", []byte(`{}`)); err == nil {
		t.Fatal("the response was stored with the database down")
	}
	db.down.Store(false)
	retry := func() error {
		_, err := f.keys.Begin(f.ctx, &idempotency.Request{Scope: req.Scope, Key: req.Key, Hash: req.Hash})
		return err
	}
	if err := retry(); !errors.Is(err, idempotency.ErrBusy) {
		t.Fatalf("retry within the lease: %v, want busy", err)
	}
	for _, d := range []time.Duration{15 * time.Second, time.Hour} {
		f.clock.Advance(d)
		if err := retry(); !errors.Is(err, idempotency.ErrLost) {
			t.Fatalf("retry after %s more: %v, want the response-lost answer", d, err)
		}
	}
	if got := f.wallet(t) - before; got != half {
		t.Fatalf("the payer got %d back, want one refund of %d", got, half)
	}
	f.ledgerOK(t)
}

// A request that runs long (a slow refund under load) renews its lease, so
// its key is not taken over however long it runs; it then commits and its
// response is replayed. Renewals stop at idempotency.MaxHold, so a request
// stuck for good does not hold its key from retries.
func TestIdempotencyRenewedLeaseIsNotTakenOver(t *testing.T) {
	f := newLC(t)
	token := f.initiate(t, 2000)
	if _, err := f.confirm(token, "987654"); err != nil {
		t.Fatal(err)
	}
	tr, err := f.svc.Verify(f.ctx, f.caller, token, 2000)
	if err != nil {
		t.Fatal(err)
	}
	before := f.wallet(t)
	slow := &idempotency.Request{Scope: idempotency.ScopeOf(f.caller.Kind, f.caller.Scope()), Key: "refund-slow", Hash: "h"}
	if _, err := f.keys.Begin(f.ctx, slow); err != nil {
		t.Fatal(err)
	}
	retry := func() error {
		_, err := f.keys.Begin(f.ctx, &idempotency.Request{Scope: slow.Scope, Key: slow.Key, Hash: slow.Hash})
		return err
	}
	// 90 s in renewals, each less than a lease after the one before: far
	// past the lease and past the server's 60 s write timeout.
	for i := 0; i < 10; i++ {
		f.clock.Advance(idempotency.Lease - time.Second)
		if err := f.keys.Renew(f.ctx, slow); err != nil {
			t.Fatalf("renewal %d: %v", i, err)
		}
		if err := retry(); !errors.Is(err, idempotency.ErrBusy) {
			t.Fatalf("retry while the request runs and renews (%d): %v, want busy", i, err)
		}
	}
	half := tr.Payment.Amount / 2
	if err := f.svc.Refund(idempotency.WithRequest(f.ctx, slow), f.caller, tr.Payment.Idx, &half); err != nil {
		t.Fatalf("the long request's refund: %v", err)
	}
	if err := f.keys.Finish(f.ctx, slow, 200, "{}", []byte(`{"refunded":true}`)); err != nil {
		t.Fatal(err)
	}
	if err := f.keys.Renew(f.ctx, slow); !errors.Is(err, idempotency.ErrNotHeld) {
		t.Fatalf("renewal after finishing: %v, want idempotency.ErrNotHeld", err)
	}
	replay, err := f.keys.Begin(f.ctx, &idempotency.Request{Scope: slow.Scope, Key: slow.Key, Hash: slow.Hash})
	if err != nil || replay == nil || string(replay.ResponseBody) != `{"refunded":true}` {
		t.Fatalf("replay: %+v %v", replay, err)
	}
	if got := f.wallet(t) - before; got != half {
		t.Fatalf("the payer got %d back, want one refund of %d", got, half)
	}

	// A request stuck for good: renewals no longer extend its lease past
	// idempotency.MaxHold, and then a retry takes its key over.
	stuck := &idempotency.Request{Scope: slow.Scope, Key: "refund-stuck", Hash: "h"}
	if _, err := f.keys.Begin(f.ctx, stuck); err != nil {
		t.Fatal(err)
	}
	for held := time.Duration(0); held <= idempotency.MaxHold; held += idempotency.RenewEvery {
		f.clock.Advance(idempotency.RenewEvery)
		if err := f.keys.Renew(f.ctx, stuck); err != nil {
			t.Fatalf("renewal after %s: %v", held, err)
		}
	}
	f.clock.Advance(time.Second)
	if replay, err := f.keys.Begin(f.ctx, &idempotency.Request{Scope: stuck.Scope, Key: stuck.Key, Hash: stuck.Hash}); err != nil || replay != nil {
		t.Fatalf("retry of a request held past idempotency.MaxHold: %v %v, want it to run", replay, err)
	}
	f.ledgerOK(t)
}
