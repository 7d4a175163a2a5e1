// Package dashboard serves the merchant pages (issue 6, laid out anew in
// issue 13): sign-up at /join/merchant/ with a phone confirmation code,
// log in and out, and the dashboard: Overview, Payments, Refunds,
// Webhooks, Keys, Settings and Go live, each in the Test or the Live book
// (?book=live, the header's switch). Pages are drawn by the shared page
// layer (internal/site, docs/pages.md) from one template per page and
// work without JavaScript. Sessions live in the database
// (identity/merchants.go); every form carries a CSRF token, an HMAC under
// the server secret of the session id, or before sign-in of a random
// pre-session cookie.
package dashboard

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/formpage"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/site"
	"github.com/thaili/thaili/internal/store"
)

// pageFiles are the page templates, one per page (site.NewRenderer).
//
//go:embed assets/*.html
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
	// PublicURL decides whether cookies are Secure (an https URL), and is
	// where the dashboard's test payment returns to.
	PublicURL string
	// Webhooks manages the merchant's webhook endpoints and their
	// delivery logs (the webhook pages).
	Webhooks Hooks
	// Sandbox is set when the server runs as a sandbox: the phone code
	// page points to the sandbox inbox, and the test payment page names
	// the sandbox's test payers.
	Sandbox bool
}

// session is a signed-in merchant's request.
type session = site.Session[store.Merchant]

// Pages serves the merchant pages.
type Pages struct {
	svc       Payments
	id        Accounts
	hooks     Hooks
	log       *slog.Logger
	site      *site.Site[store.Merchant]
	pages     *site.Renderer
	secure    bool
	publicURL string
	sandbox   bool
}

