package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Sandbox credentials, as printed by `thaili serve`.
const (
	testPK = "test_public_key_dc74e0fd57cb46cd93832aee0a507256"
	testSK = "test_secret_key_f59e8b7d18b4499ca40f68195a846e9b"
)

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testServer is `thaili serve` running in-process on 127.0.0.1:0.
type testServer struct {
	URL    string
	DB     string
	Stdout *syncBuffer
	Stderr *syncBuffer // the server's log, e.g. live confirmation codes
	env    map[string]string
	client *http.Client
}

// testEnv is the environment tests run thaili with: a cheap password
// hash keeps the suite fast without changing any behaviour
// under test. Only a sandbox accepts it, so the sandbox is on for
// PostgreSQL too (it is by default on SQLite; on PostgreSQL it only lifts
// the cost floor and prints codes in the log, since serve seeds nothing
// there); a test that runs without the sandbox passes liveCosts. The
// sign-in rate limit is raised far out of reach because the suite posts
// hundreds of log-in and sign-up forms from 127.0.0.1 (the bad-input and
// authz matrix tests); signin_limit_e2e_test.go sets a low one to test it.
// The guess limits are raised likewise: tests of wrong MPINs and codes
// would otherwise run into them; guess_limit_e2e_test.go tests them.
func testEnv(extra map[string]string) func(string) string {
	env := map[string]string{"THAILI_PASSWORD_COST": "4", "THAILI_SANDBOX": "true",
		"THAILI_SIGNIN_LIMIT": "100000/1m", "THAILI_GUESS_LIMIT": "100000/1m", "THAILI_KEY_GUESS_LIMIT": "100000/1m"}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

// liveCosts are extra environment variables for a server without the
// sandbox: the password hash cost at a live deployment's floor.
var liveCosts = map[string]string{"THAILI_PASSWORD_COST": "12"}

var listeningRE = regexp.MustCompile(`listening on (http://[0-9.:]+)`)

// startServer runs `thaili serve` on a fresh SQLite file in t.TempDir()
// and stops it (gracefully) when the test ends.
func startServer(t testing.TB, args ...string) *testServer {
	t.Helper()
	return startServerDB(t, filepath.Join(t.TempDir(), "thaili.db"), nil, args...)
}

// startServerDB runs `thaili serve` on the database db (a SQLite path or
// a postgres:// URL) with extra environment variables.
func startServerDB(t testing.TB, db string, env map[string]string, args ...string) *testServer {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		all := append([]string{"thaili", "serve", "--addr", "127.0.0.1:0", "--database-url", db}, args...)
		done <- run(ctx, all, testEnv(env), strings.NewReader(""), stdout, pw)
		pw.Close()
	}()
	urlCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		found := false
		for sc.Scan() {
			stderr.Write(append(sc.Bytes(), '\n'))
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil && !found {
				found = true
				urlCh <- m[1]
			}
		}
	}()
	var url string
	select {
	case url = <-urlCh:
	case err := <-done:
		cancel()
		t.Fatalf("serve exited before listening: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("serve did not start listening within 30s")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("serve did not shut down within 20s")
		}
	})
	return &testServer{URL: url, DB: db, Stdout: stdout, Stderr: stderr, env: env, client: &http.Client{Timeout: 30 * time.Second}}
}

// cli runs another thaili command against the server's database.
func (s *testServer) cli(t testing.TB, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	all := append([]string{"thaili"}, args...)
	all = append(all, "--database-url", s.DB)
	err := run(context.Background(), all, testEnv(s.env), strings.NewReader(""), &out, &errOut)
	return out.String() + errOut.String(), err
}

// response is a decoded HTTP answer.
type response struct {
	Status int
	Header http.Header
	Raw    string
	Body   map[string]any
}

// do sends a request; a body string starting with "{" is sent as JSON,
// any other non-empty body as a form. key, if set, goes in Authorization.
func (s *testServer) do(t testing.TB, method, path, key, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		if strings.HasPrefix(body, "{") || strings.HasPrefix(body, "[") {
			req.Header.Set("Content-Type", "application/json")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if key != "" {
		req.Header.Set("Authorization", "Key "+key)
	}
	return s.send(t, req)
}

func (s *testServer) send(t testing.TB, req *http.Request) response {
	t.Helper()
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := response{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) == nil {
		r.Body, _ = v.(map[string]any)
	}
	return r
}

// jsonBody marshals v for do.
func jsonBody(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mustStatus fails the test unless r has the wanted status.
func mustStatus(t testing.TB, r response, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d; body %s", r.Status, want, r.Raw)
	}
}

// initiate starts a legacy payment for the sandbox merchant and returns the token.
func (s *testServer) initiate(t testing.TB, pk, mobile string, amount int) string {
	t.Helper()
	r := s.do(t, "POST", "/api/v2/payment/initiate/", "", jsonBody(t, map[string]any{
		"public_key": pk, "mobile": mobile, "transaction_pin": "1111", "amount": amount,
		"product_identity": "p1", "product_name": "Product"}))
	mustStatus(t, r, 200)
	return r.Body["token"].(string)
}

// confirm confirms a token with the sandbox OTP and returns the idx.
func (s *testServer) confirm(t testing.TB, pk, token string) string {
	t.Helper()
	r := s.do(t, "POST", "/api/v2/payment/confirm/", "", jsonBody(t, map[string]any{
		"public_key": pk, "token": token, "confirmation_code": "987654", "transaction_pin": "1111"}))
	mustStatus(t, r, 200)
	return r.Body["idx"].(string)
}

// verify captures a token with the secret key.
func (s *testServer) verify(t testing.TB, sk, token string, amount int) response {
	t.Helper()
	return s.do(t, "POST", "/api/v2/payment/verify/", sk, jsonBody(t, map[string]any{"token": token, "amount": amount}))
}

// pay runs initiate, confirm and verify and returns token and idx.
func (s *testServer) pay(t testing.TB, pk, sk, mobile string, amount int) (token, idx string) {
	t.Helper()
	token = s.initiate(t, pk, mobile, amount)
	idx = s.confirm(t, pk, token)
	mustStatus(t, s.verify(t, sk, token, amount), 200)
	return token, idx
}

// ledgerOK runs `thaili ledger check` and fails the test on a violation.
func (s *testServer) ledgerOK(t testing.TB) {
	t.Helper()
	out, err := s.cli(t, "ledger", "check")
	if err != nil {
		t.Fatalf("ledger check failed: %v\n%s", err, out)
	}
}

var otpRE = regexp.MustCompile(`msg="confirmation code" mobile=(\d+) code=(\d{6})`)

// lastOTP returns the most recent live-book confirmation code logged for mobile.
func (s *testServer) lastOTP(t testing.TB, mobile string) string {
	t.Helper()
	code := ""
	for _, m := range otpRE.FindAllStringSubmatch(s.Stderr.String(), -1) {
		if m[1] == mobile {
			code = m[2]
		}
	}
	if code == "" {
		t.Fatalf("no confirmation code logged for %s", mobile)
	}
	return code
}
