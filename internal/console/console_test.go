package console

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

// at is when everything in the fake happened: 11:45:30 in Nepal.
var at = time.Date(2026, 3, 1, 6, 0, 30, 0, time.UTC)

// fake is the services behind the console: one operator, whose session
// is "sess-ops"; one merchant "m1" with KYC submitted; one wallet. It
// records what the pages asked.
type fake struct {
	violations []ledger.Violation
	err        error // returned by every read, when set
	loginErr   error
	topups     []string // "mobile book amount"
	fees       [][]store.FeeTier
	kyc        []string // "ref state reason"
	unlocked   []string
}

var (
	ops      = store.Operator{ID: 3, Email: "ops@thaili.example"}
	merchant = store.Merchant{ID: 11, Idx: "m1", Name: "<i>Himal</i> Traders", Email: "himal@example.com", KYC: store.KYCSubmitted}
	sita     = store.Consumer{ID: 7, Mobile: "9812345670", Name: "Sita", Confirmed: true, FailedMPIN: 2}
)

func (f *fake) CSRFToken(id string) string { return "mac(" + id + ")" }

func (f *fake) OperatorLogin(_ context.Context, email, password string) (string, error) {
	if f.loginErr != nil {
		return "", f.loginErr
	}
	if email == ops.Email && password == "operator password 1" {
		return "sess-ops", nil
	}
	return "", fault.DetailError("The email or password is wrong.")
}

func (f *fake) OperatorLogout(context.Context, string) error { return nil }

func (f *fake) SessionOperator(_ context.Context, id string) (store.Operator, error) {
	if id == "sess-ops" {
		return ops, nil
	}
	return store.Operator{}, &fault.Error{Kind: fault.KindUnauthorized}
}

func (f *fake) SearchMerchants(_ context.Context, q string, kyc store.KYC) ([]store.MerchantSummary, error) {
	if f.err != nil {
		return nil, f.err
	}
	if strings.Contains("himal", strings.ToLower(q)) {
		return []store.MerchantSummary{{Merchant: merchant}}, nil
	}
	return nil, nil
}

func (f *fake) MerchantKYC(context.Context, int64) (identity.KYCSubmission, error) {
	return identity.KYCSubmission{Merchant: merchant, Details: &store.KYCDetails{BusinessName: "Himal Traders Pvt. Ltd.", RegistrationNumber: "123456/078/079",
		TaxNumber: "601234567", Address: "Thamel", SubmittedAt: at}, Documents: []store.KYCDocument{{ID: 5, ContentType: "image/png", Size: 68, SHA256: "ab12"}}}, nil
}

func (f *fake) KYCDocument(_ context.Context, _ identity.Actor, idx string, id int64) (store.KYCDocument, error) {
	if idx == "m1" && id == 5 {
		return store.KYCDocument{ID: 5, ContentType: "image/png", Data: []byte("\x89PNG")}, nil
	}
	return store.KYCDocument{}, fault.NotFound()
}

func (f *fake) SetKYC(_ context.Context, _ identity.Actor, ref string, state store.KYC, reason string) (store.Merchant, error) {
	f.kyc = append(f.kyc, ref+" "+string(state)+" "+reason)
	if ref != "m1" {
		return store.Merchant{}, &fault.Error{Kind: fault.KindNotFound, Detail: "No such merchant."}
	}
	m := merchant
	m.KYC = state
	return m, nil
}

func (f *fake) SearchConsumers(_ context.Context, q string) ([]store.Consumer, error) {
	if f.err != nil {
		return nil, f.err
	}
	if strings.Contains(sita.Mobile, q) {
		return []store.Consumer{sita}, nil
	}
	return nil, nil
}

func (f *fake) LockText(c store.Consumer) string {
	if c.FailedMPIN > 0 {
		return "locked for payments after wrong MPINs until 2026-03-01 12:15 (Nepal time)"
	}
	return ""
}

