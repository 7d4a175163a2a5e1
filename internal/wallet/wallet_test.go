package wallet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/site/sitetest"
	"github.com/thaili/thaili/internal/store"
)

// fake is the services behind the pages: one wallet, "Sita", whose
// session is "sess-sita"; it records what the pages asked.
type fake struct {
	sita      store.Consumer
	info      payment.WalletInfo
	walletErr error
	loginErr  error
	resetErr  error
	loggedOut []string
	codesTo   []string
	resets    []string // "challenge code mpin mpin2 keep"
}

func newFake() *fake {
	sita := store.Consumer{ID: 7, Mobile: "9812345670", Name: "<b>Sita</b>", Confirmed: true}
	f := &fake{sita: sita}
	f.info = payment.WalletInfo{Consumer: sita, Balances: map[ledger.Book]money.Paisa{ledger.Test: 123456789, ledger.Live: 50}}
	at := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC) // 11:45 in Nepal
	for i := range 7 {
		p := store.Payment{Idx: fmt.Sprintf("idx%02d", i), Amount: money.Paisa(100000 + i), Book: ledger.Test, State: store.Completed, CreatedAt: at}
		if i == 0 {
			p.Refunded, p.State = 300, store.PartiallyRefunded
		}
		f.info.Payments = append(f.info.Payments, payment.WalletPayment{Payment: p, Merchant: fmt.Sprintf("Shop %d", i)})
	}
	for i := range 4 {
		f.info.Notices = append(f.info.Notices, store.ConsumerNotice{ConsumerID: 7, Text: fmt.Sprintf("notice %d", i), CreatedAt: at})
	}
	return f
}

func (f *fake) CSRFToken(id string) string { return "mac(" + id + ")" }

func (f *fake) SignUpConsumer(_ context.Context, mobile, name, mpin, mpin2 string) (identity.CodeSent, error) {
	if mpin != mpin2 {
		return identity.CodeSent{}, fault.FieldError("mpin2", "The two MPINs do not match.")
	}
	return identity.CodeSent{Challenge: "challenge-1", To: "98XXXXX670"}, nil
}

func (f *fake) ConfirmConsumerPhone(_ context.Context, challenge, code string) (string, error) {
	if challenge == "challenge-1" && code == "123456" {
		return "sess-sita", nil
	}
	return "", fault.DetailError("The code is wrong.")
}

func (f *fake) ConsumerLogin(_ context.Context, mobile, mpin string) (identity.SignIn, error) {
	if f.loginErr != nil {
		return identity.SignIn{}, f.loginErr
	}
	if mobile == f.sita.Mobile && mpin == "2580" {
		return identity.SignIn{Session: "sess-sita"}, nil
	}
	return identity.SignIn{}, &fault.Error{Kind: fault.KindValidation, Detail: fault.MsgMobileOrPin, TriesRemaining: "2"}
}

func (f *fake) ConsumerLogout(_ context.Context, id string) error {
	f.loggedOut = append(f.loggedOut, id)
	return nil
}

func (f *fake) SessionConsumer(_ context.Context, id string) (store.Consumer, error) {
	if id == "sess-sita" {
		return f.sita, nil
	}
	return store.Consumer{}, &fault.Error{Kind: fault.KindUnauthorized}
}

func (f *fake) SendMPINResetCode(_ context.Context, mobile string) (identity.CodeSent, error) {
	f.codesTo = append(f.codesTo, mobile)
	return identity.CodeSent{Challenge: "challenge-2", To: "98XXXXX" + mobile[len(mobile)-3:]}, nil
}

func (f *fake) ResetMPINWithCode(_ context.Context, challenge, code, mpin, mpin2, keep string) error {
	f.resets = append(f.resets, strings.Join([]string{challenge, code, mpin, mpin2, keep}, " "))
	return f.resetErr
}

func (f *fake) Wallet(_ context.Context, id int64) (payment.WalletInfo, error) {
	if id != f.sita.ID {
		return payment.WalletInfo{}, fault.NotFound()
	}
	return f.info, f.walletErr
}

