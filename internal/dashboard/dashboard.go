// Package dashboard serves the merchant pages (issue 6): sign-up at
// /join/merchant/ with a phone confirmation code, log in and out, and a
// minimal dashboard with the merchant's keys, go-live checklist and
// balances. Pages are server-rendered from embedded templates and need no
// JavaScript. Sessions live in the database (identity/merchants.go); every
// form carries a CSRF token, an HMAC under the server secret of the
// session id, or before sign-in of a random pre-session cookie.
package dashboard

import (
	"crypto/hmac"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/formpage"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/webhook"
)

//go:embed assets/pages.html assets/dashboard.css
var assets embed.FS

// Cookie names.
const (
	SessionCookie = "thaili_session"
	preCookie     = "thaili_pre" // random id the CSRF token of sign-in forms derives from
)

// Options configure Pages.
type Options struct {
	Service *payment.Service
	// Identity resolves keys, sessions and sign-ins.
	Identity *identity.Service
	Log      *slog.Logger
	// PublicURL decides whether cookies are Secure (an https URL).
	PublicURL string
	// Webhooks manages the merchant's webhook endpoints and their
	// delivery logs (the webhook pages).
	Webhooks *webhook.Service
}

// Pages serves the merchant pages.
type Pages struct {
	svc    *payment.Service
	id     *identity.Service
	hooks  *webhook.Service
	log    *slog.Logger
	tmpl   *template.Template
	css    []byte
	secure bool
}

// New builds the pages from their embedded template and stylesheet.
func New(o Options) (*Pages, error) {
	tmpl, err := template.ParseFS(assets, "assets/pages.html")
	if err != nil {
		return nil, err
	}
	css, err := assets.ReadFile("assets/dashboard.css")
	if err != nil {
		return nil, err
	}
	p := &Pages{svc: o.Service, id: o.Identity, hooks: o.Webhooks, log: o.Log, tmpl: tmpl, css: css, secure: strings.HasPrefix(strings.ToLower(o.PublicURL), "https://")}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return p, nil
}

// SignUpForm serves GET /join/merchant/{$}.
func (p *Pages) SignUpForm() http.Handler { return http.HandlerFunc(p.signUpForm) }

// SignUp serves POST /join/merchant/{$}.
func (p *Pages) SignUp() http.Handler { return p.anonPost(p.signUp) }

// Confirm serves POST /join/merchant/confirm.
func (p *Pages) Confirm() http.Handler { return p.anonPost(p.confirm) }

// LoginForm serves GET /login/{$}.
func (p *Pages) LoginForm() http.Handler { return http.HandlerFunc(p.loginForm) }

// Login serves POST /login/{$}.
func (p *Pages) Login() http.Handler { return p.anonPost(p.login) }

// Logout serves POST /logout/{$}.
func (p *Pages) Logout() http.Handler { return p.sessionPost(p.logout) }

// Dashboard serves GET /dashboard/{$}.
func (p *Pages) Dashboard() http.Handler { return http.HandlerFunc(p.dashboard) }

// Rotate serves POST /dashboard/rotate.
func (p *Pages) Rotate() http.Handler { return p.sessionPost(p.rotate) }

// Password serves POST /dashboard/password.
func (p *Pages) Password() http.Handler { return p.sessionPost(p.password) }

// LogoutEverywhere serves POST /dashboard/logout-everywhere.
func (p *Pages) LogoutEverywhere() http.Handler { return p.sessionPost(p.logoutEverywhere) }

// ServeCSS serves GET /static/dashboard.css.
func (p *Pages) ServeCSS() http.Handler { return http.HandlerFunc(p.serveCSS) }

