package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/servicetest"
	"github.com/thaili/thaili/internal/store"
)

// Seed bodies shared by the fuzz tests: valid requests of each endpoint
// and the hostile shapes the end-to-end tests send.
var fuzzBodies = []struct{ ctype, body string }{
	{"application/json", `{"public_key":"` + payment.DemoPublicKey + `","mobile":"9800000001","transaction_pin":"1111","amount":1000,"product_identity":"p","product_name":"P","merchant_x":{"a":[1,2]}}`},
	{"application/x-www-form-urlencoded", "public_key=" + payment.DemoPublicKey + "&mobile=9800000001&transaction_pin=1111&amount=1000.0&product_identity=p&product_name=P&merchant_note=%00x"},
	{"application/json", `{"token":"ZZZZZZZZZZZZZZZZZZZZZZ","amount":"1000"}`},
	{"application/json", `{"amount": 500}`},
	{"", `{"amount": 500}`},
	{"", `[{"amount": 500}]`},
	{"", "amount=500&mobile=9800000001"},
	{"application/json", `{"amount": 1000,`},
	{"application/json", `null`},
	{"application/json", `[]`},
	{"application/json", `"x"`},
	{"application/json", `{"amount": true, "token": {}, "mobile": [1], "product_name": null}`},
	{"application/json", `{"amount": "10.5"}`},
	{"application/json", `{"amount": 1e3}`},
	{"application/json", `{"amount": 99999999999999999999999}`},
	{"application/json", `{"amount": -1000, "token": "' OR 1=1 --"}`},
	{"application/json", `{"amount": 1000} {"amount": 1}`},
	{"application/json", `{"token": "a\u0000b", "product_name": "\ud800"}`},
	{"application/json; charset=utf-8", "{\"token\": \"\xff\xfe\"}"},
	{"application/x-www-form-urlencoded", "token=%00&amount=%zz"},
	{"application/x-www-form-urlencoded", "token=%ff%fe&amount=1000&amount=2"},
	{"application/x-www-form-urlencoded", `{"amount": 500}`},
	{"text/plain", `{"amount": 500}`},
	{"application/xml", `<amount>500</amount>`},
	{"%%%/;;;", `{"amount": 500}`},
	{"application/json; charset", `{"amount": 500}`},
	{"multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"amount\"\r\n\r\n500\r\n--XyZ--\r\n"},
	{"multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"amount\"; filename=\"a\"\r\n\r\n500\r\n--XyZ--\r\n"},
	{"multipart/form-data", "--XyZ\r\n"},
	{"application/json", `{"a":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`},
	{"application/json", `{"product_name":"` + strings.Repeat("a", 70<<10) + `"}`},
	{"application/json", ""},
	{"application/json", "   \n"},
}

// wantClientError fails unless err is a *fault.Error of a 4xx kind with
// something to show the client.
func wantClientError(t *testing.T, what string, err error) *fault.Error {
	t.Helper()
	var e *fault.Error
	if !errors.As(err, &e) || e != err {
		t.Fatalf("%s: error %T %v is not a *fault.Error", what, err, err)
	}
	switch e.Kind {
	case fault.KindValidation, fault.KindTooLarge, fault.KindUnsupportedMedia:
	default:
		t.Fatalf("%s: error kind %d (%v) is not a client error", what, e.Kind, e)
	}
	if e.Detail == "" && len(e.Fields) == 0 {
		t.Fatalf("%s: error %#v has neither detail nor fields", what, e)
	}
	for f, msgs := range e.Fields {
		if len(msgs) == 0 {
			t.Fatalf("%s: field %q has no messages", what, f)
		}
	}
	return e
}

