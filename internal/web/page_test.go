package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store"
)

const testPidx = "bZQLD9wRVWo4CdESSfuSsB"

var epoch = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// fakePayments is the payment service as the page sees it: one payment,
// whose steps succeed the way the real service's do unless err is set,
// which the next step call returns (and clears).
type fakePayments struct {
	t     payment.Transaction
	err   error
	cfg   payment.Config
	calls []string
}

func newFake(book ledger.Book) *fakePayments {
	cfg := payment.DefaultConfig()
	cfg.TestOTP = "424242" // not the sandbox's: the page must show the service's
	return &fakePayments{cfg: cfg, t: payment.Transaction{
		Merchant: store.Merchant{Name: "Janakpur Weaves"},
		Payment: store.Payment{Token: testPidx, Book: book, State: store.Initiated, Amount: 250000,
			PurchaseOrderName: "Mithila scarf", ReturnURL: "https://shop.example/return", ExpiresAt: epoch.Add(30 * time.Minute)},
	}}
}

func (f *fakePayments) step(name string) error {
	f.calls = append(f.calls, name)
	err := f.err
	f.err = nil
	return err
}

func (f *fakePayments) EPaymentForPage(_ context.Context, pidx string) (payment.Transaction, error) {
	if pidx != f.t.Payment.Token {
		return payment.Transaction{}, fault.NotFound()
	}
	return f.t, nil
}

func (f *fakePayments) StartEPayment(_ context.Context, _, mobile, _, browser string) (payment.Transaction, error) {
	if err := f.step("start"); err != nil {
		return f.t, err
	}
	p := &f.t.Payment
	p.ConsumerID, p.OTPHash, p.OTPExpiresAt, p.Browser = 7, "hash", epoch.Add(f.cfg.OTPLifetime), browser
	f.t.Consumer = store.Consumer{ID: 7, Mobile: mobile}
	return f.t, nil
}

func (f *fakePayments) CompleteEPayment(_ context.Context, _, code, _ string) (payment.Transaction, error) {
	if err := f.step("complete " + code); err != nil {
		return f.t, err
	}
	f.t.Payment.State, f.t.Payment.Idx = store.Completed, "TxnIdx"
	return f.t, nil
}

func (f *fakePayments) ResendEPaymentCode(context.Context, string, string) (payment.Transaction, error) {
	if err := f.step("resend"); err != nil {
		return f.t, err
	}
	f.t.Payment.OTPExpiresAt = epoch.Add(f.cfg.OTPLifetime)
	return f.t, nil
}

func (f *fakePayments) CancelEPayment(context.Context, string, string) (payment.Transaction, error) {
	if err := f.step("cancel"); err != nil {
		return f.t, err
	}
	f.t.Payment.State = store.UserCanceled
	return f.t, nil
}

func (f *fakePayments) Config() payment.Config { return f.cfg }

// fakeIdentity signs no redirects and has the default MPIN rules.
type fakeIdentity struct{}

func (fakeIdentity) RedirectKey(context.Context, int64, ledger.Book) ([]byte, error) { return nil, nil }
func (fakeIdentity) Config() identity.Config                                         { return identity.DefaultConfig() }

// payer is one browser on the hosted page, with its cookie and the last
// page's form token.
type payer struct {
	t      *testing.T
	h      http.Handler
	cookie *http.Cookie
	csrf   string
}

func newPayer(t *testing.T, f *fakePayments, sandbox bool) *payer {
	t.Helper()
	p, err := New(Options{Service: f, Identity: fakeIdentity{}, Key: []byte("server secret"), Now: func() time.Time { return epoch }, Sandbox: sandbox})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Routes(mux, func(h http.Handler) http.Handler { return h })
	return &payer{t: t, h: mux}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *payer) do(r *http.Request) *httptest.ResponseRecorder {
	if b.cookie != nil {
		r.AddCookie(b.cookie)
	}
	w := httptest.NewRecorder()
	b.h.ServeHTTP(w, r)
	for _, c := range w.Result().Cookies() {
		if c.Name == browserCookie {
			b.cookie = c
		}
	}
	if m := csrfRE.FindStringSubmatch(w.Body.String()); m != nil {
		b.csrf = m[1]
	}
	return w
}

func (b *payer) get(path string) *httptest.ResponseRecorder {
	return b.do(httptest.NewRequest("GET", path, nil))
}

