// Package wallet serves the consumer pages (issue 6): sign-up at /join/
// with a phone confirmation code, log in and out with mobile and MPIN,
// and the signed-in wallet: an overview with the balance of each book,
// the payment history, the owner's notices (never a code: a web session
// is not the phone) and the MPIN reset with a fresh phone code, which
// also works signed out. Pages are drawn by internal/site in the shared
// layout, need no JavaScript, and keep sessions and CSRF tokens there
// (docs/identity.md, Sessions and form tokens).
package wallet

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"github.com/thaili/thaili/internal/formpage"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/phone"
	"github.com/thaili/thaili/internal/site"
	"github.com/thaili/thaili/internal/store"
)

//go:embed assets/*.html
var assets embed.FS

// Cookie names, apart from the merchant pages' cookies. Both are on
// Path=/ with SameSite=Lax, as the wallet's links are followed from the
// hosted payment page and from messages.
const (
	SessionCookie = "thaili_wallet"
	preCookie     = "thaili_wallet_pre"
)

// CSRF purposes: a wallet form's token is never another site's.
const (
	sessionPurpose = "wallet-session:"
	prePurpose     = "wallet-pre:"
)

// Accounts is what the pages ask of identity (identity.Service): the
// sign-up and its code, sessions, and the MPIN reset.
type Accounts interface {
	CSRFToken(id string) string
	SignUpConsumer(ctx context.Context, mobile, name, mpin, mpin2 string) (identity.CodeSent, error)
	ConfirmConsumerPhone(ctx context.Context, challenge, code string) (string, error)
	ConsumerLogin(ctx context.Context, mobile, mpin string) (identity.SignIn, error)
	ConsumerLogout(ctx context.Context, id string) error
	SessionConsumer(ctx context.Context, id string) (store.Consumer, error)
	SendMPINResetCode(ctx context.Context, mobile string) (identity.CodeSent, error)
	ResetMPINWithCode(ctx context.Context, challenge, code, mpin, mpin2, keep string) error
}

// Wallets is what the pages ask of payment (payment.Service): what a
// wallet holds and did.
type Wallets interface {
	Wallet(ctx context.Context, consumerID int64) (payment.WalletInfo, error)
}

// Options configure Pages.
type Options struct {
	Service  Wallets
	Identity Accounts
	Log      *slog.Logger
	// PublicURL decides whether cookies are Secure (an https URL).
	PublicURL string
}

// Pages serves the consumer pages.
type Pages struct {
	svc  Wallets
	id   Accounts
	site *site.Site[store.Consumer]
}

// New builds the pages from their embedded templates.
func New(o Options) (*Pages, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	files, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, err
	}
	rd, err := site.NewRenderer(site.Chrome{Brand: "Thaili wallet", Home: "/me/", LogoutPath: "/me/logout/",
		SignedOut: []site.Link{{Label: "Log in", URL: "/me/login/"}, {Label: "Sign up", URL: "/join/"}}}, log, files, funcs)
	if err != nil {
		return nil, err
	}
	p := &Pages{svc: o.Service, id: o.Identity}
	// The site asks identity through p at each request, so that pages
	// can be built (and their routes registered) without a service.
	p.site = &site.Site[store.Consumer]{
		Name: "wallet", SessionCookie: SessionCookie, PreCookie: preCookie,
		CookiePath: "/", SameSite: http.SameSiteLaxMode, Secure: site.SecureURL(o.PublicURL),
		SessionPurpose: sessionPurpose, PrePurpose: prePurpose,
		Token:     func(s string) string { return p.id.CSRFToken(s) },
		Lookup:    func(ctx context.Context, id string) (store.Consumer, error) { return p.id.SessionConsumer(ctx, id) },
		LoginPath: "/me/login/", Pages: rd, Log: log,
	}
	return p, nil
}

// SignUpForm serves GET /join/{$}.
func (p *Pages) SignUpForm() http.Handler { return http.HandlerFunc(p.signUpForm) }

// SignUp serves POST /join/{$}.
func (p *Pages) SignUp() http.Handler { return p.site.AnonPost(p.signUp) }

// Confirm serves POST /join/confirm.
func (p *Pages) Confirm() http.Handler { return p.site.AnonPost(p.confirm) }

// LoginForm serves GET /me/login/{$}.
func (p *Pages) LoginForm() http.Handler { return http.HandlerFunc(p.loginForm) }

// Login serves POST /me/login/{$}.
func (p *Pages) Login() http.Handler { return p.site.AnonPost(p.login) }

// Logout serves POST /me/logout/{$}.
func (p *Pages) Logout() http.Handler { return p.site.Post(p.logout) }

// Overview serves GET /me/{$}: the balances, the latest payments and
// notices, and the wallet's lock.
func (p *Pages) Overview() http.Handler { return p.site.Get(p.overview) }

// Payments serves GET /me/payments/{$}: the payment history.
func (p *Pages) Payments() http.Handler { return p.site.Get(p.payments) }

// Notices serves GET /me/notices/{$}: what happened to the wallet's security.
func (p *Pages) Notices() http.Handler { return p.site.Get(p.notices) }