// view is the template's data.
type view struct {
	Status   int
	Title    string
	Page     string // signup, confirm, login, dashboard, or a message page
	CSRF     string
	SignedIn bool
	Error    string
	Errors   []string
	Notice   string
	Message  string
	// Form values echoed back, and the code form's challenge.
	Name, Email, Phone string
	Challenge          string
	// Keys shown only this once (sign-up, rotation).
	NewKeys *identity.KeyPair
	// The dashboard.
	Merchant    store.Merchant
	KYC         string
	TestPaid    bool
	KYCApproved bool
	Keys        []keyRow
	Books       []ledger.Book
	Balances    []balanceRow
	Fees        []feeSchedule
	Charts      []chart
	// The webhook pages: the chosen book, its endpoints, the form's event
	// boxes and echoed values, a new endpoint's secret (shown once), and
	// one endpoint's delivery log.
	Book       ledger.Book
	Endpoints  []webhook.Endpoint
	Events     []eventBox
	URL        string
	Checked    []string
	NewHook    *newHook
	Endpoint   webhook.Endpoint
	Deliveries []deliveryRow
	// The transaction pages: the filters, a page of rows with paging and
	// export links, the state choices, one transaction, and the refund
	// amount echoed back.
	Filter                   txFilter
	Txns                     []txRow
	Total, PageNo, Pages     int
	PrevURL, NextURL, CSVURL string
	States                   []store.State
	Txn                      txDetail
	Amount                   string
	// The KYC page: the submission, whether the form is open (state none
	// or rejected), and the form's values.
	KYCSub  identity.KYCSubmission
	KYCOpen bool
	KYCForm kycForm
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

// --- sign-up and sign-in ---

func (p *Pages) signUpForm(w http.ResponseWriter, r *http.Request) {
	p.render(w, view{Status: http.StatusOK, Title: "Sign up", Page: "signup", CSRF: p.preToken(w, r)})
}

func (p *Pages) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, _, err := p.session(r); err == nil {
		http.Redirect(w, r, "/dashboard/", http.StatusSeeOther)
		return
	}
	p.render(w, view{Status: http.StatusOK, Title: "Log in", Page: "login", CSRF: p.preToken(w, r)})
}

func (p *Pages) signUp(w http.ResponseWriter, r *http.Request, csrf string) {
	in := identity.SignUp{Name: r.PostFormValue("name"), Email: r.PostFormValue("email"),
		Phone: strings.TrimSpace(r.PostFormValue("phone")), Password: r.PostFormValue("password")}
	sent, err := p.id.SignUpMerchant(r.Context(), in)
	if err != nil {
		v := p.failure(r, err, view{Title: "Sign up", Page: "signup", CSRF: csrf, Name: in.Name, Email: in.Email, Phone: in.Phone})
		p.render(w, v)
		return
	}
	p.render(w, p.codeForm(csrf, strings.TrimSpace(in.Email), sent, ""))
}

// codeForm is the page asking for the code just sent.
func (p *Pages) codeForm(csrf, email string, sent identity.CodeSent, notice string) view {
	return view{Status: http.StatusOK, Title: "Confirm your phone", Page: "confirm", CSRF: csrf, Email: email,
		Phone: sent.To, Challenge: sent.Challenge, Notice: notice}
}

func (p *Pages) confirm(w http.ResponseWriter, r *http.Request, csrf string) {
	email, challenge := r.PostFormValue("email"), r.PostFormValue("challenge")
	session, err := p.id.ConfirmMerchantPhone(r.Context(), challenge, r.PostFormValue("code"))
	if err != nil {
		p.render(w, p.failure(r, err, view{Title: "Confirm your phone", Page: "confirm", CSRF: csrf, Email: email, Phone: "your phone",
			Challenge: challenge}))
		return
	}
	p.signIn(w, r, session)
}

func (p *Pages) login(w http.ResponseWriter, r *http.Request, csrf string) {
	email := r.PostFormValue("email")
	in, err := p.id.Login(r.Context(), email, r.PostFormValue("password"))
	if err != nil {
		p.render(w, p.failure(r, err, view{Title: "Log in", Page: "login", CSRF: csrf, Email: email}))
		return
	}
	if in.Code != nil {
		p.render(w, p.codeForm(csrf, strings.TrimSpace(email), *in.Code, identity.MsgConfirmFirst))
		return
	}
	p.signIn(w, r, in.Session)
}

