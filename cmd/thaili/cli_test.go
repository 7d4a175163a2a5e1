package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // to damage a database on purpose
)

// runCLI runs thaili with args against db and returns its output and exit code.
func runCLI(t *testing.T, db string, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	all := append([]string{"thaili"}, args...)
	if db != "" {
		all = append(all, "--database-url", db)
	}
	err := run(context.Background(), all, testEnv(nil), strings.NewReader(""), &out, &out)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		out.WriteString("error: " + err.Error() + "\n")
	}
	return out.String(), exitCode(err)
}

func TestCLIErrorsAndHelp(t *testing.T) {
	db := filepath.Join(t.TempDir(), "cli.db")
	tests := []struct {
		args []string
		db   string
		code int
		want string
	}{
		{[]string{}, "", 2, "Usage:"},
		{[]string{"bogus"}, "", 2, `unknown command "bogus"`},
		{[]string{"merchant"}, "", 2, "missing subcommand"},
		{[]string{"merchant", "fly"}, "", 2, `unknown command "merchant fly"`},
		{[]string{"version"}, "", 0, "thaili dev"},
		{[]string{"serve", "-h"}, "", 0, "-database-url"},
		{[]string{"merchant", "create", "-h"}, "", 0, "-email"},
		{[]string{"serve", "--addr", "nonsense"}, db, 2, "--addr"},
		{[]string{"serve", "--non-kyc-cap", "5"}, db, 2, "--non-kyc-cap"},
		{[]string{"serve", "--database-url", "mysql://x"}, "", 2, "unsupported database URL"},
		{[]string{"merchant", "create", "--name", "Shop"}, db, 1, "--email: Enter a valid email address."},
		{[]string{"merchant", "create", "--name", "Shop", "--email", "a@b.np", "--kyc", "maybe"}, db, 1, "Unknown KYC state."},
		{[]string{"merchant", "show", "--merchant", "nobody@example.com"}, db, 1, `No merchant "nobody@example.com".`},
		{[]string{"consumer", "create", "--mobile", "12345", "--name", "X", "--mpin", "1"}, db, 1, "--mobile: Enter a valid mobile number."},
		{[]string{"consumer", "topup", "--mobile", "9800000009", "--amount", "ten"}, db, 2, "A valid integer is required."},
		{[]string{"consumer", "topup", "--mobile", "9800000009", "--amount", "100"}, db, 1, "No wallet for 9800000009."},
		{[]string{"keys", "rotate", "--merchant", "x", "--book", "gold"}, db, 1, "Book must be test or live."},
		{[]string{"migrate", "extra"}, db, 2, "unexpected arguments"},
	}
	for _, tt := range tests {
		out, code := runCLI(t, tt.db, tt.args...)
		if code != tt.code || !strings.Contains(out, tt.want) {
			t.Errorf("thaili %s: exit %d, output %q; want exit %d containing %q", strings.Join(tt.args, " "), code, out, tt.code, tt.want)
		}
	}
}

func TestCLIOperatorFlow(t *testing.T) {
	db := filepath.Join(t.TempDir(), "ops.db")
	out, code := runCLI(t, db, "migrate")
	if code != 0 || !regexp.MustCompile(`applied [1-9][0-9]* migration`).MatchString(out) {
		t.Fatalf("migrate: %d %s", code, out)
	}
	if out, code = runCLI(t, db, "migrate"); code != 0 || !strings.Contains(out, "applied 0 migration(s)") {
		t.Fatalf("second migrate: %d %s", code, out)
	}
	out, code = runCLI(t, db, "merchant", "create", "--name", "Himal Books", "--email", "Books@Himal.np")
	if code != 0 {
		t.Fatalf("merchant create: %s", out)
	}
	if !regexp.MustCompile(`test public key: test_public_key_[0-9a-f]{32}\ntest secret key: test_secret_key_[0-9a-f]{32}\n`).MatchString(out) {
		t.Fatalf("merchant create output: %s", out)
	}
	secret := regexp.MustCompile(`test_secret_key_[0-9a-f]{32}`).FindString(out)
	out, _ = runCLI(t, db, "merchant", "show", "--merchant", "books@himal.np")
	if !strings.Contains(out, "KYC: none") || strings.Contains(out, secret) || !strings.Contains(out, "live keys: not yet issued") {
		t.Fatalf("merchant show leaked the secret or missed fields: %s", out)
	}
	if out, code = runCLI(t, db, "kyc", "approve", "--merchant", "books@himal.np"); code != 0 || !strings.Contains(out, "KYC is now approved") {
		t.Fatalf("kyc approve: %s", out)
	}
	if out, code = runCLI(t, db, "consumer", "create", "--mobile", "9841000000", "--name", "Sita", "--mpin", "4321"); code != 0 {
		t.Fatalf("consumer create: %s", out)
	}
	if out, code = runCLI(t, db, "consumer", "create", "--mobile", "9841000000", "--name", "Sita", "--mpin", "4321"); code != 1 {
		t.Fatalf("duplicate consumer: %d %s", code, out)
	}
	if out, code = runCLI(t, db, "consumer", "topup", "--mobile", "9841000000", "--amount", "2500"); code != 0 || !strings.Contains(out, "balance 2500 paisa") {
		t.Fatalf("topup: %s", out)
	}
	if out, code = runCLI(t, db, "consumer", "reset-mpin", "--mobile", "9841000000", "--mpin", "1234"); code != 0 {
		t.Fatalf("reset-mpin: %s", out)
	}
	out, code = runCLI(t, db, "keys", "rotate", "--merchant", "books@himal.np", "--book", "test")
	if code != 0 || !strings.Contains(out, "revoked the old test keys") {
		t.Fatalf("rotate: %s", out)
	}
	out, _ = runCLI(t, db, "merchant", "show", "--merchant", "books@himal.np")
	if strings.Count(out, "[revoked") != 2 || strings.Count(out, "[active]") != 2 {
		t.Fatalf("after rotation: %s", out)
	}
	if out, code = runCLI(t, db, "ledger", "check"); code != 0 || !strings.Contains(out, "ledger ok") {
		t.Fatalf("ledger check: %d %s", code, out)
	}
}

func TestLedgerCheckReportsDamage(t *testing.T) {
	s := startServer(t)
	s.pay(t, testPK, testSK, "9800000003", 1500)
	s.ledgerOK(t)
	raw, err := sql.Open("sqlite", s.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// Money appearing from nowhere: a balance no posting explains.
	if _, err := raw.Exec(`UPDATE accounts SET balance = balance + 7 WHERE kind = 'fees' AND book = 'test'`); err != nil {
		t.Fatal(err)
	}
	out, code := runCLI(t, s.DB, "ledger", "check")
	if code != 1 {
		t.Fatalf("ledger check on a damaged ledger exited %d: %s", code, out)
	}
	for _, want := range []string{"balance-matches-postings: test/fees/0", "book-sums-to-zero: test", "ledger check failed: 2 violation(s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
