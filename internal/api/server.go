// Package api serves Thaili's Khalti-compatible HTTP API. Handlers parse
// requests and render responses; every decision is the payment service's.
// routes.go lists the whole surface.
package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/thaili/thaili/internal/console"
	"github.com/thaili/thaili/internal/dashboard"
	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/idempotency"
	"github.com/thaili/thaili/internal/ids"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/ratelimit"
	"github.com/thaili/thaili/internal/wallet"
	"github.com/thaili/thaili/internal/web"
	"github.com/thaili/thaili/internal/webhook"
)

// Server is the HTTP front of a payment.Service.
type Server struct {
	svc       *payment.Service
	idem      *idempotency.Keys // the Idempotency-Keys of POSTs that create or move something
	hooks     *webhook.Service  // the webhook endpoints under /api/thaili/webhooks/
	log       *slog.Logger
	publicURL string // base of absolute links, without a trailing slash
	https     bool   // publicURL is https: every response carries HSTS
	ids       ids.Generator
	pages     *web.Pages       // the hosted payment page; nil serves none
	widget    http.Handler     // the web checkout widget under /kpg/; nil serves none
	demo      http.Handler     // the sandbox demo shop under /demo/; nil serves none
	dashboard *dashboard.Pages // merchant sign-up, log-in and dashboard; nil serves none
	wallet    *wallet.Pages    // consumer sign-up, log-in and wallet page; nil serves none
	console   *console.Pages   // the operator console; nil serves none
	ready     func(context.Context) error
	// signinLimit and clientAddr limit the sign-in-like form posts per
	// client address (signin_limit.go); a nil signinLimit is no limit.
	signinLimit *ratelimit.Limiter
	clientAddr  func(*http.Request) string
	metrics     *opsMetrics
	handler     http.Handler
	patterns    []string // every pattern routes registered (patterns.go)

	// renewEvery is how often a request running under an Idempotency-Key
	// renews its lease (idempotency.RenewEvery; tests shorten it).
	renewEvery time.Duration
}

// Options configure a Server.
type Options struct {
	Service *payment.Service
	// Idempotency keeps the Idempotency-Keys of the POSTs that take one;
	// it must be given.
	Idempotency *idempotency.Keys
	Log         *slog.Logger
	PublicURL   string
	IDs         ids.Generator
	// Pages is the hosted ePayment page (spec §4.3); nil leaves its paths
	// to the JSON 404.
	Pages *web.Pages
	// Widget serves the web checkout widget under /kpg/ (spec §10); nil
	// leaves its paths to the JSON 404.
	Widget http.Handler
	// Demo serves the demo shop under /demo/, beside a seeded sandbox;
	// nil leaves its paths to the JSON 404.
	Demo http.Handler
	// Dashboard serves the merchant pages (/join/merchant/, /login/,
	// /dashboard/); nil leaves their paths to the JSON 404.
	Dashboard *dashboard.Pages
	// Wallet serves the consumer pages (/join/, /me/); nil leaves their
	// paths to the JSON 404.
	Wallet *wallet.Pages
	// Console serves the operator console (/admin/); nil leaves its paths
	// to the JSON 404.
	Console *console.Pages
	// Webhooks manages the merchants' webhook endpoints and delivery
	// logs for /api/thaili/webhooks/, which need it.
	Webhooks *webhook.Service
	// Ready reports whether the database answers with the schema this
	// build needs, for /readyz; nil is always ready.
	Ready func(context.Context) error
	// SigninLimit limits the log-in, sign-up, code and MPIN reset form
	// posts and the hosted page's MPIN sign-in, with one bucket per client
	// address shared by all of them (signin_limit.go); nil is no limit.
	SigninLimit *ratelimit.Limiter
	// ClientAddr names a request's client for SigninLimit, e.g.
	// ClientAddress(--client-ip-header); nil is ClientAddress(""), the
	// connection's remote address.
	ClientAddr func(*http.Request) string
}

// New builds the server and its routes.
func New(o Options) *Server {
	s := &Server{svc: o.Service, idem: o.Idempotency, hooks: o.Webhooks, log: o.Log, publicURL: strings.TrimRight(o.PublicURL, "/"), ids: o.IDs, pages: o.Pages,
		widget: o.Widget, demo: o.Demo, dashboard: o.Dashboard, wallet: o.Wallet, console: o.Console, ready: o.Ready,
		signinLimit: o.SigninLimit, clientAddr: o.ClientAddr, renewEvery: idempotency.RenewEvery}
	if s.clientAddr == nil {
		s.clientAddr = ClientAddress("")
	}
	s.https = strings.HasPrefix(strings.ToLower(s.publicURL), "https://")
	s.metrics = s.newOpsMetrics()
	mux := &routeMux{ServeMux: http.NewServeMux()}
	s.routes(mux)
	s.patterns = mux.patterns
	s.handler = s.logRequests(s.instrument(mux.ServeMux))
	return s
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

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
	status := map[fault.Kind]int{
		fault.KindValidation:       http.StatusBadRequest,
		fault.KindNotFound:         http.StatusNotFound,
		fault.KindUnauthorized:     http.StatusUnauthorized,
		fault.KindConflict:         http.StatusConflict,
		fault.KindLocked:           http.StatusBadRequest,
		fault.KindTooLarge:         http.StatusRequestEntityTooLarge,
		fault.KindUnsupportedMedia: http.StatusUnsupportedMediaType,
		fault.KindThrottled:        http.StatusTooManyRequests,
	}[e.Kind]
	if status == 0 {
		status = http.StatusInternalServerError
	}
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

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(ctxKey{}).(string)
	return id
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// logRequests gives every request an id (the client's X-Request-Id if it
// is sane) and its client address (payment.WithClient, which the guess
// limits count against), logs one line per request, and turns panics
// into a plain 500.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !requestIDPattern.MatchString(id) {
			id = s.ids.New()
		}
		w.Header().Set("X-Request-Id", id)
		if s.https {
			// Browsers that once reached Thaili over https never try plain
			// http again, so a network attacker cannot strip TLS from the
			// payment page or a sign-in. Subdomains are left to the operator.
			w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		}
		r = r.WithContext(payment.WithClient(context.WithValue(r.Context(), ctxKey{}, id), s.clientAddr(r)))
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.ErrorContext(r.Context(), "panic", "request_id", id, "panic", p, "stack", string(debug.Stack()))
				if rec.status == 0 {
					writeJSON(rec, http.StatusInternalServerError, map[string]any{"detail": "A server error occurred."})
				}
			}
			s.log.InfoContext(r.Context(), "request", "request_id", id, "method", r.Method, "path", r.URL.Path,
				"status", rec.status, "duration_ms", float64(time.Since(start).Microseconds())/1000)
		}()
		next.ServeHTTP(rec, r)
	})
}