func (f *fake) UnlockConsumer(_ context.Context, _ identity.Actor, mobile string) error {
	if mobile != sita.Mobile {
		return &fault.Error{Kind: fault.KindNotFound, Detail: "No wallet for " + mobile + "."}
	}
	f.unlocked = append(f.unlocked, mobile)
	return nil
}

func (f *fake) AuditLog(context.Context) ([]store.AuditEntry, error) {
	return []store.AuditEntry{{Operator: ops.Email, Action: "wallet.topup", Subject: sita.Mobile, Detail: "150050 paisa, test book", At: at}}, f.err
}

func (f *fake) CheckLedger(context.Context) ([]ledger.Violation, error) { return f.violations, f.err }

func (f *fake) WalletBalance(_ context.Context, mobile string, book ledger.Book) (money.Paisa, error) {
	if book == ledger.Test {
		return 123456789, nil
	}
	return 0, nil
}

func (f *fake) Topup(_ context.Context, _ identity.Actor, mobile string, book ledger.Book, amount money.Paisa) (money.Paisa, error) {
	f.topups = append(f.topups, fmt.Sprintf("%s %s %d", mobile, book, amount))
	if mobile != sita.Mobile {
		return 0, &fault.Error{Kind: fault.KindNotFound, Detail: "No wallet for " + mobile + "."}
	}
	return 123456789 + amount, nil
}

func (f *fake) MerchantDetails(_ context.Context, ref string) (payment.MerchantInfo, error) {
	if f.err != nil {
		return payment.MerchantInfo{}, f.err
	}
	if ref != "m1" {
		return payment.MerchantInfo{}, &fault.Error{Kind: fault.KindNotFound, Detail: fmt.Sprintf("No merchant %q.", ref)}
	}
	return payment.MerchantInfo{Merchant: merchant, Fees: map[ledger.Book][]store.FeeTier{
		ledger.Test: {{MinAmount: 1000, MaxAmount: 150050, PercentBps: 250, Flat: 0}, {MinAmount: 150051, PercentBps: 150, Flat: 2500}},
	}}, nil
}

func (f *fake) SetFeeSchedule(_ context.Context, _ identity.Actor, ref string, book ledger.Book, tiers []store.FeeTier) (store.Merchant, error) {
	f.fees = append(f.fees, tiers)
	return merchant, nil
}

func server(t *testing.T, f *fake) (http.Handler, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	p, err := New(Options{Service: f, Identity: f, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Routes(mux, func(h http.Handler) http.Handler { return h })
	return mux, &logs
}

var (
	opsCookie = &http.Cookie{Name: SessionCookie, Value: "sess-ops"}
	opsToken  = "mac(operator:sess-ops)"
)

func TestSignedOutGoesToLogIn(t *testing.T) {
	f := &fake{}
	h, _ := server(t, f)
	for _, path := range []string{"/admin/", "/admin/merchants/", "/admin/merchants/m1/fees/", "/admin/consumers/", "/admin/audit/", "/admin/kyc/m1/documents/5"} {
		if w := sitetest.Do(h, "GET", path, nil); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/admin/login/" {
			t.Errorf("GET %s signed out: %d to %q", path, w.Code, w.Header().Get("Location"))
		}
	}
	w := sitetest.Do(h, "POST", "/admin/consumers/topup", url.Values{"mobile": {sita.Mobile}, "amount": {"100"}, "book": {"test"}, "csrf": {opsToken}})
	if w.Code != http.StatusSeeOther || len(f.topups) != 0 {
		t.Errorf("top-up signed out: %d, topups %q", w.Code, f.topups)
	}
	if w := sitetest.Do(h, "GET", "/admin/login/", nil, opsCookie); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/admin/" {
		t.Errorf("log-in form signed in: %d to %q", w.Code, w.Header().Get("Location"))
	}
}

