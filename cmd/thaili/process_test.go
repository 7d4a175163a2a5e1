package main

// Tests that run the real `thaili` binary as separate processes: two
// servers on one PostgreSQL database, and a server killed with SIGKILL
// while requests are in flight and restarted on the same database. The
// servers listen on 127.0.0.1 only and are killed when a test ends.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/store/postgres/pgtest"
)

// ---- the binary and its processes ----

var procBuild struct {
	once sync.Once
	path string
	err  error
}

// procBinary builds cmd/thaili once per test run and returns its path. It
// goes beside the test binary when that lives in go test's work directory
// ($WORK/b001/, removed when go test ends), else in a fresh temporary
// directory.
func procBinary(t testing.TB) string {
	t.Helper()
	procBuild.once.Do(func() {
		dir := filepath.Dir(os.Args[0])
		if !strings.HasPrefix(filepath.Base(filepath.Dir(dir)), "go-build") {
			if dir, procBuild.err = os.MkdirTemp("", "thaili-process-test-"); procBuild.err != nil {
				return
			}
		}
		procBuild.path = filepath.Join(dir, "thaili-process-test")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "build", "-o", procBuild.path, ".").CombinedOutput()
		if err != nil {
			procBuild.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if procBuild.err != nil {
		t.Fatal(procBuild.err)
	}
	return procBuild.path
}

// procEnviron is the environment of a thaili process: this one's without
// any THAILI_ variable, a cheap MPIN hash with the sandbox on, which it
// needs (as testEnv), and extra.
func procEnviron(extra map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "THAILI_") {
			env = append(env, kv)
		}
	}
	env = append(env, "THAILI_SANDBOX=true")
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

// procCLI runs a thaili command and returns its output, failing the test
// if it does not succeed.
func procCLI(t testing.TB, env map[string]string, args ...string) string {
	t.Helper()
	out, err := procCLIErr(env, args...)
	if err != nil {
		t.Fatalf("thaili %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func procCLIErr(env map[string]string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, procBuild.path, args...)
	cmd.Env = procEnviron(env)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

var (
	procTopupRE    = regexp.MustCompile(`; balance (-?\d+) paisa`)
	procMerchantRE = regexp.MustCompile(`(?m)^balance: test (-?\d+) paisa, live (-?\d+) paisa$`)
)

// procProbeWallet credits 1 paisa to a test wallet with `thaili consumer
// topup` and returns the balance it prints, which includes that paisa.
// With nothing else running, two probes differ by 1 plus what payments
// and refunds did to the wallet in between.
func procProbeWallet(t testing.TB, env map[string]string, db, mobile string) int64 {
	t.Helper()
	out := procCLI(t, env, "consumer", "topup", "--mobile", mobile, "--amount", "1", "--database-url", db)
	m := procTopupRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("consumer topup printed no balance: %s", out)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// procMerchantBalance is the demo merchant's test-book balance as
// `thaili merchant show` prints it.
func procMerchantBalance(t testing.TB, env map[string]string, db string) int64 {
	t.Helper()
	out := procCLI(t, env, "merchant", "show", "--merchant", "demo@thaili.local", "--database-url", db)
	m := procMerchantRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("merchant show printed no balance line: %s", out)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// procLedgerOK runs `thaili ledger check` and fails the test on any violation.
func procLedgerOK(t testing.TB, env map[string]string, db string) {
	t.Helper()
	out, err := procCLIErr(env, "ledger", "check", "--database-url", db)
	if err != nil || !strings.Contains(out, "ledger ok") {
		t.Errorf("ledger check: %v\n%s", err, out)
	}
}

// procServer is one `thaili serve` process.
type procServer struct {
	cmd     *exec.Cmd
	URL     string
	log     *syncBuffer // stdout and stderr
	done    chan struct{}
	waitErr error
}

// startProcServer starts `thaili serve` on db at 127.0.0.1:0, waits until
// it listens and kills it when the test ends.
func startProcServer(t testing.TB, env map[string]string, db string, args ...string) *procServer {
	t.Helper()
	bin := procBinary(t)
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--database-url", db}, args...)...)
	cmd.Env = procEnviron(env)
	s := &procServer{cmd: cmd, log: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout = s.log
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.kill)
	urlCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		found := false
		for sc.Scan() {
			s.log.Write(append(sc.Bytes(), '\n'))
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil && !found {
				found = true
				urlCh <- m[1]
			}
		}
		io.Copy(s.log, stderr)
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	select {
	case s.URL = <-urlCh:
	case <-s.done:
		t.Fatalf("thaili serve exited before listening: %v\n%s", s.waitErr, s.log.String())
	case <-time.After(20 * time.Second):
		s.kill()
		t.Fatalf("thaili serve did not listen within 20s\n%s", s.log.String())
	}
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Fatalf("serve listens on %s, not 127.0.0.1", s.URL)
	}
	return s
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *procServer) kill() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
}

// ---- HTTP ----

type procResp struct {
	status int
	raw    string
	body   map[string]any
}

// procHTTP is a client for many concurrent requests to local servers.
var procHTTP = &http.Client{
	Timeout:   15 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second},
}

// procDo sends a request; a non-empty body is JSON. key goes in Authorization.
func procDo(base, method, path, key, body string) (procResp, error) {
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		return procResp{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Key "+key)
	}
	res, err := procHTTP.Do(req)
	if err != nil {
		return procResp{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return procResp{}, err
	}
	r := procResp{status: res.StatusCode, raw: string(raw)}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) == nil {
		r.body, _ = v.(map[string]any)
	}
	return r, nil
}

func procJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// procStr and procInt read a field of a decoded body (a dotted path
// descends into objects).
func procStr(m map[string]any, path string) string {
	v := procField(m, path)
	s, _ := v.(string)
	return s
}

func procInt(m map[string]any, path string) int64 {
	n, ok := procField(m, path).(json.Number)
	if !ok {
		return -1
	}
	i, err := n.Int64()
	if err != nil {
		return -1
	}
	return i
}

func procField(m map[string]any, path string) any {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		o, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = o[k]
	}
	return v
}

// procFee is the default fee schedule: 3% rounded half up.
func procFee(amount int64) int64 { return (amount*300 + 5000) / 10000 }

// procRecord is one record of the transaction list.
type procRecord struct {
	idx, state, mobile string
	amount, fee        int64
	refunded           bool
}

// procList pages through GET /api/v2/merchant-transaction/ 100 at a time
// and returns every record by idx, failing on a duplicate or on a total
// that does not match the records.
func procList(t testing.TB, base string) map[string]procRecord {
	t.Helper()
	out := map[string]procRecord{}
	total := -1
	for page := 1; ; page++ {
		r, err := procDo(base, "GET", fmt.Sprintf("/api/v2/merchant-transaction/?page=%d&page_size=100", page), testSK, "")
		if err != nil || r.status != 200 {
			t.Fatalf("list page %d: %v %d %s", page, err, r.status, r.raw)
		}
		n := int(procInt(r.body, "total_records"))
		if total >= 0 && n != total {
			t.Fatalf("total_records changed from %d to %d while paging a quiet server", total, n)
		}
		total = n
		records, _ := r.body["records"].([]any)
		for _, x := range records {
			m, _ := x.(map[string]any)
			rec := procRecord{idx: procStr(m, "idx"), state: procStr(m, "state.name"), mobile: procStr(m, "user.mobile"),
				amount: procInt(m, "amount"), fee: procInt(m, "fee_amount")}
			rec.refunded, _ = m["refunded"].(bool)
			if _, dup := out[rec.idx]; dup {
				t.Errorf("payment %s is listed twice", rec.idx)
			}
			out[rec.idx] = rec
		}
		if int(procInt(r.body, "total_pages")) <= page {
			break
		}
	}
	if len(out) != total {
		t.Errorf("the list holds %d distinct payments but total_records is %d", len(out), total)
	}
	return out
}

// procStatus asks the status API about a token and returns the raw body
// and its state.
func procStatus(t testing.TB, base, token string, amount int64) (string, string) {
	t.Helper()
	r, err := procDo(base, "GET", fmt.Sprintf("/api/v2/payment/status/?token=%s&amount=%d", url.QueryEscape(token), amount), testSK, "")
	if err != nil || r.status != 200 {
		t.Errorf("status of %s: %v %d %s", token, err, r.status, r.raw)
		return r.raw, ""
	}
	return r.raw, procStr(r.body, "state")
}

// procSeed is the seed of a test's random choices, logged so a failure
// can be replayed with THAILI_PROCESS_SEED.
func procSeed(t testing.TB) uint64 {
	seed := rand.Uint64()
	if v := os.Getenv("THAILI_PROCESS_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("seed %d (set THAILI_PROCESS_SEED to replay the same choices)", seed)
	return seed
}

// sandboxPayers are the seeded test wallets; their masked mobiles in
// records (98XXXXXXX0 ...) differ in the last digit.
var procSandboxPayers = []string{"9800000000", "9800000001", "9800000002", "9800000003", "9800000004", "9800000005"}

// ---- two nodes on one PostgreSQL database ----

// mnPayment is what the multi-node test did to one payment and so what
// the status API must say about it.
type mnPayment struct {
	payer       string
	amount, fee int64
	token, idx  string
	state       string // status API spelling: Initiated, Confirmed, Complete, Refunded, Partially refunded
	refunded    int64
	captured    bool
}

func TestMultiNodePostgres(t *testing.T) {
	began := time.Now()
	db := pgtest.NewDatabase(t)
	procBinary(t)
	env := map[string]string{"THAILI_SECRET": pgEnv["THAILI_SECRET"]}
	procCLI(t, env, "migrate", "--database-url", db)
	procCLI(t, env, "sandbox", "seed", "--database-url", db)

	type wallet struct {
		mobile, mpin string
		opening      int64 // as the first probe or topup printed it
	}
	var wallets []*wallet
	for _, m := range procSandboxPayers {
		w := &wallet{mobile: m, mpin: "1111", opening: procProbeWallet(t, env, db, m)}
		if w.opening != 100_000_000+1 {
			t.Fatalf("sandbox payer %s starts with %d paisa, want Rs 10 lakh (+1 probe)", m, w.opening-1)
		}
		wallets = append(wallets, w)
	}
	// Extra wallets with known balances; the first is small enough that
	// concurrent payments run it dry (refused at initiate or at confirm).
	for _, x := range []struct {
		mobile, mpin string
		amount       int64
	}{{"9811100001", "2468", 60_000}, {"9811100002", "1357", 4_000_000}, {"9811100003", "8642", 150_000}} {
		procCLI(t, env, "consumer", "create", "--mobile", x.mobile, "--name", "Payer "+x.mobile, "--mpin", x.mpin, "--database-url", db)
		out := procCLI(t, env, "consumer", "topup", "--mobile", x.mobile, "--amount", fmt.Sprint(x.amount), "--database-url", db)
		if m := procTopupRE.FindStringSubmatch(out); m == nil || m[1] != fmt.Sprint(x.amount) {
			t.Fatalf("topup of a new wallet: %s", out)
		}
		wallets = append(wallets, &wallet{mobile: x.mobile, mpin: x.mpin, opening: x.amount})
	}
	merchantOpening := procMerchantBalance(t, env, db)
	if merchantOpening != 10_000_000 {
		t.Fatalf("the demo merchant starts with %d paisa, want Rs 1 lakh", merchantOpening)
	}

	// serve seeds nothing into PostgreSQL, sandbox or not.
	nodes := [2]*procServer{startProcServer(t, env, db), startProcServer(t, env, db)}
	t.Logf("nodes %s and %s", nodes[0].URL, nodes[1].URL)

	total, workers := 200, 8
	if testing.Short() {
		total = 80
	}
	seed := procSeed(t)
	var (
		mu       sync.Mutex
		payments []*mnPayment
		counts   = map[string]int{}
	)
	count := func(what string) {
		mu.Lock()
		counts[what]++
		mu.Unlock()
	}
	// call sends one request to a node and says whether the answer was
	// 200. A failed request or a server error fails the test; the caller
	// judges any other answer.
	call := func(node *procServer, method, path, key, body string) (procResp, bool) {
		r, err := procDo(node.URL, method, path, key, body)
		if err != nil {
			t.Errorf("%s %s%s: %v", method, node.URL, path, err)
			return r, false
		}
		if r.status >= 500 {
			t.Errorf("%s %s%s: server error %d %s", method, node.URL, path, r.status, r.raw)
		}
		return r, r.status == 200
	}
	refund := func(node *procServer, idx, body string) procResp {
		r, _ := call(node, "POST", "/api/merchant-transaction/"+idx+"/refund/", testSK, body)
		return r
	}
	// race sends two refunds of idx at the same moment, one to each node.
	race := func(idx string, bodies [2]string) [2]procResp {
		var out [2]procResp
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for i := range 2 {
			wg.Go(func() {
				<-gate
				out[i] = refund(nodes[i], idx, bodies[i])
			})
		}
		close(gate)
		wg.Wait()
		return out
	}
	const insufficient = "Insufficient balance in the wallet."

	pay := func(job int) {
		rng := rand.New(rand.NewPCG(seed, uint64(job)))
		w := wallets[rng.IntN(len(wallets))]
		first := rng.IntN(2)
		initNode, confirmNode := nodes[first], nodes[1-first]
		p := &mnPayment{payer: w.mobile, amount: 1000 + rng.Int64N(29_001)}
		r, ok := call(initNode, "POST", "/api/v2/payment/initiate/", "", procJSON(map[string]any{
			"public_key": testPK, "mobile": w.mobile, "transaction_pin": w.mpin, "amount": p.amount,
			"product_identity": fmt.Sprintf("mn-%d", job), "product_name": "Multi-node"}))
		if !ok {
			if r.status == 400 && procStr(r.body, "detail") == insufficient {
				count("refused at initiate: insufficient balance")
			} else if r.status != 0 {
				t.Errorf("initiate: %d %s", r.status, r.raw)
			}
			return
		}
		p.token, p.state = procStr(r.body, "token"), "Initiated"
		mu.Lock()
		payments = append(payments, p)
		mu.Unlock()
		plan := rng.IntN(100)
		if plan < 8 {
			count("left Initiated")
			return
		}
		confirmBody := procJSON(map[string]any{"public_key": testPK, "token": p.token, "confirmation_code": "987654", "transaction_pin": w.mpin})
		r, ok = call(confirmNode, "POST", "/api/v2/payment/confirm/", "", confirmBody)
		if !ok {
			if r.status == 400 && procStr(r.body, "detail") == insufficient {
				count("refused at confirm: insufficient balance (stays Initiated)")
			} else if r.status != 0 {
				t.Errorf("confirm %s: %d %s", p.token, r.status, r.raw)
			}
			return
		}
		p.idx, p.state = procStr(r.body, "idx"), "Confirmed"
		if procStr(r.body, "token") != p.token || procInt(r.body, "amount") != p.amount || p.idx == "" {
			t.Errorf("confirm answered for another payment: %s", r.raw)
		}
		if rng.IntN(8) == 0 { // a retried confirm on the other node gets the same answer
			r2, ok := call(initNode, "POST", "/api/v2/payment/confirm/", "", confirmBody)
			if !ok || procStr(r2.body, "idx") != p.idx {
				t.Errorf("confirm retried on the other node: %d %s", r2.status, r2.raw)
			}
			count("confirm retried on the other node")
		}
		if plan < 16 {
			count("left Confirmed (held)")
			return
		}
		verifyBody := procJSON(map[string]any{"token": p.token, "amount": p.amount})
		verifyNode := rng.IntN(2)
		r, ok = call(nodes[verifyNode], "POST", "/api/v2/payment/verify/", testSK, verifyBody)
		if !ok {
			t.Errorf("verify %s: %d %s", p.token, r.status, r.raw)
			return
		}
		p.fee, p.state, p.captured = procInt(r.body, "fee_amount"), "Complete", true
		if procStr(r.body, "idx") != p.idx || procStr(r.body, "state.name") != "Completed" || procInt(r.body, "amount") != p.amount || p.fee != procFee(p.amount) {
			t.Errorf("verify of %s (amount %d) answered %s", p.idx, p.amount, r.raw)
		}
		if rng.IntN(5) == 0 { // verifying again, on the other node, returns the same record
			r2, ok := call(nodes[1-verifyNode], "POST", "/api/v2/payment/verify/", testSK, verifyBody)
			if !ok || procStr(r2.body, "idx") != p.idx || procStr(r2.body, "state.name") != "Completed" || procInt(r2.body, "fee_amount") != p.fee {
				t.Errorf("verify repeated on the other node: %d %s", r2.status, r2.raw)
			}
			count("verify repeated on the other node")
		}
		n := nodes[rng.IntN(2)]
		switch {
		case plan < 50:
			count("Completed")
		case plan < 62:
			if r := refund(n, p.idx, ""); r.status != 200 {
				t.Errorf("full refund of %s: %d %s", p.idx, r.status, r.raw)
				return
			}
			p.refunded, p.state = p.amount, "Refunded"
			count("refunded in full")
		case plan < 74:
			part := 1 + rng.Int64N(p.amount-1)
			if r := refund(n, p.idx, procJSON(map[string]any{"amount": part})); r.status != 200 {
				t.Errorf("partial refund of %d of %s: %d %s", part, p.idx, r.status, r.raw)
				return
			}
			p.refunded, p.state = part, "Partially refunded"
			second := p.amount - part // the rest, or part of it, on the other node
			if rng.IntN(2) == 0 && second > 1 {
				second = 1 + rng.Int64N(second-1)
			}
			other := nodes[0]
			if n == nodes[0] {
				other = nodes[1]
			}
			if r := refund(other, p.idx, procJSON(map[string]any{"amount": second})); r.status != 200 {
				t.Errorf("second partial refund of %d of %s: %d %s", second, p.idx, r.status, r.raw)
				return
			}
			p.refunded += second
			if p.refunded == p.amount {
				p.state = "Refunded"
				count("refunded in two parts on two nodes")
			} else {
				count("partially refunded twice on two nodes")
			}
		case plan < 84:
			// Two full refunds at once: exactly one is paid.
			rs := race(p.idx, [2]string{"", ""})
			won := 0
			for _, r := range rs {
				switch {
				case r.status == 200:
					won++
				case r.status == 400 && procStr(r.body, "detail") == "Transaction is already fully refunded.":
				default:
					t.Errorf("racing full refund of %s: %d %s", p.idx, r.status, r.raw)
				}
			}
			if won != 1 {
				t.Errorf("two racing full refunds of %s: %d succeeded, want exactly 1: %+v", p.idx, won, rs)
			}
			p.refunded, p.state = p.amount, "Refunded"
			count("raced two full refunds")
		case plan < 92:
			// Two refunds of 60% at once: exactly one fits.
			part := (p.amount*6 + 9) / 10
			body := procJSON(map[string]any{"amount": part})
			rs := race(p.idx, [2]string{body, body})
			won := 0
			for _, r := range rs {
				switch {
				case r.status == 200:
					won++
				case r.status == 400 && r.body["amount"] != nil:
				default:
					t.Errorf("racing 60%% refund of %s: %d %s", p.idx, r.status, r.raw)
				}
			}
			if won != 1 {
				t.Errorf("two racing 60%% refunds of %s: %d succeeded, want exactly 1: %+v", p.idx, won, rs)
			}
			p.refunded, p.state = part, "Partially refunded"
			count("raced two 60% refunds")
		default:
			// Two refunds of 40% at once: both fit.
			part := p.amount * 4 / 10
			body := procJSON(map[string]any{"amount": part})
			for _, r := range race(p.idx, [2]string{body, body}) {
				if r.status != 200 {
					t.Errorf("racing 40%% refund of %s: %d %s", p.idx, r.status, r.raw)
				}
			}
			p.refunded, p.state = 2*part, "Partially refunded"
			count("raced two 40% refunds")
		}
	}

	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				pay(j)
			}
		})
	}
	loadStart := time.Now()
	for j := range total {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	loadTook := time.Since(loadStart)
	if t.Failed() {
		t.Logf("node 0 log tail:\n%s\nnode 1 log tail:\n%s", procTail(nodes[0].log.String()), procTail(nodes[1].log.String()))
		t.FailNow()
	}

	// Every payment reads the same on both nodes, and as what was done to it.
	states := map[string]int{}
	for _, p := range payments {
		raw0, st0 := procStatus(t, nodes[0].URL, p.token, p.amount)
		raw1, _ := procStatus(t, nodes[1].URL, p.token, p.amount)
		if raw0 != raw1 {
			t.Errorf("the nodes disagree about %s: %s vs %s", p.token, raw0, raw1)
		}
		if st0 != p.state {
			t.Errorf("payment %s (%s) is %q, want %q", p.token, p.idx, st0, p.state)
		}
		states[st0]++
	}
	// The list, on both nodes, holds every payment once with its amounts.
	listStates := map[string]string{"Initiated": "Initiated", "Confirmed": "Confirmed", "Complete": "Completed",
		"Refunded": "Refunded", "Partially refunded": "Partially refunded"}
	lists := [2]map[string]procRecord{procList(t, nodes[0].URL), procList(t, nodes[1].URL)}
	for i, list := range lists {
		if len(list) != len(payments) {
			t.Errorf("node %d lists %d payments, want %d", i, len(list), len(payments))
		}
		for _, p := range payments {
			if p.idx == "" {
				continue // never confirmed, so its idx is unknown here; the counts above cover it
			}
			rec, ok := list[p.idx]
			if !ok {
				t.Errorf("node %d does not list %s", i, p.idx)
				continue
			}
			wantFee := int64(0)
			if p.captured {
				wantFee = p.fee
			}
			if rec.state != listStates[p.state] || rec.amount != p.amount || (p.captured && rec.fee != wantFee) ||
				rec.refunded != (p.refunded > 0) || rec.mobile != p.payer[:2]+"XXXXXXX"+p.payer[9:] {
				t.Errorf("node %d lists %+v for %+v", i, rec, *p)
			}
		}
	}
	for idx, rec := range lists[0] {
		if lists[1][idx] != rec {
			t.Errorf("the nodes list %s differently: %+v vs %+v", idx, rec, lists[1][idx])
		}
	}

	// Money: each wallet lost what was captured or is held, and got its
	// refunds back; the merchant got amount minus fee for each capture,
	// less refunds.
	delta := map[string]int64{}
	var merchantWant, held, capturedN int64
	for _, p := range payments {
		switch p.state {
		case "Confirmed":
			delta[p.payer] -= p.amount
			held += p.amount
		case "Complete", "Refunded", "Partially refunded":
			delta[p.payer] += p.refunded - p.amount
			merchantWant += p.amount - p.fee - p.refunded
			capturedN++
		}
	}
	for _, w := range wallets {
		got := procProbeWallet(t, env, db, w.mobile) - 1
		if want := w.opening + delta[w.mobile]; got != want {
			t.Errorf("wallet %s holds %d paisa, want %d (opening %d, change %d)", w.mobile, got, want, w.opening, delta[w.mobile])
		}
	}
	if got := procMerchantBalance(t, env, db) - merchantOpening; got != merchantWant {
		t.Errorf("the merchant's balance changed by %d paisa, want %d", got, merchantWant)
	}
	procLedgerOK(t, env, db)

	// The run must have exercised every path it claims to test.
	for _, what := range []string{"left Initiated", "left Confirmed (held)", "Completed", "refunded in full",
		"raced two full refunds", "raced two 60% refunds", "raced two 40% refunds"} {
		if counts[what] == 0 && !testing.Short() {
			t.Errorf("no payment took the path %q", what)
		}
	}
	if capturedN == 0 || held == 0 {
		t.Errorf("nothing was captured (%d) or held (%d)", capturedN, held)
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %-60s %d", k, counts[k])
	}
	t.Logf("%d payments by %d workers on 2 nodes in %v (test %v); final states %v; held %d paisa; merchant +%d paisa%s",
		len(payments), workers, loadTook.Round(time.Millisecond), time.Since(began).Round(time.Millisecond), states, held, merchantWant, b.String())
}

