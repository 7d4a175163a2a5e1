package api

import (
	"net/http"
	"strings"

	"github.com/thaili/thaili/internal/apidoc"
)

// routes registers the whole HTTP surface. Each API path is served with
// and without its trailing slash, and /api/v2/ paths also without "v2",
// as older clients call them (spec §3.1).
func (s *Server) routes(mux *routeMux) {
	const get, post, cors, noCORS = http.MethodGet, http.MethodPost, true, false

	// POSTs that create or move something take an Idempotency-Key header
	// (idempotency.go); the wrapper names where the credential is.

	// The sign-in-like form posts (log-ins, sign-ups and their codes, the
	// MPIN reset, the hosted page's MPIN sign-in) are wrapped in limited:
	// a rate limit per client address shared by all of them
	// (signin_limit.go), over the per-account lockout.
	limited := s.signinLimited

	// Legacy wallet flow (KPG-1). initiate and confirm take the public key
	// in the body and are called from browsers, so they allow CORS.
	s.api(mux, "/api/v2/payment/initiate/", s.route(post, cors, s.idempotent(publicKeyInBody, s.handleInitiate)))
	s.api(mux, "/api/v2/payment/confirm/", s.route(post, cors, s.idempotent(publicKeyInBody, s.handleConfirm)))
	s.api(mux, "/api/v2/payment/verify/", s.route(post, noCORS, s.idempotent(secretKeyHeader, s.handleVerify)))
	s.api(mux, "/api/v2/payment/status/", s.route(get, noCORS, s.handleStatus))

	// ePayment (KPG-2): initiate with the secret key; the lookup family
	// also takes the public key the mobile SDKs send.
	s.api(mux, "/api/v2/epayment/initiate/", s.route(post, noCORS, s.idempotent(secretKeyHeader, s.handleEPaymentInitiate)))
	s.api(mux, "/api/v2/epayment/lookup/", s.route(post, noCORS, s.handleEPaymentLookup))
	s.api(mux, "/api/v2/epayment/lookup-sdk/", s.route(post, noCORS, s.handleEPaymentLookupSDK))
	s.api(mux, "/api/v2/epayment/detail/", s.route(post, noCORS, s.handleEPaymentDetail))

	// Transactions and refunds (secret key).
	s.api(mux, "/api/v2/merchant-transaction/", s.route(get, noCORS, s.handleList))
	s.api(mux, "/api/v2/merchant-transaction/{idx}/", s.route(get, noCORS, s.handleDetail))
	s.api(mux, "/api/merchant-transaction/{idx}/refund/", s.route(post, noCORS, s.idempotent(secretKeyHeader, s.handleRefund)))
	s.api(mux, "/api/v2/epayment/merchant-transaction/{idx}/refund/", s.route(post, noCORS, s.idempotent(secretKeyHeader, s.handleRefund)))

	// Signed webhooks (secret key): endpoints of the key's book, their
	// delivery log, and replay.
	s.api(mux, "/api/thaili/webhooks/", s.methods(map[string]handlerFunc{get: s.handleWebhookList, post: s.handleWebhookCreate}))
	s.api(mux, "/api/thaili/webhooks/{idx}/", s.methods(map[string]handlerFunc{http.MethodDelete: s.handleWebhookDelete}))
	s.api(mux, "/api/thaili/webhooks/{idx}/deliveries/", s.route(get, noCORS, s.handleWebhookDeliveries))
	s.api(mux, "/api/thaili/webhooks/deliveries/{idx}/replay/", s.route(post, noCORS, s.handleWebhookReplay))

	// Bank lists (no auth; /api/v2/bank/ also as /api/bank/). The widget
	// iframe fetches /api/v2/bank/ cross-origin, so they allow CORS.
	s.api(mux, "/api/v5/bank/", s.route(get, cors, s.handleBanks))
	s.api(mux, "/api/v2/bank/", s.route(get, cors, s.handleBanks))

	// Operations.
	mux.Handle("/healthz", s.route(get, noCORS, s.handleHealth))
	mux.Handle("/readyz", s.route(get, noCORS, s.handleReady))
	mux.Handle("/metrics", s.route(get, noCORS, s.handleMetrics))

	// The API reference (internal/apidoc): the OpenAPI 3.1 document, and
	// a readable page rendered from it (also as /docs).
	mux.Handle("/openapi.json", s.route(get, cors, apidoc.ServeJSON))
	s.api(mux, "/docs/", s.route(get, noCORS, apidoc.ServeDocs))

	// The pages register their own routes (each package's routes.go):
	// the hosted payment page (/, /wallet/, /pay/...), the merchant pages
	// (/join/merchant/, /login/, /dashboard/...), the consumer pages
	// (/join/, /me/...) and the operator console (/admin/...).
	if s.pages != nil {
		s.pages.Routes(mux, limited)
	}
	if s.dashboard != nil {
		s.dashboard.Routes(mux, limited)
	}
	if s.wallet != nil {
		s.wallet.Routes(mux, limited)
	}
	if s.console != nil {
		s.console.Routes(mux, limited)
	}

	// The web checkout widget and its loader script (spec §10), and the
	// sandbox's demo shop.
	if s.widget != nil {
		mux.Handle("/kpg/", s.widget)
	}
	if s.demo != nil {
		mux.Handle("/demo/", s.demo)
	}

	// Anything else is a JSON 404.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Not found."})
	})
}

// api registers h at path (which ends in "/"), at path without the slash,
// and, for /api/v2/ paths, at the same two forms without "v2".
func (s *Server) api(mux *routeMux, path string, h http.Handler) {
	paths := []string{path}
	if rest, ok := strings.CutPrefix(path, "/api/v2/"); ok && !strings.HasPrefix(rest, "epayment/") {
		paths = append(paths, "/api/"+rest)
	}
	for _, p := range paths {
		mux.Handle(p+"{$}", h)
		mux.Handle(strings.TrimSuffix(p, "/"), h)
	}
}
