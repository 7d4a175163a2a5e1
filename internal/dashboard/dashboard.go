// Package dashboard serves the merchant pages (issue 6): sign-up at
// /join/merchant/ with a phone confirmation code, log in and out, and the
// dashboard with the merchant's keys, go-live checklist, balances,
// transactions, refunds, webhooks and KYC. Pages are drawn by the shared
// page layer (internal/site) from one template per page and need no
// JavaScript. Sessions live in the database (identity/merchants.go); every
// form carries a CSRF token, an HMAC under the server secret of the
// session id, or before sign-in of a random pre-session cookie.
package dashboard

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/formpage"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/site"
	"github.com/thaili/thaili/internal/store"
)

// pageFiles are the page templates, one per page (site.NewRenderer);
// dashboard.css is the old stylesheet, served only for the wallet and
// console pages that still link it.
//
//go:embed assets/*.html assets/dashboard.css
var pageFiles embed.FS

// Cookie names.
const (
	SessionCookie = "thaili_session"
	preCookie     = "thaili_pre" // random id the CSRF token of sign-in forms derives from
)

// The CSRF purposes of the signed-in and signed-out forms (docs/identity.md).
const (
	sessionPurpose = "session:"
	prePurpose     = "pre:"
)

// Options configure Pages.
type Options struct {
	Service Payments
	// Identity resolves keys, sessions and sign-ins.
	Identity Accounts
	Log      *slog.Logger
	// PublicURL decides whether cookies are Secure (an https URL).
	PublicURL string
	// Webhooks manages the merchant's webhook endpoints and their
	// delivery logs (the webhook pages).
	Webhooks Hooks
}

// session is a signed-in merchant's request.
type session = site.Session[store.Merchant]

// Pages serves the merchant pages.
type Pages struct {
	svc    Payments
	id     Accounts
	hooks  Hooks
	log    *slog.Logger
	site   *site.Site[store.Merchant]
	pages  *site.Renderer
	css    []byte
	secure bool
}

// New builds the pages from their embedded templates.
func New(o Options) (*Pages, error) {
	p := &Pages{svc: o.Service, id: o.Identity, hooks: o.Webhooks, log: o.Log, secure: site.SecureURL(o.PublicURL)}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	files, err := fs.Sub(pageFiles, "assets")
	if err != nil {
		return nil, err
	}
	chrome := site.Chrome{Brand: "Thaili for merchants", Home: "/dashboard/", LogoutPath: "/logout/",
		SignedOut: []site.Link{{Label: "Log in", URL: "/login/"}, {Label: "Sign up", URL: "/join/merchant/"}}}
	if p.pages, err = site.NewRenderer(chrome, p.log, files, nil); err != nil {
		return nil, err
	}
	if p.css, err = pageFiles.ReadFile("assets/dashboard.css"); err != nil {
		return nil, err
	}
	// The cookies, their path and SameSite, and the CSRF purposes are what
	// they were before the page layer existed: sessions and tokens issued
	// then stay valid.
	p.site = &site.Site[store.Merchant]{
		Name: "merchant", SessionCookie: SessionCookie, PreCookie: preCookie, CookiePath: "/", SameSite: http.SameSiteLaxMode,
		Secure: p.secure, SessionPurpose: sessionPurpose, PrePurpose: prePurpose,
		Token:     func(s string) string { return p.id.CSRFToken(s) },
		Lookup:    func(ctx context.Context, id string) (store.Merchant, error) { return p.id.SessionMerchant(ctx, id) },
		LoginPath: "/login/", Pages: p.pages, Log: p.log,
	}
	return p, nil
}

// SignUpForm serves GET /join/merchant/{$}.
func (p *Pages) SignUpForm() http.Handler { return http.HandlerFunc(p.signUpForm) }

// SignUp serves POST /join/merchant/{$}.
func (p *Pages) SignUp() http.Handler { return p.site.AnonPost(p.signUp) }

