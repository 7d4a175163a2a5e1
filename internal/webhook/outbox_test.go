package webhook_test

import (
	"fmt"
	"io"
	"testing"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/webhook"
)

// TestEmitWritesForSubscribers: an event gets one pending delivery, due
// at once, per active endpoint of its merchant and book subscribed to
// its type, and nothing at all is written when no endpoint subscribed.
func TestEmitWritesForSubscribers(t *testing.T) {
	f := newFixture(t)
	cfg := webhook.DefaultConfig()
	cfg.AllowPrivate = true
	svc := webhookService(t, f, cfg, io.Discard)
	live := store.Scope{MerchantID: f.scope.MerchantID, Book: ledger.Live}
	register := func(scope store.Scope, events ...string) webhook.Endpoint {
		t.Helper()
		e, _, err := svc.CreateEndpoint(f.ctx, scope, "http://127.0.0.1:9/hook", events)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	subscribed := register(f.scope, webhook.EventRefunded, webhook.EventCompleted)
	otherType := register(f.scope, webhook.EventRefunded)
	otherBook := register(live, webhook.EventCompleted)
	deleted := register(f.scope, webhook.EventCompleted)
	if err := svc.DeleteEndpoint(f.ctx, f.scope, deleted.Idx); err != nil {
		t.Fatal(err)
	}

	f.emit(t, f.scope, webhook.EventExpired) // nobody subscribed: no event row
	f.emit(t, f.scope, webhook.EventCompleted)

	deliveries := func(scope store.Scope, e webhook.Endpoint) []store.WebhookDelivery {
		t.Helper()
		var list []store.WebhookDelivery
		err := f.db.View(f.ctx, func(tx store.Tx) error {
			row, err := tx.WebhookEndpointByIdx(f.ctx, scope, e.Idx)
			if err != nil {
				return err
			}
			list, err = tx.WebhookDeliveries(f.ctx, row.ID, 10)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return list
	}
	for _, none := range []struct {
		scope store.Scope
		e     webhook.Endpoint
	}{{f.scope, otherType}, {live, otherBook}, {f.scope, deleted}} {
		if list := deliveries(none.scope, none.e); len(list) != 0 {
			t.Errorf("endpoint %s (%v) got %d deliveries", none.e.Idx, none.e.Events, len(list))
		}
	}
	list := deliveries(f.scope, subscribed)
	if len(list) != 1 {
		t.Fatalf("the subscribed endpoint got %d deliveries, want 1", len(list))
	}
	d, now := list[0], f.clock.Now()
	if d.Status != store.DeliveryPending || d.Attempt != 0 || !d.NextAttemptAt.Equal(now) || !d.CreatedAt.Equal(now) {
		t.Errorf("delivery: %+v", d)
	}
	var ev store.WebhookEvent
	if err := f.db.View(f.ctx, func(tx store.Tx) (err error) { ev, err = tx.WebhookEvent(f.ctx, d.EventID); return }); err != nil {
		t.Fatal(err)
	}
	// Row ids are assigned in order: the completed event is the first row,
	// so the expired one wrote none.
	if ev.ID != 1 {
		t.Errorf("the completed event is row %d: the unsubscribed one was written", ev.ID)
	}
	want := fmt.Sprintf(`{"book":"test","created":%d,"data":{"amount":1000,"idx":"payment-1"},"id":"%s","type":"payment.completed"}`,
		now.Unix(), ev.Idx)
	if string(ev.Payload) != want || ev.Type != webhook.EventCompleted || ev.PaymentID != 1 || ev.MerchantID != f.scope.MerchantID ||
		ev.Book != ledger.Test || !ev.CreatedAt.Equal(now) {
		t.Errorf("event %+v\n got %s\nwant %s", ev, ev.Payload, want)
	}
}