func (b *payer) post(path string, form url.Values) *httptest.ResponseRecorder {
	if form.Get("csrf") == "" {
		form.Set("csrf", b.csrf)
	}
	r := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(r)
}

// want checks a page's status and that it contains every string in want.
func want(t *testing.T, what string, w *httptest.ResponseRecorder, status int, want ...string) string {
	t.Helper()
	body := w.Body.String()
	if w.Code != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, w.Code, status, body)
	}
	for _, s := range want {
		if !strings.Contains(body, s) {
			t.Fatalf("%s: no %q in\n%s", what, s, body)
		}
	}
	return body
}

// pinWords are what the page never says: Khalti's wire words for the
// MPIN, which the API keeps.
var pinWords = regexp.MustCompile(`(?i)\bpin\b|khalti pin|transaction pin|password|Mobile or pin invalid`)

func noPINWords(t *testing.T, what, body string) {
	t.Helper()
	text := regexp.MustCompile(`<[^>]*>`).ReplaceAllString(body, " ") // the words people read
	if m := pinWords.FindString(text); m != "" {
		t.Fatalf("%s says %q; the page says MPIN", what, m)
	}
}

func TestPagesSayMPINAndTheMerchant(t *testing.T) {
	f := newFake(ledger.Live)
	b := newPayer(t, f, false)
	page := want(t, "sign-in", b.get("/?pidx="+testPidx), 200, `<label for="mobile">Mobile number</label>`, `<label for="mpin">MPIN</label>`,
		`<h1 id="merchant">Janakpur Weaves</h1>`, "Secured by Thaili", "Rs 2,500.00", "Mithila scarf", `rel="icon" href="/static/favicon.svg"`,
		"Cancel and return to Janakpur Weaves")
	noPINWords(t, "the sign-in page", page)
	page = want(t, "code step", b.post("/pay/"+testPidx+"/signin", url.Values{"mobile": {"9812345678"}, "mpin": {"2580"}}), 200,
		"We sent a confirmation code to your mobile.", "Your MPIN is checked.", "98XXXXX678", "It works for 5 minutes.",
		`name="code"`, `action="/pay/`+testPidx+`/resend"`, "Send the code again", "Pay Rs 2,500.00")
	if strings.Contains(page, `name="mpin"`) {
		t.Fatal("the code step asks for the MPIN again")
	}
	noPINWords(t, "the code step", page)
}

// TestRefusalsInThePagesWords: each refusal is worded from its kind,
// field and tries, whatever its message, with the API's status.
func TestRefusalsInThePagesWords(t *testing.T) {
	mpinWrong := func(left string) error {
		return &fault.Error{Kind: fault.KindValidation, Detail: fault.MsgMobileOrPin, TriesRemaining: left, ErrorKey: fault.ErrorKeyValidation}
	}
	locked := func(until time.Time) error {
		return &fault.Error{Kind: fault.KindLocked, ErrorKey: "third_party_transaction_locked", LockedUntil: until,
			Detail: "Your wallet is locked for third-party payments after too many wrong Khalti PINs. Reset your PIN to unlock it."}
	}
	for _, tc := range []struct {
		name   string
		err    error
		status int
		want   []string
		lacks  []string
	}{
		{"wrong MPIN, 2 left", mpinWrong("2"), 400, []string{"Wrong mobile number or MPIN.",
			"2 tries left. 3 wrong MPINs in a row lock your wallet for payments (for 30 minutes the first time)."}, []string{"reset-mpin"}},
		{"wrong MPIN, 1 left", mpinWrong("1"), 400, []string{"1 try left. 3 wrong MPINs in a row"}, nil},
		{"the message does not matter", &fault.Error{Kind: fault.KindValidation, Detail: "anything", TriesRemaining: "2"}, 400,
			[]string{"Wrong mobile number or MPIN.", "2 tries left."}, []string{"anything"}},
		{"locked for a while", locked(epoch.Add(29*time.Minute + time.Second)), 400, []string{
			"Your wallet is locked for payments after 3 wrong MPINs in a row. Try again in 30 minutes, or reset your MPIN to unlock it now.",
			`id="reset-mpin"`}, nil},
		{"locked until reset", locked(time.Time{}), 400, []string{"Reset your MPIN to unlock it.", `id="reset-mpin"`}, []string{"Try again in"}},
		{"MPIN format", fault.FieldError("transaction_pin", "Khalti PIN must be 4 digits long."), 400, []string{"Enter your 4-digit MPIN."}, nil},
		{"mobile format", fault.FieldError("mobile", "Enter a valid 10 digit mobile number starting with 96, 97 or 98."), 400,
			[]string{"Enter a valid 10 digit mobile number starting with 96, 97 or 98."}, nil},
		{"throttled", identity.Throttled(41 * time.Second), 429, []string{"Too many tries from your network. Try again in 41 seconds."},
			[]string{"Request was throttled"}},
		{"a detail", fault.DetailError("Insufficient balance in the wallet."), 400, []string{"Insufficient balance in the wallet."}, nil},
		{"a conflict", &fault.Error{Kind: fault.KindConflict, Detail: "Try again."}, 409, []string{"Try again."}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(ledger.Test)
			b := newPayer(t, f, true)
			b.get("/?pidx=" + testPidx)
			f.err = tc.err
			w := b.post("/pay/"+testPidx+"/signin", url.Values{"mobile": {"9812345678"}, "mpin": {"0000"}})
			page := want(t, tc.name, w, tc.status, append(tc.want, `action="/pay/`+testPidx+`/signin"`, `value="9812345678"`)...)
			for _, s := range tc.lacks {
				if strings.Contains(page, s) {
					t.Errorf("%s: the page says %q", tc.name, s)
				}
			}
			if tc.status == 429 && w.Header().Get("Retry-After") != "41" {
				t.Errorf("Retry-After %q", w.Header().Get("Retry-After"))
			}
			noPINWords(t, tc.name, page)
		})
	}
}