// procTail is the end of a log, for failure messages.
func procTail(s string) string {
	const n = 4000
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// ---- SIGKILL and restart ----

// crashPayment is what a crash-test client saw of one payment.
type crashPayment struct {
	payer                   string
	amount                  int64
	token, idx              string
	confirmTried, confirmed bool // confirmed: a 2xx was received
	verifyTried, verified   bool
	refundTried, refunded   bool
}

func TestCrashRecovery(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		procBinary(t)
		db := filepath.Join(t.TempDir(), "thaili.db")
		procCLI(t, nil, "migrate", "--database-url", db)
		procCLI(t, nil, "sandbox", "seed", "--database-url", db)
		crashRecovery(t, db, nil)
	})
	t.Run("postgres", func(t *testing.T) {
		db := pgtest.NewDatabase(t)
		procBinary(t)
		env := map[string]string{"THAILI_SECRET": pgEnv["THAILI_SECRET"]}
		procCLI(t, env, "migrate", "--database-url", db)
		procCLI(t, env, "sandbox", "seed", "--database-url", db)
		crashRecovery(t, db, env)
	})
}

// crashRecovery runs concurrent payers against a server on db, kills the
// server with SIGKILL at random moments while requests are in flight and
// restarts it, then checks that everything acknowledged survived, nothing
// was captured twice and the books balance.
func crashRecovery(t *testing.T, db string, env map[string]string) {
	began := time.Now()
	const kills, workers = 10, 6
	seed := procSeed(t)
	rng := rand.New(rand.NewPCG(seed, 0))

	opening := map[string]int64{}
	for _, m := range procSandboxPayers {
		opening[m] = procProbeWallet(t, env, db, m)
	}
	merchantOpening := procMerchantBalance(t, env, db)

	srv := startProcServer(t, env, db)
	var current atomic.Pointer[string]
	current.Store(&srv.URL)

	var (
		stop                      atomic.Bool
		inflight                  atomic.Int64
		refused, cut, initiations atomic.Int64
		mu                        sync.Mutex
		payments                  []*crashPayment
		wg                        sync.WaitGroup
	)
	// Stop the clients before the servers are killed at the end of a
	// failed test (cleanups run last-registered first).
	t.Cleanup(func() { stop.Store(true); wg.Wait() })

	// send makes one attempt; false means no answer was received.
	send := func(method, path, key, body string) (procResp, bool) {
		inflight.Add(1)
		r, err := procDo(*current.Load(), method, path, key, body)
		inflight.Add(-1)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Errorf("%s %s: no answer within the client timeout (a hung server, not a kill): %v", method, path, err)
			}
			if errors.Is(err, syscall.ECONNREFUSED) {
				refused.Add(1) // between a kill and the restart
			} else {
				cut.Add(1) // in flight when the server died
			}
			return r, false
		}
		if r.status >= 500 {
			t.Errorf("%s %s: server error %d %s", method, path, r.status, r.raw)
		}
		return r, true
	}
	// step sends a request that is safe to repeat; after a failed attempt
	// the client either keeps trying (on whatever server is current) until
	// it gets an answer or the load stops, or gives up. attempts counts
	// the tries made.
	step := func(rng *rand.Rand, method, path, key, body string) (r procResp, ok bool, attempts int) {
		persist := rng.IntN(10) < 7
		for {
			attempts++
			if r, ok = send(method, path, key, body); ok {
				return r, true, attempts
			}
			if !persist || stop.Load() {
				return r, false, attempts
			}
			time.Sleep(time.Duration(5+rng.IntN(20)) * time.Millisecond)
		}
	}

	client := func(w int) {
		rng := rand.New(rand.NewPCG(seed, uint64(w+1)))
		for !stop.Load() {
			time.Sleep(time.Duration(rng.IntN(15)) * time.Millisecond)
			p := &crashPayment{payer: procSandboxPayers[rng.IntN(len(procSandboxPayers))], amount: 1000 + rng.Int64N(29_001)}
			// Initiate is not repeatable (a repeat is another payment), so
			// it is tried once.
			initiations.Add(1)
			r, ok := send("POST", "/api/v2/payment/initiate/", "", procJSON(map[string]any{
				"public_key": testPK, "mobile": p.payer, "transaction_pin": "1111", "amount": p.amount,
				"product_identity": "crash", "product_name": "Crash test"}))
			if !ok {
				continue
			}
			if r.status != 200 {
				t.Errorf("initiate: %d %s", r.status, r.raw)
				continue
			}
			p.token = procStr(r.body, "token")
			mu.Lock()
			payments = append(payments, p)
			mu.Unlock()
			plan := rng.IntN(100)
			if plan < 10 {
				continue
			}
			p.confirmTried = true
			r, ok, _ = step(rng, "POST", "/api/v2/payment/confirm/", "", procJSON(map[string]any{
				"public_key": testPK, "token": p.token, "confirmation_code": "987654", "transaction_pin": "1111"}))
			if !ok {
				continue
			}
			if r.status != 200 || procStr(r.body, "token") != p.token {
				t.Errorf("confirm %s: %d %s", p.token, r.status, r.raw)
				continue
			}
			p.idx, p.confirmed = procStr(r.body, "idx"), true
			if plan < 25 {
				continue
			}
			p.verifyTried = true
			r, ok, _ = step(rng, "POST", "/api/v2/payment/verify/", testSK, procJSON(map[string]any{"token": p.token, "amount": p.amount}))
			if !ok {
				continue
			}
			if r.status != 200 || procStr(r.body, "idx") != p.idx || procStr(r.body, "state.name") != "Completed" ||
				procInt(r.body, "fee_amount") != procFee(p.amount) {
				t.Errorf("verify %s (amount %d): %d %s", p.token, p.amount, r.status, r.raw)
				continue
			}
			p.verified = true
			if plan < 80 {
				continue
			}
			// Only full refunds, so a payment's state says exactly how much
			// was refunded. A repeated full refund is refused once the
			// first went through, which tells the client it did.
			p.refundTried = true
			r, ok, attempts := step(rng, "POST", "/api/merchant-transaction/"+p.idx+"/refund/", testSK, "")
			switch {
			case !ok:
			case r.status == 200:
				p.refunded = true
			case attempts > 1 && r.status == 400 && procStr(r.body, "detail") == "Transaction is already fully refunded.":
				p.refunded = true
			default:
				t.Errorf("refund %s: %d %s", p.idx, r.status, r.raw)
			}
		}
	}
	for w := range workers {
		wg.Go(func() { client(w) })
	}

	// Kill the server at random moments, each time while requests are in
	// flight, and restart it on the same database.
	var inflightAtKill []int64
	var restartTook time.Duration
	for range kills {
		time.Sleep(time.Duration(100+rng.IntN(300)) * time.Millisecond)
		waitUntil := time.Now().Add(2 * time.Second)
		for inflight.Load() == 0 && time.Now().Before(waitUntil) {
			time.Sleep(100 * time.Microsecond)
		}
		n := inflight.Load()
		srv.kill()
		if n == 0 {
			t.Errorf("no request was in flight when the server was killed")
		}
		inflightAtKill = append(inflightAtKill, n)
		if srv.waitErr == nil {
			t.Errorf("the killed server exited cleanly")
		}
		restart := time.Now()
		srv = startProcServer(t, env, db)
		restartTook += time.Since(restart)
		current.Store(&srv.URL)
	}
	time.Sleep(300 * time.Millisecond) // load on the last server
	stop.Store(true)
	wg.Wait()
	loadTook := time.Since(began)
	if t.Failed() {
		t.Logf("server log tail:\n%s", procTail(srv.log.String()))
		t.FailNow()
	}
	time.Sleep(100 * time.Millisecond) // quiet: every answered request is already committed
	base := srv.URL

	// What the status API says of every payment whose initiate was acknowledged.
	statusOf := make([]string, len(payments))
	jobs := make(chan int)
	var checkers sync.WaitGroup
	for range 4 {
		checkers.Go(func() {
			for i := range jobs {
				_, statusOf[i] = procStatus(t, base, payments[i].token, payments[i].amount)
			}
		})
	}
	for i := range payments {
		jobs <- i
	}
	close(jobs)
	checkers.Wait()

	list := procList(t, base)
	valid := map[string]bool{"Initiated": true, "Confirmed": true, "Completed": true, "Disabled": true,
		"Refunded": true, "Partially refunded": true, "Failed": true}
	statusName := map[string]string{"Initiated": "Initiated", "Confirmed": "Confirmed", "Completed": "Complete",
		"Refunded": "Refunded", "Partially refunded": "Partially refunded", "Failed": "Failed", "Disabled": "Failed"}
	listed := map[string]int{}
	for _, rec := range list {
		listed[rec.state]++
		if !valid[rec.state] {
			t.Errorf("payment %s is in no state of the state machine: %q", rec.idx, rec.state)
		}
		// Nothing here can expire a payment, get a code wrong or refund in
		// part, so these states would be wrong.
		if rec.state == "Failed" || rec.state == "Disabled" || rec.state == "Partially refunded" {
			t.Errorf("payment %s is %s", rec.idx, rec.state)
		}
		if rec.state != "Initiated" && rec.state != "Confirmed" && rec.fee != procFee(rec.amount) {
			t.Errorf("payment %s of %d was charged a fee of %d", rec.idx, rec.amount, rec.fee)
		}
		if rec.refunded != (rec.state == "Refunded") {
			t.Errorf("payment %s is %s with refunded=%v", rec.idx, rec.state, rec.refunded)
		}
	}

	// Each acknowledged step survived the kills.
	byStatus := map[string]int{}
	var acked struct{ initiate, confirm, verify, refund int }
	for i, p := range payments {
		st := statusOf[i]
		byStatus[st]++
		acked.initiate++
		var want []string
		switch {
		case p.refunded:
			acked.refund++
			want = []string{"Refunded"}
		case p.refundTried:
			want = []string{"Complete", "Refunded"}
		case p.verified:
			want = []string{"Complete"}
		case p.verifyTried:
			want = []string{"Confirmed", "Complete"}
		case p.confirmed:
			want = []string{"Confirmed"}
		case p.confirmTried:
			want = []string{"Initiated", "Confirmed"}
		default:
			want = []string{"Initiated"}
		}
		if p.verified {
			acked.verify++
		}
		if p.confirmed {
			acked.confirm++
		}
		found := false
		for _, w := range want {
			found = found || st == w
		}
		if !found {
			t.Errorf("payment %s (%+v) is %q after the crashes, want one of %q", p.token, *p, st, want)
		}
		if p.idx != "" {
			rec, ok := list[p.idx]
			switch {
			case !ok:
				t.Errorf("the confirmed payment %s is not listed", p.idx)
			case statusName[rec.state] != st || rec.amount != p.amount || rec.mobile != p.payer[:2]+"XXXXXXX"+p.payer[9:]:
				t.Errorf("payment %s is listed as %+v, but its status is %q (%+v)", p.idx, rec, st, *p)
			}
		}
	}
	// Payments whose initiate went unanswered may exist, but only as
	// Initiated: nothing else ever happened to them.
	if byStatus["Error"] > 0 {
		t.Errorf("%d acknowledged payments are missing", byStatus["Error"])
	}
	for _, st := range []string{"Confirmed", "Completed", "Refunded"} {
		if listed[st] != byStatus[statusName[st]] {
			t.Errorf("%d payments are listed as %s but the clients' payments hold %d", listed[st], st, byStatus[statusName[st]])
		}
	}
	if orphans := len(list) - len(payments); orphans < 0 || int64(orphans) > initiations.Load()-int64(len(payments)) {
		t.Errorf("%d payments are listed for %d acknowledged and %d unanswered initiations",
			len(list), len(payments), initiations.Load()-int64(len(payments)))
	}

	// Money, from the list: each wallet lost what was captured or is held
	// (a refund gives back the whole amount); the merchant got amount minus
	// fee per capture and paid back the amount of each refund.
	delta := map[string]int64{}
	var merchantWant int64
	for _, rec := range list {
		payer := "980000000" + rec.mobile[len(rec.mobile)-1:]
		switch rec.state {
		case "Confirmed", "Completed":
			delta[payer] -= rec.amount
		}
		switch rec.state {
		case "Completed":
			merchantWant += rec.amount - rec.fee
		case "Refunded":
			merchantWant -= rec.fee
		}
	}
	for _, m := range procSandboxPayers {
		got := procProbeWallet(t, env, db, m) - 1
		if want := opening[m] + delta[m]; got != want {
			t.Errorf("wallet %s holds %d paisa, want %d (opening %d, change %d)", m, got, want, opening[m], delta[m])
		}
	}
	if got := procMerchantBalance(t, env, db) - merchantOpening; got != merchantWant {
		t.Errorf("the merchant's balance changed by %d paisa, want %d", got, merchantWant)
	}
	procLedgerOK(t, env, db)

	if acked.verify == 0 || acked.refund == 0 || listed["Confirmed"] == 0 {
		t.Errorf("the load did too little to prove anything: %+v, listed %v", acked, listed)
	}
	if cut.Load() < kills/2 {
		t.Errorf("only %d requests were cut off by %d kills", cut.Load(), kills)
	}
	t.Logf("%d kills (in flight at each: %v; %v restarting in all), %d initiations, %d payments listed %v; acknowledged %+v; "+
		"%d requests cut off, %d refused while down; load %v, test %v",
		kills, inflightAtKill, restartTook.Round(time.Millisecond), initiations.Load(), len(list), listed, acked,
		cut.Load(), refused.Load(), loadTook.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}
