package console

import "net/http"

// Registrar is what Routes registers on: an http.ServeMux, or the
// server's mux, which also records every pattern (internal/httpserver).
type Registrar interface {
	Handle(pattern string, h http.Handler)
}

// Routes registers the operator console (issue 6) on mux under /admin/.
// limited wraps the log-in in the per-address rate limit.
func (p *Pages) Routes(mux Registrar, limited func(http.Handler) http.Handler) {
	mux.Handle("GET /admin/login/{$}", p.LoginForm())
	mux.Handle("POST /admin/login/{$}", limited(p.Login()))
	mux.Handle("POST /admin/logout/{$}", p.Logout())
	mux.Handle("GET /admin/{$}", p.Overview())
	mux.Handle("GET /admin/merchants/{$}", p.Merchants())
	mux.Handle("POST /admin/merchants/kyc", p.KYC())
	mux.Handle("GET /admin/merchants/{idx}/fees/{$}", p.Fees())
	mux.Handle("POST /admin/merchants/{idx}/fees/{$}", p.SetFees())
	mux.Handle("GET /admin/consumers/{$}", p.Consumers())
	mux.Handle("POST /admin/consumers/topup", p.Topup())
	mux.Handle("POST /admin/consumers/unlock", p.Unlock())
	mux.Handle("GET /admin/audit/{$}", p.Audit())
	mux.Handle("GET /admin/kyc/{merchantIdx}/documents/{id}", p.KYCDocument())
}
