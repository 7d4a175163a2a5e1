// Package console serves the operator console at /admin/ (issue 6): log
// in as an operator (created with `thaili admin create`; never a merchant
// session), the ledger check result and the KYC queue, merchant search
// with KYC approve/reject, wallet search with top-up and unlock, and the
// audit log every action writes to. Pages follow internal/dashboard:
// server-rendered, no script, sessions in the database, and every form
// carries a CSRF token (an HMAC of the session id, or before sign-in of a
// random pre-session cookie).
package console

import (
	"crypto/hmac"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/formpage"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store"
)

//go:embed assets/console.html
var assets embed.FS

// Cookie names; both are scoped to /admin/.
const (
	SessionCookie = "thaili_operator"
	preCookie     = "thaili_operator_pre"
	cookiePath    = "/admin/"
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

// Pages serves the console.
type Pages struct {
	svc    *payment.Service
	id     *identity.Service
	log    *slog.Logger
	tmpl   *template.Template
	secure bool
}

// New builds the console from its embedded template. Its stylesheet is the
// merchant pages' /static/dashboard.css.
func New(o Options) (*Pages, error) {
	tmpl, err := template.New("console.html").Funcs(template.FuncMap{"inc": func(i int) int { return i + 1 }}).ParseFS(assets, "assets/console.html")
	if err != nil {
		return nil, err
	}
	p := &Pages{svc: o.Service, id: o.Identity, log: o.Log, tmpl: tmpl, secure: strings.HasPrefix(strings.ToLower(o.PublicURL), "https://")}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return p, nil
}

// LoginForm serves GET /admin/login/{$}.
func (p *Pages) LoginForm() http.Handler { return http.HandlerFunc(p.loginForm) }

// Login serves POST /admin/login/{$}.
func (p *Pages) Login() http.Handler { return p.anonPost(p.login) }

// Logout serves POST /admin/logout/{$}.
func (p *Pages) Logout() http.Handler { return p.sessionPost(p.logout) }

// Overview serves GET /admin/{$}.
func (p *Pages) Overview() http.Handler { return p.sessionGet(p.overview) }

// Merchants serves GET /admin/merchants/{$}.
func (p *Pages) Merchants() http.Handler { return p.sessionGet(p.merchants) }

// KYC serves POST /admin/merchants/kyc.
func (p *Pages) KYC() http.Handler { return p.sessionPost(p.kyc) }

// Consumers serves GET /admin/consumers/{$}.
func (p *Pages) Consumers() http.Handler { return p.sessionGet(p.consumers) }

// Topup serves POST /admin/consumers/topup.
func (p *Pages) Topup() http.Handler { return p.sessionPost(p.topup) }

// Unlock serves POST /admin/consumers/unlock.
func (p *Pages) Unlock() http.Handler { return p.sessionPost(p.unlock) }

// Audit serves GET /admin/audit/{$}.
func (p *Pages) Audit() http.Handler { return p.sessionGet(p.audit) }

// KYCDocument serves GET /admin/kyc/{merchantIdx}/documents/{id}: a
// merchant's KYC document as an attachment.
func (p *Pages) KYCDocument() http.Handler { return p.sessionGet(p.kycDocument) }

// view is the template's data.
type view struct {
	Status   int
	Title    string
	Page     string // login, overview, merchants, consumers, audit, or a message page
	CSRF     string
	Operator string // signed-in operator's email
	Error    string
	Errors   []string
	Notice   string
	Message  string
	Email    string // echoed on the login form
	Query    string
	// overview
	LedgerOK   bool
	Violations []string
	Queue      []store.MerchantSummary
	// search results
	Merchants []merchantRow
	Consumers []consumerRow
	Books     []ledger.Book
	Audit     []auditRow
	// a merchant's fee schedules; FeeBook and FeeRows echo a refused form
	FeeMerchant store.Merchant
	FeeForms    []feeForm
	FeeBook     ledger.Book
	FeeRows     []feeInput
}

// merchantRow is a merchant in the search results with its KYC submission.
type merchantRow struct {
	store.MerchantSummary
	Details   *store.KYCDetails
	Documents []store.KYCDocument
}

type consumerRow struct {
	store.Consumer
	Test, Live string
	Lock       string // what the wallet's lock is, if it is locked now
}

type auditRow struct {
	store.AuditEntry
	When string
}

// handler is a signed-in page or action.
type handler func(w http.ResponseWriter, r *http.Request, id string, o store.Operator, v view)

// --- sign-in ---

func (p *Pages) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, _, err := p.session(r); err == nil {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
		return
	}
	p.render(w, view{Status: http.StatusOK, Title: "Operator log in", Page: "login", CSRF: p.preToken(w, r)})
}

