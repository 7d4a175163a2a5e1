package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

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

// TestIdempotencyDatabaseCutPostgres cuts the server's PostgreSQL
// connections while an idempotent refund runs, and keeps the database
// closed to new connections until the request has failed: the refund
// answers 500 and the release of its key fails too. Once the database
// takes connections again, a retry with the key runs the refund (within a
// lease, seconds), and only once.
func TestIdempotencyDatabaseCutPostgres(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	s := &testServer{DB: dbURL, env: pgEnv}
	s.cliOK(t, "migrate")
	s.cliOK(t, "sandbox", "seed")
	srv := startServerDB(t, dbURL, pgEnv)
	_, idx := srv.pay(t, testPK, testSK, "9800000003", 3000)
	merchantBefore := srv.demoTestBalance(t)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	adminURL := os.Getenv("THAILI_TEST_DATABASE_URL")
	if adminURL == "" {
		adminURL = pgtest.DefaultURL
	}
	admin, err := sql.Open("pgx", adminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	adminExec := func(q string, args ...any) {
		t.Helper()
		if _, err := admin.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// Reopened in any case, so that the database can be dropped.
	defer admin.ExecContext(context.Background(), "ALTER DATABASE "+name+" WITH ALLOW_CONNECTIONS true")

	// Hold the payments table so the refund stops after claiming its key.
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	holder, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	var holderPID int
	if err := holder.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&holderPID); err != nil {
		t.Fatal(err)
	}
	lock, err := holder.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := lock.ExecContext(ctx, "LOCK TABLE payments IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}

	const key, body = "refund-cut", `{"amount":1000}`
	refund := "/api/v2/epayment/merchant-transaction/" + idx + "/refund/"
	first := make(chan response, 1)
	go func() { first <- srv.doKey(t, "POST", refund, testSK, key, body) }()
	claimed := func() (running bool) {
		t.Helper()
		var status int
		err := lock.QueryRowContext(ctx, "SELECT status FROM idempotency_keys WHERE key = $1", key).Scan(&status)
		if err != nil && err != sql.ErrNoRows {
			t.Fatal(err)
		}
		return err == nil && status == 0
	}
	for !claimed() {
		if ctx.Err() != nil {
			t.Fatal("the refund never claimed its key")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Cut: no new connections, and every open one but the holder's ends.
	// A connection the server was opening as the ALTER committed may
	// have passed its check already and appear in pg_stat_activity only
	// once started, after a terminate that ran at once would have looked
	// (then the release could use it: a CI run failed so once). Such
	// starts are given time to show before the connections are ended.
	adminExec("ALTER DATABASE " + name + " WITH ALLOW_CONNECTIONS false")
	time.Sleep(500 * time.Millisecond)
	adminExec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> $2", name, holderPID)
	var r response
	select {
	case r = <-first:
	case <-ctx.Done():
		t.Fatal("the refund did not answer after its connection was cut")
	}
	if r.Status != 500 {
		t.Fatalf("the refund with its connection cut: %d %s", r.Status, r.Raw)
	}
	if !claimed() {
		t.Fatal("the key was released: the test did not make the release fail")
	}
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	adminExec("ALTER DATABASE " + name + " WITH ALLOW_CONNECTIONS true")

	// A retry is told "in progress" at most until the lease of the failed
	// request runs out, then it runs. (A retry may also meet one of the
	// pool's connections that the cut ended, and get a 500.)
	cutErrors := 0
	for {
		r = srv.doKey(t, "POST", refund, testSK, key, body)
		switch {
		case r.Status == 409 && strings.Contains(r.Raw, "still in progress"):
		case r.Status == 500:
			cutErrors++
		default:
			mustBody(t, "the retry", r, 200, bodyRefundOK)
		}
		if r.Status == 200 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no retry ran the refund: the last answered %d %s", r.Status, r.Raw)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%d retries met a connection the cut ended", cutErrors)
	if again := srv.doKey(t, "POST", refund, testSK, key, body); again.Raw != r.Raw || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s", again.Status, again.Raw)
	}
	if got := srv.demoTestBalance(t); got != merchantBefore-1000 {
		t.Errorf("merchant balance: %d, want one refund of 1000 from %d", got, merchantBefore)
	}
	srv.ledgerOK(t)
}
