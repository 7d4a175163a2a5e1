package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"reflect"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// runBench runs `thaili bench` in-process with the test environment.
func runBench(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	all := append([]string{"thaili", "bench"}, args...)
	err := run(context.Background(), all, testEnv(nil), strings.NewReader(""), &out, &errOut)
	return out.String() + errOut.String(), err
}

var benchThroughputRE = regexp.MustCompile(`throughput: ([0-9.]+) payments/s`)

var benchCPURE = regexp.MustCompile(`(?m)^cpu: server [0-9]+\.[0-9]{3} ms/payment \([0-9]+\.[0-9]{2} s\), bench [0-9]+\.[0-9]{3} ms/payment \([0-9]+\.[0-9]{2} s\)\n`)

// TestBenchCommand runs a small bench against a real server over two
// merchants and checks the report and the ledger.
func TestBenchCommand(t *testing.T) {
	s := startServer(t)
	args := []string{"--url", s.URL, "--database-url", s.DB, "--payers", "4", "--count", "40", "--merchants", "2"}
	if runtime.GOOS == "linux" {
		// The server runs in this process, so --cpu names it.
		args = append(args, "--cpu", "server="+strconv.Itoa(os.Getpid()))
	}
	out, err := runBench(t, args...)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	m := benchThroughputRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no payments/s figure in:\n%s", out)
	}
	if v, _ := strconv.ParseFloat(m[1], 64); v <= 0 {
		t.Errorf("throughput %s payments/s, want > 0\n%s", m[1], out)
	}
	for _, want := range []string{"completed: 40 payments\n", "\nerrors: 0\n", "ledger check: ok\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^committer: busy [0-9]+\.[0-9] % of the run, [0-9]+\.[0-9]{2} requests per batch, [0-9]+\.[0-9]{3} ms per request, 1 lane$`).MatchString(out) {
		t.Errorf("no committer: line:\n%s", out)
	}
	if runtime.GOOS == "linux" && !benchCPURE.MatchString(out) {
		t.Errorf("no cpu: line for server and bench:\n%s", out)
	}
	for _, ep := range []string{"initiate", "confirm", "verify"} {
		if !regexp.MustCompile(`(?m)^` + ep + `\s+40\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+\s+0$`).MatchString(out) {
			t.Errorf("no line for %s with 40 requests and 0 errors:\n%s", ep, out)
		}
	}
	// The merchants and funded payers it made are real (the merchants
	// go live after their first test payment): their creation is audited
	// as the command line's.
	count := map[string]int{}
	for _, e := range readAudit(t, s.DB) {
		if e.operator != "command line" || e.operatorID.Valid {
			t.Errorf("audit entry %v, want the command line's", e)
		}
		count[e.action]++
	}
	if want := map[string]int{"merchant.create": 2, "wallet.create": 4, "wallet.topup": 4}; !reflect.DeepEqual(count, want) {
		t.Errorf("bench wrote audit entries %v, want %v", count, want)
	}
	s.ledgerOK(t)
}

// TestBenchWrongURL fails clearly, with a non-zero exit, when no server
// answers at --url, and before touching the database.
func TestBenchWrongURL(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now

	db := t.TempDir() + "/thaili.db"
	out, err := runBench(t, "--url", dead, "--database-url", db, "--payers", "2", "--count", "2")
	if err == nil {
		t.Fatalf("bench against %s succeeded:\n%s", dead, out)
	}
	if exitCode(err) == 0 {
		t.Errorf("exit code 0 for %v", err)
	}
	if !strings.Contains(err.Error(), "no thaili server at "+dead) {
		t.Errorf("error %q does not say that no server answers at %s", err, dead)
	}
	if _, err := os.Stat(db); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("bench touched the database before reaching the server: stat %v", err)
	}

	// A malformed URL is a usage error.
	_, err = runBench(t, "--url", "127.0.0.1:8000", "--database-url", db)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "--url") {
		t.Errorf("malformed --url: exit %d, error %v; want exit 2 naming --url", exitCode(err), err)
	}
}

var benchProgressRE = regexp.MustCompile(`(?m)^bench: ([0-9.]+)s elapsed, ([0-9]+) payments, [0-9.]+ payments/s \(last [0-9.]+s: [0-9.]+/s\), ([0-9]+) failed$`)

// TestBenchShowsProgress: while it runs, bench says on stderr what it is
// doing and, every --progress, how far it has come; its report on
// stdout is unchanged and comes after the last progress line.
func TestBenchShowsProgress(t *testing.T) {
	s := startServer(t)
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"thaili", "bench", "--url", s.URL, "--database-url", s.DB,
		"--payers", "2", "--duration", "1500ms", "--progress", "250ms"}, testEnv(nil), strings.NewReader(""), &out, &errOut)
	if err != nil {
		t.Fatalf("bench: %v\n%s%s", err, out.String(), errOut.String())
	}
	for _, want := range []string{"bench: creating 1 merchant(s) and 2 funded payer(s)\n", "bench: paying for 1.5s\n"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks the phase %q:\n%s", want, errOut.String())
		}
	}
	lines := benchProgressRE.FindAllStringSubmatch(errOut.String(), -1)
	if len(lines) < 3 || len(lines) > 7 {
		t.Fatalf("%d progress lines in 1.5s every 250ms, want 3 to 7:\n%s", len(lines), errOut.String())
	}
	var prevAt float64
	var prev int64
	for _, l := range lines {
		at, _ := strconv.ParseFloat(l[1], 64)
		n, _ := strconv.ParseInt(l[2], 10, 64)
		if at <= prevAt || n < prev || l[3] != "0" {
			t.Errorf("progress line %q after %.1fs and %d payments", l[0], prevAt, prev)
		}
		prevAt, prev = at, n
	}
	m := regexp.MustCompile(`completed: ([0-9]+) payments\n`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no report on stdout:\n%s", out.String())
	}
	if total, _ := strconv.ParseInt(m[1], 10, 64); total < prev || total == 0 {
		t.Errorf("the report says %d payments, the last progress line %d", total, prev)
	}
	if strings.Contains(out.String(), "elapsed,") {
		t.Errorf("progress lines on stdout, among the figures:\n%s", out.String())
	}
}
