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

	// The hosted payment page (spec §4.3, §5): the payment_url forms, the
	// payer's form posts, and its stylesheet.
	if pages := s.pages; pages != nil {
		mux.Handle("GET /{$}", pages.Payment())
		mux.Handle("GET /wallet/{$}", pages.Payment())
		mux.Handle("GET /wallet", pages.Payment())
		mux.Handle("POST /pay/{pidx}/signin", limited(pages.SignIn()))
		mux.Handle("POST /pay/{pidx}/confirm", pages.Confirm())
		mux.Handle("POST /pay/{pidx}/cancel", pages.Cancel())
		mux.Handle("GET /static/thaili.css", pages.CSS())
		mux.Handle("GET /static/countdown.js", pages.Countdown())
	}

	// The merchant pages (issue 6): sign-up, log-in and the dashboard.
	if d := s.dashboard; d != nil {
		mux.Handle("GET /join/merchant/{$}", d.SignUpForm())
		mux.Handle("POST /join/merchant/{$}", limited(d.SignUp()))
		mux.Handle("POST /join/merchant/confirm", limited(d.Confirm()))
		mux.Handle("GET /login/{$}", d.LoginForm())
		mux.Handle("POST /login/{$}", limited(d.Login()))
		mux.Handle("POST /logout/{$}", d.Logout())
		mux.Handle("GET /dashboard/{$}", d.Dashboard())
		mux.Handle("POST /dashboard/rotate", d.Rotate())
		mux.Handle("POST /dashboard/password", d.Password())
		mux.Handle("POST /dashboard/logout-everywhere", d.LogoutEverywhere())
		mux.Handle("GET /dashboard/webhooks/{$}", d.Webhooks())
		mux.Handle("POST /dashboard/webhooks/{$}", d.CreateWebhook())
		mux.Handle("GET /dashboard/webhooks/{idx}/{$}", d.WebhookLog())
		mux.Handle("POST /dashboard/webhooks/{idx}/delete", d.DeleteWebhook())
		mux.Handle("POST /dashboard/webhooks/{idx}/replay", d.ReplayWebhook())
		mux.Handle("GET /dashboard/transactions/{$}", d.Transactions())
		mux.Handle("GET /dashboard/transactions.csv", d.TransactionsCSV())
		mux.Handle("GET /dashboard/transactions/{idx}/{$}", d.Transaction())
		mux.Handle("POST /dashboard/transactions/{idx}/refund", d.Refund())
		mux.Handle("GET /dashboard/kyc/{$}", d.KYC())
		mux.Handle("POST /dashboard/kyc/{$}", d.SubmitKYC())
		mux.Handle("GET /static/dashboard.css", d.ServeCSS())
	}

	// The consumer pages (issue 6): sign-up at /join/, log-in, and the
	// wallet page /me/ with history, MPIN reset and the OTP inbox.
	if w := s.wallet; w != nil {
		mux.Handle("GET /join/{$}", w.SignUpForm())
		mux.Handle("POST /join/{$}", limited(w.SignUp()))
		mux.Handle("POST /join/confirm", limited(w.Confirm()))
		mux.Handle("GET /me/login/{$}", w.LoginForm())
		mux.Handle("POST /me/login/{$}", limited(w.Login()))
		mux.Handle("POST /me/logout/{$}", w.Logout())
		mux.Handle("GET /me/{$}", w.Wallet())
		mux.Handle("GET /me/reset/{$}", w.ResetForm())
		mux.Handle("POST /me/reset/{$}", limited(w.SendResetCode()))
		mux.Handle("POST /me/reset/confirm", limited(w.Reset()))
	}

	// The operator console (issue 6): /admin/.
	if c := s.console; c != nil {
		mux.Handle("GET /admin/login/{$}", c.LoginForm())
		mux.Handle("POST /admin/login/{$}", limited(c.Login()))
		mux.Handle("POST /admin/logout/{$}", c.Logout())
		mux.Handle("GET /admin/{$}", c.Overview())
		mux.Handle("GET /admin/merchants/{$}", c.Merchants())
		mux.Handle("POST /admin/merchants/kyc", c.KYC())
		mux.Handle("GET /admin/merchants/{idx}/fees/{$}", c.Fees())
		mux.Handle("POST /admin/merchants/{idx}/fees/{$}", c.SetFees())
		mux.Handle("GET /admin/consumers/{$}", c.Consumers())
		mux.Handle("POST /admin/consumers/topup", c.Topup())
		mux.Handle("POST /admin/consumers/unlock", c.Unlock())
		mux.Handle("GET /admin/audit/{$}", c.Audit())
		mux.Handle("GET /admin/kyc/{merchantIdx}/documents/{id}", c.KYCDocument())
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