func TestWrongCodesAndSignInFirst(t *testing.T) {
	f := newFake(ledger.Live)
	b := newPayer(t, f, false)
	b.get("/?pidx=" + testPidx)
	// A code before anyone signed in: the sign-in form, with the reason.
	f.err = fault.DetailError(payment.MsgSignInFirst)
	want(t, "code before sign-in", b.post("/pay/"+testPidx+"/confirm", url.Values{"code": {"123456"}}), 400,
		payment.MsgSignInFirst, `action="/pay/`+testPidx+`/signin"`)

	b.post("/pay/"+testPidx+"/signin", url.Values{"mobile": {"9812345678"}, "mpin": {"2580"}})
	f.err = &fault.Error{Kind: fault.KindValidation, Detail: fault.MsgCodeOrPin, TriesRemaining: "2"}
	page := want(t, "wrong code", b.post("/pay/"+testPidx+"/confirm", url.Values{"code": {"111111"}}), 400, "Wrong confirmation code.",
		"2 tries left. After 3 wrong codes this payment stops, and you start again from the shop.", `name="code"`)
	noPINWords(t, "wrong code", page)
	// The third: the payment is stopped, the page says so, with no form.
	f.t.Payment.State = store.Disabled
	f.err = &fault.Error{Kind: fault.KindValidation, Detail: fault.MsgCodeOrPin, TriesRemaining: "0"}
	page = want(t, "third wrong code", b.post("/pay/"+testPidx+"/confirm", url.Values{"code": {"111111"}}), 400,
		"Wrong confirmation code.", "can no longer be paid", "Start the payment again from the shop.")
	if strings.Contains(page, "<form") || strings.Contains(page, "tries left") {
		t.Fatalf("the stopped payment's page:\n%s", page)
	}
	if got := strings.Join(f.calls, ","); got != "complete 123456,start,complete 111111,complete 111111" {
		t.Fatalf("service calls %s", got)
	}
}

