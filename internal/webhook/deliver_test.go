package webhook_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/ids"
	"github.com/thaili/thaili/internal/keyring"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/store/postgres"
	"github.com/thaili/thaili/internal/store/postgres/pgtest"
	"github.com/thaili/thaili/internal/store/sqlite"
	"github.com/thaili/thaili/internal/webhook"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is a fresh database holding one merchant, whose test book is
// scope, and a settable clock.
type fixture struct {
	db    store.Store
	ctx   context.Context
	clock *clock
	scope store.Scope
	gen   ids.Generator
}

// newFixture is a fixture on SQLite.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return fixtureOn(t, db)
}

// newPGFixture is a fixture on a PostgreSQL database of its own (see
// pgtest for when it is skipped).
func newPGFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return fixtureOn(t, db)
}

func fixtureOn(t *testing.T, db store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: db, ctx: ctx, clock: &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, gen: ids.Generator{Rand: rand.Reader}}
	f.scope = f.merchant(t, "hooks@shop.example")
	return f
}

// merchant adds a merchant and returns its test book.
func (f *fixture) merchant(t *testing.T, email string) store.Scope {
	t.Helper()
	m := store.Merchant{Idx: f.gen.New(), Name: "Hook Shop", Email: email, KYC: store.KYCApproved, Confirmed: true,
		CreatedAt: f.clock.Now()}
	if err := f.db.InTx(f.ctx, func(tx store.Tx) error { return tx.CreateMerchant(f.ctx, &m) }); err != nil {
		t.Fatal(err)
	}
	return store.Scope{MerchantID: m.ID, Book: ledger.Test}
}