func TestLogIn(t *testing.T) {
	f := &fake{}
	h, _ := server(t, f)
	w := sitetest.Do(h, "GET", "/admin/login/", nil)
	pre := sitetest.Cookie(w, preCookie)
	if pre == nil || pre.Path != "/admin/" || pre.SameSite != http.SameSiteStrictMode || !pre.HttpOnly || pre.Secure {
		t.Fatalf("pre-session cookie %+v, want Path=/admin/ SameSite=Strict HttpOnly, not Secure over http", pre)
	}
	token := "mac(operator-pre:" + pre.Value + ")"
	sitetest.WantPage(t, "log-in form", w, 200, `value="`+token+`"`, `<label for="email">Email</label>`, `<main id="main" class="narrow">`)
	form := url.Values{"email": {ops.Email}, "password": {"operator password 1"}}
	sitetest.WantPage(t, "log-in without token", sitetest.Do(h, "POST", "/admin/login/", form, pre), 403)
	form.Set("csrf", "mac(wallet-pre:"+pre.Value+")") // another site's purpose
	sitetest.WantPage(t, "log-in with the wallet's token", sitetest.Do(h, "POST", "/admin/login/", form, pre), 403)

	form.Set("csrf", token)
	form.Set("password", "wrong")
	sitetest.WantPage(t, "wrong password", sitetest.Do(h, "POST", "/admin/login/", form, pre), 400, "The email or password is wrong.", `value="ops@thaili.example"`)
	f.loginErr = &fault.Error{Kind: fault.KindLocked, Detail: "Too many failed sign-ins for this email."}
	sitetest.WantPage(t, "locked", sitetest.Do(h, "POST", "/admin/login/", form, pre), 400, "Too many failed sign-ins for this email.")
	f.loginErr = nil
	form.Set("password", "operator password 1")
	w = sitetest.Do(h, "POST", "/admin/login/", form, pre)
	s := sitetest.Cookie(w, SessionCookie)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/admin/" || s == nil || s.Value != "sess-ops" ||
		s.Path != "/admin/" || s.SameSite != http.SameSiteStrictMode || !s.HttpOnly {
		t.Fatalf("log-in: %d to %q, cookie %+v", w.Code, w.Header().Get("Location"), s)
	}
}

func TestPagesRender(t *testing.T) {
	h, _ := server(t, &fake{})
	nav := func(url string) string { return `href="` + url + `" aria-current="page"` }
	sitetest.WantPage(t, "overview", sitetest.Do(h, "GET", "/admin/", nil, opsCookie), 200, nav("/admin/"), `id="ledger-ok"`, "&lt;i&gt;Himal&lt;/i&gt; Traders",
		`href="/admin/merchants/?q=himal%40example.com"`, `<span class="user">ops@thaili.example</span>`, `value="`+opsToken+`"`, `href="/static/site.css"`)
	sitetest.WantPage(t, "merchants", sitetest.Do(h, "GET", "/admin/merchants/?q=HIMAL", nil, opsCookie), 200, nav("/admin/merchants/"), `id="merchant-m1"`,
		"Himal Traders Pvt. Ltd.", "2026-03-01 11:45", `href="/admin/kyc/m1/documents/5"`, `href="/admin/merchants/m1/fees/"`, `value="HIMAL"`)
	sitetest.WantPage(t, "no merchant", sitetest.Do(h, "GET", "/admin/merchants/?q="+url.QueryEscape("<script>"), nil, opsCookie), 200, "No merchant matches.", "&lt;script&gt;")
	sitetest.WantPage(t, "fees", sitetest.Do(h, "GET", "/admin/merchants/m1/fees/", nil, opsCookie), 200, nav("/admin/merchants/"),
		"Fee schedules of &lt;i&gt;Himal&lt;/i&gt; Traders", "<li>Rs 10.00 to Rs 1,500.50: 2.50% &#43; Rs 0.00</li>",
		`id="test-from0" inputmode="decimal" maxlength="20" value="10.00"`, `id="test-to0" inputmode="decimal" maxlength="20" value="1,500.50"`,
		`id="test-from1" inputmode="decimal" maxlength="20" value="1,500.51"`, `id="test-flat1" inputmode="decimal" maxlength="12" value="25.00"`,
		`id="test-percent1" inputmode="decimal" maxlength="6" value="1.5"`, `<label class="visually-hidden" for="live-from0">Tier 1 from (Rs)</label>`)
	w := sitetest.Do(h, "GET", "/admin/consumers/?q=98123", nil, opsCookie)
	sitetest.WantPage(t, "wallets", w, 200, nav("/admin/consumers/"), `id="wallet-9812345670"`, `<span class="balance-test">Rs 12,34,567.89</span>`,
		`<label for="amount-9812345670">Amount (Rs)</label>`, `<label for="book-9812345670">Book</label>`, "2 wrong MPIN(s)", `action="/admin/consumers/unlock"`)
	if strings.Contains(w.Body.String(), "paisa") {
		t.Error("the wallets page speaks of paisa")
	}
	sitetest.WantPage(t, "audit", sitetest.Do(h, "GET", "/admin/audit/", nil, opsCookie), 200, nav("/admin/audit/"),
		`<td data-label="At" class="when">2026-03-01 11:45:30</td><td data-label="Operator">ops@thaili.example</td><td data-label="Action">wallet.topup</td>`)
	w = sitetest.Do(h, "GET", "/admin/kyc/m1/documents/5", nil, opsCookie)
	if w.Code != 200 || w.Body.String() != "\x89PNG" || w.Header().Get("Content-Disposition") != `attachment; filename="kyc-m1-5.png"` {
		t.Errorf("document: %d %q %q", w.Code, w.Body, w.Header().Get("Content-Disposition"))
	}
}

