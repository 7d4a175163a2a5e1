package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

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
	if out, code := runCLI(t, db, "migrate"); code != 0 {
		t.Fatalf("migrate: %d %s", code, out)
	}
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

// runCLIStreams runs thaili with args (no database flag added) and returns
// its standard output, its standard error and exit code.
func runCLIStreams(t *testing.T, getenv func(string) string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := run(ctx, append([]string{"thaili"}, args...), getenv, strings.NewReader(""), &out, &errOut)
	report(&errOut, err) // as main does
	return out.String(), errOut.String(), exitCode(err)
}

// TestOnlyServeAndMigrateCreateTheDatabase is the operator of issue 13
// who ran `thaili admin create` in another directory: the default
// ./thaili.db is relative to it, so the command used to create a new,
// empty database there (and a server secret beside it) and the operator
// could never log in. Every command but serve and migrate refuses a
// SQLite file that is not there, naming the absolute path and the fixes,
// and leaves nothing behind.
func TestOnlyServeAndMigrateCreateTheDatabase(t *testing.T) {
	home, elsewhere := t.TempDir(), t.TempDir()
	t.Chdir(home)
	env := testEnv(nil)
	if _, errOut, code := runCLIStreams(t, env, "migrate"); code != 0 {
		t.Fatalf("migrate in %s: exit %d\n%s", home, code, errOut)
	}
	if _, err := os.Stat(filepath.Join(home, "thaili.db")); err != nil {
		t.Fatalf("migrate created no ./thaili.db: %v", err)
	}

	t.Chdir(elsewhere)
	missing := filepath.Join(elsewhere, "thaili.db")
	for _, args := range [][]string{
		{"admin", "create", "--email", "ops@example.com", "--password", "operator password 1"},
		{"merchant", "create", "--name", "Himal Books", "--email", "books@himal.np"},
		{"merchant", "show", "--merchant", "books@himal.np"},
		{"kyc", "approve", "--merchant", "books@himal.np"},
		{"consumer", "create", "--mobile", "9841000000", "--name", "Sita", "--mpin", "4321"},
		{"consumer", "topup", "--mobile", "9841000000", "--amount", "100"},
		{"consumer", "reset-mpin", "--mobile", "9841000000", "--mpin", "1234"},
		{"keys", "rotate", "--merchant", "books@himal.np"},
		{"bank", "add", "--name", "Nabil Bank Limited", "--short-name", "NABIL"},
		{"bank", "list"},
		{"ledger", "check"},
		{"sandbox", "seed"},
	} {
		_, errOut, code := runCLIStreams(t, env, args...)
		for _, want := range []string{"no database at " + missing, "--database-url", "THAILI_DATABASE_URL", "thaili migrate", "thaili serve"} {
			if code != 1 || !strings.Contains(errOut, want) {
				t.Errorf("thaili %s in an empty directory: exit %d, stderr %q; want exit 1 saying %q", strings.Join(args[:2], " "), code, errOut, want)
				break
			}
		}
	}
	if left, _ := os.ReadDir(elsewhere); len(left) > 0 {
		t.Errorf("commands refused for a missing database left %v in %s", left, elsewhere)
	}
	// Named with --database-url, the same commands find it.
	if out, errOut, code := runCLIStreams(t, env, "ledger", "check", "--database-url", filepath.Join(home, "thaili.db")); code != 0 {
		t.Errorf("ledger check --database-url: exit %d\n%s%s", code, out, errOut)
	}
}

