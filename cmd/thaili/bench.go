package main

// `thaili bench`: a load generator for the legacy wallet flow. It sets up
// merchants and payers through the service (directly in the database the
// server uses), drives initiate, confirm and verify over HTTP from many
// concurrent payers for a bounded time, reports throughput, latency
// percentiles and, on Linux, the CPU time per payment of bench and of the
// processes named by --cpu (bench_cpu.go), and ends with the ledger check.
//
// With --in-process there is no server: bench opens the payment service
// on --database-url itself and its payers call the service's Initiate,
// Confirm and Verify, as the API's handlers do, with no HTTP in between.
// The rate is what the service and its store can do on this machine; a
// server's run beside it shows what HTTP costs (README, "Performance").

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/thaili/thaili/internal/config"
	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store"
)

// benchConfig is the parsed `thaili bench` command line.
type benchConfig struct {
	db        config.Database
	url       string
	payers    int
	duration  time.Duration
	count     int64
	merchants int
	amount    int64
	progress  time.Duration // how often a progress line goes to stderr; 0: never
	cpu       benchCPUFlag  // --cpu LABEL=PID: processes whose CPU time is measured
	procRoot  string        // where /proc is; a parameter for tests
	// inProcess drives the service inside bench, with no server (--in-process).
	inProcess bool
	urlSet    bool // --url was given
}

// benchTopup is what every simulated payer is given in the test book:
// enough for ten million payments of Rs 10.
const benchTopup money.Paisa = 10_000_000_000

// benchMaxErrorBodies is how many error answers are kept for the report.
const benchMaxErrorBodies = 5

// benchRequestTimeout bounds every single request, so a run ends even if
// the server stops answering.
const benchRequestTimeout = 30 * time.Second

// benchEndpoints are the legacy flow's steps, in order.
var benchEndpoints = [...]string{"initiate", "confirm", "verify"}

// benchMerchant is a merchant created for a run, with its test keys.
type benchMerchant struct {
	idx    string
	public string
	secret string
}

// benchWorker is one simulated payer's results; each worker owns its
// own, so the loop needs no locks.
type benchWorker struct {
	latencies [len(benchEndpoints)][]time.Duration
	errors    [len(benchEndpoints)]int
	completed int64
	conn      *benchConn // the payer's connection (bench_conn.go), nil until its first request
}

// benchRun is the state the payers share.
type benchRun struct {
	cfg     benchConfig
	base    string
	roots   *x509.CertPool  // TLS roots for an https --url; nil: the system's
	ctx     context.Context // cancelled on interrupt: aborts requests in flight
	stopAt  time.Time       // no payment starts after this
	claimed atomic.Int64    // payments started or completed, for --count
	// completed and failed count payments as they end, for the progress
	// lines (the report sums the workers' own counts).
	completed, failed atomic.Int64

	mu        sync.Mutex
	errBodies []string // the first few error answers

	// app, with --in-process, is the service the payers call instead of a
	// server; nil over HTTP.
	app *app
}