// emit writes an event of type typ for the scope's payment 1, in a
// transaction of its own, as payment does with its state change.
func (f *fixture) emit(t *testing.T, scope store.Scope, typ string) {
	t.Helper()
	err := f.db.InTx(f.ctx, func(tx store.Tx) error {
		return webhook.Emit(f.ctx, tx, f.gen, webhook.Event{Scope: scope, PaymentID: 1, Type: typ, At: f.clock.Now(),
			Data: map[string]any{"idx": "payment-1", "amount": 1000}})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// logBuffer collects a service's log; deliveries log from goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// hookRun is one webhook delivery attempt made by deliverOnce.
type hookRun struct {
	f         *fixture
	sender    *webhook.Service
	endpoint  webhook.Endpoint
	secret    string
	delivery  webhook.Delivery
	log       string
	delivered int
}

// webhookService is a service (a node) on f's store with the same server
// secret as every other, with cfg and log.
func webhookService(t *testing.T, f *fixture, cfg webhook.Config, log io.Writer) *webhook.Service {
	t.Helper()
	ring, err := keyring.New(make([]byte, 32), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := webhook.New(webhook.Deps{Store: f.db, Config: cfg, Now: f.clock.Now, IDs: ids.Generator{Rand: rand.Reader},
		Ring: ring, Log: slog.New(slog.NewTextHandler(log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// deliverOnce registers url (private targets allowed), emits a
// payment.completed event, and makes one delivery attempt with a service
// whose webhooks may reach private targets only if privateAtDelivery, and
// which waits at most timeout for an answer. It returns the attempt as
// the delivery log shows it and what the sender logged.
func deliverOnce(t *testing.T, url string, timeout time.Duration, privateAtDelivery bool) hookRun {
	t.Helper()
	f := newFixture(t)
	cfg := webhook.DefaultConfig()
	cfg.AllowPrivate = true
	registrar := webhookService(t, f, cfg, io.Discard)
	ep, secret, err := registrar.CreateEndpoint(f.ctx, f.scope, url, []string{webhook.EventCompleted})
	if err != nil {
		t.Fatalf("register %s: %v", url, err)
	}
	f.emit(t, f.scope, webhook.EventCompleted)
	cfg.AllowPrivate, cfg.Timeout = privateAtDelivery, timeout
	logs := &logBuffer{}
	run := hookRun{f: f, sender: webhookService(t, f, cfg, logs), endpoint: ep, secret: secret}
	if run.delivered, err = run.sender.Deliver(f.ctx); err != nil || run.delivered != 1 {
		t.Fatalf("Deliver = %d, %v; want 1 attempt", run.delivered, err)
	}
	list, err := run.sender.DeliveryLog(f.ctx, f.scope, ep.Idx)
	if err != nil || len(list) != 1 {
		t.Fatalf("delivery log: %v %+v", err, list)
	}
	run.delivery, run.log = list[0], logs.String()
	return run
}

// failedLine is the logged line about the run's failed delivery; it
// must name the delivery, event and endpoint and never hold the secret.
func (r hookRun) failedLine(t *testing.T) string {
	t.Helper()
	var line string
	for _, l := range strings.Split(r.log, "\n") {
		if strings.Contains(l, "webhook delivery failed") {
			line = l
		}
	}
	for _, want := range []string{"delivery=" + r.delivery.Idx, "event=" + r.delivery.EventIdx, "endpoint=" + r.endpoint.Idx} {
		if !strings.Contains(line, want) {
			t.Errorf("log line lacks %q:\n%s", want, r.log)
		}
	}
	if c := r.delivery.LastError; !strings.Contains(line, "category="+c+" ") && !strings.Contains(line, `category="`+c+`"`) {
		t.Errorf("log line lacks the category %q:\n%s", c, r.log)
	}
	if strings.Contains(r.log, r.secret) || strings.Contains(r.log, "whsec_") {
		t.Errorf("the log holds the webhook secret:\n%s", r.log)
	}
	return line
}

// wantFailure checks the stored category, that the attempt will be
// retried, and that the logged line carries each of causes.
func (r hookRun) wantFailure(t *testing.T, category string, code int, causes ...string) {
	t.Helper()
	d := r.delivery
	if d.LastError != category || d.LastStatusCode != code || d.Status != store.DeliveryPending || d.Attempt != 1 {
		t.Errorf("delivery: last_error %q code %d status %s attempt %d; want %q %d pending 1",
			d.LastError, d.LastStatusCode, d.Status, d.Attempt, category, code)
	}
	line := r.failedLine(t)
	for _, c := range causes {
		if !strings.Contains(line, c) {
			t.Errorf("the logged cause lacks %q:\n%s", c, r.log)
		}
	}
}

// closedPort is a 127.0.0.1 address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// quietServer is an httptest server that does not write TLS handshake
// errors to the test's output; with tlsConfig it serves TLS.
func quietServer(t *testing.T, h http.HandlerFunc, tlsConfig *tls.Config) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tlsConfig != nil {
		srv.TLS = tlsConfig
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv
}

func TestWebhookFailureCategories(t *testing.T) {
	t.Parallel()
	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		addr := closedPort(t)
		deliverOnce(t, "http://"+addr+"/hook", time.Minute, true).wantFailure(t, "connection refused", 0, addr, "connection refused")
	})
	t.Run("HTTP 500", func(t *testing.T) {
		t.Parallel()
		srv := quietServer(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }, nil)
		deliverOnce(t, srv.URL+"/hook", time.Minute, true).wantFailure(t, "HTTP 500", 500, "status=500")
	})
	t.Run("HTTP 302 is not followed", func(t *testing.T) {
		t.Parallel()
		srv := quietServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://10.0.0.1/", http.StatusFound)
		}, nil)
		deliverOnce(t, srv.URL+"/hook", time.Minute, true).wantFailure(t, "HTTP 302", 302, "status=302")
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		// The receiver never answers: it holds each request until the
		// sender gives up or the test ends.
		done := make(chan struct{})
		srv := quietServer(t, func(_ http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-done:
			}
		}, nil)
		t.Cleanup(func() { close(done) }) // runs before srv.Close
		deliverOnce(t, srv.URL+"/hook", 200*time.Millisecond, true).wantFailure(t, "timeout", 0, "deadline exceeded")
	})
	t.Run("blocked address", func(t *testing.T) {
		t.Parallel()
		// Registered while private targets were allowed (as a name that
		// later resolves to a private address would be), sent while they
		// are not: the dialer refuses it, and the receiver hears nothing.
		var mu sync.Mutex
		hits := 0
		srv := quietServer(t, func(http.ResponseWriter, *http.Request) { mu.Lock(); hits++; mu.Unlock() }, nil)
		deliverOnce(t, srv.URL+"/hook", time.Minute, false).wantFailure(t, "blocked address", 0, srv.Listener.Addr().String())
		mu.Lock()
		defer mu.Unlock()
		if hits != 0 {
			t.Errorf("a blocked address got %d requests", hits)
		}
	})
	t.Run("DNS lookup failed", func(t *testing.T) {
		t.Parallel()
		deliverOnce(t, "http://nothing.invalid/hook", time.Minute, true).wantFailure(t, "DNS lookup failed", 0, "lookup nothing.invalid")
	})
	t.Run("TLS handshake failed: untrusted certificate", func(t *testing.T) {
		t.Parallel()
		srv := quietServer(t, func(http.ResponseWriter, *http.Request) {}, &tls.Config{})
		deliverOnce(t, srv.URL+"/hook", time.Minute, true).wantFailure(t, "TLS handshake failed", 0, "certificate")
	})
	t.Run("TLS handshake failed: no common version", func(t *testing.T) {
		t.Parallel()
		// The receiver's alert is an error of no exported type; the
		// client's trace of the handshake classifies it.
		srv := quietServer(t, func(http.ResponseWriter, *http.Request) {}, &tls.Config{MaxVersion: tls.VersionTLS11})
		deliverOnce(t, srv.URL+"/hook", time.Minute, true).wantFailure(t, "TLS handshake failed", 0, "protocol version")
	})
	t.Run("TLS handshake failed: not a TLS server", func(t *testing.T) {
		t.Parallel()
		srv := quietServer(t, func(http.ResponseWriter, *http.Request) {}, nil)
		deliverOnce(t, "https://"+srv.Listener.Addr().String()+"/hook", time.Minute, true).
			wantFailure(t, "TLS handshake failed", 0, "server gave HTTP response to HTTPS client")
	})
	t.Run("success", func(t *testing.T) {
		t.Parallel()
		srv := quietServer(t, func(http.ResponseWriter, *http.Request) {}, nil)
		run := deliverOnce(t, srv.URL+"/hook", time.Minute, true)
		if d := run.delivery; d.LastError != "" || d.LastStatusCode != 200 || d.Status != store.DeliverySucceeded {
			t.Errorf("delivery: %+v", d)
		}
		if strings.Contains(run.log, "webhook delivery failed") {
			t.Errorf("a success logged as a failure:\n%s", run.log)
		}
	})
	t.Run("endpoint deleted", func(t *testing.T) {
		t.Parallel()
		addr := closedPort(t)
		run := deliverOnce(t, "http://"+addr+"/hook", time.Minute, true)
		f := run.f
		if err := run.sender.DeleteEndpoint(f.ctx, f.scope, run.endpoint.Idx); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Hour) // past the retry
		if n, err := run.sender.Deliver(f.ctx); err != nil || n != 1 {
			t.Fatalf("Deliver = %d, %v", n, err)
		}
		// A deleted endpoint's log is not shown; read the store.
		var d store.WebhookDelivery
		err := f.db.View(f.ctx, func(tx store.Tx) error {
			e, err := tx.WebhookEndpointByIdx(f.ctx, f.scope, run.endpoint.Idx)
			if err != nil {
				return err
			}
			list, err := tx.WebhookDeliveries(f.ctx, e.ID, 10)
			if len(list) == 1 {
				d = list[0]
			}
			return err
		})
		if err != nil || d.LastError != "endpoint deleted" || d.Status != store.DeliveryFailed || d.Attempt != 2 {
			t.Errorf("delivery to a deleted endpoint: %v %+v", err, d)
		}
	})
}

// TestWebhookLogShowsOnlyCategories: rows stored before last_error was a
// category hold raw Go errors; the delivery log shows them as
// "connection failed", and known categories as they are.
func TestWebhookLogShowsOnlyCategories(t *testing.T) {
	t.Parallel()
	run := deliverOnce(t, "http://"+closedPort(t)+"/hook", time.Minute, true)
	f := run.f
	stored := map[string]string{
		`Post "http://hooks.example/x": dial tcp: lookup hooks.example on 10.255.255.53:53: no such host`:           "connection failed",
		`Post "http://hooks.example/x": webhook: refusing to connect to 10.1.2.3 (private targets are not allowed)`: "connection failed",
		`Post "http://127.0.0.1:9/": dial tcp 127.0.0.1:9: connect: connection refused`:                             "connection failed",
		"HTTP 5000":            "connection failed",
		"HTTP 50":              "connection failed",
		"http 500":             "connection failed",
		"timeout ":             "connection failed",
		"HTTP 503":             "HTTP 503",
		"HTTP 404":             "HTTP 404",
		"timeout":              "timeout",
		"blocked address":      "blocked address",
		"DNS lookup failed":    "DNS lookup failed",
		"TLS handshake failed": "TLS handshake failed",
		"connection refused":   "connection refused",
		"connection failed":    "connection failed",
		"":                     "",
	}
	shown := map[string]string{} // delivery idx -> what it must show
	err := f.db.InTx(f.ctx, func(tx store.Tx) error {
		e, err := tx.WebhookEndpointByIdx(f.ctx, f.scope, run.endpoint.Idx)
		if err != nil {
			return err
		}
		first, err := tx.WebhookDeliveryByIdx(f.ctx, run.delivery.Idx)
		if err != nil {
			return err
		}
		gen, i := ids.Generator{Rand: rand.Reader}, 0
		for raw, want := range stored {
			i++
			now := f.clock.Now().Add(time.Duration(i) * time.Second)
			d := store.WebhookDelivery{Idx: gen.New(), EventID: first.EventID,
				EndpointID: e.ID, Attempt: 1, Status: store.DeliveryFailed, NextAttemptAt: now, LastError: raw, CreatedAt: now, UpdatedAt: now}
			if err := tx.CreateWebhookDelivery(f.ctx, &d); err != nil {
				return err
			}
			shown[d.Idx] = want
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	list, err := run.sender.DeliveryLog(f.ctx, f.scope, run.endpoint.Idx)
	if err != nil || len(list) != len(stored)+1 {
		t.Fatalf("delivery log: %v, %d rows", err, len(list))
	}
	for _, d := range list {
		want, ok := shown[d.Idx]
		if !ok {
			want = "connection refused" // the real attempt
		}
		if d.LastError != want {
			t.Errorf("delivery %s shows %q, want %q", d.Idx, d.LastError, want)
		}
	}
	// Replaying answers the delivery as the log shows it.
	for idx, want := range shown {
		if want != "connection failed" {
			continue
		}
		d, err := run.sender.Replay(f.ctx, f.scope, idx)
		if err != nil || d.LastError != want {
			t.Errorf("replay of %s: %v, shows %q", idx, err, d.LastError)
		}
		break
	}
}
