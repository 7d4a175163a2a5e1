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
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/ids"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store/sqlite"
)

func newIdempotencyServer(t *testing.T) *Server {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "idem.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := payment.DefaultConfig()
	cfg.MPINIterations = 1000
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := payment.New(payment.Deps{Store: db, Config: cfg, Now: time.Now, Rand: rand.Reader, Secret: bytes.Repeat([]byte("s"), 32), Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	return New(Options{Service: svc, Log: log, PublicURL: "http://thaili.test", IDs: ids.Generator{Rand: rand.Reader}})
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
	panicking := s.logRequests(s.route(http.MethodPost, false, s.idempotent(secretKeyHeader, func(w http.ResponseWriter, r *http.Request) error {
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