// Confirm serves POST /join/merchant/confirm.
func (p *Pages) Confirm() http.Handler { return p.site.AnonPost(p.confirm) }

// LoginForm serves GET /login/{$}.
func (p *Pages) LoginForm() http.Handler { return http.HandlerFunc(p.loginForm) }

// Login serves POST /login/{$}.
func (p *Pages) Login() http.Handler { return p.site.AnonPost(p.login) }

// Logout serves POST /logout/{$}.
func (p *Pages) Logout() http.Handler { return p.site.Post(p.logout) }

// Dashboard serves GET /dashboard/{$}.
func (p *Pages) Dashboard() http.Handler { return p.site.Get(p.dashboard) }

// Rotate serves POST /dashboard/rotate.
func (p *Pages) Rotate() http.Handler { return p.site.Post(p.rotate) }

// Password serves POST /dashboard/password.
func (p *Pages) Password() http.Handler { return p.site.Post(p.password) }

// LogoutEverywhere serves POST /dashboard/logout-everywhere.
func (p *Pages) LogoutEverywhere() http.Handler { return p.site.Post(p.logoutEverywhere) }

// ServeCSS serves GET /static/dashboard.css, the stylesheet the wallet
// and console pages still link; the merchant pages use site.css.
func (p *Pages) ServeCSS() http.Handler { return http.HandlerFunc(p.serveCSS) }

// nav is the signed-in navigation.
var nav = []site.Link{
	{Label: "Dashboard", URL: "/dashboard/"},
	{Label: "Transactions", URL: "/dashboard/transactions/"},
	{Label: "Webhooks", URL: "/dashboard/webhooks/"},
	{Label: "KYC", URL: "/dashboard/kyc/"},
}

// frame is the layout of a page of session s in the section current
// (a label of nav).
func (p *Pages) frame(s session, title, current string) site.Frame {
	f := site.Frame{Title: title, CSRF: s.CSRF, User: s.User.Email}
	for _, l := range nav {
		l.Current = l.Label == current
		f.Nav = append(f.Nav, l)
	}
	return f
}

// render draws page name with v.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, name string, v site.Page) {
	p.pages.Render(w, r, name, v)
}

// explain puts err on v's frame, or, for an internal error, answers the
// request with the generic error page (logged) and reports false.
func (p *Pages) explain(w http.ResponseWriter, r *http.Request, err error, v site.Page) bool {
	if p.site.Explain(r, err, v.Base()) {
		return true
	}
	p.site.Unavailable(w, r)
	return false
}

// fail shows err on a page of its own inside the signed-in layout: the
// service's message with its status (fault.Kind.Status), or the generic
// error page.
func (p *Pages) fail(w http.ResponseWriter, r *http.Request, s session, current string, err error) {
	f := p.frame(s, "Not possible", current)
	if !p.explain(w, r, err, &f) {
		return
	}
	f.Message, f.Error = f.Error, ""
	if f.Status == http.StatusNotFound {
		f.Title = "Not found"
	}
	p.pages.Message(w, r, f)
}

// notFound words a not-found err for the page (what there is no such
// of); other errors pass unchanged.
func notFound(err error, msg string) error {
	if fault.AsError(err).Kind == fault.KindNotFound {
		return &fault.Error{Kind: fault.KindNotFound, Detail: msg}
	}
	return err
}

// --- sign-up and sign-in ---

// authView is the sign-up, code and log-in forms' view.
type authView struct {
	site.Frame
	// Form values echoed back, and the code form's challenge.
	Name, Email, Phone string
	Challenge          string
}

func (p *Pages) signUpForm(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, "signup", &authView{Frame: site.Frame{Title: "Sign up", CSRF: p.site.PreToken(w, r), Narrow: true}})
}

func (p *Pages) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, err := p.site.Session(r); err == nil {
		http.Redirect(w, r, "/dashboard/", http.StatusSeeOther)
		return
	}
	p.render(w, r, "login", &authView{Frame: site.Frame{Title: "Log in", CSRF: p.site.PreToken(w, r), Narrow: true}})
}