func TestLedgerViolationsShow(t *testing.T) {
	h, _ := server(t, &fake{violations: make([]ledger.Violation, 2)})
	sitetest.WantPage(t, "overview", sitetest.Do(h, "GET", "/admin/", nil, opsCookie), 200, `id="ledger-failed">ledger check failed: 2 violation(s)`)
}

// TestErrorStatuses: the console answers a service error with the
// API's status for it, and never shows an internal error's cause.
func TestErrorStatuses(t *testing.T) {
	f := &fake{}
	h, logs := server(t, f)
	sitetest.WantPage(t, "unknown merchant's fees", sitetest.Do(h, "GET", "/admin/merchants/nope/fees/", nil, opsCookie), 404, "No merchant &#34;nope&#34;.")
	sitetest.WantPage(t, "document of another merchant", sitetest.Do(h, "GET", "/admin/kyc/m2/documents/5", nil, opsCookie), 404, "Not found.")
	sitetest.WantPage(t, "document that is not a number", sitetest.Do(h, "GET", "/admin/kyc/m1/documents/x", nil, opsCookie), 404, "Not found.")
	sitetest.WantPage(t, "KYC of an unknown merchant", sitetest.Do(h, "POST", "/admin/merchants/kyc", url.Values{"csrf": {opsToken}, "merchant": {"nope"}, "decision": {"approve"}}, opsCookie),
		404, "No such merchant.", `href="/admin/merchants/" aria-current="page"`)
	sitetest.WantPage(t, "KYC without a decision", sitetest.Do(h, "POST", "/admin/merchants/kyc", url.Values{"csrf": {opsToken}, "merchant": {"m1"}, "decision": {"<b>"}}, opsCookie),
		400, "Choose approve or reject.")
	sitetest.WantPage(t, "unlock an unknown wallet", sitetest.Do(h, "POST", "/admin/consumers/unlock", url.Values{"csrf": {opsToken}, "mobile": {"9899999999"}}, opsCookie),
		404, "No wallet for 9899999999.")
	if len(f.unlocked) != 0 {
		t.Fatalf("unlocked %q", f.unlocked)
	}
	f.err = errors.New("pq: connection to 10.0.0.9 refused")
	for _, path := range []string{"/admin/", "/admin/merchants/", "/admin/consumers/", "/admin/audit/", "/admin/merchants/m1/fees/"} {
		w := sitetest.Do(h, "GET", path, nil, opsCookie)
		sitetest.WantPage(t, "outage "+path, w, 500, "Something went wrong")
		if strings.Contains(w.Body.String(), "10.0.0.9") {
			t.Errorf("%s shows the cause", path)
		}
	}
	if !strings.Contains(logs.String(), "10.0.0.9") {
		t.Error("the outage is not logged")
	}
}