// server is the wallet pages on a mux, as httpserver mounts them.
func server(t *testing.T, f *fake) (http.Handler, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	p, err := New(Options{Service: f, Identity: f, Log: slog.New(slog.NewTextHandler(&logs, nil)), PublicURL: "https://pay.example"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Routes(mux, func(h http.Handler) http.Handler { return h })
	return mux, &logs
}

var (
	sitaCookie  = &http.Cookie{Name: SessionCookie, Value: "sess-sita"}
	sitaToken   = "mac(wallet-session:sess-sita)"
	preCookieOf = &http.Cookie{Name: preCookie, Value: strings.Repeat("p", 43)}
	preToken    = "mac(wallet-pre:" + strings.Repeat("p", 43) + ")"
)

func TestSignedOutGoesToLogIn(t *testing.T) {
	h, _ := server(t, newFake())
	for _, path := range []string{"/me/", "/me/payments/", "/me/notices/"} {
		w := sitetest.Do(h, "GET", path, nil)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/me/login/" {
			t.Errorf("GET %s signed out: %d to %q, want 303 to /me/login/", path, w.Code, w.Header().Get("Location"))
		}
		w = sitetest.Do(h, "GET", path, nil, &http.Cookie{Name: SessionCookie, Value: "ended"})
		if c := sitetest.Cookie(w, SessionCookie); w.Code != http.StatusSeeOther || c == nil || c.MaxAge >= 0 {
			t.Errorf("GET %s with an ended session: %d, cookie %v; want 303 dropping the cookie", path, w.Code, c)
		}
	}
	if w := sitetest.Do(h, "GET", "/me/login/", nil, sitaCookie); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/me/" {
		t.Errorf("log-in form signed in: %d to %q, want 303 to /me/", w.Code, w.Header().Get("Location"))
	}
}

func TestLogIn(t *testing.T) {
	f := newFake()
	h, _ := server(t, f)
	w := sitetest.Do(h, "GET", "/me/login/", nil)
	pre := sitetest.Cookie(w, preCookie)
	if pre == nil || pre.Path != "/" || pre.SameSite != http.SameSiteLaxMode || !pre.HttpOnly || !pre.Secure {
		t.Fatalf("pre-session cookie %+v, want Path=/ SameSite=Lax HttpOnly Secure", pre)
	}
	sitetest.WantPage(t, "log-in form", w, 200, `action="/me/login/"`, `value="mac(wallet-pre:`+pre.Value+`)"`, `<label for="mpin">MPIN</label>`, `href="/static/site.css"`)
	form := url.Values{"mobile": {"9812345670"}, "mpin": {"2580"}}

	// Without the pre-session token: refused before the service is asked.
	f.loginErr = errors.New("must not be asked")
	sitetest.WantPage(t, "log-in without token", sitetest.Do(h, "POST", "/me/login/", form, pre), 403, "Request refused")
	form.Set("csrf", "mac(wallet-session:x)")
	sitetest.WantPage(t, "log-in with a signed-in token", sitetest.Do(h, "POST", "/me/login/", form, pre), 403)
	f.loginErr = nil

	form.Set("csrf", "mac(wallet-pre:"+pre.Value+")")
	w = sitetest.Do(h, "POST", "/me/login/", form, pre)
	s := sitetest.Cookie(w, SessionCookie)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/me/" || s == nil || s.Value != "sess-sita" ||
		s.Path != "/" || s.SameSite != http.SameSiteLaxMode || !s.HttpOnly || !s.Secure {
		t.Fatalf("log-in: %d to %q, session cookie %+v", w.Code, w.Header().Get("Location"), s)
	}
	if c := sitetest.Cookie(w, preCookie); c == nil || c.MaxAge >= 0 {
		t.Errorf("log-in kept the pre-session cookie: %+v", c)
	}
}

// TestErrorStatuses: a page answers a service error with the status the
// API gives it, and the service's message.
func TestErrorStatuses(t *testing.T) {
	f := newFake()
	h, logs := server(t, f)
	login := func(mpin string) *httptest.ResponseRecorder {
		return sitetest.Do(h, "POST", "/me/login/", url.Values{"mobile": {"9812345670"}, "mpin": {mpin}, "csrf": {preToken}}, preCookieOf)
	}
	sitetest.WantPage(t, "wrong MPIN", login("0000"), 400, fault.MsgMobileOrPin, "Tries remaining: 2", `value="9812345670"`)
	f.loginErr = &fault.Error{Kind: fault.KindLocked, Detail: "Your wallet is locked. Try again in 30 minutes."}
	sitetest.WantPage(t, "locked wallet", login("2580"), 400, "Your wallet is locked. Try again in 30 minutes.")
	f.loginErr = &fault.Error{Kind: fault.KindThrottled, Detail: "Too many tries.", RetryAfter: 90 * time.Second}
	w := login("2580")
	sitetest.WantPage(t, "throttled", w, 429, "Too many tries.")
	if w.Header().Get("Retry-After") != "90" {
		t.Errorf("throttled: Retry-After %q, want 90", w.Header().Get("Retry-After"))
	}
	f.loginErr = errors.New("dial tcp 10.0.0.9:5432: connection refused")
	w = login("2580")
	sitetest.WantPage(t, "outage", w, 500, "Something went wrong")
	if strings.Contains(w.Body.String(), "10.0.0.9") || !strings.Contains(logs.String(), "10.0.0.9") {
		t.Errorf("an outage shows its cause or is not logged:\n%s", w.Body)
	}
	f.walletErr = errors.New("disk full")
	sitetest.WantPage(t, "wallet outage", sitetest.Do(h, "GET", "/me/", nil, sitaCookie), 500, "Something went wrong")
	sitetest.WantPage(t, "sign-up mismatch", sitetest.Do(h, "POST", "/join/", url.Values{"mobile": {"9812345670"}, "name": {"Sita"}, "mpin": {"1234"}, "mpin2": {"4321"}, "csrf": {preToken}}, preCookieOf),
		400, "The two MPINs do not match.", `value="Sita"`)
	sitetest.WantPage(t, "wrong code", sitetest.Do(h, "POST", "/join/confirm", url.Values{"mobile": {"9812345670"}, "challenge": {"challenge-1"}, "code": {"000000"}, "csrf": {preToken}}, preCookieOf),
		400, "The code is wrong.", "98XXXXX670", `value="challenge-1"`)
}

