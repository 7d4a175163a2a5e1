package dashboard

import "net/http"

// Registrar is what Routes registers on: an http.ServeMux, or the
// server's mux, which also records every pattern (internal/httpserver).
type Registrar interface {
	Handle(pattern string, h http.Handler)
}

// Routes registers the merchant pages (issue 6, issue 13) on mux:
// sign-up, log-in and the dashboard's sections. limited wraps the
// sign-up, its code and the log-in in the per-address rate limit.
func (p *Pages) Routes(mux Registrar, limited func(http.Handler) http.Handler) {
	mux.Handle("GET /join/merchant/{$}", p.SignUpForm())
	mux.Handle("POST /join/merchant/{$}", limited(p.SignUp()))
	mux.Handle("POST /join/merchant/confirm", limited(p.Confirm()))
	mux.Handle("GET /login/{$}", p.LoginForm())
	mux.Handle("POST /login/{$}", limited(p.Login()))
	mux.Handle("POST /logout/{$}", p.Logout())

	// Overview (overview.go).
	mux.Handle("GET /dashboard/{$}", p.Overview())
	// Payments and Refunds (transactions.go).
	mux.Handle("GET /dashboard/transactions/{$}", p.Transactions())
	mux.Handle("GET /dashboard/transactions.csv", p.TransactionsCSV())
	mux.Handle("GET /dashboard/transactions/{idx}/{$}", p.Transaction())
	mux.Handle("POST /dashboard/transactions/{idx}/refund", p.Refund())
	mux.Handle("GET /dashboard/refunds/{$}", p.Refunds())
	mux.Handle("GET /dashboard/refunds.csv", p.RefundsCSV())
	// Webhooks (webhooks.go).
	mux.Handle("GET /dashboard/webhooks/{$}", p.Webhooks())
	mux.Handle("POST /dashboard/webhooks/{$}", p.CreateWebhook())
	mux.Handle("GET /dashboard/webhooks/{idx}/{$}", p.WebhookLog())
	mux.Handle("POST /dashboard/webhooks/{idx}/delete", p.DeleteWebhook())
	mux.Handle("POST /dashboard/webhooks/{idx}/replay", p.ReplayWebhook())
	mux.Handle("POST /dashboard/webhooks/{idx}/test", p.TestWebhook())
	// Keys (keys.go); "I have saved it" under any new secret.
	mux.Handle("GET /dashboard/keys/{$}", p.Keys())
	mux.Handle("POST /dashboard/rotate", p.Rotate())
	mux.Handle("POST /dashboard/saved", p.Saved())
	// Settings (settings.go).
	mux.Handle("GET /dashboard/settings/{$}", p.Settings())
	mux.Handle("POST /dashboard/password", p.Password())
	mux.Handle("POST /dashboard/logout-everywhere", p.LogoutEverywhere())
	// Go live: the checklist, its test payment and KYC (golive.go, kyc.go).
	mux.Handle("GET /dashboard/go-live/{$}", p.GoLive())
	mux.Handle("GET /dashboard/test-payment/{$}", p.TestPayment())
	mux.Handle("POST /dashboard/test-payment", p.StartTestPayment())
	mux.Handle("GET /dashboard/kyc/{$}", p.KYC())
	mux.Handle("POST /dashboard/kyc/{$}", p.SubmitKYC())
}
