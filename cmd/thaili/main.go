// Command thaili is a self-hosted, Khalti-compatible wallet payment
// gateway: `thaili serve` runs it; the other subcommands are for operators.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/thaili/thaili/internal/api"
	"github.com/thaili/thaili/internal/config"
	"github.com/thaili/thaili/internal/console"
	"github.com/thaili/thaili/internal/dashboard"
	"github.com/thaili/thaili/internal/demo"
	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/httpserver"
	"github.com/thaili/thaili/internal/idempotency"
	"github.com/thaili/thaili/internal/identity"
	"github.com/thaili/thaili/internal/ids"
	"github.com/thaili/thaili/internal/inbox"
	"github.com/thaili/thaili/internal/keyring"
	"github.com/thaili/thaili/internal/money"
	"github.com/thaili/thaili/internal/notify"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/ratelimit"
	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/store/postgres"
	"github.com/thaili/thaili/internal/store/sqlite"
	"github.com/thaili/thaili/internal/wallet"
	"github.com/thaili/thaili/internal/web"
	"github.com/thaili/thaili/internal/webhook"
	"github.com/thaili/thaili/internal/widget"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		report(os.Stderr, err)
		os.Exit(exitCode(err))
	}
}

// report writes the error a command ended with, unless it was already
// written (a usage error, which comes before the usage it shows) or is a
// request for help.
func report(w io.Writer, err error) {
	var e exitError
	if err == nil || errors.Is(err, flag.ErrHelp) || (errors.As(err, &e) && e.shown) {
		return
	}
	fmt.Fprintln(w, "thaili:", err)
}

// exitError carries a specific exit status.
type exitError struct {
	code int
	msg  string
	// shown is set when the message was already written to stderr, so
	// main does not repeat it.
	shown bool
}

func (e exitError) Error() string { return e.msg }

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var e exitError
	if errors.As(err, &e) {
		return e.code
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 1
}

// run is the whole program, with its environment passed in so tests can
// drive it in-process. Its commands are listed in commandList.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{ctx: ctx, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) < 2 {
		fmt.Fprint(stderr, "thaili: no command given\n\n")
		writeUsage(stderr)
		return exitError{code: 2, msg: "no command given", shown: true}
	}
	name, rest := args[1], args[2:]
	switch name {
	case "version", "--version":
		fmt.Fprintln(stdout, "thaili", version)
		return nil
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 { // thaili help merchant [create]: that one's help
			return run(ctx, append(append([]string{args[0]}, rest...), "-h"), getenv, stdin, stdout, stderr)
		}
		writeUsage(stdout)
		return nil
	}
	if _, ok := commandGroups[name]; ok {
		return e.runGroup(name, rest)
	}
	if _, ok := lookupCommand(name); ok {
		return e.dispatch(name, rest)
	}
	return e.unknownCommand(name)
}

// env is what every command works with.
type env struct {
	// command is the command running ("merchant create"), for messages.
	command        string
	ctx            context.Context
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
}

// flags is the flag set of the command name, whose -h shows what it does
// and an example (commandList).
func (e env) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("thaili "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	setUsage(fs, name)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return exitError{code: 2, msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return exitError{code: 2, msg: fmt.Sprintf("unexpected arguments: %s", strings.Join(fs.Args(), " "))}
	}
	return nil
}

// app is an opened database with the service on top.
type app struct {
	store  store.Store
	sqlite bool // the embedded database, which is migrated on open and may hold the sandbox
	// sandbox is the resolved sandbox setting (config.Deployment): true
	// for a test deployment, false for a live one, whatever the database.
	sandbox bool
	svc     *payment.Service
	id      *identity.Service
	keys    *idempotency.Keys // the API's Idempotency-Keys
	secret  []byte            // the server secret, which also keys the hosted page's CSRF tokens
}

