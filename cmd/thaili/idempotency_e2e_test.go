package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/thaili/thaili/internal/store/postgres/pgtest"
)

// doKey sends a request like do, with an Idempotency-Key header.
func (s *testServer) doKey(t testing.TB, method, path, key, idemKey, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Key "+key)
	}
	req.Header.Set("Idempotency-Key", idemKey)
	return s.send(t, req)
}

// totalRecords is how many payments the sandbox merchant's list holds.
func (s *testServer) totalRecords(t testing.TB) int64 {
	t.Helper()
	r := s.do(t, "GET", "/api/v2/merchant-transaction/?page_size=1", testSK, "")
	mustStatus(t, r, 200)
	n, err := r.Body["total_records"].(json.Number).Int64()
	if err != nil {
		t.Fatalf("total_records: %s", r.Raw)
	}
	return n
}

func TestIdempotencyReplay(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	const path = "/api/v2/epayment/initiate/"
	body := epaymentBody(t, nil)
	before := s.totalRecords(t)

	first := s.doKey(t, "POST", path, testSK, "order-7-attempt", body)
	mustStatus(t, first, 200)
	if first.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("a first request is marked replayed")
	}
	again := s.doKey(t, "POST", path, testSK, "order-7-attempt", body)
	if again.Status != 200 || again.Raw != first.Raw || again.Header.Get("Idempotent-Replayed") != "true" ||
		again.Header.Get("Content-Type") != first.Header.Get("Content-Type") {
		t.Fatalf("replay: %d %q %v\nfirst: %s\nagain: %s", again.Status, again.Header.Get("Idempotent-Replayed"), again.Header, first.Raw, again.Raw)
	}
	if got := s.totalRecords(t); got != before+1 {
		t.Fatalf("payments after a replayed initiate: %d, want %d", got, before+1)
	}

	// The same key with another body (or path) is refused; nothing is created.
	want422 := `{"detail":"Idempotency-Key was used with a different request.","error_key":"idempotency_error"}`
	mustBody(t, "different body", s.doKey(t, "POST", path, testSK, "order-7-attempt", epaymentBody(t, map[string]any{"amount": 1400})), 422, want422)
	mustBody(t, "different path", s.doKey(t, "POST", "/api/v2/epayment/initiate", testSK, "order-7-attempt", body), 422, want422)
	// Keys are per caller: the live book or another key kind does not see it,
	// and no header at all behaves as before (a second payment).
	r := s.do(t, "POST", path, testSK, body)
	mustStatus(t, r, 200)
	if r.Body["pidx"] == first.Body["pidx"] || r.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("a request without the header was replayed: %s", r.Raw)
	}
	if got := s.totalRecords(t); got != before+2 {
		t.Fatalf("payments: %d, want %d", got, before+2)
	}

	// Bad keys are 400 before anything runs.
	for _, k := range []string{strings.Repeat("k", 256), "caf\u00e9", "tab\there"} {
		mustBody(t, "bad key "+k[:3], s.doKey(t, "POST", path, testSK, k, body), 400,
			`{"Idempotency-Key":["`+map[bool]string{true: "Ensure this field has no more than 255 characters.", false: "Only printable ASCII characters are allowed."}[len(k) == 256]+`"],"error_key":"validation_error"}`)
	}
	mustStatus(t, s.doKey(t, "POST", path, testSK, strings.Repeat("k", 255), body), 200)

	// A 4xx is kept too: the same bad request gets the same answer without running.
	bad := epaymentBody(t, map[string]any{"amount": 10})
	b1 := s.doKey(t, "POST", path, testSK, "bad-amount", bad)
	b2 := s.doKey(t, "POST", path, testSK, "bad-amount", bad)
	if b1.Status != 400 || b2.Status != 400 || b1.Raw != b2.Raw || b2.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("4xx replay: %d %s / %d %s", b1.Status, b1.Raw, b2.Status, b2.Raw)
	}
	// A wrong secret key is answered as always, and records nothing.
	mustStatus(t, s.doKey(t, "POST", path, "test_secret_key_00000000000000000000000000000000", "k-unauth", body), 401)
	mustStatus(t, s.doKey(t, "POST", path, testSK, "k-unauth", body), 200)
}

