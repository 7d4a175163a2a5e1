// Package home serves Thaili's home page, GET / without a pidx (with one,
// / is the hosted payment page: internal/web hands it the rest). It says
// what Thaili is and where everything is; on a sandbox server it also
// shows what the sandbox seeds (the demo merchant's test keys, the test
// payers with their MPIN and code) so that a visitor can pay at once.
// Those are never shown on a server that is not a sandbox.
package home

import (
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/site"
)

//go:embed assets/home.html
var assets embed.FS

// Options configure the home page.
type Options struct {
	Log *slog.Logger
	// Sandbox is the sandbox this server runs, or nil on a server that is
	// not a sandbox: the page then shows only the public links.
	Sandbox *Sandbox
}

// Sandbox is what a sandbox server's home page shows.
type Sandbox struct {
	// Seeded is true when serve seeded the fixtures at start (SQLite) and
	// serves the demo shop; a PostgreSQL sandbox has them only once
	// `thaili sandbox seed` ran, which the page says.
	Seeded bool
	// Code is the test book's fixed confirmation code
	// (payment.Config.TestOTP).
	Code string
	// Inbox is true when the sandbox inbox (/sandbox/inbox/) is served.
	Inbox bool
	// PendingDelay is how long the pending scenario payer's payments stay
	// Pending (payment.Config.SandboxPendingDelay).
	PendingDelay time.Duration
}

// Scenario is a scenario payer as the page lists it.
type Scenario struct {
	Mobile string
	What   string // what its test-book payments do
}

// view is the home page's data.
type view struct {
	site.Frame
	Sandbox   *Sandbox
	Email     string // the demo merchant's
	PublicKey string
	SecretKey string
	MPIN      string
	// The ordinary test payers: the first and last mobile, and what each holds.
	FirstPayer, LastPayer, Balance string
	Scenarios                      []Scenario
}

// Page is the home page's handler.
type Page struct {
	pages   *site.Renderer
	sandbox *Sandbox
}

// New builds the home page.
func New(o Options) (*Page, error) {
	files, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, err
	}
	rd, err := site.NewRenderer(site.Chrome{Brand: "Thaili", Home: "/", SignedOut: []site.Link{
		{Label: "Merchant log-in", URL: "/login/"}, {Label: "Wallet log-in", URL: "/me/login/"}, {Label: "API docs", URL: "/docs/"},
	}}, o.Log, files, nil)
	if err != nil {
		return nil, err
	}
	return &Page{pages: rd, sandbox: o.Sandbox}, nil
}

// ServeHTTP draws the home page.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v := &view{Frame: site.Frame{Title: "Wallet payments you can host"}}
	if sb := p.sandbox; sb != nil {
		v.Title = "Sandbox"
		v.Sandbox, v.Email, v.PublicKey, v.SecretKey, v.MPIN = sb, payment.DemoMerchantEmail, payment.DemoPublicKey, payment.DemoSecretKey, payment.SandboxMPIN
		payers := payment.SandboxPayers
		v.FirstPayer, v.LastPayer, v.Balance = payers[0], payers[len(payers)-1], payment.SandboxWalletBalance.String()
		// The scenario payers (README.md, Sandbox scenarios).
		v.Scenarios = []Scenario{
			{payment.ScenarioPendingMobile, "is Pending (the money held), then Completed after " + sb.PendingDelay.String()},
			{payment.ScenarioFailMobile, "fails once the code is entered; no money moves"},
			{payment.ScenarioInsufficientMobile, "is refused: insufficient balance (" + money.Paisa(0).String() + ")"},
			{payment.ScenarioLockedMobile, "is refused: the wallet is locked, as after 3 wrong MPINs"},
		}
	}
	p.pages.Render(w, r, "home", v)
}
