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
	"sort"
	"strings"
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
	"github.com/thaili/thaili/internal/keyring"
	"github.com/thaili/thaili/internal/ledger"
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
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "thaili:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitError carries a specific exit status.
type exitError struct {
	code int
	msg  string
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

const usage = `thaili: a self-hosted, Khalti-compatible wallet payment gateway

Usage:
  thaili serve              run the HTTP server (SQLite sandbox by default)
  thaili migrate            apply database migrations
  thaili merchant create    create a merchant and print its test keys
  thaili merchant show      show a merchant, its keys and balances
  thaili kyc approve        approve (or set) a merchant's KYC state
  thaili consumer create    create a wallet holder
  thaili consumer topup     credit a wallet from platform funding
  thaili consumer reset-mpin  set a new MPIN and unlock the wallet
  thaili keys rotate        revoke a merchant's keys in one book and issue new ones
  thaili bank add           add a bank to the bank list (empty by default)
  thaili bank list          show the bank list
  thaili ledger check       verify every ledger invariant
  thaili sandbox seed       add the demo merchant and test payers (automatic on SQLite)
  thaili admin create       create an operator of the console at /admin/
  thaili bench              load-test a running server with concurrent legacy payments
  thaili version            print the version

Run "thaili <command> -h" for a command's flags.
`

// run is the whole program, with its environment passed in so tests can
// drive it in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return exitError{2, "no command given"}
	}
	cmd, rest := args[1], args[2:]
	e := env{ctx: ctx, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	switch cmd {
	case "serve":
		return e.serve(rest)
	case "migrate":
		return e.migrate(rest)
	case "bench":
		return e.bench(rest)
	case "admin":
		return e.operatorAdmin(rest)
	case "merchant", "consumer", "kyc", "keys", "ledger", "sandbox", "bank":
		if len(rest) == 0 {
			fmt.Fprint(stderr, usage)
			return exitError{2, fmt.Sprintf("%s: missing subcommand", cmd)}
		}
		if cmd == "bank" {
			return e.bank(rest[0], rest[1:])
		}
		return e.admin(cmd+" "+rest[0], rest[1:])
	case "version", "--version":
		fmt.Fprintln(stdout, "thaili", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return exitError{2, fmt.Sprintf("unknown command %q", cmd)}
}

// env is what every command works with.
type env struct {
	ctx            context.Context
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
}

func (e env) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("thaili "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return exitError{2, err.Error()}
	}
	if fs.NArg() > 0 {
		return exitError{2, fmt.Sprintf("unexpected arguments: %s", strings.Join(fs.Args(), " "))}
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
		return nil, "", exitError{2, err.Error()}
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

// open opens the database and the service for a command other than
// serve: its deployment (sandbox, hash costs) comes from the environment
// and the kind of database, since these commands have no --sandbox flag.
func (e env) open(db config.Database, rules payment.Config, log *slog.Logger) (*app, error) {
	if err := db.Validate(); err != nil {
		return nil, exitError{2, err.Error()}
	}
	d, err := config.ReadDeployment(config.Getenv(e.getenv), db)
	if err != nil {
		return nil, exitError{2, err.Error()}
	}
	return e.openDeployment(db, d, rules, log)
}

// openDeployment opens the validated database db and the services with
// the validated deployment d. extra, when given, sets the collaborators
// only the server needs (how codes are sent, the guess limits); the
// payment service sends its codes the way identity does.
func (e env) openDeployment(db config.Database, d config.Deployment, rules payment.Config, log *slog.Logger, extra ...func(*identity.Deps)) (*app, error) {
	path, _ := db.SQLitePath()
	secret, err := config.ServerSecret(config.Getenv(e.getenv), path)
	if err != nil {
		return nil, exitError{2, err.Error()}
	}
	st, _, err := e.openStore(db)
	if err != nil {
		return nil, err
	}
	who := identity.Deps{Store: st, Config: identity.DefaultConfig(), Now: time.Now, Rand: rand.Reader, Secret: secret, Log: log}
	who.Config.PasswordCost, who.Config.MPINIterations = d.PasswordCost, d.MPINIterations
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
	fmt.Fprintln(e.stdout, "Demo shop at /demo/, API reference at /docs/")
	fmt.Fprintln(e.stdout, "Sign up: merchants at /join/merchant/, wallets at /join/; operator console at /admin/ (thaili admin create)")
	fmt.Fprintln(e.stdout, "Codes sent to phones (sign-up, MPIN reset, live payments) are written to this server's log: the sandbox has no SMS gateway")
	return nil
}

func (e env) serve(args []string) error {
	fs := e.flags("serve")
	var cfg config.Serve
	config.AddServe(fs, config.Getenv(e.getenv), &cfg)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return exitError{2, err.Error()}
	}
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	rules := payment.DefaultConfig()
	rules.NonKYCCap = money.Paisa(cfg.NonKYCCap)
	rules.SandboxPendingDelay = cfg.SandboxPendingDelay
	a, err := e.openDeployment(cfg.Database, cfg.Deployment, rules, log, func(d *identity.Deps) {
		// Without an SMS gateway codes go to the log; only the sandbox,
		// where the log is the developer's phone, writes the codes.
		d.Notifier = notify.Log{Logger: log, ShowCodes: cfg.Sandbox}
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

	// Webhook endpoints and their delivery, on the same store and server
	// secret as the payments whose events they send.
	ring, err := keyring.New(a.secret, rand.Reader)
	if err != nil {
		return err
	}
	hookRules := webhook.DefaultConfig()
	hookRules.AllowPrivate, hookRules.Backoff = cfg.WebhooksAllowPrivate, cfg.WebhookBackoff
	hooks, err := webhook.New(webhook.Deps{Store: a.store, Config: hookRules, Now: time.Now, IDs: ids.Generator{Rand: rand.Reader},
		Ring: ring, Log: log})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	if cfg.PublicURL == "" {
		cfg.PublicURL = base
	}
	pages, err := web.New(web.Options{Service: a.svc, Identity: a.id, Log: log, Key: a.secret, SignRedirects: cfg.SignRedirects, PublicURL: cfg.PublicURL})
	if err != nil {
		ln.Close()
		return err
	}
	kpg, err := widget.New()
	if err != nil {
		ln.Close()
		return err
	}
	var shop http.Handler // the demo shop, only beside the sandbox seeded above
	if cfg.Sandbox && a.sqlite {
		if shop, err = demo.New(demo.Options{Service: a.svc, Identity: a.id, Log: log, PublicURL: cfg.PublicURL}); err != nil {
			ln.Close()
			return err
		}
	}
	merchants, err := dashboard.New(dashboard.Options{Service: a.svc, Identity: a.id, Log: log, PublicURL: cfg.PublicURL, Webhooks: hooks})
	if err != nil {
		ln.Close()
		return err
	}
	consumers, err := wallet.New(wallet.Options{Service: a.svc, Identity: a.id, Log: log, PublicURL: cfg.PublicURL})
	if err != nil {
		ln.Close()
		return err
	}
	operators, err := console.New(console.Options{Service: a.svc, Identity: a.id, Log: log, PublicURL: cfg.PublicURL})
	if err != nil {
		ln.Close()
		return err
	}
	// The sign-in-like form posts are limited per client address, in this
	// node's memory (--signin-limit; burst 0 is off).
	var signinLimit *ratelimit.Limiter
	if cfg.SigninBurst > 0 {
		signinLimit = ratelimit.New(cfg.SigninBurst, cfg.SigninPeriod, time.Now)
	}
	handler := httpserver.New(httpserver.Options{
		API:     api.New(api.Options{Service: a.svc, Identity: a.id, Idempotency: a.keys, Webhooks: hooks, Log: log, PublicURL: cfg.PublicURL}),
		Service: a.svc, Log: log, PublicURL: cfg.PublicURL, IDs: ids.Generator{Rand: rand.Reader}, Pages: pages,
		Widget: kpg, Demo: shop, Dashboard: merchants, Wallet: consumers, Console: operators, Ready: readiness(a.store),
		SigninLimit: signinLimit, ClientAddr: httpserver.ClientAddress(cfg.ClientIPHeader)})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	sweepCtx, stopSweep := context.WithCancel(context.WithoutCancel(e.ctx))
	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		runMaintenance(sweepCtx, cfg.SweepInterval, log,
			maintenance{"swept overdue payments", a.svc.Sweep},
			maintenance{"purged old idempotency keys", a.keys.Purge},
			maintenance{"expired unconfirmed sign-ups", a.id.ExpireSignUps},
			maintenance{"purged old codes, notices and wrong-MPIN counts", func(ctx context.Context) (int, error) {
				return 0, a.id.PurgeIdentityRecords(ctx)
			}})
	}()
	hooksDone := make(chan struct{})
	go func() {
		defer close(hooksDone)
		hooks.Run(sweepCtx, cfg.WebhookInterval)
	}()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("listening on " + base)

	select {
	case err = <-served:
	case <-e.ctx.Done():
		log.Info("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), 15*time.Second)
		err = srv.Shutdown(shutdownCtx)
		cancel()
	}
	stopSweep()
	<-sweepDone
	<-hooksDone
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
		return exitError{2, err.Error()}
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
		where = path
	}
	fmt.Fprintf(e.stdout, "applied %d migration(s) to %s\n", n, where)
	return nil
}

// redact hides a password in a database URL.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the database"
	}
	return u.Redacted()
}

// admin runs the operator subcommands.
func (e env) admin(name string, args []string) error {
	fs := e.flags(name)
	var db config.Database
	config.AddDatabase(fs, config.Getenv(e.getenv), &db)
	var (
		merchantRef = new(string)
		nameFlag    = new(string)
		email       = new(string)
		mobile      = new(string)
		mpin        = new(string)
		kyc         = new(string)
		book        = new(string)
		amount      = new(string)
		reason      = new(string)
	)
	switch name {
	case "merchant create":
		fs.StringVar(nameFlag, "name", "", "business name (required)")
		fs.StringVar(email, "email", "", "login email (required)")
		fs.StringVar(mobile, "mobile", "", "the owner's own wallet mobile, which may not pay this merchant")
		fs.StringVar(kyc, "kyc", "none", "KYC state: none, submitted, approved or rejected")
	case "merchant show":
		fs.StringVar(merchantRef, "merchant", "", "merchant idx or email (required)")
	case "kyc approve":
		fs.StringVar(merchantRef, "merchant", "", "merchant idx or email (required)")
		fs.StringVar(kyc, "state", "approved", "KYC state to set")
		fs.StringVar(reason, "reason", "", "why (required with --state rejected; the merchant sees it)")
	case "consumer create":
		fs.StringVar(mobile, "mobile", "", "10-digit mobile, e.g. 9812345678 (required)")
		fs.StringVar(nameFlag, "name", "", "full name (required)")
		fs.StringVar(mpin, "mpin", "", "4-digit MPIN (required)")
	case "consumer topup":
		fs.StringVar(mobile, "mobile", "", "wallet mobile (required)")
		fs.StringVar(amount, "amount", "", "amount in paisa (required)")
		fs.StringVar(book, "book", "test", "book: test or live")
	case "consumer reset-mpin":
		fs.StringVar(mobile, "mobile", "", "wallet mobile (required)")
		fs.StringVar(mpin, "mpin", "", "new 4-digit MPIN (required)")
	case "keys rotate":
		fs.StringVar(merchantRef, "merchant", "", "merchant idx or email (required)")
		fs.StringVar(book, "book", "test", "book: test or live")
	case "ledger check", "sandbox seed":
	default:
		fmt.Fprint(e.stderr, usage)
		return exitError{2, fmt.Sprintf("unknown command %q", name)}
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := e.open(db, payment.DefaultConfig(), log)
	if err != nil {
		return err
	}
	defer a.store.Close()
	ctx, out := e.ctx, e.stdout
	switch name {
	case "merchant create":
		m, kp, err := a.id.CreateMerchant(ctx, e.actor(), identity.NewMerchant{Name: *nameFlag, Email: *email, Mobile: *mobile, KYC: store.KYC(*kyc)})
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(out, "created merchant %s %q <%s>, KYC %s\n", m.Idx, m.Name, m.Email, m.KYC)
		fmt.Fprintf(out, "test public key: %s\ntest secret key: %s\n(the secret key is shown only now)\n", kp.Public, kp.Secret)
	case "merchant show":
		info, err := a.svc.ShowMerchant(ctx, e.actor(), *merchantRef)
		if err != nil {
			return cliError(err)
		}
		m := info.Merchant
		fmt.Fprintf(out, "merchant %s %q <%s>\nKYC: %s\ncreated: %s\n", m.Idx, m.Name, m.Email, m.KYC, m.CreatedAt.Format(time.RFC3339))
		live := false
		for _, k := range info.Keys {
			status := "active"
			if !k.Key.RevokedAt.IsZero() {
				status = "revoked " + k.Key.RevokedAt.Format(time.RFC3339)
			}
			shown := k.Key.Prefix
			if k.Secret != "" {
				shown = k.Secret + "  (shown once; store it now)"
			}
			live = live || (k.Key.Book == ledger.Live && k.Key.RevokedAt.IsZero())
			fmt.Fprintf(out, "%s %s key: %s [%s]\n", k.Key.Book, k.Key.Kind, shown, status)
		}
		if !live {
			fmt.Fprintln(out, "live keys: not yet issued (they are issued after the first completed test payment)")
		}
		fmt.Fprintf(out, "balance: test %d paisa, live %d paisa\n", info.Balances[ledger.Test], info.Balances[ledger.Live])
	case "kyc approve":
		m, err := a.id.SetKYC(ctx, e.actor(), *merchantRef, store.KYC(*kyc), *reason)
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(out, "merchant %s KYC is now %s\n", m.Idx, m.KYC)
	case "consumer create":
		c, err := a.id.CreateConsumer(ctx, e.actor(), *mobile, *nameFlag, *mpin)
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(out, "created wallet %s for %s (%s)\n", c.Idx, c.Mobile, c.Name)
	case "consumer topup":
		p, err := money.Parse(*amount)
		if err != nil {
			return exitError{2, "--amount: " + err.Error()}
		}
		bal, err := a.svc.Topup(ctx, e.actor(), *mobile, ledger.Book(*book), p)
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(out, "credited %d paisa to %s (%s book); balance %d paisa\n", p, *mobile, *book, bal)
	case "consumer reset-mpin":
		if err := a.id.ResetMPIN(ctx, e.actor(), *mobile, *mpin); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(out, "MPIN of %s reset; wallet unlocked\n", *mobile)
	case "keys rotate":
		kp, err := a.id.RotateKeys(ctx, e.actor(), *merchantRef, ledger.Book(*book))
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(out, "revoked the old %s keys\n%s public key: %s\n%s secret key: %s\n(the secret key is shown only now)\n",
			*book, *book, kp.Public, *book, kp.Secret)
	case "sandbox seed":
		return e.printSandbox(a.svc)
	case "ledger check":
		v, err := a.svc.CheckLedger(ctx)
		if err != nil {
			return err
		}
		if len(v) > 0 {
			for _, x := range v {
				fmt.Fprintln(out, x)
			}
			return exitError{1, fmt.Sprintf("ledger check failed: %d violation(s)", len(v))}
		}
		fmt.Fprintln(out, "ledger ok: every book sums to zero, balances match postings, no overdrafts, refunds within captures")
	}
	return nil
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
	return exitError{1, strings.Join(parts, "; ")}
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
