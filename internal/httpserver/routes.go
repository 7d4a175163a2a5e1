package httpserver

import (
	"net/http"

	"github.com/thaili/thaili/internal/api"
	"github.com/thaili/thaili/internal/apidoc"
	"github.com/thaili/thaili/internal/site"
)

// routes registers the whole HTTP surface: which package mounts what.
// Each package's Routes (its routes.go) lists its own paths.
func (s *Server) routes(mux *routeMux) {
	const get, cors, noCORS = http.MethodGet, true, false

	// The JSON API (internal/api/routes.go): the legacy wallet flow,
	// ePayment, transactions and refunds, webhooks, bank lists.
	s.api.Routes(mux)

	// Operations (ops.go).
	mux.Handle("/healthz", s.api.Endpoint(get, noCORS, s.handleHealth))
	mux.Handle("/readyz", s.api.Endpoint(get, noCORS, s.handleReady))
	mux.Handle("/metrics", s.api.Endpoint(get, noCORS, s.handleMetrics))

	// The API reference (internal/apidoc): the OpenAPI 3.1 document, and
	// a readable page rendered from it (also as /docs) with its stylesheet.
	mux.Handle("/openapi.json", s.api.Endpoint(get, cors, apidoc.ServeJSON))
	docs := s.api.Endpoint(get, noCORS, apidoc.ServeDocs)
	mux.Handle("/docs/{$}", docs)
	mux.Handle("/docs", docs)
	mux.Handle("GET "+apidoc.CSSPath, http.HandlerFunc(apidoc.ServeCSS))

	// The sign-in-like form posts (log-ins, sign-ups and their codes, the
	// MPIN reset, the hosted page's MPIN sign-in) are wrapped in limited:
	// a rate limit per client address shared by all of them
	// (signin_limit.go), over the per-account lockout.
	// The stylesheet and script of every page in the shared layout (internal/site).
	mux.Handle("GET /static/site.css", site.Stylesheet())
	mux.Handle("GET /static/site.js", site.Script())

	limited := s.signinLimited

	// The hosted payment page (internal/web/routes.go): /, /wallet/,
	// /pay/{pidx}/..., /static/thaili.css and countdown.js.
	if s.pages != nil {
		s.pages.Routes(mux, limited)
	}
	// The merchant pages (internal/dashboard/routes.go): /join/merchant/,
	// /login/, /logout/, /dashboard/...
	if s.dashboard != nil {
		s.dashboard.Routes(mux, limited)
	}
	// The consumer pages (internal/wallet/routes.go): /join/, /me/...
	if s.wallet != nil {
		s.wallet.Routes(mux, limited)
	}
	// The operator console (internal/console/routes.go): /admin/...
	if s.console != nil {
		s.console.Routes(mux, limited)
	}

	// The sandbox inbox (internal/inbox): /sandbox/inbox/, only on a sandbox.
	if s.inbox != nil {
		s.inbox.Routes(mux)
	}

	// The web checkout widget and its loader script (docs/khalti.md §7), and the
	// sandbox's demo shop, each serving everything under its prefix.
	if s.widget != nil {
		mux.Handle("/kpg/", s.widget)
	}
	if s.demo != nil {
		mux.Handle("/demo/", s.demo)
	}

	// Anything else is a JSON 404.
	mux.HandleFunc("/", api.NotFound)
}
