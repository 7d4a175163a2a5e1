package httpserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/ratelimit"
)

func TestClientAddress(t *testing.T) {
	for _, tt := range []struct {
		header, remote string
		values         []string
		want           string
	}{
		{"", "192.0.2.1:5555", nil, "192.0.2.1"},
		{"", "192.0.2.1:5555", []string{"203.0.113.9"}, "192.0.2.1"}, // no header configured: ignored
		{"", "[2001:db8:1:2:3:4:5:6]:443", nil, "2001:db8:1:2::/64"},
		{"", "[::ffff:192.0.2.7]:443", nil, "192.0.2.7"},
		{"", "not an address", nil, "not an address"},
		{"X-Real-IP", "10.0.0.1:1", []string{"203.0.113.9"}, "203.0.113.9"},
		{"X-Real-IP", "10.0.0.1:1", nil, "10.0.0.1"},
		{"X-Real-IP", "10.0.0.1:1", []string{"garbage"}, "10.0.0.1"},
		{"X-Real-IP", "10.0.0.1:1", []string{""}, "10.0.0.1"},
		{"X-Forwarded-For", "10.0.0.1:1", []string{"198.51.100.1, 203.0.113.9"}, "203.0.113.9"},
		{"X-Forwarded-For", "10.0.0.1:1", []string{"198.51.100.1", "203.0.113.9 "}, "203.0.113.9"},
		{"X-Forwarded-For", "10.0.0.1:1", []string{"198.51.100.1, 2001:db8::1"}, "2001:db8::/64"},
		{"X-Forwarded-For", "10.0.0.1:1", []string{"203.0.113.9:8080"}, "203.0.113.9"},
		{"X-Forwarded-For", "10.0.0.1:1", []string{"203.0.113.9, "}, "10.0.0.1"}, // last value empty
		{"x-forwarded-for", "10.0.0.1:1", []string{"203.0.113.9"}, "203.0.113.9"},
	} {
		r := httptest.NewRequest(http.MethodPost, "/login/", nil)
		r.RemoteAddr = tt.remote
		for _, v := range tt.values {
			r.Header.Add("X-Real-IP", v)
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := ClientAddress(tt.header)(r); got != tt.want {
			t.Errorf("header %q, remote %q, values %q: %q, want %q", tt.header, tt.remote, tt.values, got, tt.want)
		}
	}
}

func TestSigninLimited(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &Server{signinLimit: ratelimit.New(2, time.Minute, func() time.Time { return now }), clientAddr: ClientAddress("")}
	reached := 0
	h := s.signinLimited(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached++ }))
	post := func(remote string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/login/", strings.NewReader("email=a"))
		r.RemoteAddr = remote
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	post("192.0.2.1:1")
	post("192.0.2.1:2")
	w := post("192.0.2.1:3")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "30" ||
		!strings.Contains(w.Body.String(), "Wait 30 seconds") || reached != 2 {
		t.Fatalf("3rd post: %d %v %s; handler reached %d times", w.Code, w.Header(), w.Body, reached)
	}
	if w := post("192.0.2.2:1"); w.Code != http.StatusOK || reached != 3 {
		t.Fatalf("another address: %d, reached %d", w.Code, reached)
	}
	now = now.Add(30 * time.Second)
	if w := post("192.0.2.1:4"); w.Code != http.StatusOK || reached != 4 {
		t.Fatalf("after Retry-After: %d, reached %d", w.Code, reached)
	}
	// No limiter: every post reaches the handler.
	reached = 0
	off := (&Server{}).signinLimited(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached++ }))
	for range 10 {
		off.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/login/", nil))
	}
	if reached != 10 {
		t.Fatalf("without a limiter %d of 10 posts reached the handler", reached)
	}
}