func TestIdempotencyRefundAndLegacy(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	const payer = "9800000002"
	// Legacy initiate and confirm take the key too, scoped by the public key.
	initiate := jsonBody(t, map[string]any{"public_key": testPK, "mobile": payer, "transaction_pin": "1111",
		"amount": 5000, "product_identity": "p1", "product_name": "Product"})
	i1 := s.doKey(t, "POST", "/api/v2/payment/initiate/", "", "init-1", initiate)
	i2 := s.doKey(t, "POST", "/api/v2/payment/initiate/", "", "init-1", initiate)
	mustStatus(t, i1, 200)
	if i2.Raw != i1.Raw || i2.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("legacy initiate replay: %s / %s", i1.Raw, i2.Raw)
	}
	token := i1.Body["token"].(string)
	// The public key's namespace is not the secret key's: the same key
	// string on a secret-key endpoint is a fresh key.
	idx := s.confirm(t, testPK, token)
	v := s.doKey(t, "POST", "/api/v2/payment/verify/", testSK, "init-1", jsonBody(t, map[string]any{"token": token, "amount": 5000}))
	mustStatus(t, v, 200)
	if v.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("verify replayed a public-key response: %s", v.Raw)
	}

	merchantBefore, walletBefore := s.demoTestBalance(t), s.walletBalanceProbe(t, payer)
	refund := "/api/merchant-transaction/" + idx + "/refund/"
	r1 := s.doKey(t, "POST", refund, testSK, "refund-1", `{"amount":1000}`)
	mustBody(t, "refund", r1, 200, bodyRefundOK)
	for i := 0; i < 3; i++ {
		r := s.doKey(t, "POST", refund, testSK, "refund-1", `{"amount":1000}`)
		if r.Raw != r1.Raw || r.Status != 200 || r.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("refund replay %d: %d %s", i, r.Status, r.Raw)
		}
	}
	mustBody(t, "refund with another amount", s.doKey(t, "POST", refund, testSK, "refund-1", `{"amount":500}`), 422,
		`{"detail":"Idempotency-Key was used with a different request.","error_key":"idempotency_error"}`)
	if got := s.demoTestBalance(t); got != merchantBefore-1000 {
		t.Errorf("merchant balance after one refund replayed: %d, want %d", got, merchantBefore-1000)
	}
	if got := s.walletBalanceProbe(t, payer); got != walletBefore+1+1000 {
		t.Errorf("wallet after one refund replayed: %d, want %d", got, walletBefore+1+1000)
	}
	r := s.do(t, "GET", "/api/v2/merchant-transaction/"+idx+"/", testSK, "")
	if !strings.Contains(r.Raw, `"Partially refunded"`) {
		t.Errorf("detail after refund: %s", r.Raw)
	}
	// The ePayment refund path is another path: the key there is a mismatch.
	mustStatus(t, s.doKey(t, "POST", "/api/v2/epayment/merchant-transaction/"+idx+"/refund/", testSK, "refund-1", `{"amount":1000}`), 422)
	s.ledgerOK(t)
}

// concurrentSameKey sends n identical ePayment initiates with one key at
// once to the servers in turn and checks that exactly one ran: every
// answer is that response (first or replayed) or a 409.
func concurrentSameKey(t *testing.T, servers []*testServer, key string, n int) (conflicts int) {
	t.Helper()
	body := epaymentBody(t, nil)
	res := make([]response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res[i] = servers[i%len(servers)].doKey(t, "POST", "/api/v2/epayment/initiate/", testSK, key, body)
		}()
	}
	close(start)
	wg.Wait()
	fresh, raw := 0, ""
	for _, r := range res {
		switch {
		case r.Status == 409:
			conflicts++
			if !strings.Contains(r.Raw, `"detail":"A request with this Idempotency-Key is still in progress.","error_key":"idempotency_error"`) {
				t.Errorf("409 body: %s", r.Raw)
			}
			continue
		case r.Status != 200:
			t.Fatalf("concurrent initiate: %d %s", r.Status, r.Raw)
		case r.Header.Get("Idempotent-Replayed") == "":
			fresh++
		}
		if raw != "" && r.Raw != raw {
			t.Fatalf("two different answers for one key:\n%s\n%s", raw, r.Raw)
		}
		raw = r.Raw
	}
	if fresh != 1 {
		t.Fatalf("%d first runs for one key, want 1", fresh)
	}
	return conflicts
}

func TestIdempotencyConcurrent(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	before := s.totalRecords(t)
	const rounds = 15
	conflicts := 0
	for i := range rounds {
		conflicts += concurrentSameKey(t, []*testServer{s}, fmt.Sprintf("concurrent-%d", i), 6)
	}
	if got := s.totalRecords(t); got != before+rounds {
		t.Fatalf("payments: %d, want %d (one per key)", got, before+rounds)
	}
	t.Logf("%d requests of %d answered 409", conflicts, rounds*6)
}

func TestIdempotencyTwoNodesPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	s := &testServer{DB: url, env: pgEnv}
	if o, err := s.cli(t, "migrate"); err != nil {
		t.Fatalf("migrate: %v %s", err, o)
	}
	if o, err := s.cli(t, "sandbox", "seed"); err != nil {
		t.Fatalf("sandbox seed: %v %s", err, o)
	}
	a, b := startServerDB(t, url, pgEnv), startServerDB(t, url, pgEnv)
	before := a.totalRecords(t)
	const rounds = 10
	for i := range rounds {
		concurrentSameKey(t, []*testServer{a, b}, fmt.Sprintf("two-nodes-%d", i), 6)
	}
	if got := b.totalRecords(t); got != before+rounds {
		t.Fatalf("payments: %d, want %d (one per key)", got, before+rounds)
	}
	// A replay from the other node is byte for byte the first answer.
	body := epaymentBody(t, nil)
	r1 := a.doKey(t, "POST", "/api/v2/epayment/initiate/", testSK, "cross-node", body)
	r2 := b.doKey(t, "POST", "/api/v2/epayment/initiate/", testSK, "cross-node", body)
	if r1.Status != 200 || r2.Raw != r1.Raw || r2.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("cross-node replay: %s / %s", r1.Raw, r2.Raw)
	}
	a.ledgerOK(t)
}
