package webhook_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/webhook"
	"github.com/thaili/thaili/sdk"
)

// receiver is a merchant's endpoint that records what it is sent and
// answers with status and body.
type receiver struct {
	URL    string
	mu     sync.Mutex
	got    []received
	status int
	body   string
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, status int, body string) *receiver {
	t.Helper()
	rc := &receiver{status: status, body: body}
	srv := quietServer(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{header: r.Header.Clone(), body: b})
		rc.mu.Unlock()
		w.WriteHeader(rc.status)
		io.WriteString(w, rc.body)
	}, nil)
	rc.URL = srv.URL + "/hooks"
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// privateService is a service whose endpoints may be local test servers.
func privateService(t *testing.T, f *fixture) *webhook.Service {
	t.Helper()
	cfg := webhook.DefaultConfig()
	cfg.AllowPrivate = true
	return webhookService(t, f, cfg, io.Discard)
}

func register(t *testing.T, f *fixture, svc *webhook.Service, scope store.Scope, url string) (webhook.Endpoint, string) {
	t.Helper()
	e, secret, err := svc.CreateEndpoint(f.ctx, scope, url, []string{webhook.EventFailed})
	if err != nil {
		t.Fatal(err)
	}
	return e, secret
}

// TestSendTestEvent: a test event reaches an endpoint whatever it
// subscribed to, signed so that the SDK verifies it with the endpoint's
// secret; its one attempt is made before SendTestEvent returns, and the
// delivery log keeps the payload sent and the answer.
func TestSendTestEvent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	svc := privateService(t, f)
	rc := newReceiver(t, http.StatusOK, `{"received": true}`)
	ep, secret := register(t, f, svc, f.scope, rc.URL) // subscribed to payment.failed only

	d, err := svc.SendTestEvent(f.ctx, f.scope, ep.Idx)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`{"book":"test","created":%d,"data":{"endpoint":"%s","message":"A test event sent from Thaili to check this endpoint. `+
		`It is about no payment; answer with any 2xx status."},"id":"%s","type":"webhook.test"}`, f.clock.Now().Unix(), ep.Idx, d.EventIdx)
	if d.EventType != webhook.EventTest || d.Status != store.DeliverySucceeded || d.Attempt != 1 || d.LastStatusCode != 200 ||
		d.LastError != "" || d.ResponseBody != `{"received": true}` || d.ResponseTruncated || string(d.Payload) != want {
		t.Errorf("delivery %+v\npayload %s\n   want %s", d, d.Payload, want)
	}
	got := rc.requests()
	if len(got) != 1 {
		t.Fatalf("the receiver got %d requests, want 1", len(got))
	}
	h := got[0].header
	if string(got[0].body) != want || h.Get("Thaili-Event-Type") != webhook.EventTest || h.Get("Thaili-Event-Id") != d.EventIdx ||
		h.Get("Content-Type") != "application/json" {
		t.Errorf("the receiver got %v\n%s", h, got[0].body)
	}
	if err := sdk.VerifyWebhook(secret, h.Get(sdk.WebhookSignatureHeader), got[0].body, f.clock.Now(), 0); err != nil {
		t.Errorf("the SDK does not verify the test event: %v (%s)", err, h.Get(sdk.WebhookSignatureHeader))
	}
	if err := sdk.VerifyWebhook("whsec_"+strings.Repeat("0", 48), h.Get(sdk.WebhookSignatureHeader), got[0].body, f.clock.Now(), 0); !errors.Is(err, sdk.ErrWebhookSignature) {
		t.Errorf("another secret verifies the test event: %v", err)
	}

	log, err := svc.DeliveryLog(f.ctx, f.scope, ep.Idx)
	if err != nil || len(log) != 1 {
		t.Fatalf("delivery log: %v %+v", err, log)
	}
	if l := log[0]; l.Idx != d.Idx || string(l.Payload) != want || l.ResponseBody != d.ResponseBody || l.Status != store.DeliverySucceeded {
		t.Errorf("the log shows %+v", l)
	}
	// It was sent once: no worker has anything left to send.
	f.clock.Advance(time.Hour)
	if n, err := svc.Deliver(f.ctx); err != nil || n != 0 {
		t.Errorf("Deliver after the test event = %d, %v; want nothing to do", n, err)
	}
}

