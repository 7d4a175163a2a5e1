package webhook

import (
	"context"
	"strconv"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/store"
)

// testData is a test event's "data": which endpoint it was sent to, and
// what it is, for whoever reads it in a receiver's log.
type testData struct {
	Endpoint string `json:"endpoint"`
	Message  string `json:"message"`
}

const testMessage = "A test event sent from Thaili to check this endpoint. It is about no payment; answer with any 2xx status."

// SendTestEvent sends a test event (EventTest) to scope's active endpoint
// idx now, whatever it subscribed to, and returns its delivery after that
// one attempt. The event and its delivery are written like any other and
// signed like any other, so the endpoint's log shows it and the receiver
// verifies it with its secret; a failed attempt is not retried, but may
// be replayed. A merchant may send TestEventLimit test events in any
// TestEventWindow; one more is KindThrottled with the wait until the
// oldest of them is a window old. They are counted in the database under
// a lock, so every node shares the count and a burst cannot slip past
// it. Another merchant's, another book's or a deleted endpoint is not
// found.
func (s *Service) SendTestEvent(ctx context.Context, scope store.Scope, idx string) (Delivery, error) {
	now := s.now()
	var ev store.WebhookEvent
	var d store.WebhookDelivery
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		e, err := activeEndpoint(ctx, tx, scope, idx)
		if err != nil {
			return err
		}
		if err := tx.LockKey(ctx, "webhook-test:"+strconv.FormatInt(scope.MerchantID, 10)); err != nil {
			return err
		}
		sent, err := tx.WebhookEventTimes(ctx, scope.MerchantID, EventTest, now.Add(-TestEventWindow), TestEventLimit)
		if err != nil {
			return err
		}
		if len(sent) >= TestEventLimit {
			return testsThrottled(sent[0].Add(TestEventWindow).Sub(now))
		}
		ev = store.WebhookEvent{Idx: s.ids.New(), MerchantID: scope.MerchantID, Book: scope.Book, Type: EventTest, CreatedAt: now}
		if ev.Payload, err = payload(ev, testData{Endpoint: e.Idx, Message: testMessage}); err != nil {
			return err
		}
		if err := tx.CreateWebhookEvent(ctx, &ev); err != nil {
			return err
		}
		// Written already leased to this call, so no worker sends it too.
		d = store.WebhookDelivery{Idx: s.ids.New(), EventID: ev.ID, EndpointID: e.ID, Status: store.DeliveryPending,
			NextAttemptAt: now, CreatedAt: now, UpdatedAt: now, LockedUntil: s.leaseUntil(now)}
		return tx.CreateWebhookDelivery(ctx, &d)
	})
	if err != nil {
		return Delivery{}, fault.Wrap(err)
	}
	// The attempt goes on if the caller leaves (it is bounded by the
	// client's timeout); had it been cut off, the delivery would stay
	// leased, and a worker would send it once the lease lapsed.
	d, err = s.deliver(context.WithoutCancel(ctx), d)
	if err != nil {
		return Delivery{}, fault.Wrap(err)
	}
	return deliveryView(d, ev), nil
}

// testsThrottled is the answer to one test event too many: wait is how
// long until the oldest counted one leaves the window.
func testsThrottled(wait time.Duration) *fault.Error {
	secs := max(int64((wait+time.Second-1)/time.Second), 1)
	in := strconv.FormatInt(secs, 10) + " seconds"
	if secs == 1 {
		in = "1 second"
	}
	return &fault.Error{Kind: fault.KindThrottled, ErrorKey: "throttled", RetryAfter: time.Duration(secs) * time.Second,
		Detail: "At most " + strconv.Itoa(TestEventLimit) + " test events a minute: send the next in " + in + "."}
}
