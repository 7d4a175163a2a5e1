package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/store"
)

func testWebhooks(t *testing.T, s store.Store) {
	ctx := context.Background()
	m1, m2 := newMerchant(t, s, 1), newMerchant(t, s, 2)
	scope := store.Scope{MerchantID: m1.ID, Book: ledger.Test}

	ep := store.WebhookEndpoint{Idx: "ep-1", MerchantID: m1.ID, Book: ledger.Test, URL: "https://shop.example/hook",
		Secret: []byte{0, 1, 0xff}, Events: []string{"payment.completed", "payment.refunded"}, CreatedAt: base}
	other := store.WebhookEndpoint{Idx: "ep-2", MerchantID: m2.ID, Book: ledger.Test, URL: "https://b.example/",
		Secret: []byte("s"), Events: []string{"payment.failed"}, CreatedAt: base}
	live := store.WebhookEndpoint{Idx: "ep-3", MerchantID: m1.ID, Book: ledger.Live, URL: "https://a.example/live",
		Secret: []byte("s"), Events: []string{"payment.failed"}, CreatedAt: base}
	inTx(t, s, func(tx store.Tx) error {
		for _, e := range []*store.WebhookEndpoint{&ep, &other, &live} {
			if err := tx.CreateWebhookEndpoint(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	dup := store.WebhookEndpoint{Idx: "ep-1", MerchantID: m1.ID, Book: ledger.Test, URL: "x", Secret: []byte("s"), Events: []string{"a"}, CreatedAt: base}
	err := s.InTx(ctx, func(tx store.Tx) error { return tx.CreateWebhookEndpoint(ctx, &dup) })
	wantErr(t, "CreateWebhookEndpoint(duplicate idx)", err, store.ErrDuplicate)

	view(t, s, func(tx store.Tx) error {
		list, err := tx.WebhookEndpoints(ctx, scope)
		if err != nil {
			return err
		}
		same(t, "endpoints of the scope", list, []store.WebhookEndpoint{ep})
		got, err := tx.WebhookEndpointByIdx(ctx, scope, "ep-1")
		if err != nil {
			return err
		}
		same(t, "by idx", got, ep)
		_, err = tx.WebhookEndpointByIdx(ctx, scope, "ep-2") // another merchant's
		wantErr(t, "by idx (foreign)", err, store.ErrNotFound)
		_, err = tx.WebhookEndpointByIdx(ctx, scope, "ep-3") // the other book
		wantErr(t, "by idx (other book)", err, store.ErrNotFound)
		got, err = tx.WebhookEndpointByID(ctx, live.ID)
		same(t, "by id", got, live)
		return err
	})

	// An event with two deliveries; claiming leases what is due.
	ev := store.WebhookEvent{Idx: "ev-1", MerchantID: m1.ID, Book: ledger.Test, Type: "payment.completed", PaymentID: 7,
		Payload: []byte(`{"id":"ev-1"}`), CreatedAt: base}
	d1 := store.WebhookDelivery{Idx: "d-1", EndpointID: ep.ID, NextAttemptAt: base, CreatedAt: base, UpdatedAt: base}
	d2 := store.WebhookDelivery{Idx: "d-2", EndpointID: live.ID, NextAttemptAt: base.Add(time.Minute), CreatedAt: base, UpdatedAt: base}
	inTx(t, s, func(tx store.Tx) error {
		if err := tx.CreateWebhookEvent(ctx, &ev); err != nil {
			return err
		}
		d1.EventID, d2.EventID = ev.ID, ev.ID
		if err := tx.CreateWebhookDelivery(ctx, &d1); err != nil {
			return err
		}
		return tx.CreateWebhookDelivery(ctx, &d2)
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.WebhookEvent(ctx, ev.ID)
		same(t, "event", got, ev)
		_, err2 := tx.WebhookEvent(ctx, ev.ID+100)
		wantErr(t, "event (missing)", err2, store.ErrNotFound)
		return err
	})
	claim := func(now, until time.Time) []store.WebhookDelivery {
		var out []store.WebhookDelivery
		inTx(t, s, func(tx store.Tx) error {
			var err error
			out, err = tx.ClaimWebhookDeliveries(ctx, now, until, 10)
			return err
		})
		return out
	}
	lease := base.Add(time.Minute)
	got := claim(base, lease)
	d1.LockedUntil = lease
	same(t, "claimed at base", got, []store.WebhookDelivery{d1})
	same(t, "claimed again while leased", len(claim(base.Add(time.Second), lease.Add(time.Second))), 0)
	// After both are due and d1's lease lapsed, both are claimed, oldest first.
	lease2 := base.Add(3 * time.Minute)
	got = claim(lease, lease2)
	d1.LockedUntil, d2.LockedUntil = lease2, lease2
	same(t, "claimed after the lease", got, []store.WebhookDelivery{d1, d2})

	// Finishing needs the lease still held.
	d1.Attempt, d1.Status, d1.LastStatusCode, d1.LastError, d1.UpdatedAt = 1, store.DeliverySucceeded, 200, "", lease
	d1.ResponseBody = `{"received": true, "note": "नमस्ते ✓"}` // kept as sent, multi-byte text included
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.FinishWebhookDelivery(ctx, &d1, lease) })
	wantErr(t, "FinishWebhookDelivery(lost lease)", err, store.ErrNotFound)
	inTx(t, s, func(tx store.Tx) error { return tx.FinishWebhookDelivery(ctx, &d1, lease2) })
	d2.Attempt, d2.NextAttemptAt, d2.LastStatusCode, d2.LastError, d2.UpdatedAt = 1, base.Add(time.Hour), 500, "HTTP 500", lease
	d2.ResponseBody, d2.ResponseTruncated = "<html>Internal Server Error ...", true
	inTx(t, s, func(tx store.Tx) error { return tx.FinishWebhookDelivery(ctx, &d2, lease2) })
	same(t, "nothing due", len(claim(base.Add(30*time.Minute), base.Add(31*time.Minute))), 0)
	view(t, s, func(tx store.Tx) error {
		log, err := tx.WebhookDeliveries(ctx, ep.ID, 10)
		same(t, "delivery log", log, []store.WebhookDelivery{d1})
		got, err2 := tx.WebhookDeliveryByIdx(ctx, "d-2")
		same(t, "delivery by idx", got, d2)
		_, err3 := tx.WebhookDeliveryByIdx(ctx, "nope")
		wantErr(t, "delivery by idx (missing)", err3, store.ErrNotFound)
		if err == nil {
			err = err2
		}
		return err
	})

	// Replay makes a finished delivery pending and due now.
	at := base.Add(2 * time.Hour)
	inTx(t, s, func(tx store.Tx) error { return tx.ReplayWebhookDelivery(ctx, d1.ID, at) })
	got = claim(at, at.Add(time.Minute))
	if len(got) != 2 || got[0].Idx != "d-2" || got[1].Idx != "d-1" || got[1].Status != store.DeliveryPending || got[1].Attempt != 1 {
		t.Errorf("claimed after replay: %+v", got)
	}
	// A replay keeps the last answer until the next attempt replaces it;
	// an attempt without an answer leaves no body.
	if len(got) == 2 {
		same(t, "the last answer after replay", [2]any{got[1].ResponseBody, got[1].ResponseTruncated}, [2]any{d1.ResponseBody, false})
		same(t, "a truncated answer after replay", [2]any{got[0].ResponseBody, got[0].ResponseTruncated}, [2]any{d2.ResponseBody, true})
		d2 = got[0]
		held := d2.LockedUntil
		d2.Attempt, d2.LastStatusCode, d2.LastError, d2.ResponseBody, d2.ResponseTruncated, d2.UpdatedAt = 2, 0, "timeout", "", false, at
		inTx(t, s, func(tx store.Tx) error { return tx.FinishWebhookDelivery(ctx, &d2, held) })
		view(t, s, func(tx store.Tx) error {
			got, err := tx.WebhookDeliveryByIdx(ctx, "d-2")
			same(t, "an attempt without an answer", got, d2)
			return err
		})
	}

	// Disabling hides the endpoint from the list, once.
	inTx(t, s, func(tx store.Tx) error { return tx.DisableWebhookEndpoint(ctx, ep.ID, at) })
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.DisableWebhookEndpoint(ctx, ep.ID, at) })
	wantErr(t, "DisableWebhookEndpoint(twice)", err, store.ErrNotFound)
	view(t, s, func(tx store.Tx) error {
		list, err := tx.WebhookEndpoints(ctx, scope)
		same(t, "endpoints after disable", len(list), 0)
		got, err2 := tx.WebhookEndpointByIdx(ctx, scope, "ep-1")
		same(t, "disabled at", got.DisabledAt, at)
		if err == nil {
			err = err2
		}
		return err
	})

	// Concurrent claims never hand out one delivery twice.
	inTx(t, s, func(tx store.Tx) error {
		for i := range 20 {
			d := store.WebhookDelivery{Idx: "c-" + string(rune('a'+i)), EventID: ev.ID, EndpointID: other.ID,
				NextAttemptAt: base, CreatedAt: base, UpdatedAt: base}
			if err := tx.CreateWebhookDelivery(ctx, &d); err != nil {
				return err
			}
		}
		return nil
	})
	now := base.Add(10 * time.Hour)
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				var got []store.WebhookDelivery
				err := s.InTx(ctx, func(tx store.Tx) error {
					var err error
					got, err = tx.ClaimWebhookDeliveries(ctx, now, now.Add(time.Hour), 3)
					return err
				})
				if err != nil {
					t.Errorf("concurrent claim: %v", err)
					return
				}
				mu.Lock()
				for _, d := range got {
					seen[d.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	total := 0
	for id, n := range seen {
		if n != 1 {
			t.Errorf("delivery %d claimed %d times", id, n)
		}
		total += n
	}
	same(t, "claimed in all", total, 22) // the 20 new ones and d-1, d-2 leased till at+1m
}

// testWebhookEventTimes: the creation times of a merchant's events of one
// type after an instant, in both books, oldest first and at most limit,
// which is how test events are counted.
func testWebhookEventTimes(t *testing.T, s store.Store) {
	ctx := context.Background()
	m1, m2 := newMerchant(t, s, 1), newMerchant(t, s, 2)
	events := []store.WebhookEvent{
		{Idx: "t-old", MerchantID: m1.ID, Book: ledger.Test, Type: "webhook.test", CreatedAt: base.Add(-time.Second)},
		{Idx: "t-live", MerchantID: m1.ID, Book: ledger.Live, Type: "webhook.test", CreatedAt: base.Add(3 * time.Second)},
		{Idx: "t-1", MerchantID: m1.ID, Book: ledger.Test, Type: "webhook.test", CreatedAt: base},
		{Idx: "t-2", MerchantID: m1.ID, Book: ledger.Test, Type: "webhook.test", CreatedAt: base.Add(5 * time.Second)},
		{Idx: "p-1", MerchantID: m1.ID, Book: ledger.Test, Type: "payment.completed", PaymentID: 1, CreatedAt: base.Add(time.Second)},
		{Idx: "o-1", MerchantID: m2.ID, Book: ledger.Test, Type: "webhook.test", CreatedAt: base.Add(time.Second)},
	}
	inTx(t, s, func(tx store.Tx) error {
		for i := range events {
			events[i].Payload = []byte(`{}`)
			if err := tx.CreateWebhookEvent(ctx, &events[i]); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		// t-old, made exactly at since, is not after it.
		got, err := tx.WebhookEventTimes(ctx, m1.ID, "webhook.test", base.Add(-time.Second), 10)
		if err != nil {
			return err
		}
		same(t, "test events after base-1s", got, []time.Time{base, base.Add(3 * time.Second), base.Add(5 * time.Second)})
		if got, err = tx.WebhookEventTimes(ctx, m1.ID, "webhook.test", base.Add(-time.Second), 2); err != nil {
			return err
		}
		same(t, "the oldest two", got, []time.Time{base, base.Add(3 * time.Second)})
		if got, err = tx.WebhookEventTimes(ctx, m2.ID, "payment.completed", base.Add(-time.Hour), 10); err != nil {
			return err
		}
		same(t, "another merchant's payment events", len(got), 0)
		return nil
	})
}