// signIn sets the cookie of a session the service started and goes to
// the dashboard.
func (p *Pages) signIn(w http.ResponseWriter, r *http.Request, session string) {
	http.SetCookie(w, p.cookie(SessionCookie, session, 0))
	http.SetCookie(w, p.cookie(preCookie, "", -1))
	formpage.SetHeaders(w.Header())
	http.Redirect(w, r, "/dashboard/", http.StatusSeeOther)
}

func (p *Pages) logout(w http.ResponseWriter, r *http.Request, id string, _ store.Merchant) {
	if err := p.id.Logout(r.Context(), id); err != nil {
		p.render(w, p.failure(r, err, view{}))
		return
	}
	p.signedOut(w, r)
}

func (p *Pages) logoutEverywhere(w http.ResponseWriter, r *http.Request, _ string, m store.Merchant) {
	if err := p.id.LogoutEverywhere(r.Context(), m.ID); err != nil {
		p.render(w, p.failure(r, err, view{}))
		return
	}
	p.signedOut(w, r)
}

func (p *Pages) signedOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, p.cookie(SessionCookie, "", -1))
	formpage.SetHeaders(w.Header())
	http.Redirect(w, r, "/login/", http.StatusSeeOther)
}

// --- the dashboard ---

func (p *Pages) dashboard(w http.ResponseWriter, r *http.Request) {
	id, m, err := p.session(r)
	if err != nil {
		p.toLogin(w, r, err)
		return
	}
	p.renderDashboard(w, r, id, m, view{})
}

func (p *Pages) rotate(w http.ResponseWriter, r *http.Request, id string, m store.Merchant) {
	book := ledger.Book(r.PostFormValue("book"))
	kp, err := p.id.RotateOwnKeys(r.Context(), m.Idx, book)
	if err != nil {
		p.renderDashboard(w, r, id, m, p.failure(r, err, view{}))
		return
	}
	p.renderDashboard(w, r, id, m, view{NewKeys: &kp, Notice: "The " + string(book) + " keys were rotated; the old ones no longer work."})
}

func (p *Pages) password(w http.ResponseWriter, r *http.Request, id string, m store.Merchant) {
	err := p.id.ChangePassword(r.Context(), m.ID, r.PostFormValue("current_password"), r.PostFormValue("new_password"), id)
	if err != nil {
		p.renderDashboard(w, r, id, m, p.failure(r, err, view{}))
		return
	}
	p.renderDashboard(w, r, id, m, view{Notice: "Your password was changed; your other sessions were logged out."})
}

// renderDashboard fills v with m's keys, checklist and balances. A sealed
// secret (live keys issued on go-live) is revealed here once.
func (p *Pages) renderDashboard(w http.ResponseWriter, r *http.Request, id string, m store.Merchant, v view) {
	info, err := p.svc.ShowOwnMerchant(r.Context(), m.Idx)
	if err != nil {
		p.render(w, p.failure(r, err, view{}))
		return
	}
	if v.Status == 0 {
		v.Status = http.StatusOK
	}
	v.Title, v.Page, v.SignedIn, v.CSRF = "Dashboard", "dashboard", true, p.id.CSRFToken("session:"+id)
	v.Merchant, v.KYC = info.Merchant, string(info.Merchant.KYC)
	v.KYCApproved = info.Merchant.KYC == store.KYCApproved
	v.Books = []ledger.Book{ledger.Test}
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
		v.Books = append(v.Books, ledger.Live)
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
	v.Fees = feeSchedules(info.Fees, v.Books)
	if v.Charts, err = p.charts(r.Context(), m, v.Books); err != nil {
		p.render(w, p.failure(r, err, view{}))
		return
	}
	p.render(w, v)
}

// --- sessions and CSRF ---

