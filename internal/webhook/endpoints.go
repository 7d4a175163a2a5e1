package webhook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/ids"
	"github.com/thaili/thaili/internal/store"
)

// MsgEvents is the answer to a missing or unknown event type.
const MsgEvents = "Choose one or more of: " + EventCompleted + ", " + EventRefunded + ", " + EventPartiallyRefunded + ", " + EventExpired + ", " + EventCanceled + ", " + EventFailed + "."

// Endpoint is a registered endpoint as the API shows it.
type Endpoint struct {
	Idx       string
	URL       string
	Events    []string
	CreatedAt time.Time
}

func endpointView(e store.WebhookEndpoint) Endpoint {
	return Endpoint{Idx: e.Idx, URL: e.URL, Events: e.Events, CreatedAt: e.CreatedAt}
}

// CreateEndpoint registers url for scope (a merchant's book) and the
// given event types, and returns the endpoint and its signing secret,
// which is shown this once and kept only sealed.
func (s *Service) CreateEndpoint(ctx context.Context, scope store.Scope, rawURL string, events []string) (Endpoint, string, error) {
	fields := map[string][]string{}
	u, err := s.checkURL(ctx, rawURL)
	if err != nil {
		fields["url"] = fault.AsError(err).Fields["url"]
	}
	var chosen []string
	for _, want := range Events {
		if slices.Contains(events, want) {
			chosen = append(chosen, want)
		}
	}
	if len(events) == 0 || slices.ContainsFunc(events, func(e string) bool { return !slices.Contains(Events, e) }) {
		fields["events"] = []string{MsgEvents}
	}
	if len(fields) > 0 {
		return Endpoint{}, "", fault.FieldErrors(fields)
	}
	secret := "whsec_" + s.ids.Hex(24)
	sealed, err := s.ring.Seal([]byte(secret), nil)
	if err != nil {
		return Endpoint{}, "", fault.Internal(err)
	}
	e := store.WebhookEndpoint{Idx: s.ids.New(), MerchantID: scope.MerchantID, Book: scope.Book, URL: u,
		Secret: sealed, Events: chosen, CreatedAt: s.now()}
	err = s.store.InTx(ctx, func(tx store.Tx) error {
		have, err := tx.WebhookEndpoints(ctx, scope)
		if err != nil {
			return err
		}
		if len(have) >= MaxEndpoints {
			return fault.DetailError(fmt.Sprintf("A book may have at most %d webhook endpoints.", MaxEndpoints))
		}
		return tx.CreateWebhookEndpoint(ctx, &e)
	})
	if err != nil {
		return Endpoint{}, "", fault.Wrap(err)
	}
	return endpointView(e), secret, nil
}

// Endpoints lists scope's active endpoints, oldest first.
func (s *Service) Endpoints(ctx context.Context, scope store.Scope) ([]Endpoint, error) {
	var out []Endpoint
	err := s.store.View(ctx, func(tx store.Tx) error {
		list, err := tx.WebhookEndpoints(ctx, scope)
		for _, e := range list {
			out = append(out, endpointView(e))
		}
		return err
	})
	return out, fault.Wrap(err)
}

// activeEndpoint finds one of scope's active endpoints by idx.
func activeEndpoint(ctx context.Context, tx store.Tx, scope store.Scope, idx string) (store.WebhookEndpoint, error) {
	if !ids.Valid(idx) {
		return store.WebhookEndpoint{}, fault.NotFound()
	}
	e, err := tx.WebhookEndpointByIdx(ctx, scope, idx)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !e.DisabledAt.IsZero()) {
		return store.WebhookEndpoint{}, fault.NotFound()
	}
	return e, err
}

// DeleteEndpoint disables an endpoint: nothing more is sent to it,
// and its pending deliveries fail. Its delivery log is kept.
func (s *Service) DeleteEndpoint(ctx context.Context, scope store.Scope, idx string) error {
	return fault.Wrap(s.store.InTx(ctx, func(tx store.Tx) error {
		e, err := activeEndpoint(ctx, tx, scope, idx)
		if err != nil {
			return err
		}
		return tx.DisableWebhookEndpoint(ctx, e.ID, s.now())
	}))
}

// Delivery is one delivery as the delivery log shows it: with its
// event's id, type and payload (the body every attempt posts), and the
// last answer's status and body head (store.WebhookDelivery's
// ResponseBody and ResponseTruncated).
type Delivery struct {
	store.WebhookDelivery
	EventIdx  string
	EventType string
	Payload   []byte
}

// deliveryView is d of event ev as the log shows it: its last error as a
// category (shownFailure).
func deliveryView(d store.WebhookDelivery, ev store.WebhookEvent) Delivery {
	d.LastError = shownFailure(d.LastError)
	return Delivery{WebhookDelivery: d, EventIdx: ev.Idx, EventType: ev.Type, Payload: ev.Payload}
}

// DeliveryLog lists an endpoint's latest deliveries, newest first.
func (s *Service) DeliveryLog(ctx context.Context, scope store.Scope, idx string) ([]Delivery, error) {
	var out []Delivery
	err := s.store.View(ctx, func(tx store.Tx) error {
		e, err := activeEndpoint(ctx, tx, scope, idx)
		if err != nil {
			return err
		}
		list, err := tx.WebhookDeliveries(ctx, e.ID, logSize)
		if err != nil {
			return err
		}
		events := map[int64]store.WebhookEvent{}
		for _, d := range list {
			ev, ok := events[d.EventID]
			if !ok {
				if ev, err = tx.WebhookEvent(ctx, d.EventID); err != nil {
					return err
				}
				events[d.EventID] = ev
			}
			out = append(out, deliveryView(d, ev))
		}
		return nil
	})
	return out, fault.Wrap(err)
}

// Replay sends delivery idx, of one of scope's active endpoints,
// again, now, whatever its status. The attempt count goes on.
func (s *Service) Replay(ctx context.Context, scope store.Scope, idx string) (Delivery, error) {
	if !ids.Valid(idx) {
		return Delivery{}, fault.NotFound()
	}
	var out Delivery
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		d, err := tx.WebhookDeliveryByIdx(ctx, idx)
		if errors.Is(err, store.ErrNotFound) {
			return fault.NotFound()
		}
		if err != nil {
			return err
		}
		e, err := tx.WebhookEndpointByID(ctx, d.EndpointID)
		if err != nil {
			return err
		}
		if e.MerchantID != scope.MerchantID || e.Book != scope.Book || !e.DisabledAt.IsZero() {
			return fault.NotFound()
		}
		now := s.now()
		if err := tx.ReplayWebhookDelivery(ctx, d.ID, now); err != nil {
			return err
		}
		ev, err := tx.WebhookEvent(ctx, d.EventID)
		if err != nil {
			return err
		}
		d.Status, d.NextAttemptAt, d.UpdatedAt, d.LockedUntil = store.DeliveryPending, now, now, time.Time{}
		out = deliveryView(d, ev)
		return nil
	})
	return out, fault.Wrap(err)
}