// bench runs `thaili bench`.
func (e env) bench(args []string) error {
	fs := e.flags("bench")
	cfg := benchConfig{procRoot: "/proc"}
	config.AddDatabase(fs, config.Getenv(e.getenv), &cfg.db)
	fs.StringVar(&cfg.url, "url", "http://127.0.0.1:8000", "base URL of the running thaili server")
	fs.IntVar(&cfg.payers, "payers", 16, "concurrent simulated payers")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "run for at most this long")
	fs.Int64Var(&cfg.count, "count", 0, "stop after this many completed payments (0: only --duration)")
	fs.IntVar(&cfg.merchants, "merchants", 1, "merchants paid, payers spread round-robin over them")
	fs.Int64Var(&cfg.amount, "amount", 1000, "amount of each payment in paisa")
	fs.DurationVar(&cfg.progress, "progress", time.Second, "how often to print progress (elapsed, payments, rate) on stderr; 0: never")
	fs.Var(&cfg.cpu, "cpu", "`LABEL=PID`: report as LABEL the CPU time that process PID and all its descendants use while the payers run "+
		"(not setup, not the ledger check), per payment, on the report's cpu: line beside bench's own; repeatable, "+
		"e.g. --cpu server=<thaili serve's pid> --cpu db=<the postmaster's pid>; Linux only (reads /proc)")
	fs.BoolVar(&cfg.inProcess, "in-process", false, "no server: open the payment service on --database-url in bench itself and call it as the API's handlers do, "+
		"with no HTTP (the rate of the service and its store alone; bench's own CPU then includes theirs; not with --url)")
	if err := parse(fs, args); err != nil {
		return err
	}
	fs.Visit(func(f *flag.Flag) { cfg.urlSet = cfg.urlSet || f.Name == "url" })
	base, err := cfg.validate()
	if err != nil {
		return exitError{code: 2, msg: err.Error()}
	}

	var client *http.Client
	if !cfg.inProcess {
		client = &http.Client{
			Timeout: benchRequestTimeout,
			Transport: &http.Transport{
				Proxy:               nil, // loopback benchmarks never go through a proxy
				MaxIdleConns:        4 * cfg.payers,
				MaxIdleConnsPerHost: 4 * cfg.payers,
				IdleConnTimeout:     90 * time.Second,
			},
		}
		defer client.CloseIdleConnections()
		if err := benchHealth(e.ctx, client, base); err != nil {
			return err
		}
	} else {
		// The payers stand in for a node's requests: give the store a
		// node's connections, not a one-off command's few, and the
		// process a node's garbage collector.
		if cfg.db.Postgres() && cfg.db.MaxConns == config.CommandMaxConns {
			cfg.db.MaxConns = config.DefaultMaxConns
		}
		tuneGC(e.getenv)
	}

	a, err := e.open(cfg.db)
	if err != nil {
		return err
	}
	defer a.store.Close()

	runID, err := benchRunID()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "bench: creating %d merchant(s) and %d funded payer(s)\n", cfg.merchants, cfg.payers)
	merchants, err := benchMerchants(e.ctx, a.id, e.actor(), runID, cfg.merchants)
	if err != nil {
		return err
	}
	if !cfg.inProcess {
		if err := benchSameDatabase(e.ctx, client, base, merchants[0]); err != nil {
			return err
		}
	}
	mobiles, err := benchPayers(e.ctx, a, e.actor(), runID, cfg.payers)
	if err != nil {
		return err
	}
	against := base
	r := &benchRun{cfg: cfg, base: base, ctx: e.ctx}
	readCommit := func() benchCommit { return readBenchCommit(e.ctx, client, base) }
	if cfg.inProcess {
		against = "the service in process (no HTTP)"
		r.app = a
		readCommit = func() benchCommit { return storeBenchCommit(a.store) }
	}
	fmt.Fprintf(e.stdout, "bench %s: %d payer(s), %d merchant(s), %d paisa per payment, against %s\n",
		runID, cfg.payers, cfg.merchants, cfg.amount, against)

	workers := make([]benchWorker, cfg.payers)
	// The CPU window is the payers' run alone: setup before it and the
	// ledger check after it are no part of what a payment costs.
	cpu := newBenchCPU(cfg.procRoot, cfg.cpu)
	commitBefore := readCommit()
	var cpuBefore benchCPUReading
	if cpu != nil {
		cpuBefore = cpu.read()
	}
	start := time.Now()
	r.stopAt = start.Add(cfg.duration)
	until := fmt.Sprintf("for %s", cfg.duration)
	if cfg.count > 0 {
		until = fmt.Sprintf("until %d payments or %s", cfg.count, cfg.duration)
	}
	fmt.Fprintf(e.stderr, "bench: paying %s\n", until)
	stopProgress := r.showProgress(e.stderr, start)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.payer(&workers[i], mobiles[i], merchants[i%len(merchants)])
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var cpuAfter benchCPUReading
	if cpu != nil {
		cpuAfter = cpu.read()
	}
	commitAfter := readCommit()
	stopProgress()

	failed := r.report(e.stdout, workers, elapsed)
	cpu.write(e.stdout, cpuBefore, cpuAfter, r.completed.Load())
	writeBenchCommit(e.stdout, commitBefore, commitAfter, elapsed)
	if e.ctx.Err() != nil {
		return e.ctx.Err()
	}

	v, err := a.svc.CheckLedger(e.ctx)
	if err != nil {
		return fmt.Errorf("ledger check: %w", err)
	}
	if len(v) > 0 {
		fmt.Fprintf(e.stdout, "ledger check: %d violation(s)\n", len(v))
		for _, x := range v {
			fmt.Fprintln(e.stdout, "  ", x)
		}
		return exitError{code: 1, msg: fmt.Sprintf("ledger check failed: %d violation(s)", len(v))}
	}
	fmt.Fprintln(e.stdout, "ledger check: ok")
	if failed != nil {
		return failed
	}
	return nil
}

