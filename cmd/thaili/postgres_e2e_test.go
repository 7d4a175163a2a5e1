package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/thaili/thaili/internal/store/postgres/pgtest"
)

// pgEnv is the environment of a PostgreSQL deployment: the server secret
// is required there and shared by every node.
var pgEnv = map[string]string{"THAILI_SECRET": "an-example-server-secret-of-32+chars"}

func TestPostgresDeployment(t *testing.T) {
	url := pgtest.NewDatabase(t)
	// An unmigrated database is refused with a clear message.
	var out strings.Builder
	err := run(t.Context(), []string{"thaili", "serve", "--addr", "127.0.0.1:0", "--database-url", url},
		testEnv(pgEnv), strings.NewReader(""), &out, &out)
	if err == nil || !strings.Contains(err.Error(), "run `thaili migrate` first") {
		t.Fatalf("serve on an unmigrated database: %v", err)
	}
	// Without THAILI_SECRET the server does not start either.
	err = run(t.Context(), []string{"thaili", "serve", "--database-url", url}, testEnv(nil), strings.NewReader(""), &out, &out)
	if err == nil || !strings.Contains(err.Error(), "THAILI_SECRET is required") {
		t.Fatalf("serve without THAILI_SECRET: %v", err)
	}
	s := &testServer{DB: url, env: pgEnv}
	if o, err := s.cli(t, "migrate"); err != nil || !regexp.MustCompile(`applied [1-9][0-9]* migration`).MatchString(o) {
		t.Fatalf("migrate: %v %s", err, o)
	}
	srv := startServerDB(t, url, pgEnv)
	// Nothing is seeded on PostgreSQL by serve.
	if r := srv.do(t, "POST", "/api/v2/payment/verify/", testSK, "token=x&amount=1000"); r.Status != 401 {
		t.Fatalf("the sandbox key works on an unseeded PostgreSQL database: %d %s", r.Status, r.Raw)
	}
	if o, err := srv.cli(t, "sandbox", "seed"); err != nil || !strings.Contains(o, testSK) {
		t.Fatalf("sandbox seed: %v %s", err, o)
	}
	token, idx := srv.pay(t, testPK, testSK, "9800000004", 2500)
	r := srv.do(t, "GET", "/api/v2/payment/status/?token="+token+"&amount=2500", testSK, "")
	if r.Body["state"] != "Complete" {
		t.Fatalf("status: %s", r.Raw)
	}
	if r := srv.do(t, "POST", "/api/merchant-transaction/"+idx+"/refund/", testSK, `{"amount": 500}`); r.Status != 200 {
		t.Fatalf("refund: %s", r.Raw)
	}
	srv.ledgerOK(t)
}
