// Package web serves Thaili's hosted ePayment page (docs/khalti.md §3.2 and §3.3):
// a server-rendered form where the payer signs in with mobile and MPIN,
// enters the confirmation code sent to the phone (or asks for it again),
// or cancels, and is then sent back to the merchant's return_url. It needs
// no JavaScript and no external asset. It also serves Thaili's favicon,
// which every page links as /static/favicon.svg.
package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/formpage"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/lockout"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/phone"
	"github.com/thaili/thaili/internal/store"
)

//go:embed assets/page.html assets/thaili.css assets/countdown.js assets/favicon.svg
var assets embed.FS

// Payments is what the page needs of the payment service
// (*payment.Service): the ePayment's hosted-page steps and the rules they
// follow.
type Payments interface {
	EPaymentForPage(ctx context.Context, pidx string) (payment.Transaction, error)
	StartEPayment(ctx context.Context, pidx, mobile, mpin, browser string) (payment.Transaction, error)
	CompleteEPayment(ctx context.Context, pidx, code, browser string) (payment.Transaction, error)
	ResendEPaymentCode(ctx context.Context, pidx, browser string) (payment.Transaction, error)
	CancelEPayment(ctx context.Context, pidx, browser string) (payment.Transaction, error)
	Config() payment.Config
}

// Identity is what the page needs of the identity service
// (*identity.Service): the merchant's redirect signing key, and the
// MPIN rules it tells the payer.
type Identity interface {
	RedirectKey(ctx context.Context, merchantID int64, book ledger.Book) ([]byte, error)
	Config() identity.Config
}

// Options configure Pages.
type Options struct {
	Service Payments
	// Identity finds redirect signing keys and says the MPIN rules.
	Identity Identity
	Log      *slog.Logger
	// Key is the secret the CSRF tokens are derived from (the server
	// secret); a purpose-specific subkey is derived from it.
	Key []byte
	// Now is the clock for the expiry text; time.Now if nil.
	Now func() time.Time
	// SignRedirects adds signature and signed_field_names to the
	// redirects to return_url (see payment.SignRedirect).
	SignRedirects bool
	// PublicURL decides whether the page's cookie is Secure (an https
	// URL).
	PublicURL string
	// Home serves GET / without a pidx (internal/home); nil answers it
	// as a payment that is not found.
	Home http.Handler
	// Sandbox says the sandbox's test payers exist (payment.Seed ran on
	// this database): a test payment's page then lists them with their
	// MPIN. Without it a test payment's page shows only the test code.
	Sandbox bool
}

// Pages serves the hosted payment page.
type Pages struct {
	svc     Payments
	id      Identity
	log     *slog.Logger
	key     []byte
	now     func() time.Time
	tmpl    *template.Template
	css     []byte
	js      []byte // the expiry countdown
	icon    []byte // the favicon
	sign    bool   // sign the redirects to return_url
	sandbox bool   // the sandbox's test payers exist
	cookies formpage.Cookies
	home    http.Handler // GET / without a pidx
}

// browserCookie names the browser on the hosted page: its forms' CSRF
// tokens are bound to it, and a payment to the browser that signed in to
// pay it (payment.BoundElsewhere).
const browserCookie = "thaili_pay"

// New builds the pages from their embedded template and stylesheet.
func New(o Options) (*Pages, error) {
	tmpl, err := template.ParseFS(assets, "assets/page.html")
	if err != nil {
		return nil, err
	}
	css, err := assets.ReadFile("assets/thaili.css")
	if err != nil {
		return nil, err
	}
	js, err := assets.ReadFile("assets/countdown.js")
	if err != nil {
		return nil, err
	}
	icon, err := assets.ReadFile("assets/favicon.svg")
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, o.Key)
	mac.Write([]byte("thaili hosted page csrf v1"))
	p := &Pages{svc: o.Service, id: o.Identity, log: o.Log, key: mac.Sum(nil), now: o.Now, tmpl: tmpl, css: css, js: js, icon: icon,
		sign: o.SignRedirects, sandbox: o.Sandbox, home: o.Home,
		cookies: formpage.Cookies{Path: "/", SameSite: http.SameSiteLaxMode, Secure: strings.HasPrefix(strings.ToLower(o.PublicURL), "https://")}}
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return p, nil
}