func (p *Pages) signUp(w http.ResponseWriter, r *http.Request, csrf string) {
	in := identity.SignUp{Name: r.PostFormValue("name"), Email: r.PostFormValue("email"),
		Phone: strings.TrimSpace(r.PostFormValue("phone")), Password: r.PostFormValue("password")}
	sent, err := p.id.SignUpMerchant(r.Context(), in)
	if err != nil {
		v := &authView{Frame: site.Frame{Title: "Sign up", CSRF: csrf, Narrow: true}, Name: in.Name, Email: in.Email, Phone: in.Phone}
		if p.explain(w, r, err, v) {
			p.render(w, r, "signup", v)
		}
		return
	}
	p.render(w, r, "confirm", p.codeForm(csrf, strings.TrimSpace(in.Email), sent, ""))
}

// codeForm is the page asking for the code just sent.
func (p *Pages) codeForm(csrf, email string, sent identity.CodeSent, notice string) *authView {
	return &authView{Frame: site.Frame{Title: "Confirm your phone", CSRF: csrf, Notice: notice, Narrow: true}, Email: email,
		Phone: sent.To, Challenge: sent.Challenge}
}

func (p *Pages) confirm(w http.ResponseWriter, r *http.Request, csrf string) {
	email, challenge := r.PostFormValue("email"), r.PostFormValue("challenge")
	session, err := p.id.ConfirmMerchantPhone(r.Context(), challenge, r.PostFormValue("code"))
	if err != nil {
		v := &authView{Frame: site.Frame{Title: "Confirm your phone", CSRF: csrf, Narrow: true}, Email: email, Phone: "your phone",
			Challenge: challenge}
		if p.explain(w, r, err, v) {
			p.render(w, r, "confirm", v)
		}
		return
	}
	p.signIn(w, r, session)
}

func (p *Pages) login(w http.ResponseWriter, r *http.Request, csrf string) {
	email := r.PostFormValue("email")
	in, err := p.id.Login(r.Context(), email, r.PostFormValue("password"))
	if err != nil {
		v := &authView{Frame: site.Frame{Title: "Log in", CSRF: csrf, Narrow: true}, Email: email}
		if p.explain(w, r, err, v) {
			p.render(w, r, "login", v)
		}
		return
	}
	if in.Code != nil {
		p.render(w, r, "confirm", p.codeForm(csrf, strings.TrimSpace(email), *in.Code, identity.MsgConfirmFirst))
		return
	}
	p.signIn(w, r, in.Session)
}

// signIn sets the cookie of a session the service started, drops the
// pre-session cookie (its token has served) and goes to the dashboard.
func (p *Pages) signIn(w http.ResponseWriter, r *http.Request, session string) {
	http.SetCookie(w, formpage.Cookies{Path: "/", SameSite: http.SameSiteLaxMode, Secure: p.secure}.Cookie(preCookie, "", -1))
	p.site.SignIn(w, r, session, "/dashboard/")
}

func (p *Pages) logout(w http.ResponseWriter, r *http.Request, s session) {
	if err := p.id.Logout(r.Context(), s.ID); err != nil {
		p.site.Fail(w, r, err)
		return
	}
	p.site.SignOut(w, r, "/login/")
}

func (p *Pages) logoutEverywhere(w http.ResponseWriter, r *http.Request, s session) {
	if err := p.id.LogoutEverywhere(r.Context(), s.User.ID); err != nil {
		p.site.Fail(w, r, err)
		return
	}
	p.site.SignOut(w, r, "/login/")
}

// --- the dashboard ---

// dashView is the dashboard's view.
type dashView struct {
	site.Frame
	// Keys shown only this once (rotation).
	NewKeys     *identity.KeyPair
	Merchant    store.Merchant
	KYC         string
	TestPaid    bool
	KYCApproved bool
	Keys        []keyRow
	OwnBooks    []ledger.Book
	Balances    []balanceRow
	Fees        []feeSchedule
	Charts      []chart
}

