// Package wallet serves the consumer pages (issue 6): sign-up at /join/
// with a phone confirmation code, log in and out with mobile and MPIN, and
// the wallet page /me/ with balances per book, the payment history, MPIN
// reset with a fresh phone code, and the owner's notices (never a code: a
// web session is not the phone). Pages are
// server-rendered from embedded templates, need no JavaScript and use the
// merchant pages' stylesheet. Sessions live in the database
// (identity/wallets.go); every form carries a CSRF token, an HMAC under the
// server secret of the session id, or before sign-in of a random
// pre-session cookie, as on the merchant pages.
package wallet

import (
	"crypto/hmac"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/formpage"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/nepal"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/phone"
	"github.com/thaili/thaili/internal/store"
)

//go:embed assets/pages.html
var assets embed.FS

// Cookie names, apart from the merchant pages' cookies.
const (
	SessionCookie = "thaili_wallet"
	preCookie     = "thaili_wallet_pre"
)

// Options configure Pages.
type Options struct {
	Service *payment.Service
	// Identity resolves keys, sessions and sign-ins.
	Identity *identity.Service
	Log      *slog.Logger
	// PublicURL decides whether cookies are Secure (an https URL).
	PublicURL string
}

// Pages serves the consumer pages.
type Pages struct {
	svc    *payment.Service
	id     *identity.Service
	log    *slog.Logger
	tmpl   *template.Template
	secure bool
}

// New builds the pages from their embedded template.
func New(o Options) (*Pages, error) {
	tmpl, err := template.ParseFS(assets, "assets/pages.html")
	if err != nil {
		return nil, err
	}
	p := &Pages{svc: o.Service, id: o.Identity, log: o.Log, tmpl: tmpl, secure: strings.HasPrefix(strings.ToLower(o.PublicURL), "https://")}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return p, nil
}

// SignUpForm serves GET /join/{$}.
func (p *Pages) SignUpForm() http.Handler { return http.HandlerFunc(p.signUpForm) }

// SignUp serves POST /join/{$}.
func (p *Pages) SignUp() http.Handler { return p.anonPost(p.signUp) }

// Confirm serves POST /join/confirm.
func (p *Pages) Confirm() http.Handler { return p.anonPost(p.confirm) }

// LoginForm serves GET /me/login/{$}.
func (p *Pages) LoginForm() http.Handler { return http.HandlerFunc(p.loginForm) }

// Login serves POST /me/login/{$}.
func (p *Pages) Login() http.Handler { return p.anonPost(p.login) }

// Logout serves POST /me/logout/{$}.
func (p *Pages) Logout() http.Handler { return p.sessionPost(p.logout) }

// Wallet serves GET /me/{$}.
func (p *Pages) Wallet() http.Handler { return http.HandlerFunc(p.wallet) }

// ResetForm serves GET /me/reset/{$}.
func (p *Pages) ResetForm() http.Handler { return http.HandlerFunc(p.resetForm) }

// SendResetCode serves POST /me/reset/{$}.
func (p *Pages) SendResetCode() http.Handler { return p.eitherPost(p.sendResetCode) }

// Reset serves POST /me/reset/confirm.
func (p *Pages) Reset() http.Handler { return p.eitherPost(p.reset) }

// view is the template's data.
type view struct {
	Status     int
	RetryAfter time.Duration // a throttled client's wait (Retry-After)
	Title      string
	Page       string // signup, confirm, login, reset, reset-code, wallet, or a message page
	CSRF       string
	SignedIn   bool
	Error      string
	Errors     []string
	Notice     string
	Message    string
	// Form values echoed back, and a code form's challenge.
	Mobile, Name, Masked string
	Challenge            string
	// The wallet, and what its lock is, if it is locked.
	Consumer store.Consumer
	Locked   string
	Balances []balanceRow
	Payments []paymentRow
	Notices  []noticeRow
}

type balanceRow struct {
	Book   ledger.Book
	Amount string
}

type paymentRow struct {
	Date, Merchant, Amount, Refunded, State, Idx string
	Book                                         ledger.Book
}

type noticeRow struct{ When, Text string }

const timeFormat = "2006-01-02 15:04 -07:00"

