// Package httpserver composes Thaili's one HTTP handler: the JSON API
// (internal/api), the hosted payment page, the merchant, wallet and
// operator pages, the checkout widget, the demo shop, the API reference
// and the operations endpoints, behind the middleware every request
// passes through (request id and log line, HSTS, panic recovery,
// metrics). routes.go lists which package mounts what; each package's
// own routes.go lists its paths.
package httpserver

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/thaili/thaili/internal/api"
	"github.com/thaili/thaili/internal/console"
	"github.com/thaili/thaili/internal/dashboard"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ids"
	"github.com/thaili/thaili/internal/inbox"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/ratelimit"
	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/wallet"
	"github.com/thaili/thaili/internal/web"
)

// Server is the whole HTTP surface of a Thaili node.
type Server struct {
	api       *api.Server
	svc       *payment.Service
	log       *slog.Logger
	https     bool // the public URL is https: every response carries HSTS
	ids       ids.Generator
	pages     *web.Pages       // the hosted payment page; nil serves none
	widget    http.Handler     // the web checkout widget under /kpg/; nil serves none
	demo      http.Handler     // the sandbox demo shop under /demo/; nil serves none
	dashboard *dashboard.Pages // merchant sign-up, log-in and dashboard; nil serves none
	wallet    *wallet.Pages    // consumer sign-up, log-in and wallet page; nil serves none
	console   *console.Pages   // the operator console; nil serves none
	inbox     *inbox.Inbox     // the sandbox inbox; nil serves none
	ready     func(context.Context) error
	commits   func() store.CommitStats
	// signinLimit and clientAddr limit the sign-in-like form posts per
	// client address (signin_limit.go); a nil signinLimit is no limit.
	signinLimit *ratelimit.Limiter
	clientAddr  func(*http.Request) string
	metrics     *opsMetrics
	handler     http.Handler
	patterns    []string // every pattern routes registered (patterns.go)
}

// Options configure a Server.
type Options struct {
	// API is the JSON API (required). The operations endpoints and the
	// API reference are served in its conventions too (api.Endpoint).
	API *api.Server
	// Service is what /metrics reads its gauges from at scrape time; nil
	// serves the request metrics only.
	Service *payment.Service
	Log     *slog.Logger
	// PublicURL is the server's base URL; an https one adds HSTS to every
	// response.
	PublicURL string
	// IDs makes the request ids of requests that bring no sane one.
	IDs ids.Generator
	// Pages is the hosted ePayment page (docs/khalti.md §3.2); nil leaves its paths
	// to the JSON 404.
	Pages *web.Pages
	// Widget serves the web checkout widget under /kpg/ (docs/khalti.md §7); nil
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
	// Inbox is the sandbox inbox (/sandbox/inbox/), which also names the
	// browser of each request so the codes sent for it land in its inbox;
	// nil, on a server that is not a sandbox, leaves its path to the JSON 404.
	Inbox *inbox.Inbox
	// Ready reports whether the database answers with the schema this
	// build needs, for /readyz; nil is always ready.
	Ready func(context.Context) error
	// CommitStats reads the store's group-commit counters for /metrics
	// (docs/storage.md, "Group commit"); nil serves none.
	CommitStats func() store.CommitStats
	// SigninLimit limits the log-in, sign-up, code and MPIN reset form
	// posts and the hosted page's MPIN sign-in, with one bucket per client
	// address shared by all of them (signin_limit.go); nil is no limit.
	SigninLimit *ratelimit.Limiter
	// ClientAddr names a request's client for SigninLimit and the guess
	// limits, e.g. ClientAddress(--client-ip-header); nil is
	// ClientAddress(""), the connection's remote address.
	ClientAddr func(*http.Request) string
}

// New builds the handler and its routes.
func New(o Options) *Server {
	s := &Server{api: o.API, svc: o.Service, log: o.Log, ids: o.IDs, pages: o.Pages,
		widget: o.Widget, demo: o.Demo, dashboard: o.Dashboard, wallet: o.Wallet, console: o.Console, inbox: o.Inbox, ready: o.Ready, commits: o.CommitStats,
		signinLimit: o.SigninLimit, clientAddr: o.ClientAddr}
	if s.clientAddr == nil {
		s.clientAddr = ClientAddress("")
	}
	s.https = strings.HasPrefix(strings.ToLower(strings.TrimRight(o.PublicURL, "/")), "https://")
	s.metrics = s.newOpsMetrics()
	mux := &routeMux{ServeMux: http.NewServeMux()}
	s.routes(mux)
	s.patterns = mux.patterns
	var h http.Handler = s.instrument(mux.ServeMux)
	if s.inbox != nil {
		// Outside instrument, which reads the route the mux sets on the
		// request it is given; Tag passes on a copy.
		h = s.inbox.Tag(h)
	}
	s.handler = s.logRequests(h)
	return s
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

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
// is sane) and its client address (identity.WithClient, which the guess
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
		r = r.WithContext(identity.WithClient(api.WithRequestID(r.Context(), id), s.clientAddr(r)))
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.ErrorContext(r.Context(), "panic", "request_id", id, "panic", p, "stack", string(debug.Stack()))
				if rec.status == 0 {
					api.WriteJSON(rec, http.StatusInternalServerError, map[string]any{"detail": "A server error occurred."})
				}
			}
			s.log.InfoContext(r.Context(), "request", "request_id", id, "method", r.Method, "path", r.URL.Path,
				"status", rec.status, "duration_ms", float64(time.Since(start).Microseconds())/1000)
		}()
		next.ServeHTTP(rec, r)
	})
}
