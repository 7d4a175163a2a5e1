// Package console serves the operator console at /admin/ (issue 6): log
// in as an operator (created with `thaili admin create`; never a merchant
// session), the ledger check result and the KYC queue, merchant search
// with KYC approve/reject and each merchant's fee schedules, wallet
// search with top-up (in rupees) and unlock, and the audit log every
// action writes to. Pages are drawn by internal/site in the shared
// layout, need no JavaScript, and keep sessions and CSRF tokens there
// (docs/identity.md, Sessions and form tokens).
package console

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
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
	"github.com/thaili/thaili/internal/site"
	"github.com/thaili/thaili/internal/store"
)

//go:embed assets/*.html
var assets embed.FS

// Cookie names; both are scoped to /admin/ with SameSite=Strict: nothing
// outside the console links into it with a session.
const (
	SessionCookie = "thaili_operator"
	preCookie     = "thaili_operator_pre"
	cookiePath    = "/admin/"
)

// CSRF purposes: a console form's token is never another site's.
const (
	sessionPurpose = "operator:"
	prePurpose     = "operator-pre:"
)

// Operators is what the console asks of identity (identity.Service):
// operator sessions, merchants and their KYC, wallets, the audit log.
type Operators interface {
	CSRFToken(id string) string
	OperatorLogin(ctx context.Context, email, password string) (string, error)
	OperatorLogout(ctx context.Context, id string) error
	SessionOperator(ctx context.Context, id string) (store.Operator, error)
	SearchMerchants(ctx context.Context, q string, kyc store.KYC) ([]store.MerchantSummary, error)
	MerchantKYC(ctx context.Context, merchantID int64) (identity.KYCSubmission, error)
	KYCDocument(ctx context.Context, actor identity.Actor, merchantIdx string, id int64) (store.KYCDocument, error)
	SetKYC(ctx context.Context, actor identity.Actor, merchantRef string, kyc store.KYC, reason string) (store.Merchant, error)
	SearchConsumers(ctx context.Context, q string) ([]store.Consumer, error)
	LockText(c store.Consumer) string
	UnlockConsumer(ctx context.Context, actor identity.Actor, mobile string) error
	AuditLog(ctx context.Context) ([]store.AuditEntry, error)
}

// Payments is what the console asks of payment (payment.Service): the
// ledger check, wallet balances and top-ups, and fee schedules.
type Payments interface {
	CheckLedger(ctx context.Context) ([]ledger.Violation, error)
	WalletBalance(ctx context.Context, mobile string, book ledger.Book) (money.Paisa, error)
	Topup(ctx context.Context, actor identity.Actor, mobile string, book ledger.Book, amount money.Paisa) (money.Paisa, error)
	MerchantDetails(ctx context.Context, ref string) (payment.MerchantInfo, error)
	SetFeeSchedule(ctx context.Context, actor identity.Actor, merchantRef string, book ledger.Book, tiers []store.FeeTier) (store.Merchant, error)
}

// Options configure Pages.
type Options struct {
	Service  Payments
	Identity Operators
	Log      *slog.Logger
	// PublicURL decides whether cookies are Secure (an https URL).
	PublicURL string
}

// Pages serves the console.
type Pages struct {
	svc  Payments
	id   Operators
	site *site.Site[store.Operator]
}

// New builds the console from its embedded templates.
func New(o Options) (*Pages, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	files, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, err
	}
	rd, err := site.NewRenderer(site.Chrome{Brand: "Thaili console", Home: "/admin/", LogoutPath: "/admin/logout/",
		SignedOut: []site.Link{{Label: "Log in", URL: "/admin/login/"}}}, log, files, funcs)
	if err != nil {
		return nil, err
	}
	p := &Pages{svc: o.Service, id: o.Identity}
	// The site asks identity through p at each request, so that pages
	// can be built (and their routes registered) without a service.
	p.site = &site.Site[store.Operator]{
		Name: "console", SessionCookie: SessionCookie, PreCookie: preCookie,
		CookiePath: cookiePath, SameSite: http.SameSiteStrictMode, Secure: site.SecureURL(o.PublicURL),
		SessionPurpose: sessionPurpose, PrePurpose: prePurpose,
		Token:     func(s string) string { return p.id.CSRFToken(s) },
		Lookup:    func(ctx context.Context, id string) (store.Operator, error) { return p.id.SessionOperator(ctx, id) },
		LoginPath: "/admin/login/", Pages: rd, Log: log,
	}
	return p, nil
}

// LoginForm serves GET /admin/login/{$}.
func (p *Pages) LoginForm() http.Handler { return http.HandlerFunc(p.loginForm) }

// Login serves POST /admin/login/{$}.
func (p *Pages) Login() http.Handler { return p.site.AnonPost(p.login) }

// Logout serves POST /admin/logout/{$}.
func (p *Pages) Logout() http.Handler { return p.site.Post(p.logout) }

// Overview serves GET /admin/{$}.
func (p *Pages) Overview() http.Handler { return p.site.Get(p.overview) }

