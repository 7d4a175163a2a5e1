package dashboard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/webhook"
)

// fake is the three services in memory: one merchant, signed in with the
// session "good", with what a test puts in its fields. It records the
// calls the pages make that change something.
type fake struct {
	mu       sync.Mutex
	merchant store.Merchant
	live     bool // live keys were issued
	keys     []identity.KeyInfo
	sealed   map[int64]string // key id → secret not shown yet
	balances map[ledger.Book]money.Paisa
	fees     map[ledger.Book][]store.FeeTier
	txns     []payment.Transaction
	hooks    []webhook.Endpoint
	log      map[string][]webhook.Delivery
	kyc      identity.KYCSubmission
	broken   error // every read fails with it, when set
	// A test event gets this answer (its status, code, error and
	// response), or testErr.
	testAnswer store.WebhookDelivery
	testErr    error

	// What the pages asked for.
	queries   []payment.ListQuery
	refunds   []string
	rotated   []ledger.Book
	replayed  []string
	tested    []string
	initiated []payment.EPaymentInput
	codeSent  bool
}

const goodSession = "good"

func newFake() *fake {
	m := store.Merchant{ID: 7, Idx: "MerchantIdx7aaaaaaaaaaa", Name: "Himal Traders", Email: "owner@himal.example", Mobile: "9812345670",
		KYC: store.KYCNone, Confirmed: true}
	f := &fake{merchant: m, sealed: map[int64]string{}, log: map[string][]webhook.Delivery{},
		balances: map[ledger.Book]money.Paisa{ledger.Test: 123456789, ledger.Live: 0},
		fees:     map[ledger.Book][]store.FeeTier{ledger.Test: {{MinAmount: 1000, PercentBps: 300}}, ledger.Live: {{MinAmount: 1000, PercentBps: 300}}}}
	f.kyc = identity.KYCSubmission{Merchant: m}
	f.addKey(1, ledger.Test, store.PublicKey, "test_public_key_00000000000000000000000000000001", "")
	f.addKey(2, ledger.Test, store.SecretKey, "", "test_secret_key_00000000000000000000000000000002")
	return f
}

// addKey adds a key; a secret key's secret stays sealed until shown.
func (f *fake) addKey(id int64, book ledger.Book, kind store.KeyKind, lookup, secret string) {
	k := store.Key{ID: id, MerchantID: f.merchant.ID, Book: book, Kind: kind, Lookup: lookup}
	if secret != "" {
		k.Prefix = secret[:20]
		k.Sealed = []byte("sealed")
		f.sealed[id] = secret
	}
	f.keys = append(f.keys, identity.KeyInfo{Key: k})
}

// goLive issues live keys, as a first completed test payment does.
func (f *fake) goLive() {
	f.live = true
	f.addKey(3, ledger.Live, store.PublicKey, "live_public_key_00000000000000000000000000000003", "")
	f.addKey(4, ledger.Live, store.SecretKey, "", "live_secret_key_00000000000000000000000000000004")
}

// pay adds a transaction of the merchant's in book.
func (f *fake) pay(idx string, book ledger.Book, state store.State, amount money.Paisa, order, mobile string, at time.Time) {
	p := store.Payment{Idx: idx, Token: "pidx-" + idx, Book: book, MerchantID: f.merchant.ID, Kind: store.EPayment, State: state,
		Amount: amount, PurchaseOrderID: order, PurchaseOrderName: "Product " + order, CreatedAt: at, UpdatedAt: at}
	if state == store.Completed || state == store.Refunded || state == store.PartiallyRefunded {
		p.FeeAmount, p.FeeIdx, p.CompletedAt = amount*3/100, "fee-"+idx, at
	}
	f.txns = append(f.txns, payment.Transaction{Payment: p, Consumer: store.Consumer{Mobile: mobile}, Merchant: f.merchant})
}

// --- Payments ---