func FuzzReadForm(f *testing.F) {
	for _, b := range fuzzBodies {
		f.Add(b.ctype, []byte(b.body))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		fm, err := readForm(r)
		if err != nil {
			e := wantClientError(t, "readForm", err)
			if len(body) > maxBody && e.Kind != fault.KindTooLarge {
				t.Fatalf("%d-byte body: %v, want too large", len(body), e)
			}
			return
		}
		if len(body) > maxBody {
			t.Fatalf("%d-byte body accepted", len(body))
		}
		if len(bytes.TrimSpace(body)) == 0 && len(fm.values) != 0 {
			t.Fatalf("empty body gave values %v", fm.values)
		}
		keys := make([]string, 0, len(fm.values))
		for k := range fm.values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		keys = append(keys, "missing-field")
		for i, k := range keys {
			before := len(fm.errs[k])
			s := fm.str(k, i%2 == 0)
			if len(s) > 1000 || strings.ContainsRune(s, 0) || !utf8.ValidString(s) || s != strings.TrimSpace(s) {
				t.Fatalf("str(%q) = %q: too long, NUL, invalid UTF-8 or untrimmed", k, s)
			}
			if _, present := fm.values[k]; i%2 == 0 && s == "" && len(fm.errs[k]) == before && present {
				t.Fatalf("required str(%q) is blank without an error (value %#v)", k, fm.values[k])
			}
			before = len(fm.errs[k])
			p := fm.amount(k)
			if len(fm.errs[k]) == before && (p > money.Max || p < -money.Max) {
				t.Fatalf("amount(%q) = %d out of range without an error", k, p)
			}
			if len(fm.errs[k]) == before {
				// An accepted amount is exactly the integer sent.
				switch v := fm.values[k].(type) {
				case json.Number:
					if n, err := v.Int64(); err == nil && money.Paisa(n) != p {
						t.Fatalf("amount(%q) = %d from %s", k, p, v)
					}
				case string:
					if n, err := json.Number(strings.TrimSpace(v)).Int64(); err == nil && money.Paisa(n) != p {
						t.Fatalf("amount(%q) = %d from %q", k, p, v)
					}
				}
			}
			before = len(fm.errs[k])
			if op := fm.optionalAmount(k); op == nil && fm.values[k] != nil {
				t.Fatalf("optionalAmount(%q) is nil for a present value", k)
			} else if op != nil && *op == 0 && len(fm.errs[k]) == before && fm.values[k] == nil {
				t.Fatalf("optionalAmount(%q): null accepted", k)
			}
		}
		for k := range fm.extras() {
			if !strings.HasPrefix(k, "merchant_") {
				t.Fatalf("extras holds %q", k)
			}
		}
		if err := fm.err(); err != nil {
			if e := wantClientError(t, "form.err", err); len(e.Fields) == 0 {
				t.Fatalf("field error without fields: %#v", e)
			}
		}
	})
}

// fuzzServer is an API server on a seeded SQLite sandbox with a
// Confirmed payment (token) and a Completed one (idx).
type fuzzServer struct {
	svc             *payment.Service
	handler         http.Handler
	initiatedToken  string
	confirmedToken  string
	completedIdx    string
	completedToken  string
	confirmedAmount int64
	completedAmount int64
}

func newFuzzServer(f *testing.F) *fuzzServer {
	f.Helper()
	ctx := context.Background()
	db := servicetest.SQLite(f)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, id := servicetest.New(f, db, time.Now, nil)
	if _, err := svc.Seed(ctx); err != nil {
		f.Fatal(err)
	}
	caller, err := id.Authenticate(ctx, payment.DemoSecretKey, store.SecretKey)
	if err != nil {
		f.Fatal(err)
	}
	fs := &fuzzServer{svc: svc, handler: apiHandler(New(Options{Service: svc, Identity: id, Idempotency: testKeys(f, db, time.Now), Log: log, PublicURL: "http://thaili.test"})),
		confirmedAmount: 2000, completedAmount: 3000}
	pay := func(amount int64, confirm, verify bool) (token, idx string) {
		res, err := svc.Initiate(ctx, payment.InitiateInput{PublicKey: payment.DemoPublicKey, Mobile: "9800000001", MPIN: "1111",
			Amount: money.Paisa(amount), ProductIdentity: "p", ProductName: "P"})
		if err != nil {
			f.Fatal(err)
		}
		if !confirm {
			return res.Token, ""
		}
		tr, err := svc.Confirm(ctx, payment.ConfirmInput{PublicKey: payment.DemoPublicKey, Token: res.Token, ConfirmationCode: "987654", MPIN: "1111"})
		if err != nil {
			f.Fatal(err)
		}
		if verify {
			if _, err := svc.Verify(ctx, caller, res.Token, money.Paisa(amount)); err != nil {
				f.Fatal(err)
			}
		}
		return res.Token, tr.Payment.Idx
	}
	fs.initiatedToken, _ = pay(1000, false, false)
	fs.confirmedToken, _ = pay(fs.confirmedAmount, true, false)
	fs.completedToken, fs.completedIdx = pay(fs.completedAmount, true, true)
	return fs
}

// apiHandler serves s's routes and the JSON 404 for every other path, as
// internal/httpserver mounts them (without its middleware).
func apiHandler(s *Server) http.Handler {
	mux := http.NewServeMux()
	s.Routes(mux)
	mux.HandleFunc("/", NotFound)
	return mux
}