// TestCommandsNameTheirDatabase: every command says on stderr which
// database it uses, a SQLite file by its absolute path (the default
// ./thaili.db is relative to the working directory) and a PostgreSQL URL
// without its password.
func TestCommandsNameTheirDatabase(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	abs := filepath.Join(dir, "thaili.db")
	env := testEnv(nil)
	for _, args := range [][]string{
		{"migrate"},
		{"migrate", "--database-url", "sqlite:thaili.db"},
		{"sandbox", "seed"},
		{"merchant", "show", "--merchant", "demo@thaili.local"},
		{"bank", "list"},
		{"ledger", "check"},
	} {
		_, errOut, code := runCLIStreams(t, env, args...)
		if code != 0 || !strings.Contains(errOut, "database "+abs) {
			t.Errorf("thaili %s: exit %d, stderr %q; want it to name %s", strings.Join(args, " "), code, errOut, abs)
		}
	}
	for _, url := range []string{
		"postgres://postgres:s3cret@127.0.0.1:1/none?sslmode=disable",
		"postgres://postgres@127.0.0.1:1/none?sslmode=disable&password=s3cret",
	} {
		for _, cmd := range [][]string{{"migrate"}, {"ledger", "check"}} {
			_, errOut, _ := runCLIStreams(t, testEnv(map[string]string{"THAILI_SECRET": strings.Repeat("k", 32)}),
				append(cmd, "--database-url", url)...)
			if !strings.Contains(errOut, "database postgres://postgres@127.0.0.1:1/none?sslmode=disable") || strings.Contains(errOut, "s3cret") {
				t.Errorf("thaili %s on %s: stderr %q; want the URL without its password", strings.Join(cmd, " "), url, errOut)
			}
		}
	}
}

// TestServeChecksThePortFirst: a busy --addr fails at once, saying so,
// before serve creates, migrates or seeds a database: nothing is left in
// the directory the database would have been in.
func TestServeChecksThePortFirst(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	addr := busy.Addr().String()
	began := time.Now()
	_, errOut, code := runCLIStreams(t, testEnv(nil), "serve", "--addr", addr, "--database-url", filepath.Join(dir, "thaili.db"))
	if code != 1 || !strings.Contains(errOut, addr+" is already in use") || !strings.Contains(errOut, "--addr") {
		t.Errorf("serve on a busy port: exit %d, stderr %q; want exit 1 saying %s is already in use and naming --addr", code, errOut, addr)
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("serve took %v to refuse a busy port", took)
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Errorf("serve on a busy port left %v behind", left)
	}
}

// TestUnknownCommandSaysSoFirst: a mistyped command is named on the first
// line of stderr, with the closest command when one is close, before the
// usage (of the group, for a subcommand); the exit status is 2 and main
// does not repeat the message.
func TestUnknownCommandSaysSoFirst(t *testing.T) {
	for _, tt := range []struct {
		args  []string
		first string // stderr's first line
		usage string // what the usage after it shows
	}{
		{[]string{"serv"}, `thaili: unknown command "serv"; did you mean "serve"?`, "thaili consumer reset-mpin"},
		{[]string{"mirgate"}, `thaili: unknown command "mirgate"; did you mean "migrate"?`, "thaili bench"},
		{[]string{"merchnat", "create"}, `thaili: unknown command "merchnat"; did you mean "merchant"?`, "thaili merchant create"},
		{[]string{"admn"}, `thaili: unknown command "admn"; did you mean "admin"?`, "thaili admin create"},
		{[]string{"frobnicate"}, `thaili: unknown command "frobnicate"`, "thaili serve"},
		{[]string{"--database-url", "x.db"}, `thaili: unknown command "--database-url": flags go after the command`, "thaili serve"},
		{[]string{"merchant", "crate"}, `thaili: unknown command "merchant crate"; did you mean "merchant create"?`, "thaili merchant show"},
		{[]string{"merchant", "fly"}, `thaili: unknown command "merchant fly"`, "thaili merchant create"},
		{[]string{"consumer", "reset"}, `thaili: unknown command "consumer reset"; did you mean "consumer reset-mpin"?`, "thaili consumer topup"},
		{[]string{"admin", "craete"}, `thaili: unknown command "admin craete"; did you mean "admin create"?`, "thaili admin create"},
	} {
		out, errOut, code := runCLIStreams(t, testEnv(nil), tt.args...)
		first, rest, _ := strings.Cut(errOut, "\n")
		if code != 2 || out != "" || !strings.HasPrefix(first, tt.first) || !strings.Contains(rest, "Usage:\n") || !strings.Contains(rest, tt.usage) {
			t.Errorf("thaili %s: exit %d, stdout %q, stderr\n%s\nwant exit 2, stderr starting %q, then a usage listing %q",
				strings.Join(tt.args, " "), code, out, errOut, tt.first, tt.usage)
		}
		if strings.Count(errOut, "unknown command") != 1 {
			t.Errorf("thaili %s: the message is repeated:\n%s", strings.Join(tt.args, " "), errOut)
		}
		if (tt.first == `thaili: unknown command "frobnicate"` || strings.HasSuffix(tt.first, `"merchant fly"`)) && strings.Contains(first, "did you mean") {
			t.Errorf("thaili %s suggests a command that is not close: %s", strings.Join(tt.args, " "), first)
		}
	}
}

