package dashboard

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/store"
)

var (
	currentNavRE  = regexp.MustCompile(`<nav class="side"[^>]*>.*?<a href="([^"]*)" aria-current="page">([^<]*)</a>`)
	currentBookRE = regexp.MustCompile(`<nav class="books"[^>]*>.*?<a href="[^"]*" class="book current" aria-current="page">([^<]*)</a>`)
	navLinkRE     = regexp.MustCompile(`<nav class="side"[^>]*><ul>(.*?)</ul></nav>`)
)

// Every section renders in the layout with its navigation entry marked
// and the Test/Live switch on the book asked for; in the live book the
// navigation keeps ?book=live, so a shared URL shows the same.
func TestEachPageRendersWithNavAndBookSwitch(t *testing.T) {
	h := newHarness(t, Options{})
	h.f.goLive()
	h.f.pay("TxIdx1aaaaaaaaaaaaaaaa", ledger.Test, store.Completed, 123456, "ORD-1", "9800000001", time.Now())
	h.f.pay("TxIdx2aaaaaaaaaaaaaaaa", ledger.Live, store.Refunded, 5000, "ORD-2", "9800000002", time.Now())
	for _, c := range []struct {
		path, section, want string
	}{
		{"/dashboard/", "Overview", `id="chart-`},
		{"/dashboard/transactions/", "Payments", `id="filters"`},
		{"/dashboard/refunds/", "Refunds", "How refunds work"},
		{"/dashboard/webhooks/", "Webhooks", `id="register"`},
		{"/dashboard/keys/", "Keys", `id="keys"`},
		{"/dashboard/settings/", "Settings", `id="change-password"`},
		{"/dashboard/go-live/", "Go live", `id="checklist"`},
		{"/dashboard/test-payment/", "Go live", `id="start-test-payment"`},
	} {
		for _, book := range []string{"test", "live"} {
			path := c.path + "?book=" + book
			pg := h.get(path)
			h.want(path, pg, http.StatusOK, c.want)
			m := currentNavRE.FindStringSubmatch(pg.Body)
			if m == nil || m[2] != c.section {
				t.Errorf("%s: navigation marks %q, want %s", path, m, c.section)
			}
			if b := currentBookRE.FindStringSubmatch(pg.Body); b == nil || !strings.EqualFold(b[1], book) {
				t.Errorf("%s: book switch marks %q, want %s", path, b, book)
			}
			nav := navLinkRE.FindStringSubmatch(pg.Body)
			if nav == nil || strings.Count(nav[1], "<a ") != 7 || (book == "live") != (strings.Count(nav[1], "?book=live") == 7) {
				t.Errorf("%s: navigation %q: 7 links, each keeping the live book", path, nav)
			}
			if ribbon := strings.Contains(pg.Body, `id="test-mode"`); ribbon != (book == "test") {
				t.Errorf("%s: test-mode ribbon %v", path, ribbon)
			}
		}
	}
	// Money in rupees with Nepali grouping, times in Nepal time.
	h.want("balance", h.get("/dashboard/"), http.StatusOK, "Rs 12,34,567.89")
	h.want("amount", h.get("/dashboard/transactions/"), http.StatusOK, "Rs 1,234.56", "Date (Nepal)")
}

// Before live keys exist the Live switch is there and says why there is
// nothing behind it; a book that is not one is refused.
func TestLiveBeforeGoLive(t *testing.T) {
	h := newHarness(t, Options{})
	pg := h.get("/dashboard/keys/")
	if !strings.Contains(pg.Body, `href="/dashboard/keys/?book=live"`) {
		t.Fatalf("no Live switch before go-live:\n%s", pg.Body)
	}
	for _, path := range []string{"/dashboard/?book=live", "/dashboard/transactions/?book=live", "/dashboard/webhooks/?book=live", "/dashboard/keys/?book=live"} {
		h.want(path, h.get(path), http.StatusBadRequest, "Live mode is not available yet", "You have no live keys yet", "first completed test payment")
	}
	h.want("rotate live", h.post("/dashboard/rotate", url.Values{"book": {"live"}}), http.StatusBadRequest, "You have no live keys yet")
	h.want("bad book", h.get("/dashboard/?book=%3Cscript%3E"), http.StatusBadRequest, "Book must be test or live.")
	if len(h.f.rotated) != 0 {
		t.Fatalf("rotated %v", h.f.rotated)
	}
}