func TestSignUp(t *testing.T) {
	h, _ := server(t, newFake())
	sitetest.WantPage(t, "sign-up form", sitetest.Do(h, "GET", "/join/", nil), 200, `action="/join/"`, `<label for="mpin2">`, `<main id="main" class="narrow">`)
	w := sitetest.Do(h, "POST", "/join/", url.Values{"mobile": {"9812345670"}, "name": {"Sita"}, "mpin": {"1234"}, "mpin2": {"1234"}, "csrf": {preToken}}, preCookieOf)
	sitetest.WantPage(t, "code form", w, 200, `action="/join/confirm"`, "We sent a 6-digit code to 98XXXXX670.", `name="challenge" value="challenge-1"`)
	w = sitetest.Do(h, "POST", "/join/confirm", url.Values{"mobile": {"9812345670"}, "challenge": {"challenge-1"}, "code": {"123456"}, "csrf": {preToken}}, preCookieOf)
	if c := sitetest.Cookie(w, SessionCookie); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/me/" || c == nil || c.Value != "sess-sita" {
		t.Fatalf("confirm: %d to %q, cookie %v", w.Code, w.Header().Get("Location"), c)
	}
}

func TestWalletPages(t *testing.T) {
	h, _ := server(t, newFake())
	nav := func(current string) string { return `href="` + current + `" aria-current="page"` }

	w := sitetest.Do(h, "GET", "/me/", nil, sitaCookie)
	sitetest.WantPage(t, "overview", w, 200, nav("/me/"), "&lt;b&gt;Sita&lt;/b&gt;", `<p class="stat balance-test">Rs 12,34,567.89</p>`,
		`<p class="stat balance-live">Rs 0.50</p>`, "2026-03-01 11:45", "notice 2", `id="all-payments">All payments<`, `id="all-notices"`,
		`action="/me/logout/"`, `value="`+sitaToken+`"`, `id="reset-mpin"`)
	body := w.Body.String()
	if strings.Contains(body, "<b>Sita</b>") {
		t.Error("the name is not escaped")
	}
	if n := strings.Count(body, `<tr class="payment">`); n != recentPayments {
		t.Errorf("overview shows %d payments, want the latest %d", n, recentPayments)
	}
	if strings.Contains(body, "Shop 5") || strings.Contains(body, "notice 3") {
		t.Error("overview shows more than the latest payments and notices")
	}
	for _, td := range regexpTD(body) {
		if !strings.Contains(td, "data-label=") {
			t.Errorf("a cell without data-label (rows become cards on phones): %s", td)
		}
	}

	w = sitetest.Do(h, "GET", "/me/payments/", nil, sitaCookie)
	sitetest.WantPage(t, "payments", w, 200, nav("/me/payments/"), "Shop 6", "<code class=\"idx\">idx00</code>", "Rs 1,000.00", "Rs 3.00", "Partially refunded")
	if n := strings.Count(w.Body.String(), `<tr class="payment">`); n != 7 {
		t.Errorf("payments page shows %d payments, want 7", n)
	}
	sitetest.WantPage(t, "notices", sitetest.Do(h, "GET", "/me/notices/", nil, sitaCookie), 200, nav("/me/notices/"), "notice 3", "2026-03-01 11:45")

	f := newFake()
	f.info.Payments, f.info.Notices, f.info.Lock = nil, nil, "locked for payments until the MPIN is reset"
	h2, _ := server(t, f)
	sitetest.WantPage(t, "empty, locked wallet", sitetest.Do(h2, "GET", "/me/", nil, sitaCookie), 200, `id="locked">locked for payments until the MPIN is reset<`,
		"No payments yet.", "Nothing to report.")
}

