package main

import (
	"net/url"
	"path/filepath"
	"testing"
	"time"
)

// scenarioPay pays a fresh ePayment on the hosted page as mobile and
// returns its pidx, its page's path and the return_url redirect's query.
func scenarioPay(t *testing.T, s *testServer, mobile string) (string, string, url.Values) {
	t.Helper()
	p := newPage(t, s)
	pidx, path := initiateEPayment(t, s)
	token := csrf(t, p.get(path))
	base := "/pay/" + pidx
	r := p.post(base+"/signin", url.Values{"csrf": {token}, "mobile": {mobile}, "mpin": {"1111"}})
	mustContain(t, "signin", r, 200, `name="code"`)
	r = p.post(base+"/confirm", url.Values{"csrf": {token}, "code": {"987654"}, "mpin": {"1111"}})
	if r.Status != 303 {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return pidx, path, loc.Query()
}

// TestSandboxScenarioPending: 9800000010 leaves the payment Pending, the
// money held, until THAILI_SANDBOX_PENDING_DELAY has passed.
func TestSandboxScenarioPending(t *testing.T) {
	t.Parallel()
	s := startServerDB(t, filepath.Join(t.TempDir(), "thaili.db"), map[string]string{"THAILI_SANDBOX_PENDING_DELAY": "1s"})
	pidx, path, q := scenarioPay(t, s, "9800000010")
	if q.Get("status") != "Pending" || q.Get("pidx") != pidx || q.Get("transaction_id") != "" || q.Get("mobile") != "98XXXXX010" {
		t.Fatalf("return query %v", q)
	}
	r := s.do(t, "POST", "/api/v2/epayment/lookup/", testSK, `{"pidx":"`+pidx+`"}`)
	if r.Status != 200 || r.Body["status"] != "Pending" || r.Body["transaction_id"] != nil {
		t.Fatalf("lookup while pending: %d %s", r.Status, r.Raw)
	}
	p := newPage(t, s)
	mustContain(t, "pending page", p.get(path), 200, "This payment is paid and being processed.")
	s.ledgerOK(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r = s.do(t, "POST", "/api/v2/epayment/lookup/", testSK, `{"pidx":"`+pidx+`"}`)
		if r.Body["status"] == "Completed" {
			break
		}
		if r.Body["status"] != "Pending" || time.Now().After(deadline) {
			t.Fatalf("lookup after the delay: %d %s", r.Status, r.Raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if txn, _ := r.Body["transaction_id"].(string); r.Status != 200 || len(txn) != 22 {
		t.Fatalf("completed lookup: %d %s", r.Status, r.Raw)
	}
	s.ledgerOK(t)
}

// TestSandboxScenarioFails: 9800000011's payment fails after the code;
// lookup answers Failed with 400, as for any failed link.
func TestSandboxScenarioFails(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	pidx, path, q := scenarioPay(t, s, "9800000011")
	if q.Get("status") != "Failed" || q.Get("pidx") != pidx || q.Get("transaction_id") != "" {
		t.Fatalf("return query %v", q)
	}
	r := s.do(t, "POST", "/api/v2/epayment/lookup/", testSK, `{"pidx":"`+pidx+`"}`)
	if r.Status != 400 || r.Body["status"] != "Failed" || r.Body["transaction_id"] != nil {
		t.Fatalf("lookup: %d %s", r.Status, r.Raw)
	}
	mustContain(t, "failed page", newPage(t, s).get(path), 410, "This payment failed.")
	s.ledgerOK(t)
}

// TestSandboxScenarioRefusals: the zero-balance and locked payers are
// refused at sign-in on the page.
func TestSandboxScenarioRefusals(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	p := newPage(t, s)
	pidx, path := initiateEPayment(t, s)
	token := csrf(t, p.get(path))
	r := p.post("/pay/"+pidx+"/signin", url.Values{"csrf": {token}, "mobile": {"9800000012"}, "mpin": {"1111"}})
	mustContain(t, "insufficient", r, 400, "Insufficient balance in the wallet.")
	r = p.post("/pay/"+pidx+"/signin", url.Values{"csrf": {token}, "mobile": {"9800000013"}, "mpin": {"1111"}})
	if r.Status < 400 {
		t.Fatalf("locked payer signed in: %d", r.Status)
	}
	mustContain(t, "locked", r, r.Status, "Your wallet is locked")
	s.ledgerOK(t)
}