// The search box finds a payment by idx, pidx, the payer's mobile (as
// merchants write it) or part of the order id; the old ?order= name
// still works; Refunds lists only refunded payments.
func TestTransactionSearch(t *testing.T) {
	h := newHarness(t, Options{})
	now := time.Now()
	h.f.pay("TxIdx1aaaaaaaaaaaaaaaa", ledger.Test, store.Completed, 1000, "ORD-1", "9800000001", now)
	h.f.pay("TxIdx2aaaaaaaaaaaaaaaa", ledger.Test, store.Refunded, 2000, "ORD-2", "9800000002", now)
	h.f.pay("TxIdx3aaaaaaaaaaaaaaaa", ledger.Test, store.PartiallyRefunded, 3000, "SHOP-3", "9800000002", now)
	rows := func(pg page) []string {
		var out []string
		for _, m := range regexp.MustCompile(`<tr id="tx-([^"]+)">`).FindAllStringSubmatch(pg.Body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	for _, c := range []struct {
		query, term string
		want        []string
	}{
		{"q=TxIdx2aaaaaaaaaaaaaaaa", "TxIdx2aaaaaaaaaaaaaaaa", []string{"TxIdx2aaaaaaaaaaaaaaaa"}},
		{"q=pidx-TxIdx3aaaaaaaaaaaaaaaa", "pidx-TxIdx3aaaaaaaaaaaaaaaa", []string{"TxIdx3aaaaaaaaaaaaaaaa"}},
		{"q=" + url.QueryEscape("+977 98-0000-0002"), "9800000002", []string{"TxIdx2aaaaaaaaaaaaaaaa", "TxIdx3aaaaaaaaaaaaaaaa"}},
		{"q=9800000001", "9800000001", []string{"TxIdx1aaaaaaaaaaaaaaaa"}},
		{"q=ord", "ord", []string{"TxIdx1aaaaaaaaaaaaaaaa", "TxIdx2aaaaaaaaaaaaaaaa"}},
		{"order=shop", "shop", []string{"TxIdx3aaaaaaaaaaaaaaaa"}},
	} {
		pg := h.get("/dashboard/transactions/?" + c.query)
		h.want(c.query, pg, http.StatusOK)
		if got := h.f.queries[len(h.f.queries)-1].Query; got != c.term {
			t.Errorf("%s: the service was asked for %q, want %q", c.query, got, c.term)
		}
		if got := rows(pg); strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s: rows %q, want %q", c.query, got, c.want)
		}
	}
	pg := h.get("/dashboard/refunds/")
	if got := rows(pg); strings.Join(got, " ") != "TxIdx2aaaaaaaaaaaaaaaa TxIdx3aaaaaaaaaaaaaaaa" {
		t.Errorf("refunds: rows %q", got)
	}
	h.want("refunds by state", h.get("/dashboard/refunds/?state=Completed"), http.StatusBadRequest, "Choose a state from the list.")
	h.want("refund csv", h.get("/dashboard/refunds.csv"), http.StatusOK, ",2000,60,0,Refunded")
	h.want("long search", h.get("/dashboard/transactions/?q="+strings.Repeat("x", 101)), http.StatusBadRequest, "Search must be at most 100 characters.")
}

// A sealed secret is revealed once, on Keys only, behind a reveal with a
// copy button and an "I have saved it" form; the overview says it waits
// without showing it; after it, the secret is gone.
func TestKeyRevealOnce(t *testing.T) {
	h := newHarness(t, Options{})
	const secret = "test_secret_key_00000000000000000000000000000002"
	ov := h.get("/dashboard/")
	h.want("overview", ov, http.StatusOK, `id="secret-waiting"`, `href="/dashboard/keys/?book=test"`)
	if strings.Contains(ov.Body, secret) {
		t.Fatal("the overview shows the secret")
	}
	pg := h.get("/dashboard/keys/")
	h.want("first keys page", pg, http.StatusOK, `<details id="reveal-test">`, `<code id="new-secret-key-test">`+secret+`</code>`,
		`data-copy="new-secret-key-test"`, `action="/dashboard/saved"`, `name="back" value="keys"`, `id="saved-test"`, "shown only this once")
	if pg.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("a page with a secret may be cached: %q", pg.Header.Get("Cache-Control"))
	}
	saved := h.post("/dashboard/saved", url.Values{"book": {"test"}, "back": {"keys"}})
	if saved.Status != http.StatusSeeOther || saved.Location != "/dashboard/keys/?book=test" {
		t.Fatalf("I have saved it: %d to %q", saved.Status, saved.Location)
	}
	again := h.get("/dashboard/keys/")
	h.want("keys again", again, http.StatusOK, "test_secret_key_0000…", "test_public_key_00000000000000000000000000000001")
	if strings.Contains(again.Body, secret) || strings.Contains(again.Body, `id="new-secret-test"`) {
		t.Fatal("the secret is shown twice")
	}
	if strings.Contains(h.get("/dashboard/").Body, `id="secret-waiting"`) {
		t.Fatal("the overview still says a secret waits")
	}
	// Rotation shows its new secret the same way.
	h.want("rotate", h.post("/dashboard/rotate", url.Values{"book": {"test"}}), http.StatusOK,
		`<code id="new-secret-key-test">test_secret_key_rotated</code>`, `<details id="reveal-test">`, "were rotated")
	// A webhook endpoint's signing secret too, with its way back.
	h.want("new endpoint", h.post("/dashboard/webhooks/", url.Values{"book": {"test"}, "url": {"https://shop.example/h"}, "events": {"payment.completed"}}),
		http.StatusOK, `<details id="reveal-hook">`, `<code id="new-hook-secret">whsec_secret</code>`, `name="back" value="webhooks"`)
	if pg := h.post("/dashboard/saved", url.Values{"book": {"test"}, "back": {"webhooks"}}); pg.Location != "/dashboard/webhooks/?book=test" {
		t.Errorf("saved the endpoint's secret: to %q", pg.Location)
	}
}