// New builds the pages from their embedded templates.
func New(o Options) (*Pages, error) {
	p := &Pages{svc: o.Service, id: o.Identity, hooks: o.Webhooks, log: o.Log, secure: site.SecureURL(o.PublicURL),
		publicURL: strings.TrimRight(o.PublicURL, "/"), sandbox: o.Sandbox}
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

// --- the signed-in pages' frame ---

// section is an entry of the dashboard's navigation.
type section struct{ Label, Path string }

// sections are the navigation, in order: what merchants know from
// Stripe's dashboard.
var sections = []section{
	{"Overview", "/dashboard/"},
	{"Payments", "/dashboard/transactions/"},
	{"Refunds", "/dashboard/refunds/"},
	{"Webhooks", "/dashboard/webhooks/"},
	{"Keys", "/dashboard/keys/"},
	{"Settings", "/dashboard/settings/"},
	{"Go live", "/dashboard/go-live/"},
}

// req is a signed-in request and the book its page works in.
type req struct {
	session
	// Caller is the merchant in the page's book, with the secret key's
	// rights, as the API's calls with the secret key are.
	Caller identity.Caller
	// Books are the merchant's books: test, and live once live keys were
	// issued.
	Books []ledger.Book
}

// live reports whether the merchant has live keys (went live).
func (q req) live() bool { return slices.Contains(q.Books, ledger.Live) }

// errNotLive is what the Live switch shows before there are live keys.
var errNotLive = fault.DetailError("You have no live keys yet: they are issued after your first completed test payment. Go live shows what is left.")

// resolve finds the book a page of s works in: book ("" is test) must be
// one of the merchant's. On an error q is still the page's, in the book
// asked for when that is a book at all, so the refusal is drawn in it.
func (p *Pages) resolve(r *http.Request, s session, book string) (q req, err error) {
	q = req{session: s, Caller: identity.Caller{Merchant: s.User, Book: ledger.Test, Kind: store.SecretKey}}
	b := ledger.Book(book)
	if book == "" {
		b = ledger.Test
	}
	if !b.Valid() {
		return q, fault.DetailError("Book must be test or live.")
	}
	q.Caller.Book = b
	if q.Books, err = p.id.MerchantBooks(r.Context(), s.User.ID); err != nil {
		return q, err
	}
	if !slices.Contains(q.Books, b) {
		return q, errNotLive
	}
	return q, nil
}

// handler serves a signed-in request of section in its book.
type handler func(w http.ResponseWriter, r *http.Request, q req)

// get serves a signed-in page of section, in the book ?book= names.
func (p *Pages) get(section string, h handler) http.Handler {
	return p.site.Get(func(w http.ResponseWriter, r *http.Request, s session) {
		p.in(w, r, s, section, r.URL.Query().Get("book"), h)
	})
}

// post serves a signed-in form of section, in the book its book field
// names.
func (p *Pages) post(section string, h handler) http.Handler {
	return p.site.Post(func(w http.ResponseWriter, r *http.Request, s session) {
		p.in(w, r, s, section, r.PostFormValue("book"), h)
	})
}

func (p *Pages) in(w http.ResponseWriter, r *http.Request, s session, section, book string, h handler) {
	q, err := p.resolve(r, s, book)
	if err != nil {
		p.fail(w, r, q, section, err)
		return
	}
	h(w, r, q)
}

// dash is what every signed-in page's view has: the layout, and the
// book the page shows.
type dash struct {
	site.Frame
	Book ledger.Book
}

// view is the dash of a page of q titled title in section: the
// navigation with section marked, and the Test/Live switch leading to the
// same section in the other book. Navigation links keep the book, so a
// URL shows what it showed when it was shared.
func (p *Pages) view(q req, title, section string) dash {
	book := q.Caller.Book
	f := site.Frame{Title: title, CSRF: q.CSRF, User: q.User.Email, TestMode: book == ledger.Test}
	keep, here := "", sections[0].Path
	if book == ledger.Live {
		keep = "?book=live"
	}
	for _, s := range sections {
		f.Nav = append(f.Nav, site.Link{Label: s.Label, URL: s.Path + keep, Current: s.Label == section})
		if s.Label == section {
			here = s.Path
		}
	}
	f.Books = []site.Link{{Label: "Test", URL: here, Current: book == ledger.Test}, {Label: "Live", URL: here + "?book=live", Current: book == ledger.Live}}
	return dash{Frame: f, Book: book}
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
func (p *Pages) fail(w http.ResponseWriter, r *http.Request, q req, section string, err error) {
	v := p.view(q, "Not possible", section)
	if !p.explain(w, r, err, &v) {
		return
	}
	v.Message, v.Error = v.Error, ""
	switch {
	case v.Status == http.StatusNotFound:
		v.Title = "Not found"
	case err == errNotLive:
		v.Title = "Live mode is not available yet"
	}
	p.pages.Message(w, r, v.Frame)
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
	// Sandbox points the code form to the sandbox inbox.
	Sandbox bool
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

// codeForm is the page asking for the code just sent. No key is shown
// before the code is confirmed: the keys wait, sealed, for the first
// signed-in visit to Keys.
func (p *Pages) codeForm(csrf, email string, sent identity.CodeSent, notice string) *authView {
	return &authView{Frame: site.Frame{Title: "Confirm your phone", CSRF: csrf, Notice: notice, Narrow: true}, Email: email,
		Phone: sent.To, Challenge: sent.Challenge, Sandbox: p.sandbox}
}

func (p *Pages) confirm(w http.ResponseWriter, r *http.Request, csrf string) {
	email, challenge := r.PostFormValue("email"), r.PostFormValue("challenge")
	session, err := p.id.ConfirmMerchantPhone(r.Context(), challenge, r.PostFormValue("code"))
	if err != nil {
		v := &authView{Frame: site.Frame{Title: "Confirm your phone", CSRF: csrf, Narrow: true}, Email: email, Phone: "your phone",
			Challenge: challenge, Sandbox: p.sandbox}
		if p.explain(w, r, err, v) {
			p.render(w, r, "confirm", v)
		}
		return
	}
	// A confirmed phone is a new account's first sign-in: its test keys
	// are what it needs first.
	p.signIn(w, r, session, "/dashboard/keys/")
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
	p.signIn(w, r, in.Session, "/dashboard/")
}

// signIn sets the cookie of a session the service started, drops the
// pre-session cookie (its token has served) and goes to next.
func (p *Pages) signIn(w http.ResponseWriter, r *http.Request, session, next string) {
	http.SetCookie(w, formpage.Cookies{Path: "/", SameSite: http.SameSiteLaxMode, Secure: p.secure}.Cookie(preCookie, "", -1))
	p.site.SignIn(w, r, session, next)
}

func (p *Pages) logout(w http.ResponseWriter, r *http.Request, s session) {
	if err := p.id.Logout(r.Context(), s.ID); err != nil {
		p.site.Fail(w, r, err)
		return
	}
	p.site.SignOut(w, r, "/login/")
}