func TestCSRF(t *testing.T) {
	f := &fake{}
	h, _ := server(t, f)
	for _, tok := range []string{"", "mac(operator:other)", "mac(wallet-session:sess-ops)", "mac(operator-pre:sess-ops)"} {
		form := url.Values{"mobile": {sita.Mobile}, "amount": {"100"}, "book": {"test"}, "csrf": {tok}}
		sitetest.WantPage(t, "top-up with token "+tok, sitetest.Do(h, "POST", "/admin/consumers/topup", form, opsCookie), 403, "Request refused")
		sitetest.WantPage(t, "unlock with token "+tok, sitetest.Do(h, "POST", "/admin/consumers/unlock", form, opsCookie), 403)
		sitetest.WantPage(t, "fees with token "+tok, sitetest.Do(h, "POST", "/admin/merchants/m1/fees/", form, opsCookie), 403)
		sitetest.WantPage(t, "KYC with token "+tok, sitetest.Do(h, "POST", "/admin/merchants/kyc", form, opsCookie), 403)
		sitetest.WantPage(t, "log-out with token "+tok, sitetest.Do(h, "POST", "/admin/logout/", form, opsCookie), 403)
	}
	if len(f.topups)+len(f.unlocked)+len(f.fees)+len(f.kyc) != 0 {
		t.Fatalf("a refused form reached the service: %q %q %v %q", f.topups, f.unlocked, f.fees, f.kyc)
	}
	w := sitetest.Do(h, "POST", "/admin/logout/", url.Values{"csrf": {opsToken}}, opsCookie)
	if c := sitetest.Cookie(w, SessionCookie); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/admin/login/" || c == nil || c.MaxAge >= 0 || c.Path != "/admin/" {
		t.Fatalf("log-out: %d to %q, cookie %+v", w.Code, w.Header().Get("Location"), c)
	}
}

// TestTopupInRupees: the top-up form takes rupees as people write them
// and explains what it cannot read, without asking the service.
func TestTopupInRupees(t *testing.T) {
	f := &fake{}
	h, _ := server(t, f)
	topup := func(amount, book string) *httptest.ResponseRecorder {
		return sitetest.Do(h, "POST", "/admin/consumers/topup", url.Values{"csrf": {opsToken}, "mobile": {sita.Mobile}, "amount": {amount}, "book": {book}, "q": {"9812"}}, opsCookie)
	}
	sitetest.WantPage(t, "top-up", topup("1,500.50", "live"), 200, "Credited Rs 1,500.50 to 9812345670 (live book); balance Rs 12,36,068.39.",
		`value="9812"`, `id="wallet-9812345670"`)
	sitetest.WantPage(t, "top-up without commas", topup(" 1500.5 ", "test"), 200, "Credited Rs 1,500.50 to 9812345670 (test book)")
	if want := []string{"9812345670 live 150050", "9812345670 test 150050"}; fmt.Sprint(f.topups) != fmt.Sprint(want) {
		t.Fatalf("topups %q, want %q", f.topups, want)
	}
	for _, c := range []struct{ amount, msg string }{
		{"", money.ErrRupeesEmpty.Error()},
		{"10.505", "Enter at most two decimals: the smallest amount is 1 paisa, Rs 0.01."},
		{"0", "Enter an amount of at least Rs 0.01."},
		{"0.00", "Enter an amount of at least Rs 0.01."},
		{"-5", "The amount cannot be negative."},
		{"1e3", "Enter the amount in rupees as digits, such as 1,500.50 or 1500.5."},
		{"<script>", "Enter the amount in rupees as digits, such as 1,500.50 or 1500.5."},
		{"1000000000000", "The amount can be at most Rs 1,00,00,00,00,000.00."},
	} {
		w := topup(c.amount, "live")
		sitetest.WantPage(t, "top-up of "+c.amount, w, 400, c.msg, `value="`+escaped(c.amount)+`"`, `<option value="live" selected>`)
	}
	if len(f.topups) != 2 {
		t.Fatalf("refused amounts reached the service: %q", f.topups)
	}
	w := sitetest.Do(h, "POST", "/admin/consumers/topup", url.Values{"csrf": {opsToken}, "mobile": {"9899999999"}, "amount": {"10"}, "book": {"test"}}, opsCookie)
	sitetest.WantPage(t, "top-up of an unknown wallet", w, 404, "No wallet for 9899999999.")
}