// openStore opens the configured database. SQLite is migrated on open, so
// the embedded default needs no setup; PostgreSQL must already be migrated
// to exactly this build's schema (`thaili migrate`), and is opened with
// at most db.MaxConns connections.
func (e env) openStore(db config.Database) (store.Store, string, error) {
	if db.Postgres() {
		d, err := postgres.Open(e.ctx, db.URL, postgres.MaxConns(db.MaxConns))
		if err != nil {
			return nil, "", err
		}
		if err := d.CheckSchema(e.ctx); err != nil {
			d.Close()
			return nil, "", err
		}
		return d, "", nil
	}
	path, err := db.SQLitePath()
	if err != nil {
		return nil, "", exitError{code: 2, msg: err.Error()}
	}
	d, err := sqlite.Open(path)
	if err != nil {
		return nil, "", err
	}
	if _, err := d.Migrate(e.ctx); err != nil {
		d.Close()
		return nil, "", err
	}
	return d, path, nil
}

// serveGCPercent is the garbage collector's target for a node (Go's
// default is 100): the collector then runs a quarter as often, for a heap
// that may grow to five times the live data instead of twice. A node's
// live heap is small (1-2 MiB under bench/compare.sh), so at 100 the
// collector ran at Go's 4 MiB floor about five times a second; at 400
// the floor is 16 MiB. That cost 10-12 MiB of peak RSS, saved 8-18 % of
// the server's CPU per payment, and raised payments/s by 16-27 % on
// SQLite and up to 8 % on PostgreSQL in paired runs (NOTES.md, "Speed").
const serveGCPercent = 400

// tuneGC gives a node serveGCPercent unless the operator set GOGC, which
// the runtime has applied already (GOMEMLIMIT, if set, still caps the
// heap either way).
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
}

// open opens the database and the services for a command other than
// serve: its deployment (sandbox, hash costs) comes from the environment
// and the kind of database, since these commands have no --sandbox flag,
// and it logs warnings and errors only, to stderr.
func (e env) open(db config.Database) (*app, error) {
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rules := payment.DefaultConfig()
	if err := db.Validate(); err != nil {
		return nil, exitError{code: 2, msg: err.Error()}
	}
	d, err := config.ReadDeployment(config.Getenv(e.getenv), db)
	if err != nil {
		return nil, exitError{code: 2, msg: err.Error()}
	}
	if err := e.useDatabase(db, false); err != nil {
		return nil, err
	}
	return e.openDeployment(db, d, rules, log)
}

// useDatabase writes to stderr which database the command uses (its
// SQLite file by absolute path, since the default ./thaili.db depends on
// the working directory; a PostgreSQL URL without its password). Only
// serve and migrate may create a database: for every other command
// (create false) a SQLite file that is not there is an error naming it
// and the ways out, since opening it would silently make a new, empty
// database beside the one the operator meant.
func (e env) useDatabase(db config.Database, create bool) error {
	if db.Postgres() {
		fmt.Fprintf(e.stderr, "thaili: database %s (PostgreSQL)\n", redact(db.URL))
		return nil
	}
	path, err := db.SQLitePath()
	if err != nil {
		return exitError{code: 2, msg: err.Error()}
	}
	abs := describeSQLite(db)
	_, statErr := os.Stat(path)
	missing := errors.Is(statErr, os.ErrNotExist)
	switch {
	case missing && create:
		fmt.Fprintf(e.stderr, "thaili: database %s (SQLite, new: creating it)\n", abs)
	case missing:
		return exitError{code: 1, msg: fmt.Sprintf("no database at %s: \"thaili %s\" uses an existing database and does not create one. "+
			"Name the server's database with --database-url or THAILI_DATABASE_URL (the default ./thaili.db is relative to "+
			"the current directory), or create this one first with \"thaili migrate\" (or \"thaili serve\", which also seeds the sandbox)",
			abs, e.command)}
	default:
		fmt.Fprintf(e.stderr, "thaili: database %s (SQLite)\n", abs)
	}
	return nil
}