// showProgress prints a line to out every cfg.progress while the payers
// run: the time since start, payments completed and failed so far, the
// rate since start and over the last interval. The returned func stops
// it, and returns once it has stopped, so no line follows the report.
func (r *benchRun) showProgress(out io.Writer, start time.Time) (stop func()) {
	if r.cfg.progress <= 0 {
		return func() {}
	}
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(r.cfg.progress)
		defer t.Stop()
		last, lastAt := int64(0), start
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				n := r.completed.Load()
				fmt.Fprintf(out, "bench: %.1fs elapsed, %d payments, %.1f payments/s (last %.1fs: %.1f/s), %d failed\n",
					now.Sub(start).Seconds(), n, float64(n)/now.Sub(start).Seconds(),
					now.Sub(lastAt).Seconds(), float64(n-last)/now.Sub(lastAt).Seconds(), r.failed.Load())
				last, lastAt = n, now
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}

// validate checks the flags and returns the server's base URL without a
// trailing slash (unused with --in-process).
func (c benchConfig) validate() (string, error) {
	if c.inProcess && c.urlSet {
		return "", errors.New("--in-process runs no server requests: leave out --url")
	}
	u, err := url.Parse(c.url)
	if !c.inProcess && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		return "", fmt.Errorf("--url %q: must be an absolute http or https URL", c.url)
	}
	switch {
	case c.payers < 1:
		return "", errors.New("--payers must be at least 1")
	case c.merchants < 1:
		return "", errors.New("--merchants must be at least 1")
	case c.duration <= 0:
		return "", errors.New("--duration must be positive")
	case c.count < 0:
		return "", errors.New("--count must not be negative")
	case c.progress < 0:
		return "", errors.New("--progress must not be negative (0 turns it off)")
	case c.amount < 1 || money.Paisa(c.amount) > money.Max:
		return "", fmt.Errorf("--amount must be between 1 and %d paisa", int64(money.Max))
	}
	if err := benchCheckCPU(runtime.GOOS, c.procRoot, c.cpu); err != nil {
		return "", err
	}
	if err := c.db.Validate(); err != nil {
		return "", err
	}
	return strings.TrimRight(c.url, "/"), nil
}

// benchHealth fails clearly when no thaili server answers at base.
func benchHealth(ctx context.Context, client *http.Client, base string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
	if err != nil {
		return exitError{code: 2, msg: fmt.Sprintf("--url %q: %v", base, err)}
	}
	res, err := client.Do(req)
	if err != nil {
		return exitError{code: 1, msg: fmt.Sprintf("no thaili server at %s: %v", base, err)}
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return exitError{code: 1, msg: fmt.Sprintf("no healthy thaili server at %s: GET /healthz answered %s %s",
			base, res.Status, strings.TrimSpace(string(body)))}
	}
	return nil
}

// benchSameDatabase checks that the server knows a merchant just created
// in --database-url, i.e. that both name the same database and share the
// server secret.
func benchSameDatabase(ctx context.Context, client *http.Client, base string, m benchMerchant) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v2/merchant-transaction/?page_size=1", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Key "+m.secret)
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("server at %s: %v", base, err)
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return exitError{code: 1, msg: fmt.Sprintf("the server at %s does not accept the keys of merchant %s just created in --database-url (HTTP %d): "+
			"the server must use the same database and the same THAILI_SECRET", base, m.idx, res.StatusCode)}
	}
	return nil
}