// --- sign-up and sign-in ---

func (p *Pages) signUpForm(w http.ResponseWriter, r *http.Request) {
	p.render(w, view{Status: http.StatusOK, Title: "Sign up", Page: "signup", CSRF: p.preToken(w, r)})
}

func (p *Pages) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, _, err := p.session(r); err == nil {
		http.Redirect(w, r, "/me/", http.StatusSeeOther)
		return
	}
	p.render(w, view{Status: http.StatusOK, Title: "Log in", Page: "login", CSRF: p.preToken(w, r)})
}

func (p *Pages) signUp(w http.ResponseWriter, r *http.Request, csrf, _ string) {
	mobile, name := strings.TrimSpace(r.PostFormValue("mobile")), r.PostFormValue("name")
	sent, err := p.id.SignUpConsumer(r.Context(), mobile, name, r.PostFormValue("mpin"), r.PostFormValue("mpin2"))
	if err != nil {
		p.render(w, p.failure(r, err, view{Title: "Sign up", Page: "signup", CSRF: csrf, Mobile: mobile, Name: name}))
		return
	}
	p.render(w, codeForm(csrf, mobile, sent, ""))
}

// codeForm is the page asking for the sign-up code just sent.
func codeForm(csrf, mobile string, sent identity.CodeSent, notice string) view {
	return view{Status: http.StatusOK, Title: "Confirm your phone", Page: "confirm", CSRF: csrf, Mobile: mobile, Masked: sent.To,
		Challenge: sent.Challenge, Notice: notice}
}

func (p *Pages) confirm(w http.ResponseWriter, r *http.Request, csrf, _ string) {
	mobile, challenge := strings.TrimSpace(r.PostFormValue("mobile")), r.PostFormValue("challenge")
	session, err := p.id.ConfirmConsumerPhone(r.Context(), challenge, r.PostFormValue("code"))
	if err != nil {
		p.render(w, p.failure(r, err, view{Title: "Confirm your phone", Page: "confirm", CSRF: csrf, Mobile: mobile,
			Masked: phone.Mask(mobile), Challenge: challenge}))
		return
	}
	p.signIn(w, r, session)
}

func (p *Pages) login(w http.ResponseWriter, r *http.Request, csrf, _ string) {
	mobile := strings.TrimSpace(r.PostFormValue("mobile"))
	in, err := p.id.ConsumerLogin(r.Context(), mobile, r.PostFormValue("mpin"))
	if err != nil {
		p.render(w, p.failure(r, err, view{Title: "Log in", Page: "login", CSRF: csrf, Mobile: mobile}))
		return
	}
	if in.Code != nil {
		p.render(w, codeForm(csrf, mobile, *in.Code, identity.MsgConfirmFirst))
		return
	}
	p.signIn(w, r, in.Session)
}

// signIn sets the cookie of a session the service started and goes to
// the wallet.
func (p *Pages) signIn(w http.ResponseWriter, r *http.Request, session string) {
	http.SetCookie(w, p.cookie(SessionCookie, session, 0))
	http.SetCookie(w, p.cookie(preCookie, "", -1))
	formpage.SetHeaders(w.Header())
	http.Redirect(w, r, "/me/", http.StatusSeeOther)
}

func (p *Pages) logout(w http.ResponseWriter, r *http.Request, id string, _ store.Consumer) {
	if err := p.id.ConsumerLogout(r.Context(), id); err != nil {
		p.render(w, p.failure(r, err, view{}))
		return
	}
	http.SetCookie(w, p.cookie(SessionCookie, "", -1))
	formpage.SetHeaders(w.Header())
	http.Redirect(w, r, "/me/login/", http.StatusSeeOther)
}

// --- MPIN reset ---

func (p *Pages) resetForm(w http.ResponseWriter, r *http.Request) {
	v := view{Status: http.StatusOK, Title: "Reset your MPIN", Page: "reset"}
	if id, c, err := p.session(r); err == nil {
		v.SignedIn, v.CSRF, v.Mobile = true, p.sessionToken(id), c.Mobile
	} else {
		v.CSRF = p.preToken(w, r)
	}
	p.render(w, v)
}

