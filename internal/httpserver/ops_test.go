package httpserver

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/thaili/thaili/internal/api"
	"github.com/thaili/thaili/internal/ids"
)

func TestReadyzNotReady(t *testing.T) {
	ready := errors.New("the database lacks migration 5: run `thaili migrate`")
	log := slog.New(slog.DiscardHandler)
	s := New(Options{API: api.New(api.Options{Log: log}), Log: log, IDs: ids.Generator{Rand: rand.Reader},
		Ready: func(context.Context) error { return ready }})
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w
	}
	w := get("/readyz")
	if w.Code != http.StatusServiceUnavailable ||
		w.Body.String() != "{\"detail\":\"the database lacks migration 5: run `thaili migrate`\",\"status\":\"not ready\"}\n" {
		t.Fatalf("not ready: %d %s", w.Code, w.Body)
	}
	ready = nil
	if w := get("/readyz"); w.Code != http.StatusOK || w.Body.String() != "{\"status\":\"ready\"}\n" {
		t.Fatalf("ready: %d %s", w.Code, w.Body)
	}
	if w := get("/healthz"); w.Code != http.StatusOK {
		t.Fatalf("healthz: %d", w.Code)
	}
	// A wrong method on a method pattern is the mux's own 405: "unmatched".
	w = httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/readyz", nil))
	m := get("/metrics").Body.String()
	for _, want := range []string{
		`thaili_http_requests_total{route="/readyz",code="503"} 1`,
		`thaili_http_requests_total{route="/readyz",code="200"} 1`,
		`thaili_http_requests_total{route="/readyz",code="405"} 1`,
		`thaili_http_request_duration_seconds_count{route="/healthz",code="200"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("no %q in\n%s", want, m)
		}
	}
}
