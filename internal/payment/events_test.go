package payment_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/ids"
	"github.com/thaili/thaili/internal/keyring"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/servicetest"
	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/webhook"
)

// newHooks is the webhook service on f's database, allowing loopback
// endpoints.
func newHooks(t *testing.T, f *lcFixture) *webhook.Service {
	t.Helper()
	ring, err := keyring.New(make([]byte, 32), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cfg := webhook.DefaultConfig()
	cfg.AllowPrivate = true
	hooks, err := webhook.New(webhook.Deps{Store: f.db, Config: cfg, Now: f.clock.Now, IDs: ids.Generator{Rand: rand.Reader},
		Ring: ring, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return hooks
}

// TestWebhookEventPayloads pins the exact bytes of the events a payment's
// state changes write to the outbox (the wire merchants parse): an
// ePayment paid, a legacy payment verified, partly and then fully
// refunded, and a legacy payment that expired.
func TestWebhookEventPayloads(t *testing.T) {
	f := newLC(t)
	ep, _, err := newHooks(t, f).CreateEndpoint(f.ctx, f.caller.Scope(), "http://127.0.0.1:9/hook", webhook.Events)
	if err != nil {
		t.Fatal(err)
	}

	ep1 := f.initiateEPayment(t, 1000, 0)
	if _, err := f.svc.StartEPayment(f.ctx, ep1.Token, lcMobile, "2468", "browser-1"); err != nil {
		t.Fatal(err)
	}
	paid, err := f.svc.CompleteEPayment(f.ctx, ep1.Token, "987654", "browser-1")
	if err != nil {
		t.Fatal(err)
	}
	token := f.initiate(t, 2000)
	if _, err := f.confirm(token, "987654"); err != nil {
		t.Fatal(err)
	}
	verified, err := f.svc.Verify(f.ctx, f.caller, token, 2000)
	if err != nil {
		t.Fatal(err)
	}
	part := money.Paisa(500)
	if err := f.svc.Refund(f.ctx, f.caller, verified.Payment.Idx, &part); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Refund(f.ctx, f.caller, verified.Payment.Idx, nil); err != nil {
		t.Fatal(err)
	}
	expiring := f.initiate(t, 1500)
	f.clock.Advance(time.Hour)
	if n, err := f.svc.Sweep(f.ctx); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v", n, err)
	}

	var events []store.WebhookEvent
	err = f.db.View(f.ctx, func(tx store.Tx) error {
		e, err := tx.WebhookEndpointByIdx(f.ctx, f.caller.Scope(), ep.Idx)
		if err != nil {
			return err
		}
		list, err := tx.WebhookDeliveries(f.ctx, e.ID, 100)
		if err != nil {
			return err
		}
		for _, d := range slices.Backward(list) {
			ev, err := tx.WebhookEvent(f.ctx, d.EventID)
			if err != nil {
				return err
			}
			if d.Status != store.DeliveryPending || d.Attempt != 0 || !d.NextAttemptAt.Equal(ev.CreatedAt) {
				t.Errorf("event %s's delivery: %+v", ev.Type, d)
			}
			events = append(events, ev)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 5 {
		t.Fatalf("%d events, want 5", len(events))
	}
	var expired store.Payment
	err = f.db.View(f.ctx, func(tx store.Tx) error {
		var err error
		expired, err = tx.PaymentByToken(f.ctx, f.caller.Scope(), expiring)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	p, v := paid.Payment, verified.Payment
	legacy := func(idx, token string, fee, refunded int, state string) string {
		return fmt.Sprintf(`{"amount":%d,"fee_amount":%d,"idx":"%s","product_identity":"p","refunded_amount":%d,"state":"%s","token":"%s","transaction_id":"%s"}`,
			2000, fee, idx, refunded, state, token, idx)
	}
	want := []struct{ typ, data string }{
		{"payment.completed", fmt.Sprintf(`{"amount":1000,"fee_amount":30,"idx":"%s","pidx":"%s","purchase_order_id":"order-7","refunded_amount":0,"state":"Completed","transaction_id":"%s"}`,
			p.Idx, p.Token, p.Idx)},
		{"payment.completed", legacy(v.Idx, token, 60, 0, "Completed")},
		{"payment.partially_refunded", legacy(v.Idx, token, 60, 500, "Partially refunded")},
		{"payment.refunded", legacy(v.Idx, token, 60, 2000, "Refunded")},
		{"payment.failed", fmt.Sprintf(`{"amount":1500,"fee_amount":0,"idx":"%s","product_identity":"p","refunded_amount":0,"state":"Failed","token":"%s","transaction_id":"%s"}`,
			expired.Idx, expiring, expired.Idx)},
	}
	for i, ev := range events {
		w := want[i]
		payload := fmt.Sprintf(`{"book":"test","created":%d,"data":%s,"id":"%s","type":"%s"}`, ev.CreatedAt.Unix(), w.data, ev.Idx, w.typ)
		if string(ev.Payload) != payload || ev.Type != w.typ || ev.MerchantID != f.caller.Merchant.ID || ev.Book != f.caller.Book {
			t.Errorf("event %d: %s %s\n got %s\nwant %s", i, ev.Type, ev.Book, ev.Payload, payload)
		}
	}
	if events[4].PaymentID != expired.ID || events[0].PaymentID != p.ID || events[1].PaymentID != v.ID {
		t.Errorf("events name the wrong payments: %d %d %d", events[0].PaymentID, events[1].PaymentID, events[4].PaymentID)
	}
}

// endpointReads is a store that counts the reads of webhook endpoints in
// its write transactions.
type endpointReads struct {
	store.Store
	n *atomic.Int64
}

func (s endpointReads) InTx(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.InTx(ctx, func(tx store.Tx) error { return fn(endpointReadsTx{tx, s.n}) })
}

type endpointReadsTx struct {
	store.Tx
	n *atomic.Int64
}

func (t endpointReadsTx) WebhookEndpoints(ctx context.Context, scope store.Scope) ([]store.WebhookEndpoint, error) {
	t.n.Add(1)
	return t.Tx.WebhookEndpoints(ctx, scope)
}

// TestVerifyReadsNoEndpoints: a legacy verify for a merchant without
// webhook endpoints does not read them (issue 14: on PostgreSQL that read
// was a round trip in the committer), and once the merchant has one, its
// verify writes the event as before.
func TestVerifyReadsNoEndpoints(t *testing.T) {
	var reads atomic.Int64
	f := newLC(t, func(d *servicetest.Deps) { d.Payment.Store = endpointReads{d.Payment.Store, &reads} })
	verify := func() payment.Transaction {
		t.Helper()
		token := f.initiate(t, 1000)
		if _, err := f.confirm(token, "987654"); err != nil {
			t.Fatal(err)
		}
		reads.Store(0)
		tr, err := f.svc.Verify(f.ctx, f.caller, token, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Payment.State != store.Completed {
			t.Fatalf("verified payment is %s", tr.Payment.State)
		}
		return tr
	}
	events := func() int {
		t.Helper()
		var times []time.Time
		err := f.db.View(f.ctx, func(tx store.Tx) error {
			var err error
			times, err = tx.WebhookEventTimes(f.ctx, f.caller.Merchant.ID, webhook.EventCompleted, time.Time{}, 100)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return len(times)
	}

	verify()
	if n := reads.Load(); n != 0 {
		t.Errorf("verify without endpoints read the endpoints %d times, want 0", n)
	}
	if n := events(); n != 0 {
		t.Errorf("%d completed events without endpoints, want 0", n)
	}

	if _, _, err := newHooks(t, f).CreateEndpoint(f.ctx, f.caller.Scope(), "http://127.0.0.1:9/hook", webhook.Events); err != nil {
		t.Fatal(err)
	}
	verify()
	if n := events(); n != 1 {
		t.Errorf("%d completed events with an endpoint, want 1", n)
	}
	if n := reads.Load(); n != 1 {
		t.Errorf("verify with an endpoint read the endpoints %d times, want 1 (to write the event)", n)
	}
}