// openDeployment opens the validated database db and the services with
// the validated deployment d. extra, when given, sets the collaborators
// only the server needs (how codes are sent, the guess limits); the
// payment service sends its codes the way identity does.
func (e env) openDeployment(db config.Database, d config.Deployment, rules payment.Config, log *slog.Logger, extra ...func(*identity.Deps)) (*app, error) {
	path, _ := db.SQLitePath()
	secret, err := config.ServerSecret(config.Getenv(e.getenv), path)
	if err != nil {
		return nil, exitError{code: 2, msg: err.Error()}
	}
	st, _, err := e.openStore(db)
	if err != nil {
		return nil, err
	}
	who := identity.Deps{Store: st, Config: identity.DefaultConfig(), Now: time.Now, Rand: rand.Reader, Secret: secret, Log: log}
	who.Config.PasswordCost = d.PasswordCost
	if e.getenv("THAILI_MPIN_ITERATIONS") != "" {
		fmt.Fprintln(e.stderr, "thaili: THAILI_MPIN_ITERATIONS is ignored: MPINs are keyed hashes under the server secret, which need no rounds (docs/identity.md, The MPIN hash)")
	}
	for _, f := range extra {
		f(&who)
	}
	id, err := identity.New(who)
	if err != nil {
		st.Close()
		return nil, err
	}
	svc, err := payment.New(payment.Deps{Store: st, Config: rules, Now: time.Now, Rand: rand.Reader, Secret: secret, Log: log,
		Notifier: who.Notifier, Identity: id})
	if err != nil {
		st.Close()
		return nil, err
	}
	ring, err := keyring.New(secret, rand.Reader)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &app{store: st, sqlite: !db.Postgres(), sandbox: d.Sandbox, svc: svc, id: id, keys: idempotency.NewKeys(st, time.Now, ring),
		secret: secret}, nil
}

