package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/idempotency"
	"github.com/thaili/thaili/internal/keyring"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/servicetest"
	"github.com/thaili/thaili/internal/store"
)

// newIdempotencyServer is a Server on a fresh, seeded SQLite database;
// opts may change the services' Deps (their clock, their store) first.
func newIdempotencyServer(t *testing.T, opts ...func(*servicetest.Deps)) *Server {
	t.Helper()
	var st store.Store
	var now func() time.Time
	svc, id := servicetest.New(t, servicetest.SQLite(t), time.Now, nil,
		append(opts, func(d *servicetest.Deps) { st, now = d.Payment.Store, d.Payment.Now })...)
	if _, err := svc.Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	return New(Options{Service: svc, Identity: id, Idempotency: testKeys(t, st, now), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		PublicURL: "http://thaili.test"})
}

// testKeys keeps Idempotency-Keys in st, as cmd/thaili does.
func testKeys(t testing.TB, st store.Store, now func() time.Time) *idempotency.Keys {
	ring, err := keyring.New(bytes.Repeat([]byte("s"), 32), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return idempotency.NewKeys(st, now, ring)
}

// TestIdempotentWrapper drives the middleware around handlers it controls:
// a slow first request (409 meanwhile), a server error (not kept), a
// panic (key released).
func TestIdempotentWrapper(t *testing.T) {
	s := newIdempotencyServer(t)
	release, entered := make(chan struct{}), make(chan struct{}, 1)
	runs := 0
	slow := s.route(http.MethodPost, false, s.idempotent(secretKeyHeader, func(w http.ResponseWriter, r *http.Request) error {
		runs++
		body, _ := io.ReadAll(r.Body)
		entered <- struct{}{}
		<-release
		w.Header().Set("X-Extra", "kept")
		writeJSON(w, http.StatusCreated, map[string]any{"run": runs, "body": string(body)})
		return nil
	}))
	send := func(h http.Handler, key, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/x/", strings.NewReader(body))
		req.Header.Set("Authorization", "Key "+payment.DemoSecretKey)
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- send(slow, "k1", `{"a":1}`) }()
	<-entered
	if w := send(slow, "k1", `{"a":1}`); w.Code != 409 || w.Body.String() !=
		`{"detail":"A request with this Idempotency-Key is still in progress.","error_key":"idempotency_error"}`+"\n" {
		t.Fatalf("while running: %d %s", w.Code, w.Body)
	}
	if w := send(slow, "k1", `{"a":2}`); w.Code != 422 {
		t.Fatalf("other body while running: %d %s", w.Code, w.Body)
	}
	close(release)
	first := <-done
	if first.Code != 201 || first.Header().Get("X-Extra") != "kept" {
		t.Fatalf("first: %d %v %s", first.Code, first.Header(), first.Body)
	}
	entered = make(chan struct{}, 10)
	again := send(slow, "k1", `{"a":1}`)
	if again.Code != 201 || again.Body.String() != first.Body.String() || again.Header().Get("X-Extra") != "kept" ||
		again.Header().Get("Idempotent-Replayed") != "true" || runs != 1 {
		t.Fatalf("replay: %d %v %s (runs %d)", again.Code, again.Header(), again.Body, runs)
	}
	// Without the header the handler runs every time.
	send(slow, "", `{"a":1}`)
	if runs != 2 {
		t.Fatalf("runs without a key: %d", runs)
	}
	if w := send(slow, "", ""); w.Header().Get("Idempotent-Replayed") != "" {
		t.Fatal("replayed without a key")
	}

	// A 5xx is not kept: the retry runs again.
	fails := 0
	failing := s.route(http.MethodPost, false, s.idempotent(secretKeyHeader, func(w http.ResponseWriter, r *http.Request) error {
		fails++
		if fails == 1 {
			return errors.New("database down")
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true})
		return nil
	}))
	if w := send(failing, "k2", `{}`); w.Code != 500 {
		t.Fatalf("failing: %d %s", w.Code, w.Body)
	}
	if w := send(failing, "k2", `{}`); w.Code != 200 || w.Header().Get("Idempotent-Replayed") != "" || fails != 2 {
		t.Fatalf("retry after 5xx: %d %s (runs %d)", w.Code, w.Body, fails)
	}

	// A panic releases the key too.
	panics := 0
	panicking := recoverAs500(s.route(http.MethodPost, false, s.idempotent(secretKeyHeader, func(w http.ResponseWriter, r *http.Request) error {
		panics++
		if panics == 1 {
			panic("boom")
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true})
		return nil
	})))
	if w := send(panicking, "k3", `{}`); w.Code != 500 {
		t.Fatalf("panic: %d", w.Code)
	}
	if w := send(panicking, "k3", `{}`); w.Code != 200 || panics != 2 {
		t.Fatalf("retry after panic: %d %s", w.Code, w.Body)
	}
}

// recoverAs500 answers a panic in h with a plain 500, as the middleware
// around every route does (internal/httpserver).
func recoverAs500(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				writeJSON(w, http.StatusInternalServerError, map[string]any{"detail": "A server error occurred."})
			}
		}()
		h.ServeHTTP(w, r)
	})
}

// downStore is a real store whose database can be made unreachable: while
// down, every transaction fails before it starts.
type downStore struct {
	store.Store
	down atomic.Bool
}