// escaped is s as html/template writes an attribute value.
func escaped(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;", `"`, "&#34;", "&", "&amp;", "+", "&#43;").Replace(s)
}

func TestFeesInRupees(t *testing.T) {
	f := &fake{}
	h, _ := server(t, f)
	form := func(rows ...[4]string) url.Values {
		v := url.Values{"csrf": {opsToken}, "book": {"test"}}
		for i, r := range rows {
			n := fmt.Sprint(i)
			v.Set("from"+n, r[0])
			v.Set("to"+n, r[1])
			v.Set("percent"+n, r[2])
			v.Set("flat"+n, r[3])
		}
		return v
	}
	w := sitetest.Do(h, "POST", "/admin/merchants/m1/fees/", form([4]string{"0", "50", "", "1"}, [4]string{" 50.01 ", "", "1.5", "0.25"}, [4]string{}), opsCookie)
	sitetest.WantPage(t, "good schedule", w, 200, "The test fee schedule of &lt;i&gt;Himal&lt;/i&gt; Traders is now: Rs 0.00 to Rs 50.00: 0.00% &#43; Rs 1.00; Rs 50.01 and up: 1.50% &#43; Rs 0.25.")
	want := []store.FeeTier{{MinAmount: 0, MaxAmount: 5000, Flat: 100}, {MinAmount: 5001, PercentBps: 150, Flat: 25}}
	if len(f.fees) != 1 || fmt.Sprint(f.fees[0]) != fmt.Sprint(want) {
		t.Fatalf("schedule set %v, want %v", f.fees, want)
	}
	for _, c := range []struct {
		row  [4]string
		msg  string
		echo string
	}{
		{[4]string{"10.505", "", "1", "0"}, "Tier 1, from: Enter at most two decimals: the smallest amount is 1 paisa, Rs 0.01.", `value="10.505"`},
		{[4]string{"", "", "1", "0"}, "Tier 1, from: Enter an amount in rupees, such as 1,500.50.", `value="1"`},
		{[4]string{"0", "abc", "1", "0"}, "Tier 1, to: Enter the amount in rupees as digits, such as 1,500.50 or 1500.5. Leave it empty for no upper limit.", `value="abc"`},
		{[4]string{"0", "", "1", "-5"}, "Tier 1, flat fee: The amount cannot be negative.", `value="-5"`},
		{[4]string{"0", "", "<script>", "0"}, "Tier 1: enter the percentage as a number with at most two decimals, such as 2.5.", `value="&lt;script&gt;"`},
	} {
		sitetest.WantPage(t, "refused "+c.msg, sitetest.Do(h, "POST", "/admin/merchants/m1/fees/", form(c.row), opsCookie), 400, c.msg, c.echo)
	}
	if len(f.fees) != 1 {
		t.Fatalf("refused schedules reached the service: %v", f.fees)
	}
}