// TestGroupsListTheirSubcommands: a group alone lists its subcommands
// with what each does (on stderr, exit 2, as a command line missing a
// part); with -h or help it lists them on stdout and succeeds.
func TestGroupsListTheirSubcommands(t *testing.T) {
	for group := range commandGroups {
		subs := subcommands(group)
		if len(subs) == 0 {
			t.Errorf("group %s has no subcommands in commandList", group)
		}
		_, errOut, code := runCLIStreams(t, testEnv(nil), group)
		if first, _, _ := strings.Cut(errOut, "\n"); code != 2 || first != "thaili: "+group+": missing subcommand" {
			t.Errorf("thaili %s: exit %d, stderr\n%s\nwant exit 2 saying the subcommand is missing first", group, code, errOut)
		}
		for _, how := range [][]string{{group, "-h"}, {group, "help"}, {"help", group}} {
			out, _, code := runCLIStreams(t, testEnv(nil), how...)
			if code != 0 {
				t.Errorf("thaili %s: exit %d", strings.Join(how, " "), code)
			}
			for _, c := range subs {
				line := regexp.MustCompile(`(?m)^  thaili ` + regexp.QuoteMeta(c.name) + ` +` + regexp.QuoteMeta(c.summary) + `$`)
				if !line.MatchString(out) {
					t.Errorf("thaili %s does not list %q with its summary:\n%s", strings.Join(how, " "), c.name, out)
				}
				if !line.MatchString(errOut) {
					t.Errorf("thaili %s alone does not list %q:\n%s", group, c.name, errOut)
				}
			}
		}
	}
	// merchant's listing names its two subcommands and no other group's.
	out, _, _ := runCLIStreams(t, testEnv(nil), "merchant", "-h")
	if strings.Count(out, "  thaili ") != 2 || strings.Contains(out, "consumer") {
		t.Errorf("thaili merchant -h lists more than merchant create and show:\n%s", out)
	}
}

