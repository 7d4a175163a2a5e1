package httpserver

import (
	"bytes"
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/thaili/thaili/internal/api"
	"github.com/thaili/thaili/internal/ids"
)

// A panicking handler is answered with a plain JSON 500 carrying the
// request's id, logged with the panic, and counted under its route. (The
// API's idempotency test checks that such a request frees its key.)
func TestPanicIsAPlain500(t *testing.T) {
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	s := New(Options{API: api.New(api.Options{Log: log}), Log: log, IDs: ids.Generator{Rand: rand.Reader}})
	mux := http.NewServeMux()
	mux.HandleFunc("/boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	h := s.logRequests(s.instrument(mux)) // the middleware New puts around its mux
	r := httptest.NewRequest(http.MethodGet, "/boom", nil)
	r.Header.Set("X-Request-Id", "req-1")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusInternalServerError || w.Body.String() != "{\"detail\":\"A server error occurred.\"}\n" ||
		w.Header().Get("X-Request-Id") != "req-1" || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("panic answered %d %v %q", w.Code, w.Header(), w.Body)
	}
	for _, want := range []string{"msg=panic request_id=req-1 panic=boom", "msg=request request_id=req-1 method=GET path=/boom status=500"} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logged.String())
		}
	}
	m := httptest.NewRecorder()
	s.ServeHTTP(m, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if want := `thaili_http_requests_total{route="/boom",code="500"} 1`; !strings.Contains(m.Body.String(), want) {
		t.Errorf("no %q in\n%s", want, m.Body)
	}
}