// TestSendTestEventOnlyToOwnEndpoints: another merchant's endpoint, one
// of the other book, a deleted one and a malformed idx are all not
// found; nothing is sent and no event is written.
func TestSendTestEventOnlyToOwnEndpoints(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	svc := privateService(t, f)
	rc := newReceiver(t, http.StatusOK, "")
	other := f.merchant(t, "other@shop.example")
	foreign, _ := register(t, f, svc, other, rc.URL)
	live, _ := register(t, f, svc, store.Scope{MerchantID: f.scope.MerchantID, Book: ledger.Live}, rc.URL)
	deleted, _ := register(t, f, svc, f.scope, rc.URL)
	if err := svc.DeleteEndpoint(f.ctx, f.scope, deleted.Idx); err != nil {
		t.Fatal(err)
	}
	for name, idx := range map[string]string{"another merchant's": foreign.Idx, "the live book's": live.Idx,
		"a deleted": deleted.Idx, "a malformed": "../x", "an unknown": f.gen.New()} {
		if _, err := svc.SendTestEvent(f.ctx, f.scope, idx); fault.AsError(err).Kind != fault.KindNotFound {
			t.Errorf("a test event to %s endpoint: %v; want not found", name, err)
		}
	}
	if n := len(rc.requests()); n != 0 {
		t.Errorf("the receiver got %d requests", n)
	}
	err := f.db.View(f.ctx, func(tx store.Tx) error {
		for _, m := range []int64{f.scope.MerchantID, other.MerchantID} {
			times, err := tx.WebhookEventTimes(f.ctx, m, webhook.EventTest, time.Time{}, 10)
			if err != nil {
				return err
			}
			if len(times) != 0 {
				t.Errorf("merchant %d has %d test events", m, len(times))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSendTestEventFailureIsNotRetried: a failed test event is failed at
// once, with what the receiver answered; it is sent again only when
// replayed.
func TestSendTestEventFailureIsNotRetried(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	svc := privateService(t, f)
	rc := newReceiver(t, http.StatusInternalServerError, "database is down")
	ep, _ := register(t, f, svc, f.scope, rc.URL)
	d, err := svc.SendTestEvent(f.ctx, f.scope, ep.Idx)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != store.DeliveryFailed || d.LastError != "HTTP 500" || d.LastStatusCode != 500 || d.ResponseBody != "database is down" {
		t.Errorf("failed test event: %+v", d)
	}
	f.clock.Advance(time.Hour)
	if n, err := svc.Deliver(f.ctx); err != nil || n != 0 {
		t.Errorf("a failed test event was retried: Deliver = %d, %v", n, err)
	}
	if _, err := svc.Replay(f.ctx, f.scope, d.Idx); err != nil {
		t.Fatal(err)
	}
	if n, err := svc.Deliver(f.ctx); err != nil || n != 1 {
		t.Errorf("Deliver after the replay = %d, %v; want 1", n, err)
	}
	log, err := svc.DeliveryLog(f.ctx, f.scope, ep.Idx)
	if err != nil || len(log) != 1 || log[0].Attempt != 2 || log[0].Status != store.DeliveryFailed || len(rc.requests()) != 2 {
		t.Errorf("after the replay: %v %+v, %d requests", err, log, len(rc.requests()))
	}

	// Without an answer there is no body to keep.
	refused, _ := register(t, f, svc, f.scope, "http://"+closedPort(t)+"/hook")
	d, err = svc.SendTestEvent(f.ctx, f.scope, refused.Idx)
	if err != nil || d.Status != store.DeliveryFailed || d.LastError != "connection refused" || d.LastStatusCode != 0 || d.ResponseBody != "" {
		t.Errorf("test event to a closed port: %v %+v", err, d)
	}
}

// TestSendTestEventLimit: a merchant may send TestEventLimit test events
// a minute over all its endpoints and both books, also when it sends
// them all at once; another merchant has its own count. It runs on both
// stores, since only PostgreSQL runs the senders' transactions at once.
func TestSendTestEventLimit(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(*testing.T) *fixture{"sqlite": newFixture, "postgres": newPGFixture} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := open(t)
			svc := privateService(t, f)
			rc := newReceiver(t, http.StatusNoContent, "")
			a, _ := register(t, f, svc, f.scope, rc.URL)
			b, _ := register(t, f, svc, f.scope, rc.URL)
			liveScope := store.Scope{MerchantID: f.scope.MerchantID, Book: ledger.Live}
			live, _ := register(t, f, svc, liveScope, rc.URL)
			targets := []struct {
				scope store.Scope
				idx   string
			}{{f.scope, a.Idx}, {f.scope, b.Idx}, {liveScope, live.Idx}}

			n := 3 * webhook.TestEventLimit
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					to := targets[i%len(targets)]
					_, errs[i] = svc.SendTestEvent(f.ctx, to.scope, to.idx)
				}()
			}
			wg.Wait()
			sent := 0
			for _, err := range errs {
				if err == nil {
					sent++
					continue
				}
				if e := fault.AsError(err); e.Kind != fault.KindThrottled || e.RetryAfter != webhook.TestEventWindow || !strings.Contains(e.Detail, "60 seconds") {
					t.Errorf("a test event over the limit: %v (kind %d, retry after %s)", err, e.Kind, e.RetryAfter)
				}
			}
			if sent != webhook.TestEventLimit || len(rc.requests()) != webhook.TestEventLimit {
				t.Fatalf("%d of %d test events sent at once, %d received; want %d", sent, n, len(rc.requests()), webhook.TestEventLimit)
			}

			// Another merchant counts its own.
			other := f.merchant(t, "other@shop.example")
			o, _ := register(t, f, svc, other, rc.URL)
			if _, err := svc.SendTestEvent(f.ctx, other, o.Idx); err != nil {
				t.Errorf("another merchant's test event: %v", err)
			}
			// Half a minute on, the wait is half a minute; a minute on,
			// the merchant may send again.
			f.clock.Advance(webhook.TestEventWindow / 2)
			if _, err := svc.SendTestEvent(f.ctx, f.scope, a.Idx); fault.AsError(err).RetryAfter != webhook.TestEventWindow/2 {
				t.Errorf("half a minute on: %v", err)
			}
			f.clock.Advance(webhook.TestEventWindow / 2)
			if _, err := svc.SendTestEvent(f.ctx, f.scope, a.Idx); err != nil {
				t.Errorf("a minute on: %v", err)
			}
			if got, want := len(rc.requests()), webhook.TestEventLimit+2; got != want {
				t.Errorf("the receiver got %d requests, want %d", got, want)
			}
		})
	}
}
