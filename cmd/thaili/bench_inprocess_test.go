package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/thaili/thaili/internal/store/postgres/pgtest"
)

// TestBenchInProcess: with --in-process bench needs no server. Its payers
// call the payment service it opens on --database-url, and the payments
// are real ones: in the database, completed, with a clean ledger, on
// either store.
func TestBenchInProcess(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testBenchInProcess(t, t.TempDir()+"/thaili.db", nil)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testBenchInProcess(t, pgtest.NewDatabase(t), pgEnv)
	})
}

func testBenchInProcess(t *testing.T, db string, env map[string]string) {
	runCmd := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"thaili"}, args...), testEnv(env), strings.NewReader(""), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	if out, err := runCmd("migrate", "--database-url", db); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	out, err := runCmd("bench", "--in-process", "--database-url", db, "--payers", "4", "--count", "40", "--merchants", "2", "--progress", "0")
	if err != nil {
		t.Fatalf("bench --in-process: %v\n%s", err, out)
	}
	for _, want := range []string{"against the service in process (no HTTP)\n", "completed: 40 payments\n", "\nerrors: 0\n", "ledger check: ok\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if m := benchThroughputRE.FindStringSubmatch(out); m == nil || m[1] == "0.0" {
		t.Errorf("no payments/s figure above 0 in:\n%s", out)
	}
	// The committer's counters come from the store bench opened, since
	// there is no server's /metrics to read.
	if !regexp.MustCompile(`(?m)^committer: busy [0-9]+\.[0-9] % of the run, [0-9]+\.[0-9]{2} requests per batch, [0-9]+\.[0-9]{3} ms per request, [0-9]+ lanes?$`).MatchString(out) {
		t.Errorf("no committer: line:\n%s", out)
	}
	for _, ep := range []string{"initiate", "confirm", "verify"} {
		if !regexp.MustCompile(`(?m)^` + ep + `\s+40\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+\s+0$`).MatchString(out) {
			t.Errorf("no line for %s with 40 calls and 0 errors:\n%s", ep, out)
		}
	}

	var completed, merchants int
	err = openDatabase(t, db).QueryRow(`SELECT COUNT(*), COUNT(DISTINCT merchant_id) FROM payments WHERE state = 'Completed' AND kind = 'wallet'`).Scan(&completed, &merchants)
	if err != nil {
		t.Fatal(err)
	}
	if completed != 40 || merchants != 2 {
		t.Errorf("the database holds %d completed wallet payments to %d merchants, want 40 to 2", completed, merchants)
	}
}

// TestBenchInProcessRefusesURL: --in-process talks to no server, so a
// --url beside it is a mistake worth a usage error, not silently ignored.
func TestBenchInProcessRefusesURL(t *testing.T) {
	_, err := runBench(t, "--in-process", "--url", "http://127.0.0.1:8000", "--database-url", t.TempDir()+"/thaili.db")
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "--in-process") || !strings.Contains(err.Error(), "--url") {
		t.Errorf("--in-process with --url: exit %d, error %v; want exit 2 naming both", exitCode(err), err)
	}
}