// Merchants serves GET /admin/merchants/{$}.
func (p *Pages) Merchants() http.Handler { return p.site.Get(p.merchants) }

// KYC serves POST /admin/merchants/kyc.
func (p *Pages) KYC() http.Handler { return p.site.Post(p.kyc) }

// Consumers serves GET /admin/consumers/{$}.
func (p *Pages) Consumers() http.Handler { return p.site.Get(p.consumers) }

// Topup serves POST /admin/consumers/topup.
func (p *Pages) Topup() http.Handler { return p.site.Post(p.topup) }

// Unlock serves POST /admin/consumers/unlock.
func (p *Pages) Unlock() http.Handler { return p.site.Post(p.unlock) }

// Audit serves GET /admin/audit/{$}.
func (p *Pages) Audit() http.Handler { return p.site.Get(p.audit) }

// KYCDocument serves GET /admin/kyc/{merchantIdx}/documents/{id}: a
// merchant's KYC document as an attachment.
func (p *Pages) KYCDocument() http.Handler { return p.site.Get(p.kycDocument) }

// session is a signed-in request's session.
type session = site.Session[store.Operator]

// The sections of the navigation.
const (
	navOverview  = "Overview"
	navMerchants = "Merchants"
	navWallets   = "Wallets"
	navAudit     = "Audit log"
)

// frame is the frame of a signed-in page, current marking its section.
func frame(title string, s session, current string) site.Frame {
	f := site.Frame{Title: title, CSRF: s.CSRF, User: s.User.Email}
	for _, l := range []site.Link{{Label: navOverview, URL: "/admin/"}, {Label: navMerchants, URL: "/admin/merchants/"},
		{Label: navWallets, URL: "/admin/consumers/"}, {Label: navAudit, URL: "/admin/audit/"}} {
		l.Current = l.Label == current
		f.Nav = append(f.Nav, l)
	}
	return f
}

// explain puts err on f and reports true; an internal error is logged,
// answered with the generic error page, and reported false.
func (p *Pages) explain(w http.ResponseWriter, r *http.Request, err error, f *site.Frame) bool {
	if p.site.Explain(r, err, f) {
		return true
	}
	p.site.Unavailable(w, r)
	return false
}

// --- sign-in ---

func (p *Pages) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, err := p.site.Session(r); err == nil {
		formpage.SetHeaders(w.Header())
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
		return
	}
	v := &loginView{Frame: site.Frame{Title: "Operator log in", Narrow: true, CSRF: p.site.PreToken(w, r)}}
	p.site.Pages.Render(w, r, "login", v)
}

func (p *Pages) login(w http.ResponseWriter, r *http.Request, csrf string) {
	email := r.PostFormValue("email")
	id, err := p.id.OperatorLogin(r.Context(), email, r.PostFormValue("password"))
	if err != nil {
		v := &loginView{Frame: site.Frame{Title: "Operator log in", Narrow: true, CSRF: csrf}, Email: email}
		if p.explain(w, r, err, &v.Frame) {
			p.site.Pages.Render(w, r, "login", v)
		}
		return
	}
	// The pre-session cookie's token has done its job.
	http.SetCookie(w, formpage.Cookies{Path: cookiePath, SameSite: http.SameSiteStrictMode, Secure: p.site.Secure}.Cookie(preCookie, "", -1))
	p.site.SignIn(w, r, id, "/admin/")
}

func (p *Pages) logout(w http.ResponseWriter, r *http.Request, s session) {
	if err := p.id.OperatorLogout(r.Context(), s.ID); err != nil {
		p.site.Fail(w, r, err)
		return
	}
	p.site.SignOut(w, r, "/admin/login/")
}

// --- overview ---

func (p *Pages) overview(w http.ResponseWriter, r *http.Request, s session) {
	violations, err := p.svc.CheckLedger(r.Context())
	if err != nil {
		p.site.Fail(w, r, err)
		return
	}
	v := &overviewView{Frame: frame("Overview", s, navOverview), LedgerOK: len(violations) == 0}
	for _, x := range violations {
		v.Violations = append(v.Violations, x.String())
	}
	if v.Queue, err = p.id.SearchMerchants(r.Context(), "", store.KYCSubmitted); err != nil {
		p.site.Fail(w, r, err)
		return
	}
	p.site.Pages.Render(w, r, "overview", v)
}

// --- merchants and KYC ---

func (p *Pages) merchants(w http.ResponseWriter, r *http.Request, s session) {
	p.merchantList(w, r, r.URL.Query().Get("q"), frame("Merchants", s, navMerchants))
}

// merchantList shows the merchants matching q in f, which carries what a
// form just did.
func (p *Pages) merchantList(w http.ResponseWriter, r *http.Request, q string, f site.Frame) {
	list, err := p.id.SearchMerchants(r.Context(), q, "")
	if err != nil {
		p.site.Fail(w, r, err)
		return
	}
	v := &merchantsView{Frame: f, Query: q}
	for _, m := range list {
		row := merchantRow{MerchantSummary: m}
		if m.KYC != store.KYCNone {
			sub, err := p.id.MerchantKYC(r.Context(), m.ID)
			if err != nil {
				p.site.Fail(w, r, err)
				return
			}
			row.Details, row.Documents = sub.Details, sub.Documents
		}
		v.Merchants = append(v.Merchants, row)
	}
	p.site.Pages.Render(w, r, "merchants", v)
}