// ResetForm serves GET /me/reset/{$}.
func (p *Pages) ResetForm() http.Handler { return http.HandlerFunc(p.resetForm) }

// SendResetCode serves POST /me/reset/{$}.
func (p *Pages) SendResetCode() http.Handler { return p.site.EitherPost(p.sendResetCode) }

// Reset serves POST /me/reset/confirm.
func (p *Pages) Reset() http.Handler { return p.site.EitherPost(p.reset) }

// session is a signed-in request's session.
type session = site.Session[store.Consumer]

// Where the signed-in navigation goes.
const (
	navOverview = "Overview"
	navPayments = "Payments"
	navNotices  = "Notices"
	navReset    = "Reset MPIN"
)

// frame is the frame of a page: signed in (s not nil) with the
// navigation, current marking where the page is; signed out a narrow form.
func frame(title string, s *session, current string) site.Frame {
	f := site.Frame{Title: title}
	if s == nil {
		f.Narrow = true
		return f
	}
	f.CSRF, f.User = s.CSRF, s.User.Name
	if f.User == "" {
		f.User = s.User.Mobile
	}
	for _, l := range []site.Link{{Label: navOverview, URL: "/me/"}, {Label: navPayments, URL: "/me/payments/"},
		{Label: navNotices, URL: "/me/notices/"}, {Label: navReset, URL: "/me/reset/"}} {
		l.Current = l.Label == current
		f.Nav = append(f.Nav, l)
	}
	return f
}

// show draws page name with v, after putting err (if any) on it; an
// internal error is logged and shown as the generic error page instead.
func (p *Pages) show(w http.ResponseWriter, r *http.Request, name string, v site.Page, err error) {
	if err != nil && !p.site.Explain(r, err, v.Base()) {
		p.site.Unavailable(w, r)
		return
	}
	p.site.Pages.Render(w, r, name, v)
}

// --- sign-up and sign-in ---

func (p *Pages) signUpForm(w http.ResponseWriter, r *http.Request) {
	v := &signUpView{Frame: frame("Open a wallet", nil, "")}
	v.CSRF = p.site.PreToken(w, r)
	p.show(w, r, "signup", v, nil)
}

func (p *Pages) signUp(w http.ResponseWriter, r *http.Request, csrf string) {
	mobile, name := strings.TrimSpace(r.PostFormValue("mobile")), r.PostFormValue("name")
	sent, err := p.id.SignUpConsumer(r.Context(), mobile, name, r.PostFormValue("mpin"), r.PostFormValue("mpin2"))
	if err != nil {
		v := &signUpView{Frame: frame("Open a wallet", nil, ""), Mobile: mobile, Name: name}
		v.CSRF = csrf
		p.show(w, r, "signup", v, err)
		return
	}
	p.show(w, r, "confirm", codeForm(csrf, mobile, sent, ""), nil)
}

// codeForm is the page asking for the sign-up code just sent.
func codeForm(csrf, mobile string, sent identity.CodeSent, notice string) *codeView {
	v := &codeView{Frame: frame("Confirm your phone", nil, ""), Mobile: mobile, Masked: sent.To, Challenge: sent.Challenge}
	v.CSRF, v.Notice = csrf, notice
	return v
}

func (p *Pages) confirm(w http.ResponseWriter, r *http.Request, csrf string) {
	mobile, challenge := strings.TrimSpace(r.PostFormValue("mobile")), r.PostFormValue("challenge")
	id, err := p.id.ConfirmConsumerPhone(r.Context(), challenge, r.PostFormValue("code"))
	if err != nil {
		p.show(w, r, "confirm", codeForm(csrf, mobile, identity.CodeSent{Challenge: challenge, To: phone.Mask(mobile)}, ""), err)
		return
	}
	p.signIn(w, r, id)
}

func (p *Pages) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, err := p.site.Session(r); err == nil {
		formpage.SetHeaders(w.Header())
		http.Redirect(w, r, "/me/", http.StatusSeeOther)
		return
	}
	v := &loginView{Frame: frame("Log in", nil, "")}
	v.CSRF = p.site.PreToken(w, r)
	p.show(w, r, "login", v, nil)
}

func (p *Pages) login(w http.ResponseWriter, r *http.Request, csrf string) {
	mobile := strings.TrimSpace(r.PostFormValue("mobile"))
	in, err := p.id.ConsumerLogin(r.Context(), mobile, r.PostFormValue("mpin"))
	if err != nil {
		v := &loginView{Frame: frame("Log in", nil, ""), Mobile: mobile}
		v.CSRF = csrf
		p.show(w, r, "login", v, err)
		return
	}
	if in.Code != nil {
		p.show(w, r, "confirm", codeForm(csrf, mobile, *in.Code, identity.MsgConfirmFirst), nil)
		return
	}
	p.signIn(w, r, in.Session)
}

// signIn sets the cookie of a session the service started, forgets the
// pre-session cookie (its token has done its job) and goes to the wallet.
func (p *Pages) signIn(w http.ResponseWriter, r *http.Request, id string) {
	http.SetCookie(w, formpage.Cookies{Path: p.site.CookiePath, SameSite: p.site.SameSite, Secure: p.site.Secure}.Cookie(preCookie, "", -1))
	p.site.SignIn(w, r, id, "/me/")
}