func (p *Pages) login(w http.ResponseWriter, r *http.Request, csrf string) {
	email := r.PostFormValue("email")
	id, err := p.id.OperatorLogin(r.Context(), email, r.PostFormValue("password"))
	if err != nil {
		p.render(w, p.failure(r, err, view{Title: "Operator log in", Page: "login", CSRF: csrf, Email: email}))
		return
	}
	http.SetCookie(w, p.cookie(SessionCookie, id, 0))
	http.SetCookie(w, p.cookie(preCookie, "", -1))
	formpage.SetHeaders(w.Header())
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}

func (p *Pages) logout(w http.ResponseWriter, r *http.Request, id string, _ store.Operator, v view) {
	if err := p.id.OperatorLogout(r.Context(), id); err != nil {
		p.render(w, p.failure(r, err, view{}))
		return
	}
	http.SetCookie(w, p.cookie(SessionCookie, "", -1))
	formpage.SetHeaders(w.Header())
	http.Redirect(w, r, "/admin/login/", http.StatusSeeOther)
}

// --- pages ---

func (p *Pages) overview(w http.ResponseWriter, r *http.Request, _ string, _ store.Operator, v view) {
	v.Title, v.Page = "Overview", "overview"
	violations, err := p.svc.CheckLedger(r.Context())
	if err != nil {
		p.render(w, p.failure(r, err, view{}))
		return
	}
	v.LedgerOK = len(violations) == 0
	for _, x := range violations {
		v.Violations = append(v.Violations, x.String())
	}
	if v.Queue, err = p.id.SearchMerchants(r.Context(), "", store.KYCSubmitted); err != nil {
		p.render(w, p.failure(r, err, view{}))
		return
	}
	p.render(w, v)
}

func (p *Pages) merchants(w http.ResponseWriter, r *http.Request, _ string, _ store.Operator, v view) {
	if v.Query == "" {
		v.Query = r.URL.Query().Get("q")
	}
	v.Title, v.Page = "Merchants", "merchants"
	list, err := p.id.SearchMerchants(r.Context(), v.Query, "")
	if err != nil {
		p.render(w, p.failure(r, err, view{}))
		return
	}
	for _, m := range list {
		row := merchantRow{MerchantSummary: m}
		if m.KYC != store.KYCNone {
			sub, err := p.id.MerchantKYC(r.Context(), m.ID)
			if err != nil {
				p.render(w, p.failure(r, err, view{}))
				return
			}
			row.Details, row.Documents = sub.Details, sub.Documents
		}
		v.Merchants = append(v.Merchants, row)
	}
	p.render(w, v)
}