// sendResetCode sends a fresh code; a signed-in consumer can reset only
// its own wallet's MPIN. The page says the same whether or not the
// number has a wallet.
func (p *Pages) sendResetCode(w http.ResponseWriter, r *http.Request, csrf, sessionID string) {
	mobile := p.resetMobile(r, sessionID)
	v := view{Title: "Reset your MPIN", CSRF: csrf, SignedIn: sessionID != "", Mobile: mobile, Masked: phone.Mask(mobile)}
	sent, err := p.id.SendMPINResetCode(r.Context(), mobile)
	if err != nil {
		v.Page = "reset"
		p.render(w, p.failure(r, err, v))
		return
	}
	v.Status, v.Page, v.Masked, v.Challenge = http.StatusOK, "reset-code", sent.To, sent.Challenge
	p.render(w, v)
}

func (p *Pages) reset(w http.ResponseWriter, r *http.Request, csrf, sessionID string) {
	mobile, challenge := p.resetMobile(r, sessionID), r.PostFormValue("challenge")
	err := p.id.ResetMPINWithCode(r.Context(), challenge, r.PostFormValue("code"), r.PostFormValue("mpin"), r.PostFormValue("mpin2"), sessionID)
	if err != nil {
		p.render(w, p.failure(r, err, view{Title: "Reset your MPIN", Page: "reset-code", CSRF: csrf, SignedIn: sessionID != "",
			Mobile: mobile, Masked: phone.Mask(mobile), Challenge: challenge}))
		return
	}
	const done = "Your new MPIN is set and the wallet is unlocked."
	if sessionID != "" {
		if c, err := p.id.SessionConsumer(r.Context(), sessionID); err == nil {
			p.renderWallet(w, r, sessionID, c, view{Notice: done})
			return
		}
	}
	p.render(w, view{Status: http.StatusOK, Title: "Log in", Page: "login", CSRF: csrf, Mobile: mobile, Notice: done + " Log in with it."})
}

// resetMobile is the signed-in consumer's mobile, else the form's.
func (p *Pages) resetMobile(r *http.Request, sessionID string) string {
	if sessionID != "" {
		if c, err := p.id.SessionConsumer(r.Context(), sessionID); err == nil {
			return c.Mobile
		}
	}
	return strings.TrimSpace(r.PostFormValue("mobile"))
}

// --- the wallet ---

func (p *Pages) wallet(w http.ResponseWriter, r *http.Request) {
	id, c, err := p.session(r)
	if err != nil {
		p.toLogin(w, r, err)
		return
	}
	p.renderWallet(w, r, id, c, view{})
}

func (p *Pages) renderWallet(w http.ResponseWriter, r *http.Request, id string, c store.Consumer, v view) {
	info, err := p.svc.Wallet(r.Context(), c.ID)
	if err != nil {
		p.render(w, p.failure(r, err, view{}))
		return
	}
	if v.Status == 0 {
		v.Status = http.StatusOK
	}
	v.Title, v.Page, v.SignedIn, v.CSRF, v.Consumer = "Wallet", "wallet", true, p.sessionToken(id), info.Consumer
	for _, b := range []ledger.Book{ledger.Test, ledger.Live} {
		v.Balances = append(v.Balances, balanceRow{Book: b, Amount: info.Balances[b].String()})
	}
	for _, wp := range info.Payments {
		row := paymentRow{Date: wp.Payment.CreatedAt.In(nepal.Zone).Format(timeFormat), Merchant: wp.Merchant, Book: wp.Payment.Book,
			Amount: wp.Payment.Amount.String(), State: string(wp.Payment.State), Idx: wp.Payment.Idx}
		if wp.Payment.Refunded > 0 {
			row.Refunded = wp.Payment.Refunded.String()
		}
		v.Payments = append(v.Payments, row)
	}
	for _, n := range info.Notices {
		v.Notices = append(v.Notices, noticeRow{When: n.CreatedAt.In(nepal.Zone).Format(timeFormat), Text: n.Text})
	}
	v.Locked = info.Lock
	p.render(w, v)
}

// --- sessions and CSRF ---

func (p *Pages) sessionToken(id string) string { return p.id.CSRFToken("wallet-session:" + id) }