// regexpTD returns the opening td tags of body.
func regexpTD(body string) []string {
	var tds []string
	for rest := body; ; {
		i := strings.Index(rest, "<td")
		if i < 0 {
			return tds
		}
		j := strings.Index(rest[i:], ">")
		tds = append(tds, rest[i:i+j+1])
		rest = rest[i+j:]
	}
}

func TestSignedInForms(t *testing.T) {
	f := newFake()
	h, _ := server(t, f)
	sitetest.WantPage(t, "logout with a wrong token", sitetest.Do(h, "POST", "/me/logout/", url.Values{"csrf": {"mac(wallet-session:other)"}}, sitaCookie), 403)
	sitetest.WantPage(t, "logout with the pre-session token", sitetest.Do(h, "POST", "/me/logout/", url.Values{"csrf": {preToken}}, sitaCookie, preCookieOf), 403)
	if len(f.loggedOut) != 0 {
		t.Fatal("a refused logout ended the session")
	}

	// The reset, signed in: the code goes to the wallet's own phone,
	// whatever the form says, and the session is kept.
	sitetest.WantPage(t, "reset form", sitetest.Do(h, "GET", "/me/reset/", nil, sitaCookie), 200, `href="/me/reset/" aria-current="page"`, "98XXXXX670")
	w := sitetest.Do(h, "POST", "/me/reset/", url.Values{"csrf": {sitaToken}, "mobile": {"9800000001"}}, sitaCookie)
	sitetest.WantPage(t, "reset code", w, 200, `action="/me/reset/confirm"`, "We sent a 6-digit code to your phone, 98XXXXX670.")
	if len(f.codesTo) != 1 || f.codesTo[0] != "9812345670" {
		t.Fatalf("codes sent to %q, want the signed-in wallet's phone", f.codesTo)
	}
	w = sitetest.Do(h, "POST", "/me/reset/confirm", url.Values{"csrf": {sitaToken}, "challenge": {"challenge-2"}, "code": {"111111"}, "mpin": {"1357"}, "mpin2": {"1357"}}, sitaCookie)
	sitetest.WantPage(t, "reset done", w, 200, "Your new MPIN is set and the wallet is unlocked.", `id="balances"`)
	if len(f.resets) != 1 || f.resets[0] != "challenge-2 111111 1357 1357 sess-sita" {
		t.Fatalf("resets %q", f.resets)
	}

	// Signed out, with the pre-session token.
	sitetest.WantPage(t, "reset form signed out", sitetest.Do(h, "GET", "/me/reset/", nil), 200, `<label for="mobile">Mobile number</label>`)
	w = sitetest.Do(h, "POST", "/me/reset/", url.Values{"csrf": {preToken}, "mobile": {"9800000001"}}, preCookieOf)
	sitetest.WantPage(t, "reset code signed out", w, 200, "If 98XXXXX001 has a wallet, we sent a 6-digit code to it.", `name="mobile" value="9800000001"`)
	f.resetErr = &fault.Error{Kind: fault.KindValidation, Detail: "The code is wrong."}
	sitetest.WantPage(t, "reset with a wrong code", sitetest.Do(h, "POST", "/me/reset/confirm", url.Values{"csrf": {preToken}, "mobile": {"9800000001"}, "challenge": {"challenge-2"}, "code": {"0"}}, preCookieOf),
		400, "The code is wrong.", `value="challenge-2"`)
	f.resetErr = nil
	sitetest.WantPage(t, "reset signed out", sitetest.Do(h, "POST", "/me/reset/confirm", url.Values{"csrf": {preToken}, "mobile": {"9800000001"}, "challenge": {"challenge-2"}}, preCookieOf),
		200, "Log in with it.", `action="/me/login/"`)
	if f.resets[len(f.resets)-1] != "challenge-2    " {
		t.Errorf("a signed-out reset keeps a session: %q", f.resets[len(f.resets)-1])
	}
	sitetest.WantPage(t, "reset without a token", sitetest.Do(h, "POST", "/me/reset/", url.Values{"mobile": {"9800000001"}}, preCookieOf), 403)

	w = sitetest.Do(h, "POST", "/me/logout/", url.Values{"csrf": {sitaToken}}, sitaCookie)
	if c := sitetest.Cookie(w, SessionCookie); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/me/login/" || c == nil || c.MaxAge >= 0 {
		t.Fatalf("logout: %d to %q, cookie %+v", w.Code, w.Header().Get("Location"), c)
	}
	if len(f.loggedOut) != 1 || f.loggedOut[0] != "sess-sita" {
		t.Fatalf("logged out %q", f.loggedOut)
	}
}