func (f *fake) ShowOwnMerchant(_ context.Context, idx string) (payment.MerchantInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.broken != nil {
		return payment.MerchantInfo{}, f.broken
	}
	info := payment.MerchantInfo{Merchant: f.merchant, Balances: f.balances, Fees: f.fees}
	for i, k := range f.keys {
		if secret, ok := f.sealed[k.Key.ID]; ok {
			k.Secret = secret
			delete(f.sealed, k.Key.ID)
			f.keys[i].Key.Sealed = nil
		}
		info.Keys = append(info.Keys, k)
	}
	return info, nil
}

func (f *fake) MerchantDetails(_ context.Context, idx string) (payment.MerchantInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.broken != nil {
		return payment.MerchantInfo{}, f.broken
	}
	return payment.MerchantInfo{Merchant: f.merchant, Balances: f.balances, Fees: f.fees, Keys: slices.Clone(f.keys)}, nil
}

func (f *fake) Config() payment.Config { return payment.DefaultConfig() }

func (f *fake) InitiateEPayment(_ context.Context, c identity.Caller, in payment.EPaymentInput) (store.Payment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.initiated = append(f.initiated, in)
	return store.Payment{Idx: "TestPayIdxaaaaaaaaaaaa", Token: "TestPidxaaaaaaaaaaaaaa", Book: c.Book, Kind: store.EPayment,
		Amount: in.Amount, ReturnURL: in.ReturnURL}, nil
}

func (f *fake) DailyVolume(_ context.Context, _ int64, book ledger.Book, days int, loc *time.Location) ([]store.DayTotal, error) {
	today := time.Now().In(loc)
	start := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, 1-days)
	var out []store.DayTotal
	for i := range days {
		out = append(out, store.DayTotal{Day: start.AddDate(0, 0, i)})
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.txns {
		if t.Payment.Book == book && t.Payment.State == store.Completed {
			out[days-1].Count++
			out[days-1].Amount += t.Payment.Amount
		}
	}
	return out, nil
}

func (f *fake) List(_ context.Context, c identity.Caller, q payment.ListQuery) (payment.Page, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	if f.broken != nil {
		return payment.Page{}, f.broken
	}
	var all []payment.Transaction
	for _, t := range f.txns {
		p := t.Payment
		if p.MerchantID != c.Merchant.ID || p.Book != c.Book || (len(q.States) > 0 && !slices.Contains(q.States, p.State)) {
			continue
		}
		if q.Query != "" && p.Idx != q.Query && p.Token != q.Query && t.Consumer.Mobile != q.Query &&
			!strings.Contains(strings.ToLower(p.PurchaseOrderID), strings.ToLower(q.Query)) {
			continue
		}
		all = append(all, t)
	}
	page := payment.Page{Total: len(all)}
	from := min((q.Page-1)*q.PageSize, len(all))
	page.Transactions = all[from:min(from+q.PageSize, len(all))]
	return page, nil
}

func (f *fake) find(c identity.Caller, idx string) (int, error) {
	for i, t := range f.txns {
		if t.Payment.Idx == idx && t.Payment.MerchantID == c.Merchant.ID && t.Payment.Book == c.Book {
			return i, nil
		}
	}
	return 0, fault.NotFound()
}

func (f *fake) Detail(_ context.Context, c identity.Caller, idx string) (payment.Transaction, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.find(c, idx)
	if err != nil {
		return payment.Transaction{}, err
	}
	return f.txns[i], nil
}

func (f *fake) CanRefund(p store.Payment) bool {
	return (p.State == store.Completed || p.State == store.PartiallyRefunded) && p.Refunded < p.Amount
}

func (f *fake) Refund(_ context.Context, c identity.Caller, idx string, amount *money.Paisa) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.find(c, idx)
	if err != nil {
		return err
	}
	p := &f.txns[i].Payment
	want := p.Amount - p.Refunded
	if amount != nil {
		want = *amount
	}
	if want < 1 {
		return fault.FieldError("amount", "Ensure this value is greater than or equal to 1.")
	}
	if want > p.Amount-p.Refunded {
		return fault.DetailError("Refund amount is more than the refundable amount of " + (p.Amount - p.Refunded).String() + ".")
	}
	p.Refunded += want
	p.State = store.PartiallyRefunded
	if p.Refunded == p.Amount {
		p.State = store.Refunded
	}
	f.refunds = append(f.refunds, idx)
	return nil
}