func (p *Pages) logout(w http.ResponseWriter, r *http.Request, s session) {
	if err := p.id.ConsumerLogout(r.Context(), s.ID); err != nil {
		p.site.Fail(w, r, err)
		return
	}
	p.site.SignOut(w, r, "/me/login/")
}

// --- MPIN reset ---

func (p *Pages) resetForm(w http.ResponseWriter, r *http.Request) {
	if s, err := p.site.Session(r); err == nil {
		v := &resetView{Frame: frame("Reset your MPIN", &s, navReset), SignedIn: true, Masked: phone.Mask(s.User.Mobile)}
		p.show(w, r, "reset", v, nil)
		return
	}
	v := &resetView{Frame: frame("Reset your MPIN", nil, "")}
	v.CSRF = p.site.PreToken(w, r)
	p.show(w, r, "reset", v, nil)
}

// sendResetCode sends a fresh code; a signed-in consumer can reset only
// its own wallet's MPIN. The page says the same whether or not the
// number has a wallet.
func (p *Pages) sendResetCode(w http.ResponseWriter, r *http.Request, csrf string, s *session) {
	mobile := resetMobile(r, s)
	sent, err := p.id.SendMPINResetCode(r.Context(), mobile)
	if err != nil {
		v := &resetView{Frame: frame("Reset your MPIN", s, navReset), SignedIn: s != nil, Mobile: mobile, Masked: phone.Mask(mobile)}
		v.CSRF = csrf
		p.show(w, r, "reset", v, err)
		return
	}
	v := &resetCodeView{Frame: frame("Reset your MPIN", s, navReset), SignedIn: s != nil, Mobile: mobile, Masked: sent.To, Challenge: sent.Challenge}
	v.CSRF = csrf
	p.show(w, r, "reset-code", v, nil)
}

func (p *Pages) reset(w http.ResponseWriter, r *http.Request, csrf string, s *session) {
	mobile, challenge := resetMobile(r, s), r.PostFormValue("challenge")
	keep := ""
	if s != nil {
		keep = s.ID
	}
	err := p.id.ResetMPINWithCode(r.Context(), challenge, r.PostFormValue("code"), r.PostFormValue("mpin"), r.PostFormValue("mpin2"), keep)
	if err != nil {
		v := &resetCodeView{Frame: frame("Reset your MPIN", s, navReset), SignedIn: s != nil, Mobile: mobile, Masked: phone.Mask(mobile), Challenge: challenge}
		v.CSRF = csrf
		p.show(w, r, "reset-code", v, err)
		return
	}
	const done = "Your new MPIN is set and the wallet is unlocked."
	if s != nil {
		p.renderOverview(w, r, *s, done)
		return
	}
	v := &loginView{Frame: frame("Log in", nil, ""), Mobile: mobile}
	v.CSRF, v.Notice = csrf, done+" Log in with it."
	p.show(w, r, "login", v, nil)
}

// resetMobile is the signed-in consumer's mobile, else the form's.
func resetMobile(r *http.Request, s *session) string {
	if s != nil {
		return s.User.Mobile
	}
	return strings.TrimSpace(r.PostFormValue("mobile"))
}

// --- the wallet ---

// How many of the latest payments and notices the overview shows; the
// pages of their own show all the service returns.
const (
	recentPayments = 5
	recentNotices  = 3
)

func (p *Pages) overview(w http.ResponseWriter, r *http.Request, s session) {
	p.renderOverview(w, r, s, "")
}

func (p *Pages) renderOverview(w http.ResponseWriter, r *http.Request, s session, notice string) {
	info, err := p.svc.Wallet(r.Context(), s.User.ID)
	if err != nil {
		p.site.Fail(w, r, err)
		return
	}
	v := &overviewView{Frame: frame("Wallet", &s, navOverview), Consumer: info.Consumer, Lock: info.Lock,
		Balances: balances(info), Payments: info.Payments, Notices: info.Notices,
		MorePayments: len(info.Payments) > recentPayments, MoreNotices: len(info.Notices) > recentNotices}
	v.Notice = notice
	v.Payments = v.Payments[:min(len(v.Payments), recentPayments)]
	v.Notices = v.Notices[:min(len(v.Notices), recentNotices)]
	p.show(w, r, "overview", v, nil)
}

func (p *Pages) payments(w http.ResponseWriter, r *http.Request, s session) {
	info, err := p.svc.Wallet(r.Context(), s.User.ID)
	if err != nil {
		p.site.Fail(w, r, err)
		return
	}
	p.show(w, r, "payments", &paymentsView{Frame: frame("Payments", &s, navPayments), Payments: info.Payments}, nil)
}

func (p *Pages) notices(w http.ResponseWriter, r *http.Request, s session) {
	info, err := p.svc.Wallet(r.Context(), s.User.ID)
	if err != nil {
		p.site.Fail(w, r, err)
		return
	}
	p.show(w, r, "notices", &noticesView{Frame: frame("Notices", &s, navNotices), Notices: info.Notices}, nil)
}