// Step names which form the page shows.
const (
	stepSignIn = "signin"
	stepOTP    = "otp"
	stepClosed = "closed"
	stepResend = "resend" // a request for a new code; the page then shows the code form
)

// view is the template's data.
type view struct {
	Status     int
	Title      string
	Found      bool
	Merchant   string
	Order      string
	Amount     string
	Expires    string
	ExpiresAt  string // RFC 3339, for the countdown script
	Test       bool
	TestHelp   *testHelp // test mode: what to pay with; nil for live payments
	Pidx       string
	Token      string
	Step       string
	Notice     string
	Message    string
	Errors     []string // a refusal, in the page's words (refusalOf)
	Tries      string   // how many tries are left, and what happens after the last
	Locked     bool     // the payer's wallet is locked: link to the MPIN reset
	Mobile     string   // sign-in: as typed; code step: masked
	CodeLife   string   // code step: how long the code is good for
	ReturnLink string
	returnURL  string
	retryAfter time.Duration // a throttled client's wait (Retry-After)
}

// testHelp is what a test payment's page tells whoever tries it: the
// sandbox's payers and MPIN (when they were seeded) and the test book's
// fixed code, all from internal/payment (docs/README.md's sandbox table).
type testHelp struct {
	Payer       string // one ordinary test payer, to copy
	First, Last string // the range of ordinary test payers; "" without the sandbox
	MPIN        string
	Code        string
	Scenarios   []scenarioPayer
}

// scenarioPayer is a sandbox payer whose test payments take one branch.
type scenarioPayer struct{ Mobile, What string }

// Payment is GET /?pidx= and /wallet/?pidx=: the payment's summary and
// the form for its current step. Other query parameters are ignored. It
// gives the browser its page cookie if it has none. / without a pidx is
// Options.Home, the home page.
func (p *Pages) Payment() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pidx := r.URL.Query().Get("pidx")
		if pidx == "" && p.home != nil && r.URL.Path == "/" {
			p.home.ServeHTTP(w, r)
			return
		}
		if pidx == "" {
			p.render(w, notFound())
			return
		}
		t, err := p.svc.EPaymentForPage(r.Context(), pidx)
		if err != nil {
			p.render(w, p.failure(r, err))
			return
		}
		p.render(w, p.viewOf(t, "", p.browserOf(w, r)))
	})
}

// SignIn is POST /pay/{pidx}/signin: mobile and MPIN; on success the
// confirmation code form.
func (p *Pages) SignIn() http.Handler {
	return p.post(func(w http.ResponseWriter, r *http.Request, pidx string, b browser) {
		mobile := strings.TrimSpace(r.PostFormValue("mobile"))
		t, err := p.svc.StartEPayment(r.Context(), pidx, mobile, r.PostFormValue("mpin"), b.id)
		if err != nil {
			v := p.retry(r, pidx, err, stepSignIn, b)
			if v.Step == stepSignIn {
				v.Mobile = mobile
			}
			p.render(w, v)
			return
		}
		v := p.viewOf(t, stepOTP, b)
		v.Notice = p.codeSent(t, "We sent a confirmation code to your mobile.")
		p.render(w, v)
	})
}

// Confirm is POST /pay/{pidx}/confirm: the code pays (the MPIN was
// checked at sign-in, in this browser: payment.CompleteEPayment); success
// (or a repeat of it, which never charges again) redirects to return_url.
func (p *Pages) Confirm() http.Handler {
	return p.post(func(w http.ResponseWriter, r *http.Request, pidx string, b browser) {
		t, err := p.svc.CompleteEPayment(r.Context(), pidx, strings.TrimSpace(r.PostFormValue("code")), b.id)
		if err != nil {
			p.render(w, p.retry(r, pidx, err, stepOTP, b))
			return
		}
		p.redirect(w, r, t)
	})
}