// benchRunID returns a short random id that names this run's merchants.
func benchRunID() (string, error) {
	b := make([]byte, 4)
	if _, err := crand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// benchMerchants creates n KYC-approved merchants bench-<run>-<i>, for
// actor: they are real merchants (they get live keys after their first
// test payment), so their creation is audited like any other.
func benchMerchants(ctx context.Context, id *identity.Service, actor identity.Actor, runID string, n int) ([]benchMerchant, error) {
	out := make([]benchMerchant, 0, n)
	for i := range n {
		name := fmt.Sprintf("bench-%s-%d", runID, i)
		m, kp, err := id.CreateMerchant(ctx, actor, identity.NewMerchant{Name: name, Email: name + "@bench.thaili.local", KYC: store.KYCApproved})
		if err != nil {
			return nil, fmt.Errorf("creating merchant %s: %w", name, cliError(err))
		}
		out = append(out, benchMerchant{idx: m.Idx, public: kp.Public, secret: kp.Secret})
	}
	return out, nil
}

// benchPayers creates n wallets on fresh random 98XXXXXXXX numbers, MPIN
// 1111, each topped up with benchTopup in the test book, and returns
// their mobiles. Creations and top-ups are audited as actor's.
func benchPayers(ctx context.Context, a *app, actor identity.Actor, runID string, n int) ([]string, error) {
	mobiles := make([]string, 0, n)
	for i := range n {
		var mobile string
		for try := 0; ; try++ {
			mobile = fmt.Sprintf("98%08d", rand.N(100_000_000))
			_, err := a.id.CreateConsumer(ctx, actor, mobile, fmt.Sprintf("Bench payer %s-%d", runID, i), payment.SandboxMPIN)
			if err == nil {
				break
			}
			if e := fault.AsError(err); e.Kind == fault.KindValidation && len(e.Fields["mobile"]) > 0 && try < 50 {
				continue // the number is taken: draw another
			}
			return nil, fmt.Errorf("creating payer %s: %w", mobile, cliError(err))
		}
		if _, err := a.svc.Topup(ctx, actor, mobile, ledger.Test, benchTopup); err != nil {
			return nil, fmt.Errorf("topping up payer %s: %w", mobile, cliError(err))
		}
		mobiles = append(mobiles, mobile)
	}
	return mobiles, nil
}

// payer pays merchant m from mobile again and again until the time is up,
// --count payments are done or the run is interrupted.
func (r *benchRun) payer(w *benchWorker, mobile string, m benchMerchant) {
	defer func() {
		if w.conn != nil {
			w.conn.close()
		}
	}()
	for r.ctx.Err() == nil && time.Now().Before(r.stopAt) {
		if r.cfg.count > 0 && r.claimed.Add(1) > r.cfg.count {
			return
		}
		if r.pay(w, mobile, m) {
			w.completed++
			r.completed.Add(1)
			continue
		}
		if r.ctx.Err() == nil {
			r.failed.Add(1)
		}
		if r.cfg.count > 0 {
			r.claimed.Add(-1) // let another attempt take the place of the failed one
		}
		// Do not spin on a failing server.
		select {
		case <-r.ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// pay runs one legacy payment and reports whether it completed.
func (r *benchRun) pay(w *benchWorker, mobile string, m benchMerchant) bool {
	if r.app != nil {
		return r.payInProcess(w, mobile, m)
	}
	var init struct {
		Token string `json:"token"`
	}
	if !r.call(w, 0, "/api/v2/payment/initiate/", "", map[string]any{
		"public_key": m.public, "mobile": mobile, "transaction_pin": payment.SandboxMPIN, "amount": r.cfg.amount,
		"product_identity": "bench", "product_name": "Bench payment"}, &init) {
		return false
	}
	var conf struct {
		Idx string `json:"idx"`
	}
	if !r.call(w, 1, "/api/v2/payment/confirm/", "", map[string]any{
		"public_key": m.public, "token": init.Token, "confirmation_code": payment.DefaultConfig().TestOTP,
		"transaction_pin": payment.SandboxMPIN}, &conf) {
		return false
	}
	var rec struct {
		Idx   string `json:"idx"`
		State struct {
			Name string `json:"name"`
		} `json:"state"`
	}
	if !r.call(w, 2, "/api/v2/payment/verify/", m.secret, map[string]any{"token": init.Token, "amount": r.cfg.amount}, &rec) {
		return false
	}
	if rec.State.Name != "Completed" || rec.Idx != conf.Idx {
		w.errors[2]++
		r.keepError(fmt.Sprintf("verify: payment %s is %q after verify, want Completed", conf.Idx, rec.State.Name))
		return false
	}
	return true
}

// call POSTs body as JSON to path, timing it, and decodes a 2xx answer
// into out. A transport error, a non-2xx status or an answer without the
// expected fields counts as an error of the endpoint.
func (r *benchRun) call(w *benchWorker, ep int, path, secret string, body map[string]any, out any) bool {
	raw, err := json.Marshal(body)
	if err != nil {
		panic(err) // maps of strings and numbers always marshal
	}
	req, err := http.NewRequestWithContext(r.ctx, http.MethodPost, r.base+path, bytes.NewReader(raw))
	if err != nil {
		panic(err) // the base URL was validated
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("Authorization", "Key "+secret)
	}
	t0 := time.Now()
	status, answer, err := r.roundTrip(w, req)
	if err != nil {
		if r.ctx.Err() == nil {
			w.errors[ep]++
			r.keepError(fmt.Sprintf("%s: %v", benchEndpoints[ep], err))
		}
		return false
	}
	took := time.Since(t0)
	if status/100 != 2 {
		w.errors[ep]++
		r.keepError(fmt.Sprintf("%s: HTTP %d: %s", benchEndpoints[ep], status, benchTruncate(string(answer), 300)))
		return false
	}
	if err := json.Unmarshal(answer, out); err != nil || (ep == 0 && !strings.Contains(string(answer), `"token"`)) {
		w.errors[ep]++
		r.keepError(fmt.Sprintf("%s: unexpected answer: %s", benchEndpoints[ep], benchTruncate(string(answer), 300)))
		return false
	}
	w.latencies[ep] = append(w.latencies[ep], took)
	return true
}

// keepError remembers one of the first error answers for the report.
func (r *benchRun) keepError(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errBodies) < benchMaxErrorBodies {
		r.errBodies = append(r.errBodies, msg)
	}
}

// report prints the results and returns an error if nothing completed.
func (r *benchRun) report(out io.Writer, workers []benchWorker, elapsed time.Duration) error {
	var completed int64
	var lat [len(benchEndpoints)][]time.Duration
	var errs [len(benchEndpoints)]int
	total := 0
	for i := range workers {
		completed += workers[i].completed
		for ep := range benchEndpoints {
			lat[ep] = append(lat[ep], workers[i].latencies[ep]...)
			errs[ep] += workers[i].errors[ep]
			total += workers[i].errors[ep]
		}
	}
	fmt.Fprintf(out, "completed: %d payments\n", completed)
	fmt.Fprintf(out, "elapsed: %.3fs\n", elapsed.Seconds())
	fmt.Fprintf(out, "throughput: %.1f payments/s\n", float64(completed)/elapsed.Seconds())
	fmt.Fprintf(out, "%-9s %8s %9s %9s %9s %7s\n", "endpoint", "count", "p50 ms", "p95 ms", "p99 ms", "errors")
	for ep, name := range benchEndpoints {
		d := lat[ep]
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		fmt.Fprintf(out, "%-9s %8d %9.2f %9.2f %9.2f %7d\n", name, len(d),
			benchMS(benchPercentile(d, 50)), benchMS(benchPercentile(d, 95)), benchMS(benchPercentile(d, 99)), errs[ep])
	}
	fmt.Fprintf(out, "errors: %d\n", total)
	for _, b := range r.errBodies {
		fmt.Fprintln(out, "  ", b)
	}
	if completed == 0 {
		return exitError{code: 1, msg: "no payment completed"}
	}
	return nil
}

// benchPercentile returns the nearest-rank p-th percentile of sorted d, or 0.
func benchPercentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := (len(d)*p + 99) / 100 // ceil(n*p/100), 1-based
	return d[max(i, 1)-1]
}

func benchMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// benchTruncate shortens s to at most n bytes for a one-line report.
func benchTruncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// payInProcess is pay with no server: each step calls the service as the
// API's handler for it does (internal/api/legacy.go), timed as a request
// would be, without the HTTP, the JSON or the answer's rendering.
func (r *benchRun) payInProcess(w *benchWorker, mobile string, m benchMerchant) bool {
	step := func(ep int, call func() error) bool {
		t0 := time.Now()
		if err := call(); err != nil {
			if r.ctx.Err() == nil {
				w.errors[ep]++
				r.keepError(fmt.Sprintf("%s: %v", benchEndpoints[ep], cliError(err)))
			}
			return false
		}
		w.latencies[ep] = append(w.latencies[ep], time.Since(t0))
		return true
	}
	svc, amount := r.app.svc, money.Paisa(r.cfg.amount)
	var token, idx string
	if !step(0, func() error {
		res, err := svc.Initiate(r.ctx, payment.InitiateInput{PublicKey: m.public, Mobile: mobile, MPIN: payment.SandboxMPIN,
			Amount: amount, ProductIdentity: "bench", ProductName: "Bench payment"})
		token = res.Token
		return err
	}) {
		return false
	}
	if !step(1, func() error {
		t, err := svc.Confirm(r.ctx, payment.ConfirmInput{PublicKey: m.public, Token: token,
			ConfirmationCode: payment.DefaultConfig().TestOTP, MPIN: payment.SandboxMPIN})
		idx = t.Payment.Idx
		return err
	}) {
		return false
	}
	return step(2, func() error {
		caller, err := r.app.id.Authenticate(r.ctx, m.secret, store.SecretKey)
		if err != nil {
			return err
		}
		t, err := svc.Verify(r.ctx, caller, token, amount)
		if err == nil && (t.Payment.State != store.Completed || t.Payment.Idx != idx) {
			err = fmt.Errorf("payment %s is %q after verify, want %s", idx, t.Payment.State, store.Completed)
		}
		return err
	})
}
