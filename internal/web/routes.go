package web

import "net/http"

// Registrar is what Routes registers on: an http.ServeMux, or the
// server's mux, which also records every pattern (internal/httpserver).
type Registrar interface {
	Handle(pattern string, h http.Handler)
}

// FaviconPath is where Thaili's icon is served; every page links it
// (<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">).
const FaviconPath = "/static/favicon.svg"

// Routes registers the hosted payment page (docs/khalti.md §3.2, §3.3) on mux: the
// payment_url forms, the payer's form posts, its stylesheet and script,
// and the favicon every page links. limited wraps the MPIN sign-in and
// "Send the code again" in the per-address rate limit the log-in pages
// share.
func (p *Pages) Routes(mux Registrar, limited func(http.Handler) http.Handler) {
	mux.Handle("GET /{$}", p.Payment())
	mux.Handle("GET /wallet/{$}", p.Payment())
	mux.Handle("GET /wallet", p.Payment())
	mux.Handle("POST /pay/{pidx}/signin", limited(p.SignIn()))
	mux.Handle("POST /pay/{pidx}/confirm", p.Confirm())
	mux.Handle("POST /pay/{pidx}/resend", limited(p.Resend()))
	mux.Handle("POST /pay/{pidx}/cancel", p.Cancel())
	mux.Handle("GET /static/thaili.css", p.CSS())
	mux.Handle("GET /static/countdown.js", p.Countdown())
	mux.Handle("GET "+FaviconPath, p.Favicon())
	mux.Handle("GET /favicon.ico", p.Favicon())
}
