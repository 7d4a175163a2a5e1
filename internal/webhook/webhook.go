// Package webhook tells merchants about their payments over HTTP: the
// signed events of the outbox (docs/webhooks.md). It registers and lists
// endpoints, keeps their delivery log, writes an event and its deliveries
// in the transaction of the state change it reports (Emit), and posts due
// deliveries with a client that reaches only public addresses. It is the
// one part of the service that speaks HTTP; payment calls Emit and knows
// nothing else of it.
package webhook

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/thaili/thaili/internal/ids"
	"github.com/thaili/thaili/internal/keyring"
	"github.com/thaili/thaili/internal/store"
)

// Event types.
const (
	EventCompleted         = "payment.completed"
	EventRefunded          = "payment.refunded"
	EventPartiallyRefunded = "payment.partially_refunded"
	EventExpired           = "payment.expired"
	EventCanceled          = "payment.canceled"
	EventFailed            = "payment.failed"
)

// Events lists every event type an endpoint may subscribe to, in the
// order listings use.
var Events = []string{EventCompleted, EventRefunded, EventPartiallyRefunded, EventExpired, EventCanceled, EventFailed}

// EventTest is the type of a test event, which a merchant sends to one of
// its endpoints (SendTestEvent) whatever the endpoint subscribed to. It
// is about no payment.
const EventTest = "webhook.test"

// Defaults (Config fields left zero take these) and limits.
const (
	DefaultBackoff    = 30 * time.Second
	DefaultMaxBackoff = 6 * time.Hour
	DefaultRetryFor   = 72 * time.Hour
	DefaultTimeout    = 10 * time.Second
	MaxEndpoints      = 16 // per merchant and book
	// ResponseBodyMax is how much of an answer's body a delivery keeps
	// for its log.
	ResponseBodyMax = 4 << 10
	// TestEventLimit test events a merchant may send in any
	// TestEventWindow, over both books and all its endpoints: enough to
	// try an endpoint again and again while fixing it, too few to turn
	// the server against somebody's URL.
	TestEventLimit  = 5
	TestEventWindow = time.Minute
	batchSize       = 16 // deliveries claimed at once
	logSize         = 100
)

// Config holds the delivery rules. A failed delivery is retried after
// min(Backoff * 2^attempt, MaxBackoff) until RetryFor after its event;
// each POST may take Timeout. Zero durations take the Default* values.
type Config struct {
	// AllowPrivate lets endpoints be private, loopback or link-local
	// addresses (development, tests).
	AllowPrivate bool
	Backoff      time.Duration
	MaxBackoff   time.Duration
	RetryFor     time.Duration
	Timeout      time.Duration
}

// DefaultConfig returns Thaili's delivery rules.
func DefaultConfig() Config {
	return Config{Backoff: DefaultBackoff, MaxBackoff: DefaultMaxBackoff, RetryFor: DefaultRetryFor, Timeout: DefaultTimeout}
}

// Deps are the Service's collaborators, all injected.
type Deps struct {
	Store  store.Store
	Config Config
	Now    func() time.Time
	IDs    ids.Generator
	// Ring seals endpoint secrets and opens them to sign deliveries.
	Ring *keyring.Ring
	Log  *slog.Logger
	// HTTPClient posts deliveries; nil builds one that refuses private
	// addresses at connect time unless Config.AllowPrivate.
	HTTPClient *http.Client
}

// Service manages a merchant's endpoints and delivers their events.
type Service struct {
	store store.Store
	cfg   Config
	now   func() time.Time
	ids   ids.Generator
	ring  *keyring.Ring
	log   *slog.Logger
	http  *http.Client
}

// New returns a Service.
func New(d Deps) (*Service, error) {
	if d.Store == nil || d.Now == nil || d.IDs.Rand == nil || d.Ring == nil || d.Log == nil {
		return nil, errors.New("webhook: store, clock, ids, keyring and logger are required")
	}
	c := &d.Config
	c.Backoff = orDefault(c.Backoff, DefaultBackoff)
	c.MaxBackoff = orDefault(c.MaxBackoff, DefaultMaxBackoff)
	c.RetryFor = orDefault(c.RetryFor, DefaultRetryFor)
	c.Timeout = orDefault(c.Timeout, DefaultTimeout)
	if d.HTTPClient == nil {
		d.HTTPClient = newClient(c.AllowPrivate)
	}
	return &Service{store: d.Store, cfg: d.Config, now: d.Now, ids: d.IDs, ring: d.Ring, log: d.Log, http: d.HTTPClient}, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