// TestEveryCommandHelpHasAnExample: every command's -h says what it does
// and shows an example, and every example is a valid command line: run
// as it is (against a database that is not there, a busy address for
// serve and no server for bench, so nothing happens) it gets past its
// flags to the first thing it refuses.
func TestEveryCommandHelpHasAnExample(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + dead.Addr().String()
	dead.Close()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")

	names := map[string]bool{}
	for _, c := range commandList {
		names[c.name] = true
		args := strings.Fields(c.name)
		_, errOut, code := runCLIStreams(t, testEnv(nil), append(args, "-h")...)
		for _, want := range []string{"thaili " + c.name + ": " + c.summary + "\n", "\nExample:\n  " + c.example + "\n", "\nFlags:\n", "\n  -database-url string\n"} {
			if code != 0 || !strings.Contains(errOut, want) {
				t.Errorf("thaili %s -h: exit %d, output\n%s\nwant exit 0 and %q", c.name, code, errOut, want)
			}
		}

		words := shellWords(t, c.example)
		if len(words) < 1+len(args) || words[0] != "thaili" || strings.Join(words[1:1+len(args)], " ") != c.name {
			t.Errorf("the example of %s runs another command: %s", c.name, c.example)
			continue
		}
		words = append(words[1:], "--database-url", missing)
		want := "no database at " + missing
		switch c.name {
		case "serve":
			words = append(words, "--addr", busy.Addr().String())
			want = "already in use"
		case "bench":
			words = append(words, "--url", deadURL)
			want = "no thaili server at " + deadURL
		case "migrate":
			words[len(words)-1] = filepath.Join(dir, "migrated.db")
			want = "thaili: database " + filepath.Join(dir, "migrated.db") + " (SQLite, new: creating it)"
		}
		out, errOut, code := runCLIStreams(t, testEnv(nil), words...)
		if code == 2 || !strings.Contains(errOut, want) {
			t.Errorf("example %s: exit %d, stdout %q, stderr %q; want it to get past its flags to %q", c.example, code, out, errOut, want)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("an example created %s", missing)
	}
	// The table names every operator command there is.
	for name := range adminCommands() {
		if !names[name] {
			t.Errorf("adminCommands has %q, which commandList lacks (no usage line, no -h)", name)
		}
	}
}

// shellWords splits a command line the way a POSIX shell would for the
// examples: words separated by spaces, '...' and "..." quoting.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("unbalanced quote in %q", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

func TestClosest(t *testing.T) {
	names := []string{"serve", "migrate", "merchant", "kyc", "keys", "bench", "bank", "version"}
	for got, want := range map[string]string{
		"serv": "serve", "SERVE": "serve", "sreve": "serve", "mig": "migrate", "bnch": "bench", "merchants": "merchant",
		"ke": "keys", "k": "", "xyz": "", "mrechant": "merchant", "kcy": "kyc", "banks": "bank", "versoin": "version", "frobnicate": "",
	} {
		if s := closest(got, names); s != want {
			t.Errorf("closest(%q) = %q, want %q", got, s, want)
		}
	}
}

var bannerURLRE = regexp.MustCompile(`(?m)^  ([A-Za-z -]+?) +(http://\S+)$`)

// TestServeBannerPrintsFullURLs: serve's start-up banner names every page
// a person opens first by its full URL, each of which answers, with the
// sandbox's keys and payers, and how to make an operator in this very
// database; a live server names no demo shop and no test keys.
func TestServeBannerPrintsFullURLs(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	out := s.Stdout.String()
	got := map[string]string{}
	for _, m := range bannerURLRE.FindAllStringSubmatch(out, -1) {
		got[m[1]] = m[2]
	}
	want := map[string]string{
		"Home": "/", "Demo shop": "/demo/", "API reference": "/docs/", "OpenAPI document": "/openapi.json",
		"Merchant sign-up": "/join/merchant/", "Merchant log-in": "/login/", "Wallet sign-up": "/join/",
		"Wallet log-in": "/me/login/", "Operator console": "/admin/", "Sandbox inbox": "/sandbox/inbox/",
	}
	for label, path := range want {
		if got[label] != s.URL+path {
			t.Errorf("banner: %s at %q, want %s%s\n%s", label, got[label], s.URL, path, out)
		}
	}
	for label, u := range got {
		res, err := http.Get(u) // follows the console's redirect to its log-in
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("banner's %s %s answers %d", label, u, res.StatusCode)
		}
	}
	for _, want := range []string{
		"Thaili dev is running at " + s.URL + "/\n",
		"test public key: " + testPK, "test secret key: " + testSK,
		"Sandbox payers 9800000000 to 9800000005: MPIN 1111, OTP 987654",
		"thaili admin create --database-url " + s.DB + " --email EMAIL --password PASSWORD",
		"the sandbox has no SMS gateway",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}

	live := startServerDB(t, filepath.Join(t.TempDir(), "thaili.db"), liveCosts, "--sandbox=false")
	out = live.Stdout.String()
	if !strings.Contains(out, "  Merchant sign-up   "+live.URL+"/join/merchant/\n") || strings.Contains(out, "/demo/") ||
		strings.Contains(out, "test_") || strings.Contains(out, "SMS") {
		t.Errorf("a live server's banner:\n%s", out)
	}
}
