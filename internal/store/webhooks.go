package store

import (
	"context"
	"time"

	"github.com/thaili/thaili/internal/ledger"
)

// WebhookEndpoint is a URL a merchant registered, in one book, to receive
// the event types it lists. Secret is the signing secret sealed under the
// server secret; the store never sees it in clear.
type WebhookEndpoint struct {
	ID         int64
	Idx        string
	MerchantID int64
	Book       ledger.Book
	URL        string
	Secret     []byte
	Events     []string
	CreatedAt  time.Time
	DisabledAt time.Time // zero while the endpoint is active
}

// WebhookEvent is one row of the outbox: a payment's state change, with
// the JSON payload every delivery of it posts.
type WebhookEvent struct {
	ID         int64
	Idx        string
	MerchantID int64
	Book       ledger.Book
	Type       string
	PaymentID  int64
	Payload    []byte
	CreatedAt  time.Time
}

// DeliveryStatus is where a webhook delivery stands.
type DeliveryStatus string

// Delivery states.
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliverySucceeded DeliveryStatus = "succeeded"
	DeliveryFailed    DeliveryStatus = "failed"
)

// WebhookDelivery is one event on its way to one endpoint.
type WebhookDelivery struct {
	ID             int64
	Idx            string
	EventID        int64
	EndpointID     int64
	Attempt        int // attempts made so far
	Status         DeliveryStatus
	NextAttemptAt  time.Time
	LastStatusCode int
	LastError      string
	// ResponseBody is the head of the last answer's body, valid UTF-8
	// without NUL bytes (the webhook package decides how much and
	// cleans it); ResponseTruncated says the body was longer. Both are
	// empty when the last attempt got no answer.
	ResponseBody      string
	ResponseTruncated bool
	CreatedAt         time.Time
	UpdatedAt         time.Time
	LockedUntil       time.Time // a worker's lease; zero when unclaimed
}

// WebhookTx is the webhook part of Tx.
type WebhookTx interface {
	CreateWebhookEndpoint(ctx context.Context, e *WebhookEndpoint) error
	// WebhookEndpoints lists the scope's active endpoints, oldest first.
	WebhookEndpoints(ctx context.Context, scope Scope) ([]WebhookEndpoint, error)
	// WebhookEndpointByIdx finds an endpoint of the scope, active or not.
	WebhookEndpointByIdx(ctx context.Context, scope Scope, idx string) (WebhookEndpoint, error)
	WebhookEndpointByID(ctx context.Context, id int64) (WebhookEndpoint, error)
	// DisableWebhookEndpoint marks an active endpoint disabled at at;
	// anything else is ErrNotFound.
	DisableWebhookEndpoint(ctx context.Context, id int64, at time.Time) error

	CreateWebhookEvent(ctx context.Context, e *WebhookEvent) error
	WebhookEvent(ctx context.Context, id int64) (WebhookEvent, error)
	// WebhookEventTimes lists when the merchant's events of type typ
	// created after since were created, oldest first, at most limit of
	// them (both books).
	WebhookEventTimes(ctx context.Context, merchantID int64, typ string, since time.Time, limit int) ([]time.Time, error)

	CreateWebhookDelivery(ctx context.Context, d *WebhookDelivery) error
	// WebhookDeliveries lists an endpoint's deliveries, newest first.
	WebhookDeliveries(ctx context.Context, endpointID int64, limit int) ([]WebhookDelivery, error)
	WebhookDeliveryByIdx(ctx context.Context, idx string) (WebhookDelivery, error)
	// ClaimWebhookDeliveries atomically leases up to limit pending
	// deliveries due at now whose lease has lapsed, setting LockedUntil to
	// until, and returns them oldest due first. Two workers never claim
	// the same delivery while its lease runs.
	ClaimWebhookDeliveries(ctx context.Context, now, until time.Time, limit int) ([]WebhookDelivery, error)
	// FinishWebhookDelivery stores d's attempt, status, next attempt,
	// last answer (status, error, response body) and UpdatedAt, clearing the lease, if the delivery is
	// still leased until heldUntil; otherwise (another worker took it
	// over) ErrNotFound.
	FinishWebhookDelivery(ctx context.Context, d *WebhookDelivery, heldUntil time.Time) error
	// ReplayWebhookDelivery makes a delivery pending and due at now,
	// whatever its status, and clears its lease.
	ReplayWebhookDelivery(ctx context.Context, id int64, now time.Time) error
}