// Resend is POST /pay/{pidx}/resend, "Send the code again": a new code
// to the payer who signed in in this browser (payment.ResendEPaymentCode),
// and the code form again with a notice.
func (p *Pages) Resend() http.Handler {
	return p.post(func(w http.ResponseWriter, r *http.Request, pidx string, b browser) {
		t, err := p.svc.ResendEPaymentCode(r.Context(), pidx, b.id)
		if err != nil {
			p.render(w, p.retry(r, pidx, err, stepResend, b))
			return
		}
		v := p.viewOf(t, stepOTP, b)
		v.Notice = p.codeSent(t, "We sent a new confirmation code to "+phone.Mask(t.Consumer.Mobile)+". Only the newest code works.")
		p.render(w, v)
	})
}

// codeSent is the notice after a code was sent: live, sent; in the test
// book no SMS is sent, and the code is the fixed one the page shows.
func (p *Pages) codeSent(t payment.Transaction, live string) string {
	if t.Payment.Book == ledger.Test {
		return "Test mode sends no SMS: the code is " + p.svc.Config().TestOTP + "."
	}
	return live
}

// Cancel is POST /pay/{pidx}/cancel: the payment becomes User canceled
// and the payer returns to return_url.
func (p *Pages) Cancel() http.Handler {
	return p.post(func(w http.ResponseWriter, r *http.Request, pidx string, b browser) {
		t, err := p.svc.CancelEPayment(r.Context(), pidx, b.id)
		if err != nil {
			p.render(w, p.retry(r, pidx, err, "", b))
			return
		}
		p.redirect(w, r, t)
	})
}

// CSS is GET /static/thaili.css, the embedded stylesheet.
func (p *Pages) CSS() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Write(p.css)
	})
}

// Countdown is GET /static/countdown.js, the page's only script.
func (p *Pages) Countdown() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Write(p.js)
	})
}

// Favicon is GET /static/favicon.svg and /favicon.ico: Thaili's icon,
// which every page links (<link rel="icon" href="/static/favicon.svg">);
// /favicon.ico answers browsers and tools that ask for it unprompted.
func (p *Pages) Favicon() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		// An SVG opened on its own may not run script or load anything.
		w.Header().Set("Content-Security-Policy", "default-src 'none'")
		w.Write(p.icon)
	})
}

// browser is the hosted page's browser: its cookie, and the opaque id
// the service binds payments to (a hash of the cookie).
type browser struct{ cookie, id string }

// browserOf returns r's browser, giving it a new cookie if it has none.
func (p *Pages) browserOf(w http.ResponseWriter, r *http.Request) browser {
	if c, err := r.Cookie(browserCookie); err == nil && validCookie(c.Value) {
		return newBrowser(c.Value)
	}
	var b [32]byte
	rand.Read(b[:])
	v := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, p.cookies.Cookie(browserCookie, v, 0))
	return newBrowser(v)
}

func newBrowser(cookie string) browser {
	h := sha256.Sum256([]byte(cookie))
	return browser{cookie: cookie, id: hex.EncodeToString(h[:])}
}

func validCookie(v string) bool { return len(v) >= 32 && len(v) <= 64 }

// post checks a form POST for the path's pidx: the browser's cookie and
// the CSRF token bound to it and the pidx. A post without the cookie, or
// with a token from another browser's page, is refused: a page on
// another site cannot post for the payer, and a stranger who knows the
// pidx posts as a browser of its own.
func (p *Pages) post(h func(w http.ResponseWriter, r *http.Request, pidx string, b browser)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, formpage.MaxForm)
		pidx := r.PathValue("pidx")
		c, cerr := r.Cookie(browserCookie)
		if err := r.ParseForm(); formpage.TooLarge(err) {
			p.render(w, view{Status: http.StatusRequestEntityTooLarge, Title: "Form too large", Step: stepClosed,
				Message: formpage.MsgTooLarge})
			return
		} else if err != nil || cerr != nil || !validCookie(c.Value) || !p.validToken(pidx, c.Value, r.PostFormValue("csrf")) {
			p.render(w, view{Status: http.StatusForbidden, Title: "Request refused", Step: stepClosed,
				Message: "This form has expired or did not come from this page. Open the payment link again."})
			return
		}
		h(w, r, pidx, newBrowser(c.Value))
	})
}