func (d *downStore) InTx(ctx context.Context, fn func(store.Tx) error) error {
	if d.down.Load() {
		return errors.New("test: the database is unreachable")
	}
	return d.Store.InTx(ctx, fn)
}

func (d *downStore) View(ctx context.Context, fn func(store.Tx) error) error {
	if d.down.Load() {
		return errors.New("test: the database is unreachable")
	}
	return d.Store.View(ctx, fn)
}

// leaseTestServer is a Server on a settable clock and a downStore, whose
// requests renew their keys' leases every millisecond, and h behind the
// idempotency middleware.
func leaseTestServer(t *testing.T, h handlerFunc) (*Server, *servicetest.Clock, *downStore, http.Handler) {
	t.Helper()
	clock := servicetest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	db := &downStore{}
	s := newIdempotencyServer(t, func(d *servicetest.Deps) {
		db.Store = d.Payment.Store
		d.Payment.Now, d.Payment.Store = clock.Now, db
		d.Identity.Now, d.Identity.Store = clock.Now, db
	})
	s.renewEvery = time.Millisecond
	return s, clock, db, s.route(http.MethodPost, false, s.idempotent(secretKeyHeader, h))
}

func sendKey(h http.Handler, key string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/x/", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Key "+payment.DemoSecretKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

const busyBody = `{"detail":"A request with this Idempotency-Key is still in progress.","error_key":"idempotency_error"}` + "\n"

// A request that runs long keeps its key: the middleware renews its lease
// while it runs, so retries long past one lease are still told it is in
// progress, and it alone runs.
func TestIdempotentRenewsWhileRunning(t *testing.T) {
	var runs atomic.Int32
	entered, release := make(chan struct{}), make(chan struct{})
	s, clock, db, h := leaseTestServer(t, func(w http.ResponseWriter, r *http.Request) error {
		if runs.Add(1) == 1 {
			close(entered)
			<-release
		}
		writeJSON(w, http.StatusCreated, map[string]any{"run": runs.Load()})
		return nil
	})
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- sendKey(h, "slow") }()
	<-entered
	ctx := context.Background()
	caller, err := s.id.Authenticate(ctx, payment.DemoSecretKey, store.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	scope := idempotency.ScopeOf(caller.Kind, caller.Scope())
	for i := 0; i < 5; i++ {
		clock.Advance(idempotency.Lease - time.Second)
		want := clock.Now().Add(idempotency.Lease)
		// Wait (bounded) for a renewal after the clock moved.
		for deadline := time.Now().Add(20 * time.Second); ; {
			var rec store.IdempotencyRecord
			err := db.View(ctx, func(tx store.Tx) error {
				var err error
				rec, err = tx.Idempotency(ctx, scope, "slow")
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if !rec.LeaseUntil.Before(want) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no renewal after %d leases: held until %s, now %s", i, rec.LeaseUntil, clock.Now())
			}
			time.Sleep(time.Millisecond)
		}
		if w := sendKey(h, "slow"); w.Code != 409 || w.Body.String() != busyBody {
			t.Fatalf("retry %d while the request runs: %d %s", i, w.Code, w.Body)
		}
	}
	close(release)
	if w := <-done; w.Code != 201 || w.Body.String() != `{"run":1}`+"\n" {
		t.Fatalf("the long request: %d %s", w.Code, w.Body)
	}
	if w := sendKey(h, "slow"); w.Code != 201 || w.Header().Get("Idempotent-Replayed") != "true" || runs.Load() != 1 {
		t.Fatalf("replay: %d %s (runs %d)", w.Code, w.Body, runs.Load())
	}
}

// A request that fails with a 500 because the database went away, and
// whose release of the key fails too, leaves a key a retry may run again
// a few seconds later, once the database is back.
func TestIdempotentFailedReleaseFreesKeyWithinSeconds(t *testing.T) {
	var runs atomic.Int32
	var db *downStore
	_, clock, db, h := leaseTestServer(t, func(w http.ResponseWriter, r *http.Request) error {
		if runs.Add(1) == 1 {
			db.down.Store(true) // the connections are cut mid-request
			return errors.New("database down")
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true})
		return nil
	})
	if w := sendKey(h, "cut"); w.Code != 500 {
		t.Fatalf("first: %d %s", w.Code, w.Body)
	}
	db.down.Store(false)
	if w := sendKey(h, "cut"); w.Code != 409 || w.Body.String() != busyBody {
		t.Fatalf("retry within the lease: %d %s", w.Code, w.Body)
	}
	clock.Advance(15 * time.Second)
	if w := sendKey(h, "cut"); w.Code != 200 || runs.Load() != 2 {
		t.Fatalf("retry 15 s later: %d %s (runs %d), want it to run", w.Code, w.Body, runs.Load())
	}
}

func TestCheckIdempotencyKey(t *testing.T) {
	for _, tc := range []struct {
		values []string
		ok     bool
	}{
		{[]string{"a"}, true},
		{[]string{strings.Repeat("x", 255)}, true},
		{[]string{"order 7 / retry #2 ~!"}, true},
		{[]string{""}, false},
		{[]string{strings.Repeat("x", 256)}, false},
		{[]string{"caf\u00e9"}, false},
		{[]string{"a\x7f"}, false},
		{[]string{"a", "b"}, false},
	} {
		if got := checkIdempotencyKey(tc.values) == ""; got != tc.ok {
			t.Errorf("checkIdempotencyKey(%q) ok = %v, want %v", tc.values, got, tc.ok)
		}
	}
}
