package wallet

import "net/http"

// Registrar is what Routes registers on: an http.ServeMux, or the
// server's mux, which also records every pattern (internal/httpserver).
type Registrar interface {
	Handle(pattern string, h http.Handler)
}

// Routes registers the consumer pages (issue 6) on mux: sign-up at
// /join/, log-in, and the wallet under /me/: overview, payments,
// notices and the MPIN reset. limited wraps the sign-up, its code, the
// log-in and the MPIN reset in the per-address rate limit.
func (p *Pages) Routes(mux Registrar, limited func(http.Handler) http.Handler) {
	mux.Handle("GET /join/{$}", p.SignUpForm())
	mux.Handle("POST /join/{$}", limited(p.SignUp()))
	mux.Handle("POST /join/confirm", limited(p.Confirm()))
	mux.Handle("GET /me/login/{$}", p.LoginForm())
	mux.Handle("POST /me/login/{$}", limited(p.Login()))
	mux.Handle("POST /me/logout/{$}", p.Logout())
	mux.Handle("GET /me/{$}", p.Overview())
	mux.Handle("GET /me/payments/{$}", p.Payments())
	mux.Handle("GET /me/notices/{$}", p.Notices())
	mux.Handle("GET /me/reset/{$}", p.ResetForm())
	mux.Handle("POST /me/reset/{$}", limited(p.SendResetCode()))
	mux.Handle("POST /me/reset/confirm", limited(p.Reset()))
}