// --- Accounts ---

func (f *fake) SignUpMerchant(_ context.Context, in identity.SignUp) (identity.CodeSent, error) {
	if len(in.Password) < 10 {
		return identity.CodeSent{}, fault.FieldError("password", "Ensure this field has at least 10 characters.")
	}
	f.codeSent = true
	return identity.CodeSent{Challenge: "challenge-1", To: "98XXXXX670"}, nil
}

func (f *fake) ConfirmMerchantPhone(_ context.Context, challenge, code string) (string, error) {
	if challenge != "challenge-1" || code != "123456" {
		return "", fault.DetailError("The code is wrong.")
	}
	return goodSession, nil
}

func (f *fake) Login(_ context.Context, email, password string) (identity.SignIn, error) {
	if email != f.merchant.Email || password != "right password" {
		return identity.SignIn{}, fault.DetailError(identity.MsgBadLogin)
	}
	return identity.SignIn{Session: goodSession}, nil
}

func (f *fake) SessionMerchant(_ context.Context, id string) (store.Merchant, error) {
	if id != goodSession {
		return store.Merchant{}, &fault.Error{Kind: fault.KindUnauthorized}
	}
	return f.merchant, nil
}

func (f *fake) Logout(context.Context, string) error          { return nil }
func (f *fake) LogoutEverywhere(context.Context, int64) error { return nil }

func (f *fake) ChangePassword(_ context.Context, _ int64, current, next, _ string) error {
	if current != "right password" {
		return fault.FieldError("current_password", identity.MsgWrongPassword)
	}
	return nil
}

func (f *fake) CSRFToken(id string) string { return "mac(" + id + ")" }

func (f *fake) MerchantBooks(context.Context, int64) ([]ledger.Book, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.live {
		return []ledger.Book{ledger.Test, ledger.Live}, nil
	}
	return []ledger.Book{ledger.Test}, nil
}

func (f *fake) RotateOwnKeys(_ context.Context, _ string, book ledger.Book) (identity.KeyPair, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !book.Valid() {
		return identity.KeyPair{}, fault.FieldError("book", "Book must be test or live.")
	}
	f.rotated = append(f.rotated, book)
	return identity.KeyPair{Book: book, Public: string(book) + "_public_key_rotated", Secret: string(book) + "_secret_key_rotated"}, nil
}

func (f *fake) MerchantKYC(context.Context, int64) (identity.KYCSubmission, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.kyc, nil
}

func (f *fake) SubmitKYC(_ context.Context, _ int64, in identity.KYCForm) (store.Merchant, error) {
	if len(in.Documents) == 0 {
		return store.Merchant{}, fault.FieldError("documents", "Upload at least one document (PDF, PNG or JPEG).")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kyc.Merchant.KYC = store.KYCSubmitted
	f.kyc.Details = &store.KYCDetails{BusinessName: in.BusinessName}
	return f.kyc.Merchant, nil
}

// --- Hooks ---

func (f *fake) CreateEndpoint(_ context.Context, _ store.Scope, rawURL string, events []string) (webhook.Endpoint, string, error) {
	if len(events) == 0 {
		return webhook.Endpoint{}, "", fault.FieldError("events", webhook.MsgEvents)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e := webhook.Endpoint{Idx: "HookIdx1aaaaaaaaaaaaaa", URL: rawURL, Events: events, CreatedAt: time.Now()}
	f.hooks = append(f.hooks, e)
	return e, "whsec_secret", nil
}

func (f *fake) Endpoints(context.Context, store.Scope) ([]webhook.Endpoint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.hooks), nil
}

func (f *fake) DeleteEndpoint(_ context.Context, _ store.Scope, idx string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.hooks)
	f.hooks = slices.DeleteFunc(f.hooks, func(e webhook.Endpoint) bool { return e.Idx == idx })
	if len(f.hooks) == n {
		return fault.NotFound()
	}
	return nil
}