// session returns the signed-in session id and consumer of r.
func (p *Pages) session(r *http.Request) (string, store.Consumer, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return "", store.Consumer{}, &fault.Error{Kind: fault.KindUnauthorized}
	}
	con, err := p.id.SessionConsumer(r.Context(), c.Value)
	return c.Value, con, err
}

// toLogin answers a request without a valid session: 303 to /me/login/.
func (p *Pages) toLogin(w http.ResponseWriter, r *http.Request, err error) {
	if e := fault.AsError(err); e.Kind != fault.KindUnauthorized {
		p.render(w, p.failure(r, err, view{}))
		return
	}
	if _, cerr := r.Cookie(SessionCookie); cerr == nil {
		http.SetCookie(w, p.cookie(SessionCookie, "", -1))
	}
	formpage.SetHeaders(w.Header())
	http.Redirect(w, r, "/me/login/", http.StatusSeeOther)
}

// sessionPost checks a signed-in form POST: session, then CSRF token.
func (p *Pages) sessionPost(h func(w http.ResponseWriter, r *http.Request, id string, c store.Consumer)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, formpage.MaxForm)
		id, c, err := p.session(r)
		if err != nil {
			p.toLogin(w, r, err)
			return
		}
		if err := r.ParseForm(); err != nil || !hmac.Equal([]byte(p.sessionToken(id)), []byte(r.PostFormValue("csrf"))) {
			p.refuse(w, err)
			return
		}
		h(w, r, id, c)
	})
}

// anonPost checks a sign-in form POST against the pre-session cookie.
func (p *Pages) anonPost(h func(w http.ResponseWriter, r *http.Request, csrf, sessionID string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want, err := p.pre().Check(w, r)
		if err != nil {
			p.refuse(w, err)
			return
		}
		h(w, r, want, "")
	})
}

// eitherPost accepts a signed-in form (session token; the session id is
// passed on) or a signed-out one (pre-session token).
func (p *Pages) eitherPost(h func(w http.ResponseWriter, r *http.Request, csrf, sessionID string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, formpage.MaxForm)
		if id, _, err := p.session(r); err == nil {
			want := p.sessionToken(id)
			if err := r.ParseForm(); err != nil || !hmac.Equal([]byte(want), []byte(r.PostFormValue("csrf"))) {
				p.refuse(w, err)
				return
			}
			h(w, r, want, id)
			return
		}
		want, err := p.pre().Check(w, r)
		if err != nil {
			p.refuse(w, err)
			return
		}
		h(w, r, want, "")
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
	return formpage.PreSession{Cookie: preCookie, Purpose: "wallet-pre:", Token: p.id.CSRFToken,
		Cookies: formpage.Cookies{Path: "/", SameSite: http.SameSiteLaxMode, Secure: p.secure}}
}

// cookie is a Path=/, HttpOnly, SameSite=Lax cookie, Secure behind https;
// maxAge -1 deletes it, 0 makes it last the browser session.
func (p *Pages) cookie(name, value string, maxAge int) *http.Cookie {
	return formpage.Cookies{Path: "/", SameSite: http.SameSiteLaxMode, Secure: p.secure}.Cookie(name, value, maxAge)
}

// failure renders err over v: the service's message with 400 (429 for a
// locked wallet), or a generic 500 logged.
func (p *Pages) failure(r *http.Request, err error, v view) view {
	if pr, ok := formpage.ProblemOf(err); ok {
		v.Status, v.Error, v.Errors, v.RetryAfter = pr.Status, pr.Detail, append(v.Errors, pr.Fields...), pr.RetryAfter
		return v
	}
	p.log.ErrorContext(r.Context(), "wallet page failed", "err", err)
	return view{Status: http.StatusInternalServerError, Title: formpage.UnavailableTitle, Message: formpage.UnavailableMessage}
}

// render writes v with the pages' security headers.
func (p *Pages) render(w http.ResponseWriter, v view) {
	if v.RetryAfter > 0 {
		formpage.SetRetryAfter(w.Header(), v.RetryAfter)
	}
	formpage.Render(w, p.log, "a wallet page", p.tmpl, v.Status, v)
}
