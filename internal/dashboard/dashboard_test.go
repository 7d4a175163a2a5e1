package dashboard

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/store"
)

// Every signed-in page sends a request without a valid session to log
// in, and drops a stale session cookie.
func TestSignInRedirect(t *testing.T) {
	h := newHarness(t, Options{})
	for _, path := range []string{"/dashboard/", "/dashboard/transactions/", "/dashboard/transactions.csv", "/dashboard/transactions/TxIdx1aaaaaaaaaaaaaaaa/",
		"/dashboard/refunds/", "/dashboard/refunds.csv", "/dashboard/webhooks/", "/dashboard/webhooks/HookIdx1aaaaaaaaaaaaaa/", "/dashboard/keys/",
		"/dashboard/settings/", "/dashboard/go-live/", "/dashboard/test-payment/", "/dashboard/kyc/", "/dashboard/?book=live"} {
		if pg := h.do("GET", path, nil, false); pg.Status != http.StatusSeeOther || pg.Location != "/login/" {
			t.Errorf("GET %s signed out: %d to %q, want 303 to /login/", path, pg.Status, pg.Location)
		}
	}
	r := h.do("GET", "/dashboard/", nil, false)
	if r.Header.Get("Set-Cookie") != "" {
		t.Errorf("no cookie sent, yet one is set: %q", r.Header.Get("Set-Cookie"))
	}
	if pg := h.do("POST", "/dashboard/rotate", url.Values{"book": {"test"}, "csrf": {"mac(session:stale)"}}, false); pg.Status != http.StatusSeeOther || pg.Location != "/login/" {
		t.Errorf("POST signed out: %d to %q", pg.Status, pg.Location)
	}
	// Signed in, the log-in form sends to the dashboard.
	if pg := h.get("/login/"); pg.Status != http.StatusSeeOther || pg.Location != "/dashboard/" {
		t.Errorf("log-in form signed in: %d to %q", pg.Status, pg.Location)
	}
}

// A signed-in form without its session's CSRF token is refused before
// anything happens.
func TestCSRFRefusal(t *testing.T) {
	h := newHarness(t, Options{})
	h.f.pay("TxIdx1aaaaaaaaaaaaaaaa", ledger.Test, store.Completed, 10000, "ORD-1", "9800000001", time.Now())
	for _, c := range []struct {
		path string
		form url.Values
	}{
		{"/dashboard/rotate", url.Values{"book": {"test"}}},
		{"/dashboard/test-payment", url.Values{"book": {"test"}}},
		{"/dashboard/password", url.Values{"current_password": {"right password"}, "new_password": {"a new password"}}},
		{"/dashboard/transactions/TxIdx1aaaaaaaaaaaaaaaa/refund", url.Values{"book": {"test"}, "full": {"yes"}}},
		{"/dashboard/webhooks/", url.Values{"book": {"test"}, "url": {"https://shop.example/hook"}, "events": {"payment.completed"}}},
		{"/logout/", url.Values{}},
	} {
		for _, token := range []string{"", "mac(session:other)", "mac(pre:" + goodSession + ")"} {
			c.form.Set("csrf", token)
			h.want(c.path+" with token "+token, h.post(c.path, c.form), http.StatusForbidden, "This form has expired or did not come from this site.")
		}
	}
	if len(h.f.rotated) != 0 || len(h.f.refunds) != 0 || len(h.f.hooks) != 0 || len(h.f.initiated) != 0 {
		t.Fatalf("a refused form acted: rotated %v, refunds %v, hooks %v, payments %v", h.f.rotated, h.f.refunds, h.f.hooks, h.f.initiated)
	}
	// The same forms with the token act.
	h.want("rotate", h.post("/dashboard/rotate", url.Values{"book": {"test"}}), http.StatusOK, "test_secret_key_rotated")
	h.want("refund", h.post("/dashboard/transactions/TxIdx1aaaaaaaaaaaaaaaa/refund", url.Values{"book": {"test"}, "full": {"yes"}}), http.StatusOK,
		"The remaining amount was refunded to the payer.")
	if len(h.f.rotated) != 1 || len(h.f.refunds) != 1 {
		t.Fatalf("good forms: rotated %v, refunds %v", h.f.rotated, h.f.refunds)
	}
}

// Errors show with the status the API gives the same error: 404 for a
// transaction or endpoint the merchant does not have, 400 for a wrong
// form, and a 500 that hides an internal error's cause (logged).
func TestErrorStatuses(t *testing.T) {
	h := newHarness(t, Options{})
	h.want("unknown transaction", h.get("/dashboard/transactions/NoSuchIdxaaaaaaaaaaaaa/"), http.StatusNotFound, "There is no such transaction.")
	h.want("refund of an unknown transaction", h.post("/dashboard/transactions/NoSuchIdxaaaaaaaaaaaaa/refund", url.Values{"book": {"test"}, "amount": {"ten"}}),
		http.StatusNotFound, "There is no such transaction.")
	h.want("unknown endpoint", h.get("/dashboard/webhooks/NoSuchIdxaaaaaaaaaaaaa/"), http.StatusNotFound, "There is no such webhook endpoint or delivery.")
	h.want("delete unknown endpoint", h.post("/dashboard/webhooks/NoSuchIdxaaaaaaaaaaaaa/delete", url.Values{"book": {"test"}}), http.StatusNotFound)
	h.want("no events", h.post("/dashboard/webhooks/", url.Values{"book": {"test"}, "url": {"https://shop.example/h"}}), http.StatusBadRequest,
		"Choose one or more of", `value="https://shop.example/h"`)
	h.want("wrong password", h.post("/dashboard/password", url.Values{"current_password": {"nope"}, "new_password": {"a new password"}}),
		http.StatusBadRequest, "The current password is wrong.")
	h.want("bad filter", h.get("/dashboard/transactions/?min=abc&state=Nope"), http.StatusBadRequest,
		"Minimum amount must be in rupees", "Choose a state from the list.")

	h.f.pay("TxIdx1aaaaaaaaaaaaaaaa", ledger.Test, store.Completed, 10000, "ORD-1", "9800000001", time.Now())
	h.want("over-refund", h.post("/dashboard/transactions/TxIdx1aaaaaaaaaaaaaaaa/refund", url.Values{"book": {"test"}, "amount": {"500"}}),
		http.StatusBadRequest, "Refund amount is more than the refundable amount of Rs 100.00.", `value="500"`)

	h.f.broken = errInternal
	pg := h.get("/dashboard/")
	h.want("internal error", pg, http.StatusInternalServerError, "Something went wrong")
	if strings.Contains(pg.Body, "10.0.0.9") || !strings.Contains(h.logs.String(), "10.0.0.9") {
		t.Fatalf("the internal error is shown or not logged:\n%s\nlog: %s", pg.Body, h.logs.String())
	}
}