// token is the CSRF token of pidx's forms in the browser with cookie:
// an HMAC of both.
func (p *Pages) token(pidx, cookie string) string {
	mac := hmac.New(sha256.New, p.key)
	mac.Write([]byte(pidx))
	mac.Write([]byte{0})
	mac.Write([]byte(cookie))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func (p *Pages) validToken(pidx, cookie, got string) bool {
	return hmac.Equal([]byte(p.token(pidx, cookie)), []byte(got))
}

// retry renders a refused POST: the refusal (refusalOf) over the form
// the payment's state calls for. A sign-in that was refused keeps the
// sign-in form; after a refused code or a refused request for a new one
// the payment's state decides (the code form while the code is fresh,
// the sign-in form when nobody signed in or the code expired, the closed
// page when it can no longer be paid or is being paid elsewhere).
func (p *Pages) retry(r *http.Request, pidx string, err error, step string, b browser) view {
	e := fault.AsError(err)
	if e.Kind == fault.KindNotFound || e.Kind == fault.KindInternal {
		return p.failure(r, err)
	}
	t, lerr := p.svc.EPaymentForPage(r.Context(), pidx)
	if lerr != nil {
		return p.failure(r, lerr)
	}
	force := ""
	if step == stepSignIn {
		force = stepSignIn
	}
	v := p.viewOf(t, force, b)
	ref := p.refusalOf(e, step)
	v.Status, v.retryAfter = ref.status, ref.retryAfter
	v.Errors, v.Tries, v.Locked = ref.text, ref.tries, ref.locked
	if v.Step == stepClosed && len(v.Errors) == 1 && v.Errors[0] == v.Message && v.Tries == "" {
		v.Errors = nil // the closed page already says it
	}
	return v
}

// refusal is a service's refusal as the page words it.
type refusal struct {
	status     int
	text       []string
	tries      string
	locked     bool
	retryAfter time.Duration
}

// refusalOf words a refusal at step for the payer. It is the one place
// the page reads a service error, by its kind, fields and tries, never
// by its message: the messages are Khalti's wire words ("Mobile or pin
// invalid.", "Khalti PIN"), which the API keeps, while the page says
// "MPIN" and says what the tries left lead to. The status is the API's
// for the same error (fault.Kind.Status).
func (p *Pages) refusalOf(e *fault.Error, step string) refusal {
	ref := refusal{status: e.Kind.Status()}
	switch e.Kind {
	case fault.KindThrottled:
		ref.retryAfter = e.RetryAfter
		secs := int64((e.RetryAfter + time.Second - 1) / time.Second)
		if step == stepResend {
			ref.text = []string{fmt.Sprintf("We sent you a code a moment ago. You can ask for another in %d seconds.", secs)}
		} else {
			ref.text = []string{fmt.Sprintf("Too many tries from your network. Try again in %d seconds.", secs)}
		}
		return ref
	case fault.KindLocked:
		ref.locked = true
		if e.LockedUntil.IsZero() {
			ref.text = []string{"Your wallet is locked for payments after wrong MPINs. Reset your MPIN to unlock it."}
		} else {
			mins := max(int64((e.LockedUntil.Sub(p.now())+time.Minute-1)/time.Minute), 1)
			ref.text = []string{fmt.Sprintf("Your wallet is locked for payments after %d wrong MPINs in a row. Try again in %s, or reset your MPIN to unlock it now.",
				p.id.Config().MaxMPINTries, plural(mins, "minute"))}
		}
		return ref
	}
	if e.TriesRemaining != "" { // a wrong MPIN (sign-in) or a wrong code, counted
		left := e.TriesRemaining
		if step == stepSignIn {
			ref.text = []string{"Wrong mobile number or MPIN."}
			ref.tries = fmt.Sprintf("%s left. %d wrong MPINs in a row lock your wallet for payments (for %d minutes the first time).",
				tries(left), p.id.Config().MaxMPINTries, int(lockout.Default.First/time.Minute))
		} else {
			ref.text = []string{"Wrong confirmation code."}
			if left != "0" {
				ref.tries = fmt.Sprintf("%s left. After %d wrong codes this payment stops, and you start again from the shop.",
					tries(left), p.svc.Config().MaxOTPTries)
			}
		}
		return ref
	}
	if e.Detail != "" {
		ref.text = append(ref.text, e.Detail)
	}
	fields := make([]string, 0, len(e.Fields))
	for f := range e.Fields {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		if f == "transaction_pin" || f == "mpin" { // Khalti's words: "Khalti PIN must be 4 digits long."
			ref.text = append(ref.text, "Enter your 4-digit MPIN.")
			continue
		}
		ref.text = append(ref.text, e.Fields[f]...)
	}
	return ref
}

// tries is "1 try" or "2 tries"; n is a count as the service gives it.
func tries(n string) string {
	if n == "1" {
		return "1 try"
	}
	return n + " tries"
}

// plural is "1 minute" or "30 minutes".
func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// failure is the page for a payment that cannot be shown.
func (p *Pages) failure(r *http.Request, err error) view {
	e := fault.AsError(err)
	if e.Kind == fault.KindNotFound {
		return notFound()
	}
	p.log.ErrorContext(r.Context(), "hosted page failed", "err", err)
	return view{Status: http.StatusInternalServerError, Title: "Something went wrong", Step: stepClosed,
		Message: "The payment page is not available right now. Please try again shortly."}
}

func notFound() view {
	return view{Status: http.StatusNotFound, Title: "Payment not found", Step: stepClosed,
		Message: "This payment link is not valid. Check the link or start the payment again from the shop."}
}

// viewOf describes t to browser b; step forces a form when the payment
// is payable, otherwise the step follows from its state.
func (p *Pages) viewOf(t payment.Transaction, step string, b browser) (v view) {
	pay := t.Payment
	now := p.now()
	v = view{Status: http.StatusOK, Title: "Pay " + t.Merchant.Name, Found: true, Merchant: t.Merchant.Name,
		Order: pay.PurchaseOrderName, Amount: pay.Amount.String(), Test: pay.Book == ledger.Test,
		Pidx: pay.Token, Token: p.token(pay.Token, b.cookie), returnURL: pay.ReturnURL}
	defer func() {
		if v.Test && (v.Step == stepSignIn || v.Step == stepOTP) {
			v.TestHelp = p.testHelp() // only where it helps: a form to pay with
		}
	}()
	switch {
	case pay.State == store.Initiated && payment.BoundElsewhere(pay, b.id, now):
		v.Title, v.Message = "Being paid elsewhere", payment.MsgOtherBrowser
		v.Expires = expiresIn(pay.ExpiresAt.Sub(now))
		v.ExpiresAt = pay.ExpiresAt.UTC().Format(time.RFC3339)
		v.Step = stepClosed
		return v
	}
	switch pay.State {
	case store.Initiated:
		v.Expires = expiresIn(pay.ExpiresAt.Sub(now))
		v.ExpiresAt = pay.ExpiresAt.UTC().Format(time.RFC3339)
		switch {
		case step != "":
			v.Step = step
		case pay.ConsumerID != 0 && pay.OTPHash != "" && now.Before(pay.OTPExpiresAt):
			v.Step = stepOTP
		default:
			v.Step = stepSignIn
		}
		if v.Step == stepOTP {
			if t.Consumer.Mobile != "" {
				v.Mobile = phone.Mask(t.Consumer.Mobile)
			}
			v.CodeLife = codeLife(pay.OTPExpiresAt.Sub(now))
		}
		return v
	case store.Completed, store.PartiallyRefunded, store.Refunded:
		v.Title, v.Message = "Already paid", "This payment is already paid."
		v.ReturnLink = returnURL(t, true)
	case store.Pending:
		v.Title, v.Message = "Payment pending", "This payment is paid and being processed."
		v.ReturnLink = returnURL(t, true)
	case store.Failed:
		v.Status, v.Title, v.Message = http.StatusGone, "Payment failed", "This payment failed. Start the payment again from the shop."
	case store.Expired:
		v.Status, v.Title, v.Message = http.StatusGone, "Link expired", "This payment link has expired. Start the payment again from the shop."
	case store.UserCanceled:
		v.Status, v.Title, v.Message = http.StatusGone, "Payment canceled", "This payment was canceled."
	default:
		v.Status, v.Title, v.Message = http.StatusGone, "Payment stopped", "This payment can no longer be paid: the confirmation code was entered wrongly too many times. Start the payment again from the shop."
	}
	v.Step = stepClosed
	return v
}

// testHelp is what a test payment's page shows: the test book's code
// always, the sandbox's payers and their MPIN only where they were
// seeded. Live payments never get it (viewOf).
func (p *Pages) testHelp() *testHelp {
	h := &testHelp{Code: p.svc.Config().TestOTP}
	if p.sandbox {
		payers := payment.SandboxPayers
		h.Payer, h.First, h.Last, h.MPIN = payers[1%len(payers)], payers[0], payers[len(payers)-1], payment.SandboxMPIN
		h.Scenarios = []scenarioPayer{
			{payment.ScenarioPendingMobile, "pending, then completed"},
			{payment.ScenarioFailMobile, "fails after the code"},
			{payment.ScenarioInsufficientMobile, "insufficient balance"},
			{payment.ScenarioLockedMobile, "wallet locked"},
		}
	}
	return h
}

// codeLife renders how long a code is still good for, e.g. "5 minutes".
func codeLife(d time.Duration) string {
	return plural(max(int64((d+time.Minute-1)/time.Minute), 1), "minute")
}

// expiresIn renders the time left, e.g. "expires in 29 min".
func expiresIn(d time.Duration) string {
	if d <= 0 {
		return "expires now"
	}
	mins := int((d + time.Minute - 1) / time.Minute)
	switch {
	case mins < 120:
		return fmt.Sprintf("expires in %d min", mins)
	case mins < 48*60:
		return fmt.Sprintf("expires in %d h %d min", mins/60, mins%60)
	}
	return fmt.Sprintf("expires in %d days", mins/(24*60))
}

// returnURL is t's return_url with the §5 parameters in the documented
// order, after the return_url's own parameters (except any it repeats).
func returnURL(t payment.Transaction, paid bool) string {
	return buildReturnURL(t.Payment.ReturnURL, returnParams(t, paid))
}

// returnParams are the §5 parameters, in the documented order.
func returnParams(t payment.Transaction, paid bool) [][2]string {
	pay := t.Payment
	amount := fmt.Sprint(int64(pay.Amount))
	var params [][2]string
	switch {
	case paid && pay.State == store.Pending: // held, no transaction yet: as lookup says
		params = [][2]string{{"pidx", pay.Token}, {"txnId", ""}, {"amount", amount}, {"total_amount", amount},
			{"status", string(store.Pending)}, {"mobile", phone.Mask(t.Consumer.Mobile)}, {"tidx", ""},
			{"purchase_order_id", pay.PurchaseOrderID}, {"purchase_order_name", pay.PurchaseOrderName}, {"transaction_id", ""}}
	case paid:
		params = [][2]string{{"pidx", pay.Token}, {"txnId", pay.Idx}, {"amount", amount}, {"total_amount", amount},
			{"status", string(store.Completed)}, {"mobile", phone.Mask(t.Consumer.Mobile)}, {"tidx", pay.Idx},
			{"purchase_order_id", pay.PurchaseOrderID}, {"purchase_order_name", pay.PurchaseOrderName}, {"transaction_id", pay.Idx}}
	default:
		status := store.UserCanceled
		if pay.State == store.Failed {
			status = store.Failed
		}
		params = [][2]string{{"pidx", pay.Token}, {"transaction_id", ""}, {"tidx", ""}, {"amount", amount},
			{"total_amount", amount}, {"mobile", ""}, {"status", string(status)},
			{"purchase_order_id", pay.PurchaseOrderID}, {"purchase_order_name", pay.PurchaseOrderName}}
	}
	return params
}

// buildReturnURL appends params to return_url's own query, dropping any
// own parameter with a §5 name (or, when params are signed, a signature
// parameter's name).
func buildReturnURL(returnURL string, params [][2]string) string {
	u, err := url.Parse(returnURL)
	if err != nil {
		u = &url.URL{Path: returnURL}
	}
	ours := map[string]bool{"txnId": true, "transaction_id": true, "tidx": true, "amount": true, "total_amount": true,
		"mobile": true, "status": true, "pidx": true, "purchase_order_id": true, "purchase_order_name": true}
	for _, kv := range params {
		ours[kv[0]] = true
	}
	var parts []string
	for _, kv := range strings.Split(u.RawQuery, "&") {
		if kv == "" {
			continue
		}
		k, _, _ := strings.Cut(kv, "=")
		if name, err := url.QueryUnescape(k); err == nil && ours[name] {
			continue
		}
		parts = append(parts, kv)
	}
	for _, kv := range params {
		parts = append(parts, url.QueryEscape(kv[0])+"="+url.QueryEscape(kv[1]))
	}
	u.RawQuery = strings.Join(parts, "&")
	u.ForceQuery = false
	return u.String()
}

// redirect sends the payer back to the merchant with the §5 parameters,
// signed when Options.SignRedirects is set.
func (p *Pages) redirect(w http.ResponseWriter, r *http.Request, t payment.Transaction) {
	setHeaders(w.Header(), t.Payment.ReturnURL)
	paid := t.Payment.State != store.UserCanceled && t.Payment.State != store.Failed
	w.Header().Set("Location", p.signedReturnURL(r, t, paid))
	w.WriteHeader(http.StatusSeeOther)
}

// signedReturnURL is returnURL plus, when redirects are signed and the
// merchant's active secret key has a signing key, signature and
// signed_field_names. A key issued before signed redirects existed has
// none: the redirect is then unsigned, as it would be if the lookup of
// the key failed (logged), so a verifying merchant refuses it and falls
// back on lookup, which it must call anyway.
func (p *Pages) signedReturnURL(r *http.Request, t payment.Transaction, paid bool) string {
	params := returnParams(t, paid)
	if !p.sign {
		return buildReturnURL(t.Payment.ReturnURL, params)
	}
	key, err := p.id.RedirectKey(r.Context(), t.Payment.MerchantID, t.Payment.Book)
	if err != nil {
		p.log.ErrorContext(r.Context(), "finding the redirect signing key", "err", err)
	}
	if len(key) > 0 {
		sig, names := payment.SignRedirect(key, params)
		params = append(params, [2]string{"signature", sig}, [2]string{"signed_field_names", names})
	}
	return buildReturnURL(t.Payment.ReturnURL, params)
}

// render writes v with the page's security headers.
func (p *Pages) render(w http.ResponseWriter, v view) {
	var b strings.Builder
	if err := p.tmpl.Execute(&b, v); err != nil {
		p.log.Error("rendering the hosted page", "err", err)
		http.Error(w, "A server error occurred.", http.StatusInternalServerError)
		return
	}
	setHeaders(w.Header(), v.returnURL)
	if v.retryAfter > 0 {
		formpage.SetRetryAfter(w.Header(), v.retryAfter)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(v.Status)
	w.Write([]byte(b.String()))
}

// setHeaders sets the security headers of every page; forms may post to
// this origin and be redirected to the return_url's origin.
func setHeaders(h http.Header, returnURL string) {
	formAction := "'self'"
	if u, err := url.Parse(returnURL); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		!strings.ContainsAny(u.Host, " ;,'\"") {
		formAction += " " + u.Scheme + "://" + u.Host
	}
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action "+formAction+
		"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}