// printSandbox seeds the sandbox and prints its credentials.
func (e env) printSandbox(svc *payment.Service) error {
	sb, err := svc.Seed(e.ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Sandbox merchant %q (%s), KYC approved\n", sb.Merchant.Name, sb.Merchant.Email)
	fmt.Fprintf(e.stdout, "  test public key: %s\n  test secret key: %s\n", sb.Keys.Public, sb.Keys.Secret)
	fmt.Fprintf(e.stdout, "Sandbox payers %s to %s: MPIN %s, OTP %s\n",
		payment.SandboxPayers[0], payment.SandboxPayers[len(payment.SandboxPayers)-1], payment.SandboxMPIN, svc.Config().TestOTP)
	fmt.Fprintln(e.stdout, "Scenario payers 9800000010 (pending, then completed), 9800000011 (fails), 9800000012 (no balance), 9800000013 (locked): see README")
	return nil
}

// bannerPage is a page the start-up banner names.
type bannerPage struct {
	label, path string
}

// printBanner writes, once serve is ready, the full URL of every page a
// person opens first (at --public-url, which is where links point), and
// how to make an operator account in this very database.
func (e env) printBanner(cfg config.Serve, a *app) {
	base := strings.TrimRight(cfg.PublicURL, "/")
	pages := []bannerPage{{"Home", "/"}}
	if cfg.Sandbox && a.sqlite { // as buildHandler mounts the demo shop
		pages = append(pages, bannerPage{"Demo shop", "/demo/"})
	}
	pages = append(pages,
		bannerPage{"API reference", "/docs/"},
		bannerPage{"OpenAPI document", "/openapi.json"},
		bannerPage{"Merchant sign-up", "/join/merchant/"},
		bannerPage{"Merchant log-in", "/login/"},
		bannerPage{"Wallet sign-up", "/join/"},
		bannerPage{"Wallet log-in", "/me/login/"},
		bannerPage{"Operator console", "/admin/"},
	)
	if cfg.Sandbox {
		pages = append(pages, bannerPage{"Sandbox inbox", "/sandbox/inbox/"})
	}
	fmt.Fprintf(e.stdout, "\nThaili %s is running at %s/\n", version, base)
	for _, p := range pages {
		fmt.Fprintf(e.stdout, "  %-18s %s%s\n", p.label, base, p.path)
	}
	db := "--database-url " + shellQuote(describeSQLite(cfg.Database))
	if !a.sqlite {
		db = "(with this server's THAILI_DATABASE_URL)"
	}
	fmt.Fprintf(e.stdout, "Operator accounts for the console: thaili admin create %s --email EMAIL --password PASSWORD\n", db)
	if cfg.Sandbox {
		fmt.Fprintln(e.stdout, "Codes sent to phones (sign-up, MPIN reset, live payments) are written to this server's log: the sandbox has no SMS gateway. A browser sees the codes it asked for (not MPIN resets) in the sandbox inbox")
	}
}

// describeSQLite is the absolute path of a SQLite database, or its URL
// as given if that cannot be had.
func describeSQLite(db config.Database) string {
	path, err := db.SQLitePath()
	if err != nil {
		return db.URL
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// shellQuote quotes s for a POSIX shell when it holds anything but
// letters, digits and the path characters that need no quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func (e env) serve(args []string) error {
	fs := e.flags("serve")
	var cfg config.Serve
	config.AddServe(fs, config.Getenv(e.getenv), &cfg)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return exitError{code: 2, msg: err.Error()}
	}
	tuneGC(e.getenv)
	// The address is bound first: a busy port fails at once, before a
	// database is created, migrated or seeded.
	ln, err := listen(cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if err := e.useDatabase(cfg.Database, true); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	rules := payment.DefaultConfig()
	rules.NonKYCCap = money.Paisa(cfg.NonKYCCap)
	rules.SandboxPendingDelay = cfg.SandboxPendingDelay
	box, err := newInbox(cfg, log)
	if err != nil {
		return err
	}
	a, err := e.openDeployment(cfg.Database, cfg.Deployment, rules, log, func(d *identity.Deps) {
		// Without an SMS gateway codes go to the log; only the sandbox,
		// where the log is the developer's phone, writes the codes, and
		// shows them in its inbox too.
		d.Notifier = box.Notifier(notify.Log{Logger: log, ShowCodes: cfg.Sandbox})
		// Wrong MPINs and codes per client address and per merchant, in
		// this node's memory (--guess-limit, --key-guess-limit).
		if cfg.GuessBurst > 0 {
			d.AddressGuesses = ratelimit.New(cfg.GuessBurst, cfg.GuessPeriod, time.Now)
		}
		if cfg.KeyGuessBurst > 0 {
			d.KeyGuesses = ratelimit.New(cfg.KeyGuessBurst, cfg.KeyGuessPer, time.Now)
		}
	})
	if err != nil {
		return err
	}
	defer a.store.Close()
	// Redirect signing keys written in clear before they were sealed are
	// sealed now, before any request reads them (idempotent, and safe
	// while other nodes do the same).
	if n, err := a.id.SealRedirectKeys(e.ctx); err != nil {
		return fmt.Errorf("sealing redirect signing keys: %w", err)
	} else if n > 0 {
		log.Info("sealed redirect signing keys stored in clear", "count", n)
	}

	// The sandbox is seeded only into the embedded database; a PostgreSQL
	// deployment gets it only from an explicit `thaili sandbox seed`.
	if cfg.Sandbox && a.sqlite {
		if err := e.printSandbox(a.svc); err != nil {
			return err
		}
	}

	hooks, err := newWebhooks(a, cfg, log)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	if cfg.PublicURL == "" {
		cfg.PublicURL = base
	}
	handler, err := buildHandler(a, hooks, box, cfg, log)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	e.printBanner(cfg, a)
	log.Info("listening on " + base)
	return serveUntilDone(e.ctx, srv, ln, log,
		func(ctx context.Context) {
			runMaintenance(ctx, cfg.SweepInterval, log,
				maintenance{"swept overdue payments", a.svc.Sweep},
				maintenance{"purged old idempotency keys", a.keys.Purge},
				maintenance{"expired unconfirmed sign-ups", a.id.ExpireSignUps},
				maintenance{"purged old codes, notices and wrong-MPIN counts", func(ctx context.Context) (int, error) {
					return 0, a.id.PurgeIdentityRecords(ctx)
				}})
		},
		func(ctx context.Context) { hooks.Run(ctx, cfg.WebhookInterval) })
}

// listen binds serve's address. A busy one is the common mistake (a
// second server, or the first one still running), so it gets a message
// of its own.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, exitError{code: 1, msg: fmt.Sprintf("--addr %s: %s is already in use (another thaili serve, or another program, "+
			"listens there): stop it, or choose another address with --addr or THAILI_ADDR", addr, addr)}
	case err != nil:
		return nil, exitError{code: 1, msg: fmt.Sprintf("--addr %s: cannot listen: %v", addr, err)}
	}
	return ln, nil
}

