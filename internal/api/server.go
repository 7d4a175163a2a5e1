// Package api serves Thaili's Khalti-compatible JSON API. Handlers parse
// requests and render responses; every decision is the payment service's.
// routes.go lists the API's routes; internal/httpserver mounts them beside
// the pages and wraps them in the middleware every request passes through.
package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/idempotency"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/webhook"
)

// Server is the JSON API in front of a payment.Service.
type Server struct {
	svc       *payment.Service
	id        *identity.Service
	idem      *idempotency.Keys // the Idempotency-Keys of POSTs that create or move something
	hooks     *webhook.Service  // the webhook endpoints under /api/thaili/webhooks/
	log       *slog.Logger
	publicURL string // base of absolute links, without a trailing slash

	// renewEvery is how often a request running under an Idempotency-Key
	// renews its lease (idempotency.RenewEvery; tests shorten it).
	renewEvery time.Duration
}

// Options configure a Server.
type Options struct {
	Service *payment.Service
	// Identity resolves keys, sessions and sign-ins.
	Identity *identity.Service
	// Idempotency keeps the Idempotency-Keys of the POSTs that take one;
	// it must be given.
	Idempotency *idempotency.Keys
	// Webhooks manages the merchants' webhook endpoints and delivery
	// logs for /api/thaili/webhooks/, which need it.
	Webhooks  *webhook.Service
	Log       *slog.Logger
	PublicURL string
}

// New builds the API; Routes registers it.
func New(o Options) *Server {
	return &Server{svc: o.Service, id: o.Identity, idem: o.Idempotency, hooks: o.Webhooks, log: o.Log, publicURL: strings.TrimRight(o.PublicURL, "/"),
		renewEvery: idempotency.RenewEvery}
}

// Endpoint serves h at one method in the API's conventions, as every API
// route is served: other methods get DRF's 405, browser preflights are
// answered when cors is set, and an error h returns is rendered by
// writeError. The operations endpoints and the API reference use it too.
func (s *Server) Endpoint(method string, cors bool, h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return s.route(method, cors, h)
}

// NotFound is the JSON 404 of every path no route serves.
func NotFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Not found."})
}

// handlerFunc is a handler that returns its error for writeError to render.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route adapts a handlerFunc for one method, answering other methods with
// DRF's 405 and, when cors is set, browser preflights.
func (s *Server) route(method string, cors bool, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cors {
			allowCORS(w, r, method)
			if r.Method == http.MethodOptions {
				w.WriteHeader(http.StatusOK)
				return
			}
		}
		if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
			w.Header().Set("Allow", method+", OPTIONS")
			writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"detail": `Method "` + r.Method + `" not allowed.`})
			return
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// allowCORS lets any origin call the browser-facing legacy endpoints, as
// Khalti's widget iframe does from its CDN origin.
func allowCORS(w http.ResponseWriter, r *http.Request, method string) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", method+", OPTIONS")
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
	} else {
		h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization")
	}
	h.Set("Access-Control-Max-Age", "86400")
	h.Add("Vary", "Origin")
}

// writeError is the one place where errors become wire responses.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := fault.AsError(err)
	status := e.Kind.Status()
	body := map[string]any{}
	for field, msgs := range e.Fields {
		body[field] = msgs
	}
	if e.Detail != "" {
		body["detail"] = e.Detail
	}
	if e.TriesRemaining != "" {
		body["tries_remaining"] = e.TriesRemaining
	}
	if e.ErrorKey != "" {
		body["error_key"] = e.ErrorKey
	}
	if e.Kind == fault.KindUnauthorized {
		body["status_code"] = http.StatusUnauthorized
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64(e.RetryAfter/time.Second), 10))
	}
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", "request_id", requestID(r), "err", e.Cause)
	}
	writeJSON(w, status, body)
}

// WriteJSON writes v as a JSON body with status, as every API answer is
// written.
func WriteJSON(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"detail":"A server error occurred."}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

type ctxKey struct{}

// WithRequestID returns ctx carrying the request's id, which the API's
// error and idempotency log lines name.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(ctxKey{}).(string)
	return id
}
