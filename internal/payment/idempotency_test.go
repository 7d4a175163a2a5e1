package payment_test

import (
	"errors"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/payment"
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
	begin := func() (*payment.IdempotentRequest, error) {
		req := &payment.IdempotentRequest{Scope: payment.IdempotencyScope(f.caller), Key: "verify-1", Hash: "same request"}
		replay, err := f.svc.BeginIdempotent(f.ctx, req)
		if replay != nil {
			t.Fatalf("replayed %+v", replay)
		}
		return req, err
	}
	req, err := begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Verify(payment.WithIdempotentRequest(f.ctx, req), f.caller, token, 2000); err != nil {
		t.Fatal(err)
	}
	// The node stops here: FinishIdempotent never runs.
	if _, err := begin(); !errors.Is(err, payment.ErrIdempotencyBusy) {
		t.Fatalf("retry while fresh: %v, want busy", err)
	}
	f.clock.Advance(payment.IdempotencyStale + time.Second)
	if _, err := begin(); !errors.Is(err, payment.ErrIdempotencyLost) {
		t.Fatalf("retry once stale: %v, want the response-lost answer, not a second run", err)
	}
	if got := f.state(t, tr.Payment.Idx, 2000); got != store.Completed {
		t.Fatalf("state %s", got)
	}
	f.ledgerOK(t)
}

// A request that ran past IdempotencyStale, so that a retry took its key
// over, can no longer commit anything: only the retry's work happens.
func TestIdempotencyTakenOverRequestIsFenced(t *testing.T) {
	f := newLC(t)
	token := f.initiate(t, 2000)
	tr, err := f.confirm(token, "987654")
	if err != nil {
		t.Fatal(err)
	}
	slow := &payment.IdempotentRequest{Scope: payment.IdempotencyScope(f.caller), Key: "refund-1", Hash: "h"}
	if _, err := f.svc.BeginIdempotent(f.ctx, slow); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(payment.IdempotencyStale + time.Second)
	retry := &payment.IdempotentRequest{Scope: slow.Scope, Key: slow.Key, Hash: slow.Hash}
	if replay, err := f.svc.BeginIdempotent(f.ctx, retry); err != nil || replay != nil {
		t.Fatalf("take-over of an abandoned key without effects: %v %v", replay, err)
	}
	_, err = f.svc.Verify(payment.WithIdempotentRequest(f.ctx, slow), f.caller, token, 2000)
	if e := payment.AsError(err); err == nil || e.Kind != payment.KindConflict {
		t.Fatalf("the fenced request: %v, want a conflict", err)
	}
	if got := f.state(t, tr.Payment.Idx, 2000); got != store.Confirmed {
		t.Fatalf("the fenced request changed the payment: %s", got)
	}
	if _, err := f.svc.Verify(payment.WithIdempotentRequest(f.ctx, retry), f.caller, token, 2000); err != nil {
		t.Fatalf("the retry: %v", err)
	}
	if err := f.svc.FinishIdempotent(f.ctx, retry, 200, "{}", []byte(`{"ok":true}`)); err != nil {
		t.Fatal(err)
	}
	replay, err := f.svc.BeginIdempotent(f.ctx, &payment.IdempotentRequest{Scope: slow.Scope, Key: slow.Key, Hash: slow.Hash})
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
	req := &payment.IdempotentRequest{Scope: payment.IdempotencyScope(f.caller), Key: "refund-2", Hash: "h"}
	if _, err := f.svc.BeginIdempotent(f.ctx, req); err != nil {
		t.Fatal(err)
	}
	half := tr.Payment.Amount / 2
	if err := f.svc.Refund(payment.WithIdempotentRequest(f.ctx, req), f.caller, tr.Payment.Idx, &half); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.FinishIdempotent(f.ctx, req, 500, "", nil); err != nil {
		t.Fatalf("finishing with a 5xx after effects: %v", err)
	}
	f.clock.Advance(payment.IdempotencyStale + time.Second)
	if _, err := f.svc.BeginIdempotent(f.ctx, &payment.IdempotentRequest{Scope: req.Scope, Key: req.Key, Hash: req.Hash}); !errors.Is(err, payment.ErrIdempotencyLost) {
		t.Fatalf("retry after a 5xx with effects: %v, want the response-lost answer", err)
	}
	if got := f.wallet(t) - before; got != half {
		t.Fatalf("the payer got %d back, want one refund of %d", got, half)
	}

	// Without effects (the request failed before writing), a 5xx releases
	// the key and a retry runs.
	other := &payment.IdempotentRequest{Scope: req.Scope, Key: "refund-3", Hash: "h"}
	if _, err := f.svc.BeginIdempotent(f.ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.FinishIdempotent(f.ctx, other, 503, "", nil); err != nil {
		t.Fatal(err)
	}
	if replay, err := f.svc.BeginIdempotent(f.ctx, &payment.IdempotentRequest{Scope: req.Scope, Key: "refund-3", Hash: "h"}); err != nil || replay != nil {
		t.Fatalf("retry after a 5xx without effects: %v %v", replay, err)
	}
	f.ledgerOK(t)
}