func (p *Pages) kycDocument(w http.ResponseWriter, r *http.Request, _ string, o store.Operator, v view) {
	idx := r.PathValue("merchantIdx")
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var d store.KYCDocument
	if err == nil {
		d, err = p.id.KYCDocument(r.Context(), identity.ConsoleOperator(o), idx, id)
	} else {
		err = fault.NotFound()
	}
	if err != nil {
		if fault.AsError(err).Kind == fault.KindNotFound {
			v.Status, v.Title, v.Message = http.StatusNotFound, "Not found", "There is no such KYC document."
			p.render(w, v)
			return
		}
		p.render(w, p.failure(r, err, view{}))
		return
	}
	ext := map[string]string{"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}[d.ContentType]
	formpage.SetHeaders(w.Header())
	h := w.Header()
	h.Set("Content-Type", d.ContentType)
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="kyc-%s-%d%s"`, safeName(idx), d.ID, ext))
	h.Set("Content-Length", strconv.Itoa(len(d.Data)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(d.Data)
}

// safeName keeps only letters, digits, '-' and '_' of s, for a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 128 && (r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return r
		}
		return -1
	}, s)
}

func (p *Pages) kyc(w http.ResponseWriter, r *http.Request, id string, o store.Operator, v view) {
	v.Query = r.PostFormValue("q")
	decision := r.PostFormValue("decision")
	if decision != "approve" && decision != "reject" {
		p.failed(w, r, id, o, fault.FieldError("decision", "Choose approve or reject."), v, p.merchants)
		return
	}
	state := store.KYCApproved
	if decision == "reject" {
		state = store.KYCRejected
	}
	m, err := p.id.SetKYC(r.Context(), identity.ConsoleOperator(o), r.PostFormValue("merchant"), state, r.PostFormValue("reason"))
	if err != nil {
		p.failed(w, r, id, o, err, v, p.merchants)
		return
	}
	v.Notice = "KYC of " + m.Name + " is now " + string(m.KYC) + "."
	p.merchants(w, r, id, o, v)
}

func (p *Pages) consumers(w http.ResponseWriter, r *http.Request, _ string, _ store.Operator, v view) {
	if v.Query == "" {
		v.Query = r.URL.Query().Get("q")
	}
	v.Title, v.Page, v.Books = "Wallets", "consumers", []ledger.Book{ledger.Test, ledger.Live}
	list, err := p.id.SearchConsumers(r.Context(), v.Query)
	if err != nil {
		p.render(w, p.failure(r, err, view{}))
		return
	}
	for _, c := range list {
		row := consumerRow{Consumer: c, Lock: p.id.LockText(c)}
		t, _ := p.svc.WalletBalance(r.Context(), c.Mobile, ledger.Test)
		l, _ := p.svc.WalletBalance(r.Context(), c.Mobile, ledger.Live)
		row.Test, row.Live = t.String(), l.String()
		v.Consumers = append(v.Consumers, row)
	}
	p.render(w, v)
}

func (p *Pages) topup(w http.ResponseWriter, r *http.Request, id string, o store.Operator, v view) {
	v.Query = r.PostFormValue("q")
	mobile, book := r.PostFormValue("mobile"), ledger.Book(r.PostFormValue("book"))
	amount, err := money.Parse(strings.TrimSpace(r.PostFormValue("amount")))
	if err != nil {
		p.failed(w, r, id, o, fault.FieldError("amount", "Enter the amount in paisa, a whole number."), v, p.consumers)
		return
	}
	bal, err := p.svc.Topup(r.Context(), identity.ConsoleOperator(o), mobile, book, amount)
	if err != nil {
		p.failed(w, r, id, o, err, v, p.consumers)
		return
	}
	v.Notice = "Credited " + amount.String() + " to " + mobile + " (" + string(book) + " book); balance " + bal.String() + "."
	p.consumers(w, r, id, o, v)
}

func (p *Pages) unlock(w http.ResponseWriter, r *http.Request, id string, o store.Operator, v view) {
	v.Query = r.PostFormValue("q")
	mobile := r.PostFormValue("mobile")
	if err := p.id.UnlockConsumer(r.Context(), identity.ConsoleOperator(o), mobile); err != nil {
		p.failed(w, r, id, o, err, v, p.consumers)
		return
	}
	v.Notice = "The wallet " + mobile + " is unlocked; its MPIN is unchanged."
	p.consumers(w, r, id, o, v)
}

func (p *Pages) audit(w http.ResponseWriter, r *http.Request, _ string, _ store.Operator, v view) {
	v.Title, v.Page = "Audit log", "audit"
	list, err := p.id.AuditLog(r.Context())
	if err != nil {
		p.render(w, p.failure(r, err, view{}))
		return
	}
	for _, e := range list {
		v.Audit = append(v.Audit, auditRow{AuditEntry: e, When: e.At.UTC().Format("2006-01-02 15:04:05Z")})
	}
	p.render(w, v)
}

// failed shows err on the page again (the generic error page for a 500).
func (p *Pages) failed(w http.ResponseWriter, r *http.Request, id string, o store.Operator, err error, v view, again handler) {
	if v = p.failure(r, err, v); v.Status == http.StatusInternalServerError {
		p.render(w, v)
		return
	}
	again(w, r, id, o, v)
}

// --- sessions and CSRF ---

func (p *Pages) session(r *http.Request) (string, store.Operator, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return "", store.Operator{}, &fault.Error{Kind: fault.KindUnauthorized}
	}
	o, err := p.id.SessionOperator(r.Context(), c.Value)
	return c.Value, o, err
}

// signedIn is the view of every signed-in page.
func (p *Pages) signedIn(id string, o store.Operator) view {
	return view{Status: http.StatusOK, CSRF: p.id.CSRFToken("operator:" + id), Operator: o.Email}
}

// toLogin answers a request without a valid session: 303 to /admin/login/.
func (p *Pages) toLogin(w http.ResponseWriter, r *http.Request, err error) {
	if e := fault.AsError(err); e.Kind != fault.KindUnauthorized {
		p.render(w, p.failure(r, err, view{}))
		return
	}
	if _, cerr := r.Cookie(SessionCookie); cerr == nil {
		http.SetCookie(w, p.cookie(SessionCookie, "", -1))
	}
	formpage.SetHeaders(w.Header())
	http.Redirect(w, r, "/admin/login/", http.StatusSeeOther)
}

func (p *Pages) sessionGet(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, o, err := p.session(r)
		if err != nil {
			p.toLogin(w, r, err)
			return
		}
		h(w, r, id, o, p.signedIn(id, o))
	})
}

// sessionPost checks a signed-in form POST: session, then CSRF token.
func (p *Pages) sessionPost(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, formpage.MaxForm)
		id, o, err := p.session(r)
		if err != nil {
			p.toLogin(w, r, err)
			return
		}
		if err := r.ParseForm(); err != nil || !hmac.Equal([]byte(p.id.CSRFToken("operator:"+id)), []byte(r.PostFormValue("csrf"))) {
			p.refuse(w, err)
			return
		}
		h(w, r, id, o, p.signedIn(id, o))
	})
}

// anonPost checks the log-in form POST against the pre-session cookie.
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

// preToken returns the log-in form's CSRF token, setting the pre-session
// cookie it derives from if r has none.
func (p *Pages) preToken(w http.ResponseWriter, r *http.Request) string {
	return p.pre().Issue(w, r)
}

// pre is the CSRF protection of the signed-out forms.
func (p *Pages) pre() formpage.PreSession {
	return formpage.PreSession{Cookie: preCookie, Purpose: "operator-pre:", Token: p.id.CSRFToken,
		Cookies: formpage.Cookies{Path: cookiePath, SameSite: http.SameSiteStrictMode, Secure: p.secure}}
}

// cookie is a Path=/admin/, HttpOnly, SameSite=Strict cookie, Secure
// behind https; maxAge -1 deletes it.
func (p *Pages) cookie(name, value string, maxAge int) *http.Cookie {
	return formpage.Cookies{Path: cookiePath, SameSite: http.SameSiteStrictMode, Secure: p.secure}.Cookie(name, value, maxAge)
}

// failure renders err over v: the service's message with 400 (429 when
// sign-in is locked, 404 for an unknown subject), or a generic 500 logged.
func (p *Pages) failure(r *http.Request, err error, v view) view {
	if pr, ok := formpage.ProblemOf(err); ok {
		v.Status, v.Error, v.Errors = pr.Status, pr.Detail, append(v.Errors, pr.Fields...)
		return v
	}
	p.log.ErrorContext(r.Context(), "console page failed", "err", err)
	return view{Status: http.StatusInternalServerError, Title: formpage.UnavailableTitle, Message: formpage.UnavailableMessage}
}

// render writes v with the security headers.
func (p *Pages) render(w http.ResponseWriter, v view) {
	formpage.Render(w, p.log, "a console page", p.tmpl, v.Status, v)
}