// Sign-up shows no key before the phone is confirmed; in a sandbox the
// code page points to the sandbox inbox, elsewhere it does not; the
// confirmed phone leads to Keys.
func TestSignUpShowsNoKeysBeforeConfirm(t *testing.T) {
	for _, sandbox := range []bool{true, false} {
		h := newHarness(t, Options{Sandbox: sandbox})
		form := h.do("GET", "/join/merchant/", nil, false)
		csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(form.Body)[1]
		pre := regexp.MustCompile(`thaili_pre=([^;]+)`).FindStringSubmatch(form.Header.Get("Set-Cookie"))[1]
		post := func(path string, v url.Values) page {
			v.Set("csrf", csrf)
			r := newRequest("POST", path, v)
			r.AddCookie(&http.Cookie{Name: preCookie, Value: pre})
			return h.serve(r)
		}
		pg := post("/join/merchant/", url.Values{"name": {"Shop"}, "email": {"owner@himal.example"}, "phone": {"9812345670"}, "password": {"long enough password"}})
		h.want("code page", pg, http.StatusOK, "Confirm your phone", "98XXXXX670", `name="challenge" value="challenge-1"`)
		if regexp.MustCompile(`(test|live)_(public|secret)_key_`).MatchString(pg.Body) {
			t.Fatalf("a key before the phone is confirmed:\n%s", pg.Body)
		}
		if inbox := strings.Contains(pg.Body, `href="/sandbox/inbox/"`); inbox != sandbox {
			t.Errorf("sandbox %v: the code page links the sandbox inbox: %v", sandbox, inbox)
		}
		h.want("wrong code", post("/join/merchant/confirm", url.Values{"challenge": {"challenge-1"}, "code": {"000000"}}), http.StatusBadRequest, "The code is wrong.")
		ok := post("/join/merchant/confirm", url.Values{"challenge": {"challenge-1"}, "code": {"123456"}})
		if ok.Status != http.StatusSeeOther || ok.Location != "/dashboard/keys/" || !strings.Contains(strings.Join(ok.Header.Values("Set-Cookie"), " "), SessionCookie+"="+goodSession) {
			t.Fatalf("confirmed: %d to %q, cookies %q", ok.Status, ok.Location, ok.Header.Values("Set-Cookie"))
		}
	}
}

// The checklist's test payment is a test-book ePayment of the merchant's
// own, whichever book the page was in, sent to the hosted page by path;
// back from it the page shows how it ended.
func TestTestPayment(t *testing.T) {
	h := newHarness(t, Options{PublicURL: "https://pay.example", Sandbox: true})
	h.want("page", h.get("/dashboard/test-payment/"), http.StatusOK, "9800000000", "1111", "987654",
		"https://pay.example/api/v2/epayment/initiate/", "it starts <code>test_secret_key_0000</code>")
	pg := h.post("/dashboard/test-payment", url.Values{"book": {"test"}})
	if pg.Status != http.StatusSeeOther || !strings.HasPrefix(pg.Location, "/?pidx=TestPidxaaaaaaaaaaaaaa&") {
		t.Fatalf("start: %d to %q", pg.Status, pg.Location)
	}
	if len(h.f.initiated) != 1 || h.f.initiated[0].Amount != testAmount || h.f.initiated[0].ReturnURL != "https://pay.example/dashboard/test-payment/" {
		t.Fatalf("initiated %+v", h.f.initiated)
	}
	h.f.pay("TxIdx9aaaaaaaaaaaaaaaa", ledger.Test, store.Completed, testAmount, "dashboard-test-1", "9800000001", time.Now())
	h.want("back", h.get("/dashboard/test-payment/?pidx=pidx-TxIdx9aaaaaaaaaaaaaaaa&status=Completed"), http.StatusOK,
		`id="test-result"`, "Rs 100.00", "Completed")
	if pg := h.get("/dashboard/test-payment/?pidx=someone-elses"); strings.Contains(pg.Body, `id="test-result"`) {
		t.Error("a pidx that is not the merchant's shows a result")
	}
}

// A refund's amount may be typed as the pages show amounts.
func TestRefundAmountAsShown(t *testing.T) {
	h := newHarness(t, Options{})
	h.f.pay("TxIdx1aaaaaaaaaaaaaaaa", ledger.Test, store.Completed, 200000, "ORD-1", "9800000001", time.Now())
	h.want("refund", h.post("/dashboard/transactions/TxIdx1aaaaaaaaaaaaaaaa/refund", url.Values{"book": {"test"}, "amount": {"Rs 1,250.50"}}),
		http.StatusOK, "Rs 1,250.50 was refunded to the payer.", "Partially refunded")
	h.want("three decimals", h.post("/dashboard/transactions/TxIdx1aaaaaaaaaaaaaaaa/refund", url.Values{"book": {"test"}, "amount": {"1.005"}}),
		http.StatusBadRequest, "Enter the amount to refund in rupees, like 250 or 250.50.")
}