func (f *fake) DeliveryLog(_ context.Context, _ store.Scope, idx string) ([]webhook.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.ContainsFunc(f.hooks, func(e webhook.Endpoint) bool { return e.Idx == idx }) {
		return nil, fault.NotFound()
	}
	return f.log[idx], nil
}

func (f *fake) Replay(_ context.Context, _ store.Scope, idx string) (webhook.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replayed = append(f.replayed, idx)
	return webhook.Delivery{}, nil
}

func (f *fake) SendTestEvent(_ context.Context, _ store.Scope, idx string) (webhook.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.ContainsFunc(f.hooks, func(e webhook.Endpoint) bool { return e.Idx == idx }) {
		return webhook.Delivery{}, fault.NotFound()
	}
	if f.testErr != nil {
		return webhook.Delivery{}, f.testErr
	}
	f.tested = append(f.tested, idx)
	d := webhook.Delivery{WebhookDelivery: f.testAnswer, EventIdx: fmt.Sprintf("TestEvent%daaaaaaaaaaaa", len(f.tested)), EventType: webhook.EventTest,
		Payload: []byte(`{"id":"TestEvent","type":"webhook.test","data":{"endpoint":"` + idx + `"}}`)}
	d.Idx, d.Attempt, d.CreatedAt, d.UpdatedAt = fmt.Sprintf("TestDelivery%daaaaaaaaa", len(f.tested)), 1, time.Now(), time.Now()
	f.log[idx] = append([]webhook.Delivery{d}, f.log[idx]...)
	return d, nil
}

// --- the server under test ---

// harness is the merchant pages over a fake, behind a mux as the server
// registers them.
type harness struct {
	t    *testing.T
	f    *fake
	mux  *http.ServeMux
	logs strings.Builder
}

func newHarness(t *testing.T, o Options) *harness {
	t.Helper()
	h := &harness{t: t, f: newFake(), mux: http.NewServeMux()}
	o.Service, o.Identity, o.Webhooks, o.Log = h.f, h.f, h.f, newLog(&h.logs)
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	p.Routes(h.mux, func(h http.Handler) http.Handler { return h })
	return h
}

// page is an answer of the pages.
type page struct {
	Status   int
	Location string
	Header   http.Header
	Body     string
}

// do sends a request; signedIn adds the good session's cookie, and a form
// gets its CSRF token unless it sets csrf.
func (h *harness) do(method, target string, form url.Values, signedIn bool) page {
	h.t.Helper()
	var body io.Reader
	if form != nil {
		if _, ok := form["csrf"]; !ok && signedIn {
			form.Set("csrf", "mac(session:"+goodSession+")")
		}
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if signedIn {
		r.AddCookie(&http.Cookie{Name: SessionCookie, Value: goodSession})
	}
	return h.serve(r)
}

// newRequest is a form post of v to path.
func newRequest(method, path string, v url.Values) *http.Request {
	r := httptest.NewRequest(method, path, strings.NewReader(v.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// serve answers r.
func (h *harness) serve(r *http.Request) page {
	w := httptest.NewRecorder()
	h.mux.ServeHTTP(w, r)
	return page{Status: w.Code, Location: w.Header().Get("Location"), Header: w.Header(), Body: w.Body.String()}
}

func (h *harness) get(target string) page { h.t.Helper(); return h.do("GET", target, nil, true) }

func (h *harness) post(target string, form url.Values) page {
	h.t.Helper()
	return h.do("POST", target, form, true)
}

// want fails unless pg has status and contains every one of contains.
func (h *harness) want(what string, pg page, status int, contains ...string) {
	h.t.Helper()
	if pg.Status != status {
		h.t.Fatalf("%s: status %d, want %d\n%s\nlog: %s", what, pg.Status, status, pg.Body, h.logs.String())
	}
	for _, c := range contains {
		if !strings.Contains(pg.Body, c) {
			h.t.Fatalf("%s: page lacks %q\n%s", what, c, pg.Body)
		}
	}
}

var errInternal = errors.New("pq: connection to 10.0.0.9 refused")

func newLog(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