// newWebhooks is the webhook service of a node: endpoints and their
// delivery, on the same store and server secret as the payments whose
// events they send.
func newWebhooks(a *app, cfg config.Serve, log *slog.Logger) (*webhook.Service, error) {
	ring, err := keyring.New(a.secret, rand.Reader)
	if err != nil {
		return nil, err
	}
	rules := webhook.DefaultConfig()
	rules.AllowPrivate, rules.Backoff = cfg.WebhooksAllowPrivate, cfg.WebhookBackoff
	return webhook.New(webhook.Deps{Store: a.store, Config: rules, Now: time.Now, IDs: ids.Generator{Rand: rand.Reader},
		Ring: ring, Log: log})
}

// buildHandler builds every part of a node's HTTP surface and composes
// them into its one handler (internal/httpserver).
func buildHandler(a *app, hooks *webhook.Service, box *inbox.Inbox, cfg config.Serve, log *slog.Logger) (http.Handler, error) {
	front, err := homePage(a, cfg, box, log)
	if err != nil {
		return nil, err
	}
	pages, err := web.New(web.Options{Service: a.svc, Identity: a.id, Log: log, Key: a.secret, SignRedirects: cfg.SignRedirects, PublicURL: cfg.PublicURL,
		Home: front, Sandbox: cfg.Sandbox && a.sqlite}) // the test payers exist where serve seeds them
	if err != nil {
		return nil, err
	}
	kpg, err := widget.New()
	if err != nil {
		return nil, err
	}
	var shop http.Handler // the demo shop, only beside the sandbox seeded at start
	if cfg.Sandbox && a.sqlite {
		if shop, err = demo.New(demo.Options{Service: a.svc, Identity: a.id, Log: log, PublicURL: cfg.PublicURL}); err != nil {
			return nil, err
		}
	}
	merchants, err := dashboard.New(dashboard.Options{Service: a.svc, Identity: a.id, Log: log, PublicURL: cfg.PublicURL, Webhooks: hooks,
		Sandbox: cfg.Sandbox})
	if err != nil {
		return nil, err
	}
	consumers, err := wallet.New(wallet.Options{Service: a.svc, Identity: a.id, Log: log, PublicURL: cfg.PublicURL})
	if err != nil {
		return nil, err
	}
	operators, err := console.New(console.Options{Service: a.svc, Identity: a.id, Log: log, PublicURL: cfg.PublicURL})
	if err != nil {
		return nil, err
	}
	// The sign-in-like form posts are limited per client address, in this
	// node's memory (--signin-limit; burst 0 is off).
	var signinLimit *ratelimit.Limiter
	if cfg.SigninBurst > 0 {
		signinLimit = ratelimit.New(cfg.SigninBurst, cfg.SigninPeriod, time.Now)
	}
	return httpserver.New(httpserver.Options{
		API:     api.New(api.Options{Service: a.svc, Identity: a.id, Idempotency: a.keys, Webhooks: hooks, Log: log, PublicURL: cfg.PublicURL}),
		Service: a.svc, Log: log, PublicURL: cfg.PublicURL, IDs: ids.Generator{Rand: rand.Reader}, Pages: pages,
		Widget: kpg, Demo: shop, Dashboard: merchants, Wallet: consumers, Console: operators, Inbox: box, Ready: readiness(a.store),
		SigninLimit: signinLimit, ClientAddr: httpserver.ClientAddress(cfg.ClientIPHeader), CommitStats: commitStats(a.store)}), nil
}