func (p *Pages) kyc(w http.ResponseWriter, r *http.Request, s session) {
	q, f := r.PostFormValue("q"), frame("Merchants", s, navMerchants)
	var state store.KYC
	switch r.PostFormValue("decision") {
	case "approve":
		state = store.KYCApproved
	case "reject":
		state = store.KYCRejected
	default:
		p.explain(w, r, fault.FieldError("decision", "Choose approve or reject."), &f)
		p.merchantList(w, r, q, f)
		return
	}
	m, err := p.id.SetKYC(r.Context(), identity.ConsoleOperator(s.User), r.PostFormValue("merchant"), state, r.PostFormValue("reason"))
	if err != nil {
		if p.explain(w, r, err, &f) {
			p.merchantList(w, r, q, f)
		}
		return
	}
	f.Notice = "KYC of " + m.Name + " is now " + string(m.KYC) + "."
	p.merchantList(w, r, q, f)
}

func (p *Pages) kycDocument(w http.ResponseWriter, r *http.Request, s session) {
	idx := r.PathValue("merchantIdx")
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var d store.KYCDocument
	if err != nil {
		err = fault.NotFound()
	} else {
		d, err = p.id.KYCDocument(r.Context(), identity.ConsoleOperator(s.User), idx, id)
	}
	if err != nil {
		p.site.Fail(w, r, err)
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

// --- wallets ---

func (p *Pages) consumers(w http.ResponseWriter, r *http.Request, s session) {
	p.walletList(w, r, &consumersView{Frame: frame("Wallets", s, navWallets), Query: r.URL.Query().Get("q")})
}

// walletList shows the wallets matching v.Query in v, which carries what
// a form just did.
func (p *Pages) walletList(w http.ResponseWriter, r *http.Request, v *consumersView) {
	list, err := p.id.SearchConsumers(r.Context(), v.Query)
	if err != nil {
		p.site.Fail(w, r, err)
		return
	}
	v.BookChoices = []ledger.Book{ledger.Test, ledger.Live}
	for _, c := range list {
		row := consumerRow{Consumer: c, Lock: p.id.LockText(c)}
		if row.Test, err = p.svc.WalletBalance(r.Context(), c.Mobile, ledger.Test); err == nil {
			row.Live, err = p.svc.WalletBalance(r.Context(), c.Mobile, ledger.Live)
		}
		if err != nil {
			p.site.Fail(w, r, err)
			return
		}
		v.Consumers = append(v.Consumers, row)
	}
	p.site.Pages.Render(w, r, "consumers", v)
}

// msgTopupMinimum is the page's refusal of a top-up of nothing, in
// rupees like the form (the service's own message counts paisa).
const msgTopupMinimum = "Enter an amount of at least Rs 0.01."

func (p *Pages) topup(w http.ResponseWriter, r *http.Request, s session) {
	mobile, book, typed := r.PostFormValue("mobile"), ledger.Book(r.PostFormValue("book")), r.PostFormValue("amount")
	v := &consumersView{Frame: frame("Wallets", s, navWallets), Query: r.PostFormValue("q"), Typed: typedTopup{Mobile: mobile, Amount: typed, Book: book}}
	amount, err := money.ParseRupees(typed)
	switch {
	case err != nil:
		err = fault.FieldError("amount", err.Error())
	case amount < 1:
		err = fault.FieldError("amount", msgTopupMinimum)
	default:
		var bal money.Paisa
		if bal, err = p.svc.Topup(r.Context(), identity.ConsoleOperator(s.User), mobile, book, amount); err == nil {
			v.Typed = typedTopup{}
			v.Notice = "Credited " + amount.String() + " to " + mobile + " (" + string(book) + " book); balance " + bal.String() + "."
		}
	}
	if err != nil && !p.explain(w, r, err, &v.Frame) {
		return
	}
	p.walletList(w, r, v)
}

func (p *Pages) unlock(w http.ResponseWriter, r *http.Request, s session) {
	mobile := r.PostFormValue("mobile")
	v := &consumersView{Frame: frame("Wallets", s, navWallets), Query: r.PostFormValue("q")}
	if err := p.id.UnlockConsumer(r.Context(), identity.ConsoleOperator(s.User), mobile); err != nil {
		if !p.explain(w, r, err, &v.Frame) {
			return
		}
	} else {
		v.Notice = "The wallet " + mobile + " is unlocked; its MPIN is unchanged."
	}
	p.walletList(w, r, v)
}

// --- audit log ---

func (p *Pages) audit(w http.ResponseWriter, r *http.Request, s session) {
	list, err := p.id.AuditLog(r.Context())
	if err != nil {
		p.site.Fail(w, r, err)
		return
	}
	p.site.Pages.Render(w, r, "audit", &auditView{Frame: frame("Audit log", s, navAudit), Entries: list})
}