// session returns the signed-in session id and merchant of r.
func (p *Pages) session(r *http.Request) (string, store.Merchant, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return "", store.Merchant{}, &fault.Error{Kind: fault.KindUnauthorized}
	}
	m, err := p.id.SessionMerchant(r.Context(), c.Value)
	return c.Value, m, err
}

// toLogin answers a request without a valid session: 303 to /login/.
func (p *Pages) toLogin(w http.ResponseWriter, r *http.Request, err error) {
	if e := fault.AsError(err); e.Kind != fault.KindUnauthorized {
		p.render(w, p.failure(r, err, view{}))
		return
	}
	if _, cerr := r.Cookie(SessionCookie); cerr == nil {
		http.SetCookie(w, p.cookie(SessionCookie, "", -1))
	}
	formpage.SetHeaders(w.Header())
	http.Redirect(w, r, "/login/", http.StatusSeeOther)
}

// sessionPost checks a signed-in form POST: session, then CSRF token.
func (p *Pages) sessionPost(h func(w http.ResponseWriter, r *http.Request, id string, m store.Merchant)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, formpage.MaxForm)
		id, m, err := p.session(r)
		if err != nil {
			p.toLogin(w, r, err)
			return
		}
		if err := r.ParseForm(); err != nil || !hmac.Equal([]byte(p.id.CSRFToken("session:"+id)), []byte(r.PostFormValue("csrf"))) {
			p.refuse(w, err)
			return
		}
		h(w, r, id, m)
	})
}

// anonPost checks a sign-in form POST against the pre-session cookie.
func (p *Pages) anonPost(h func(w http.ResponseWriter, r *http.Request, csrf string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want, err := p.pre().Check(w, r)
		if err != nil {
			p.refuse(w, err)
			return
		}
		h(w, r, want)
	})
}

// refuse answers a form post refused before its handler: one over the
// size limit, or without the right CSRF token.
func (p *Pages) refuse(w http.ResponseWriter, err error) {
	status, title, msg := formpage.Refusal(err)
	p.render(w, view{Status: status, Title: title, Message: msg})
}

// preToken returns the CSRF token of sign-in forms, setting the
// pre-session cookie it derives from if r has none.
func (p *Pages) preToken(w http.ResponseWriter, r *http.Request) string {
	return p.pre().Issue(w, r)
}

// pre is the CSRF protection of the signed-out forms.
func (p *Pages) pre() formpage.PreSession {
	return formpage.PreSession{Cookie: preCookie, Purpose: "pre:", Token: p.id.CSRFToken,
		Cookies: formpage.Cookies{Path: "/", SameSite: http.SameSiteLaxMode, Secure: p.secure}}
}

// cookie is a Path=/, HttpOnly, SameSite=Lax cookie, Secure behind https;
// maxAge -1 deletes it, 0 makes it last the browser session.
func (p *Pages) cookie(name, value string, maxAge int) *http.Cookie {
	return formpage.Cookies{Path: "/", SameSite: http.SameSiteLaxMode, Secure: p.secure}.Cookie(name, value, maxAge)
}

// failure renders err over v: the service's message with 400 (429 when
// sign-in is locked), or a generic 500 logged.
func (p *Pages) failure(r *http.Request, err error, v view) view {
	if pr, ok := formpage.ProblemOf(err); ok {
		v.Status, v.Error, v.Errors = pr.Status, pr.Detail, append(v.Errors, pr.Fields...)
		return v
	}
	p.log.ErrorContext(r.Context(), "merchant page failed", "err", err)
	return view{Status: http.StatusInternalServerError, Title: formpage.UnavailableTitle, Message: formpage.UnavailableMessage}
}

// serveCSS is GET /static/dashboard.css.
func (p *Pages) serveCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(p.css)
}

// render writes v with the pages' security headers.
func (p *Pages) render(w http.ResponseWriter, v view) {
	formpage.Render(w, p.log, "a merchant page", p.tmpl, v.Status, v)
}