func TestSendTheCodeAgain(t *testing.T) {
	f := newFake(ledger.Live)
	b := newPayer(t, f, false)
	b.get("/?pidx=" + testPidx)
	b.post("/pay/"+testPidx+"/signin", url.Values{"mobile": {"9812345678"}, "mpin": {"2580"}})
	// Too soon: the wait, as the page and Retry-After say it.
	f.err = identity.Throttled(20 * time.Second)
	w := b.post("/pay/"+testPidx+"/resend", url.Values{})
	want(t, "too soon", w, 429, "We sent you a code a moment ago. You can ask for another in 20 seconds.", `name="code"`)
	if w.Header().Get("Retry-After") != "20" {
		t.Fatalf("Retry-After %q", w.Header().Get("Retry-After"))
	}
	want(t, "a new code", b.post("/pay/"+testPidx+"/resend", url.Values{}), 200,
		"We sent a new confirmation code to 98XXXXX678. Only the newest code works.", `name="code"`)
	// An expired code cannot be renewed: sign in again.
	f.t.Payment.OTPExpiresAt = epoch.Add(-time.Second)
	f.err = fault.FieldError("confirmation_code", "Confirmation code has expired.")
	want(t, "expired", b.post("/pay/"+testPidx+"/resend", url.Values{}), 400, "Confirmation code has expired.", `action="/pay/`+testPidx+`/signin"`)
	// Without the page's token: refused before the service.
	other := newPayer(t, f, false)
	other.get("/?pidx=" + testPidx)
	other.csrf = "forged"
	want(t, "forged", other.post("/pay/"+testPidx+"/resend", url.Values{}), 403, "Request refused")
	if got := strings.Join(f.calls, ","); got != "start,resend,resend,resend" {
		t.Fatalf("service calls %s", got)
	}
	// In the test book no SMS is sent: the notice says so, with the code.
	tf := newFake(ledger.Test)
	tb := newPayer(t, tf, false)
	tb.get("/?pidx=" + testPidx)
	want(t, "test sign-in", tb.post("/pay/"+testPidx+"/signin", url.Values{"mobile": {"9812345678"}, "mpin": {"2580"}}), 200,
		"Test mode sends no SMS: the code is 424242.")
	want(t, "test resend", tb.post("/pay/"+testPidx+"/resend", url.Values{}), 200, "Test mode sends no SMS: the code is 424242.")
}

// TestTestCredentials: a test payment shows the test code, and the
// sandbox's payers and MPIN where they were seeded; a live one shows
// none of them, at any step.
func TestTestCredentials(t *testing.T) {
	want(t, "sandbox", newPayer(t, newFake(ledger.Test), true).get("/?pidx="+testPidx), 200,
		"TEST MODE", `id="test-credentials"`, "<code>"+payment.SandboxPayers[1]+"</code>", payment.SandboxPayers[0], payment.SandboxPayers[len(payment.SandboxPayers)-1],
		"<code>"+payment.SandboxMPIN+"</code>", "<code>424242</code>", payment.ScenarioLockedMobile)
	bare := want(t, "test book without the sandbox", newPayer(t, newFake(ledger.Test), false).get("/?pidx="+testPidx), 200,
		"TEST MODE", `id="test-credentials"`, "always <code>424242</code>")
	if strings.Contains(bare, payment.SandboxPayers[1]) || strings.Contains(bare, payment.SandboxMPIN) {
		t.Fatal("the sandbox's payers shown where they were not seeded")
	}
	f := newFake(ledger.Live)
	b := newPayer(t, f, true)
	pages := []string{b.get("/?pidx=" + testPidx).Body.String()}
	f.err = &fault.Error{Kind: fault.KindValidation, Detail: fault.MsgMobileOrPin, TriesRemaining: "2"}
	pages = append(pages, b.post("/pay/"+testPidx+"/signin", url.Values{"mobile": {"9812345678"}, "mpin": {"0000"}}).Body.String())
	pages = append(pages, b.post("/pay/"+testPidx+"/signin", url.Values{"mobile": {"9812345678"}, "mpin": {"2580"}}).Body.String())
	f.t.Payment.State = store.Completed
	pages = append(pages, b.get("/?pidx="+testPidx).Body.String())
	for i, page := range pages {
		for _, secret := range []string{"TEST MODE", "test-credentials", "424242", payment.SandboxMPIN, payment.SandboxPayers[0], payment.ScenarioLockedMobile} {
			if strings.Contains(page, secret) {
				t.Fatalf("live page %d shows %q:\n%s", i, secret, page)
			}
		}
	}
}

func TestFavicon(t *testing.T) {
	b := newPayer(t, newFake(ledger.Live), false)
	for _, path := range []string{FaviconPath, "/favicon.ico"} {
		w := b.get(path)
		if w.Code != 200 || w.Header().Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(w.Body.String(), "<svg") ||
			!strings.Contains(w.Header().Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatalf("%s: %d %v %.40q", path, w.Code, w.Header(), w.Body.String())
		}
	}
}