type keyRow struct {
	Book  ledger.Book
	Kind  store.KeyKind
	Shown string
	Once  bool
}

type balanceRow struct {
	Book   ledger.Book
	Amount string
}

func (p *Pages) dashboard(w http.ResponseWriter, r *http.Request, s session) {
	p.renderDashboard(w, r, s, p.dashView(s))
}

func (p *Pages) dashView(s session) *dashView {
	return &dashView{Frame: p.frame(s, "Dashboard", "Dashboard")}
}

func (p *Pages) rotate(w http.ResponseWriter, r *http.Request, s session) {
	book := ledger.Book(r.PostFormValue("book"))
	kp, err := p.id.RotateOwnKeys(r.Context(), s.User.Idx, book)
	v := p.dashView(s)
	if err != nil {
		if p.explain(w, r, err, v) {
			p.renderDashboard(w, r, s, v)
		}
		return
	}
	v.NewKeys, v.Notice = &kp, "The "+string(book)+" keys were rotated; the old ones no longer work."
	p.renderDashboard(w, r, s, v)
}

func (p *Pages) password(w http.ResponseWriter, r *http.Request, s session) {
	err := p.id.ChangePassword(r.Context(), s.User.ID, r.PostFormValue("current_password"), r.PostFormValue("new_password"), s.ID)
	v := p.dashView(s)
	if err != nil {
		if p.explain(w, r, err, v) {
			p.renderDashboard(w, r, s, v)
		}
		return
	}
	v.Notice = "Your password was changed; your other sessions were logged out."
	p.renderDashboard(w, r, s, v)
}

// renderDashboard fills v with the merchant's keys, checklist and
// balances. A sealed secret (live keys issued on go-live) is revealed
// here once.
func (p *Pages) renderDashboard(w http.ResponseWriter, r *http.Request, s session, v *dashView) {
	info, err := p.svc.ShowOwnMerchant(r.Context(), s.User.Idx)
	if err != nil {
		p.fail(w, r, s, "Dashboard", err)
		return
	}
	v.Merchant, v.KYC = info.Merchant, string(info.Merchant.KYC)
	v.KYCApproved = info.Merchant.KYC == store.KYCApproved
	v.OwnBooks = []ledger.Book{ledger.Test}
	for _, k := range info.Keys {
		if k.Key.Book == ledger.Live {
			v.TestPaid = true // live keys are issued on the first completed test payment
		}
		if !k.Key.RevokedAt.IsZero() {
			continue
		}
		row := keyRow{Book: k.Key.Book, Kind: k.Key.Kind, Shown: k.Key.Lookup}
		if k.Key.Kind == store.SecretKey {
			row.Shown = k.Key.Prefix
			if !strings.HasSuffix(row.Shown, "…") {
				row.Shown += "…"
			}
			if k.Secret != "" {
				row.Shown, row.Once = k.Secret, true
			}
		}
		v.Keys = append(v.Keys, row)
	}
	if v.TestPaid {
		v.OwnBooks = append(v.OwnBooks, ledger.Live)
	}
	sort.SliceStable(v.Keys, func(i, j int) bool {
		if v.Keys[i].Book != v.Keys[j].Book {
			return v.Keys[i].Book == ledger.Test
		}
		return v.Keys[i].Kind == store.PublicKey && v.Keys[j].Kind != store.PublicKey
	})
	for _, b := range []ledger.Book{ledger.Test, ledger.Live} {
		v.Balances = append(v.Balances, balanceRow{Book: b, Amount: info.Balances[b].String()})
	}
	v.Fees = feeSchedules(info.Fees, v.OwnBooks)
	if v.Charts, err = p.charts(r.Context(), s.User, v.OwnBooks); err != nil {
		p.fail(w, r, s, "Dashboard", err)
		return
	}
	p.render(w, r, "dashboard", v)
}

// serveCSS is GET /static/dashboard.css.
func (p *Pages) serveCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(p.css)
}
