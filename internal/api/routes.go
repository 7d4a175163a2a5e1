package api

import (
	"net/http"
	"strings"
)

// Registrar is what Routes registers on: an http.ServeMux, or the
// server's mux, which also records every pattern (internal/httpserver).
type Registrar interface {
	Handle(pattern string, h http.Handler)
}

// Routes registers the JSON API on mux. Each API path is served with and
// without its trailing slash, and /api/v2/ paths also without "v2", as
// older clients call them (docs/khalti.md §2.1).
func (s *Server) Routes(mux Registrar) {
	const get, post, cors, noCORS = http.MethodGet, http.MethodPost, true, false

	// POSTs that create or move something take an Idempotency-Key header
	// (idempotency.go); the wrapper names where the credential is.

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
	// delivery log, test events and replay.
	s.api(mux, "/api/thaili/webhooks/", s.methods(map[string]handlerFunc{get: s.handleWebhookList, post: s.handleWebhookCreate}))
	s.api(mux, "/api/thaili/webhooks/{idx}/", s.methods(map[string]handlerFunc{http.MethodDelete: s.handleWebhookDelete}))
	s.api(mux, "/api/thaili/webhooks/{idx}/deliveries/", s.route(get, noCORS, s.handleWebhookDeliveries))
	s.api(mux, "/api/thaili/webhooks/{idx}/test/", s.route(post, noCORS, s.handleWebhookTest))
	s.api(mux, "/api/thaili/webhooks/deliveries/{idx}/replay/", s.route(post, noCORS, s.handleWebhookReplay))

	// Bank lists (no auth; /api/v2/bank/ also as /api/bank/). The widget
	// iframe fetches /api/v2/bank/ cross-origin, so they allow CORS.
	s.api(mux, "/api/v5/bank/", s.route(get, cors, s.handleBanks))
	s.api(mux, "/api/v2/bank/", s.route(get, cors, s.handleBanks))
}

// api registers h at path (which ends in "/"), at path without the slash,
// and, for /api/v2/ paths, at the same two forms without "v2".
func (s *Server) api(mux Registrar, path string, h http.Handler) {
	paths := []string{path}
	if rest, ok := strings.CutPrefix(path, "/api/v2/"); ok && !strings.HasPrefix(rest, "epayment/") {
		paths = append(paths, "/api/"+rest)
	}
	for _, p := range paths {
		mux.Handle(p+"{$}", h)
		mux.Handle(strings.TrimSuffix(p, "/"), h)
	}
}
