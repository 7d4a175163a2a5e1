package sdk

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

// The webhook endpoint calls are Thaili's own (Khalti has no webhook
// API). Endpoints belong to the secret key's merchant and book: a test
// key's endpoints hear of test payments only.

// WebhookEvent is a webhook event type.
type WebhookEvent string

// Webhook event types.
const (
	EventPaymentCompleted         WebhookEvent = "payment.completed"
	EventPaymentRefunded          WebhookEvent = "payment.refunded"
	EventPaymentPartiallyRefunded WebhookEvent = "payment.partially_refunded"
	EventPaymentExpired           WebhookEvent = "payment.expired"
	EventPaymentCanceled          WebhookEvent = "payment.canceled"
	EventPaymentFailed            WebhookEvent = "payment.failed"
	// EventWebhookTest is a test event (SendTestWebhookEvent); an
	// endpoint cannot subscribe to it. Its data names the endpoint and
	// no payment.
	EventWebhookTest WebhookEvent = "webhook.test"
)

// DeliveryStatus is a webhook delivery's status.
type DeliveryStatus string

// Webhook delivery statuses.
const (
	DeliveryPending   DeliveryStatus = "pending"   // waiting for its next attempt
	DeliverySucceeded DeliveryStatus = "succeeded" // an attempt was answered with a 2xx
	DeliveryFailed    DeliveryStatus = "failed"    // given up: its retries ran out or its endpoint was deleted
)

// WebhookEndpoint is a registered webhook endpoint.
type WebhookEndpoint struct {
	Idx       string         `json:"idx"`
	URL       string         `json:"url"`
	Events    []WebhookEvent `json:"events"`
	CreatedAt time.Time      `json:"created_at"`
}

// CreatedWebhookEndpoint is a new webhook endpoint with its signing
// secret, which the host shows only this once.
type CreatedWebhookEndpoint struct {
	WebhookEndpoint
	// Secret (whsec_...) signs every delivery: pass it to VerifyWebhook.
	Secret string `json:"secret"`
}

// WebhookEndpointList is the book's webhook endpoints, oldest first, and
// every event type the host sends.
type WebhookEndpointList struct {
	Endpoints []WebhookEndpoint `json:"endpoints"`
	Events    []WebhookEvent    `json:"events"`
}

// WebhookDelivery is one event sent (or to be sent) to one endpoint.
type WebhookDelivery struct {
	Idx string `json:"idx"`
	// EventID is the event's id, also its payload's "id" and the
	// Thaili-Event-Id header: the same for every attempt and replay.
	EventID   string         `json:"event_id"`
	EventType WebhookEvent   `json:"event_type"`
	Status    DeliveryStatus `json:"status"`
	Attempts  int            `json:"attempts"`
	// NextAttemptAt is when a pending delivery is sent next; nil
	// otherwise.
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	// LastStatusCode is the last answer's HTTP status; 0 if none came.
	LastStatusCode int `json:"last_status_code"`
	// LastError is why the last attempt failed, as one plain category
	// ("connection refused", "timeout", "HTTP 500", "endpoint deleted",
	// ...); empty if it succeeded or none was made yet.
	LastError string `json:"last_error"`
	// Payload is the body every attempt posts ({"id", "type", "created",
	// "book", "data"}).
	Payload json.RawMessage `json:"payload"`
	// ResponseBody is the first 4 KB of the last answer's body (empty
	// without an answer); ResponseTruncated says the body was longer.
	ResponseBody      string    `json:"response_body"`
	ResponseTruncated bool      `json:"response_truncated"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

// CreateWebhookEndpoint registers endpointURL for the events
// (POST /api/thaili/webhooks/). The answer's Secret is shown only here.
// The host refuses (a 400 *Error) a URL that is not absolute http or
// https, or whose host is private, loopback or link-local unless its
// operator allows that, and an empty or unknown event list. The call
// takes no idempotency key: a retry after a lost answer registers a
// second endpoint, which WebhookEndpoints shows and DeleteWebhookEndpoint
// removes.
func (c *Client) CreateWebhookEndpoint(ctx context.Context, endpointURL string, events ...WebhookEvent) (CreatedWebhookEndpoint, error) {
	var out CreatedWebhookEndpoint
	if events == nil {
		events = []WebhookEvent{} // sent as a list, as the API expects
	}
	body := struct {
		URL    string         `json:"url"`
		Events []WebhookEvent `json:"events"`
	}{endpointURL, events}
	return out, c.call(ctx, http.MethodPost, "/api/thaili/webhooks/", nil, body, false, &out)
}

// WebhookEndpoints lists the book's webhook endpoints
// (GET /api/thaili/webhooks/), without their secrets.
func (c *Client) WebhookEndpoints(ctx context.Context) (WebhookEndpointList, error) {
	var out WebhookEndpointList
	return out, c.call(ctx, http.MethodGet, "/api/thaili/webhooks/", nil, nil, false, &out)
}

// DeleteWebhookEndpoint deletes a webhook endpoint
// (DELETE /api/thaili/webhooks/<idx>/): nothing more is sent to it and
// its pending deliveries fail. An unknown or already deleted endpoint is
// a 404 *Error.
func (c *Client) DeleteWebhookEndpoint(ctx context.Context, idx string) error {
	path := "/api/thaili/webhooks/" + url.PathEscape(idx) + "/"
	return c.call(ctx, http.MethodDelete, path, nil, nil, false, nil)
}

// WebhookDeliveries reads an endpoint's delivery log
// (GET /api/thaili/webhooks/<idx>/deliveries/): its latest 100
// deliveries, newest first.
func (c *Client) WebhookDeliveries(ctx context.Context, endpointIdx string) ([]WebhookDelivery, error) {
	var out struct {
		Deliveries []WebhookDelivery `json:"deliveries"`
	}
	path := "/api/thaili/webhooks/" + url.PathEscape(endpointIdx) + "/deliveries/"
	err := c.call(ctx, http.MethodGet, path, nil, nil, false, &out)
	return out.Deliveries, err
}

// ReplayWebhookDelivery sends a delivery again now, whatever its status
// (POST /api/thaili/webhooks/deliveries/<idx>/replay/), and returns it,
// pending again; the attempt count goes on and the event keeps its id.
func (c *Client) ReplayWebhookDelivery(ctx context.Context, deliveryIdx string) (WebhookDelivery, error) {
	var out WebhookDelivery
	path := "/api/thaili/webhooks/deliveries/" + url.PathEscape(deliveryIdx) + "/replay/"
	return out, c.call(ctx, http.MethodPost, path, nil, nil, false, &out)
}

// SendTestWebhookEvent sends a test event (EventWebhookTest) to an
// endpoint now, whatever it subscribed to, signed like every delivery
// (POST /api/thaili/webhooks/<idx>/test/), and returns its delivery after
// its one attempt: succeeded, or failed with the answer's status and
// body; a failed test event is not retried. A merchant may send 5 test
// events a minute; more is a 429 *Error.
func (c *Client) SendTestWebhookEvent(ctx context.Context, endpointIdx string) (WebhookDelivery, error) {
	var out WebhookDelivery
	path := "/api/thaili/webhooks/" + url.PathEscape(endpointIdx) + "/test/"
	return out, c.call(ctx, http.MethodPost, path, nil, nil, false, &out)
}