// commitStats is the store's group-commit counters for /metrics, or nil
// for a store without group commit.
func commitStats(s store.Store) func() store.CommitStats {
	if c, ok := s.(store.CommitCounter); ok {
		return c.CommitStats
	}
	return nil
}

// serveUntilDone serves srv on ln, with each background job running
// beside it, until srv fails or ctx is done; then it shuts srv down
// (waiting up to 15 s for requests in flight) and waits for the jobs,
// whose context it cancels, to return.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, log *slog.Logger, background ...func(context.Context)) error {
	jobsCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	var jobs sync.WaitGroup
	for _, job := range background {
		jobs.Go(func() { job(jobsCtx) })
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	var err error
	select {
	case err = <-served:
	case <-ctx.Done():
		log.Info("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		err = srv.Shutdown(shutdownCtx)
		cancel()
	}
	stopJobs()
	jobs.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// maintenance is one job of serve's background loop.
type maintenance struct {
	what string // what it did, for the log
	run  func(context.Context) (int, error)
}

// runMaintenance runs every job now and then every interval until ctx is
// done, logging failures, and how much a job did when it did anything.
// Every job is safe to run on several nodes at once.
func runMaintenance(ctx context.Context, interval time.Duration, log *slog.Logger, jobs ...maintenance) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for _, j := range jobs {
			n, err := j.run(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				log.ErrorContext(ctx, "maintenance failed", "job", j.what, "err", err)
			case n > 0:
				log.InfoContext(ctx, j.what, "count", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (e env) migrate(args []string) error {
	fs := e.flags("migrate")
	var db config.Database
	config.AddDatabase(fs, config.Getenv(e.getenv), &db)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := db.Validate(); err != nil {
		return exitError{code: 2, msg: err.Error()}
	}
	if err := e.useDatabase(db, true); err != nil {
		return err
	}
	var n int
	var where string // the database, for the message; a PostgreSQL password is redacted
	if db.Postgres() {
		d, err := postgres.Open(e.ctx, db.URL, postgres.MaxConns(db.MaxConns))
		if err != nil {
			return err
		}
		defer d.Close()
		if n, err = d.Migrate(e.ctx); err != nil {
			return err
		}
		where = redact(db.URL)
	} else {
		path, _ := db.SQLitePath()
		d, err := sqlite.Open(path)
		if err != nil {
			return err
		}
		defer d.Close()
		if n, err = d.Migrate(e.ctx); err != nil {
			return err
		}
		if where, err = filepath.Abs(path); err != nil {
			where = path
		}
	}
	fmt.Fprintf(e.stdout, "applied %d migration(s) to %s\n", n, where)
	return nil
}

// redact is a PostgreSQL URL without its password, for messages: the
// password is dropped from the user info and from the query, where
// libpq's password and sslpassword parameters may carry one.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the PostgreSQL database (its URL does not parse)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	if q := u.Query(); q.Has("password") || q.Has("sslpassword") {
		q.Del("password")
		q.Del("sslpassword")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// actor is who the command line's operator actions are audited as: the
// OS user the environment names ($USER, else $LOGNAME), as it claims.
func (e env) actor() identity.Actor {
	user := e.getenv("USER")
	if user == "" {
		user = e.getenv("LOGNAME")
	}
	return identity.CommandLine(user)
}

// cliError turns a service error into a one-line message.
func cliError(err error) error {
	e := fault.AsError(err)
	if e.Kind == fault.KindInternal {
		return err
	}
	var parts []string
	for f, msgs := range e.Fields {
		parts = append(parts, "--"+f+": "+strings.Join(msgs, " "))
	}
	sort.Strings(parts)
	if e.Detail != "" {
		parts = append(parts, e.Detail)
	}
	return exitError{code: 1, msg: strings.Join(parts, "; ")}
}

// readiness is the /readyz check: the database answers and its schema is
// exactly this build's (both stores implement CheckSchema).
func readiness(st store.Store) func(context.Context) error {
	c, ok := st.(interface{ CheckSchema(context.Context) error })
	if !ok {
		return nil
	}
	return c.CheckSchema
}