// Endpoints FuzzHandlers drives, by the first fuzz argument.
var fuzzEndpoints = []struct {
	method, path string
	auth         bool
}{
	{"POST", "/api/v2/payment/initiate/", false},
	{"POST", "/api/v2/payment/confirm/", false},
	{"POST", "/api/v2/payment/verify/", true},
	{"GET", "/api/v2/payment/status/", true},
	{"GET", "/api/v2/merchant-transaction/", true},
	{"POST", "/api/merchant-transaction/{idx}/refund/", true},
	{"POST", "/api/v2/epayment/merchant-transaction/{idx}/refund/", true},
	{"GET", "/api/v2/merchant-transaction/{idx}/", true},
}

func FuzzHandlers(f *testing.F) {
	fs := newFuzzServer(f)
	for i, b := range fuzzBodies {
		f.Add(uint8(i%len(fuzzEndpoints)), b.ctype, b.body, fs.completedIdx)
	}
	// Requests aimed at the real payments, with odd amounts.
	for _, body := range []string{
		`{"token":"` + fs.confirmedToken + `","amount":2001}`,
		`{"token":"` + fs.confirmedToken + `","amount":"2000.5"}`,
		`{"token":"` + fs.completedToken + `","amount":3000}`,
		`{"public_key":"` + payment.DemoPublicKey + `","token":"` + fs.initiatedToken + `","confirmation_code":"000000","transaction_pin":"1111"}`,
		`{"amount": 3001}`, `{"amount": 0}`, `{"amount": "1e3"}`, `{"amount": null}`, `{"amount": 1}`,
	} {
		for e := range fuzzEndpoints {
			f.Add(uint8(e), "application/json", body, fs.completedIdx)
		}
	}
	for _, q := range []string{
		"token=" + fs.completedToken + "&amount=3000", "token=" + fs.completedIdx + "&amount=-1", "token=%00&amount=1000",
		"page=0", "page=99999999999999999999", "page_size=-5&state=Completed,%ff", "start_date=2026-13-45", "state=' OR 1=1 --",
	} {
		f.Add(uint8(3), "", q, fs.completedIdx)
		f.Add(uint8(4), "", q, fs.completedIdx)
	}
	for _, idx := range []string{"", ".", "..", "%", "' OR 1=1 --", "a\x00b", "\xff", strings.Repeat("Z", 5000), fs.confirmedToken} {
		f.Add(uint8(5), "application/json", `{"amount": 1}`, idx)
		f.Add(uint8(7), "", "", idx)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, endpoint uint8, contentType, body, idx string) {
		ep := fuzzEndpoints[int(endpoint)%len(fuzzEndpoints)]
		path := strings.Replace(ep.path, "{idx}", url.PathEscape(idx), 1)
		var r *http.Request
		if ep.method == "GET" {
			r = httptest.NewRequest(ep.method, "http://thaili.test/", nil)
			r.URL.RawQuery = body
		} else {
			r = httptest.NewRequest(ep.method, "http://thaili.test/", strings.NewReader(body))
		}
		r.URL.Path, r.URL.RawPath = strings.Replace(ep.path, "{idx}", idx, 1), path
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		// The high bit drops the credentials.
		if ep.auth && endpoint < 128 {
			r.Header.Set("Authorization", "Key "+payment.DemoSecretKey)
		}
		w := httptest.NewRecorder()
		fs.handler.ServeHTTP(w, r)
		res := w.Result()
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s (%q) %.200q: %d %s", ep.method, path, contentType, body, res.StatusCode, w.Body.String())
		}
		if res.StatusCode >= 300 && res.StatusCode < 400 {
			// ServeMux cleaning a path with "." or ".." segments.
			if res.Header.Get("Location") == "" {
				t.Fatalf("redirect without Location: %d", res.StatusCode)
			}
			return
		}
		var obj map[string]any
		dec := json.NewDecoder(w.Body)
		if err := dec.Decode(&obj); err != nil || obj == nil || dec.More() {
			t.Fatalf("%s %s: %d body is not a JSON object: %.300s", ep.method, path, res.StatusCode, w.Body.String())
		}
		if res.StatusCode >= 400 && !khaltiShaped(obj) {
			t.Fatalf("%s %s: %d error body without detail or field errors: %v", ep.method, path, res.StatusCode, obj)
		}
		if ep.method == "POST" && res.StatusCode == 200 {
			v, err := fs.svc.CheckLedger(ctx)
			if err != nil || len(v) > 0 {
				t.Fatalf("ledger after %s %.200q: %v %v", path, body, err, v)
			}
		}
	})
}

// khaltiShaped reports whether an error body has a "detail" string or a
// field with a list of messages.
func khaltiShaped(obj map[string]any) bool {
	if d, ok := obj["detail"].(string); ok && d != "" {
		return true
	}
	for _, v := range obj {
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			continue
		}
		strs := true
		for _, m := range list {
			if s, ok := m.(string); !ok || s == "" {
				strs = false
			}
		}
		if strs {
			return true
		}
	}
	return false
}
