package webhook

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/thaili/thaili/internal/ids"
	"github.com/thaili/thaili/internal/store"
)

// Event is a payment's state change to tell its merchant about.
type Event struct {
	Scope     store.Scope // the payment's merchant and book
	PaymentID int64
	Type      string    // one of Events
	At        time.Time // when the change happened
	// Data is the payment as the event shows it, the payload's "data".
	Data any
}

// Emit writes ev to the outbox, with a pending delivery per active
// endpoint of its scope that subscribed to its type. It must run in the
// transaction tx that makes the change, so the event exists exactly when
// the change does. Without any subscribed endpoint nothing is written.
// The payload is {"id", "type", "created", "book", "data"}.
func Emit(ctx context.Context, tx store.Tx, gen ids.Generator, ev Event) error {
	eps, err := tx.WebhookEndpoints(ctx, ev.Scope)
	if err != nil {
		return err
	}
	eps = slices.DeleteFunc(eps, func(e store.WebhookEndpoint) bool { return !slices.Contains(e.Events, ev.Type) })
	if len(eps) == 0 {
		return nil
	}
	now := ev.At
	row := store.WebhookEvent{Idx: gen.New(), MerchantID: ev.Scope.MerchantID, Book: ev.Scope.Book, Type: ev.Type,
		PaymentID: ev.PaymentID, CreatedAt: now}
	if row.Payload, err = payload(row, ev.Data); err != nil {
		return err
	}
	if err := tx.CreateWebhookEvent(ctx, &row); err != nil {
		return err
	}
	for _, e := range eps {
		d := store.WebhookDelivery{Idx: gen.New(), EventID: row.ID, EndpointID: e.ID, Status: store.DeliveryPending,
			NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateWebhookDelivery(ctx, &d); err != nil {
			return err
		}
	}
	return nil
}

// payload is the body every delivery of ev posts:
// {"id", "type", "created", "book", "data"}.
func payload(ev store.WebhookEvent, data any) ([]byte, error) {
	return json.Marshal(map[string]any{"id": ev.Idx, "type": ev.Type, "created": ev.CreatedAt.Unix(),
		"book": string(ev.Book), "data": data})
}
