// Package config reads Thaili's settings from flags and their environment
// twins (the flag wins) and validates them before anything starts.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Serve is the configuration of `thaili serve`.
type Serve struct {
	Database
	// Deployment is resolved by Validate: --sandbox wins over
	// THAILI_SANDBOX, and the hash costs come from the environment.
	Deployment
	Addr          string
	PublicURL     string
	NonKYCCap     int64
	SweepInterval time.Duration
	SignRedirects bool
	// SandboxPendingDelay is how long the pending scenario payer's test
	// payments stay Pending before they complete.
	SandboxPendingDelay time.Duration
	// Webhooks: whether endpoints may be private addresses, how often
	// the worker looks for due deliveries, and the first retry's base
	// delay (doubled per attempt, at most 6 hours).
	WebhooksAllowPrivate bool
	WebhookInterval      time.Duration
	WebhookBackoff       time.Duration
	// SigninLimit is --signin-limit as given ("30/1m" or "off");
	// Validate parses it into SigninBurst and SigninPeriod, a zero
	// SigninBurst meaning off.
	SigninLimit  string
	SigninBurst  int
	SigninPeriod time.Duration
	// GuessLimit and KeyGuessLimit are --guess-limit and
	// --key-guess-limit as given: wrong MPINs and codes allowed per
	// client address, and through one merchant's public key (or hosted
	// page), on the payment API and the hosted page. Validate parses
	// them like SigninLimit.
	GuessLimit    string
	GuessBurst    int
	GuessPeriod   time.Duration
	KeyGuessLimit string
	KeyGuessBurst int
	KeyGuessPer   time.Duration
	// ClientIPHeader names the header a trusted reverse proxy puts the
	// client's address in; empty uses the connection's remote address.
	ClientIPHeader string
	// DatabaseMaxConns is --database-max-conns as given; Validate parses
	// it into Database.MaxConns.
	DatabaseMaxConns string

	sandboxFlag optionalBool // --sandbox, if given
	getenv      Getenv       // for the settings without a flag, read by Validate
}

// Database says which database to use, and how many connections to it
// the process may open.
type Database struct {
	URL string
	// MaxConns is the most PostgreSQL connections the process opens, both
	// pools together: CommandMaxConns for a one-off command (set by
	// AddDatabase), serve's --database-max-conns for a node. SQLite
	// ignores it.
	MaxConns int
}

// PostgreSQL connection limits. A default PostgreSQL server accepts 100
// connections and reserves 3 for superusers; nodes × the limit plus the
// commands' connections must fit in the rest (README, "PostgreSQL and
// several nodes").
const (
	// DefaultMaxConns is serve's default: four nodes (80) and a few
	// commands fit in a default server's 97.
	DefaultMaxConns = 20
	// MinMaxConns and MaxMaxConns bound --database-max-conns: two
	// connections each for writes and reads at least, and more than a
	// thousand from one node is a typo (PostgreSQL gains nothing from
	// more connections than it has cores to run them).
	MinMaxConns = 4
	MaxMaxConns = 1000
	// CommandMaxConns is the limit of every command but serve (migrate,
	// the operator commands, bench): they run their statements one at a
	// time and need only a couple.
	CommandMaxConns = 4
)

// Postgres reports whether the URL names a PostgreSQL database.
func (d Database) Postgres() bool {
	return strings.HasPrefix(d.URL, "postgres://") || strings.HasPrefix(d.URL, "postgresql://")
}

// SQLitePath returns the SQLite file path of the database URL, or an
// error if it is not a SQLite URL.
func (d Database) SQLitePath() (string, error) {
	u := d.URL
	switch {
	case u == "":
		return "", errors.New("--database-url is empty")
	case d.Postgres():
		return "", errors.New("not a SQLite database URL")
	case strings.HasPrefix(u, "sqlite://"):
		return strings.TrimPrefix(u, "sqlite://"), nil
	case strings.HasPrefix(u, "sqlite:"):
		return strings.TrimPrefix(u, "sqlite:"), nil
	case strings.Contains(u, "://"):
		return "", fmt.Errorf("unsupported database URL %q: use a file path, sqlite:PATH or postgres://", u)
	}
	return u, nil
}

// Getenv looks up an environment variable; run() passes os.Getenv or a
// test's map.
type Getenv func(string) string

// AddDatabase registers --database-url (THAILI_DATABASE_URL) and gives d
// the small connection limit of a one-off command (CommandMaxConns);
// serve's --database-max-conns replaces it.
func AddDatabase(fs *flag.FlagSet, getenv Getenv, d *Database) {
	d.MaxConns = CommandMaxConns
	fs.StringVar(&d.URL, "database-url", envOr(getenv, "THAILI_DATABASE_URL", "./thaili.db"),
		"database: a SQLite file path, sqlite:PATH or postgres://... (env THAILI_DATABASE_URL)")
}

// AddServe registers the serve flags.
func AddServe(fs *flag.FlagSet, getenv Getenv, s *Serve) {
	AddDatabase(fs, getenv, &s.Database)
	fs.StringVar(&s.Addr, "addr", envOr(getenv, "THAILI_ADDR", "127.0.0.1:8000"), "listen address (env THAILI_ADDR)")
	fs.StringVar(&s.PublicURL, "public-url", getenv("THAILI_PUBLIC_URL"), "base URL for links; default http://<addr> (env THAILI_PUBLIC_URL)")
	s.getenv = getenv
	fs.Var(&s.sandboxFlag, "sandbox", "run as a sandbox: seed the demo merchant and test payers into a SQLite database and allow "+
		"the test-only low THAILI_PASSWORD_COST; default true on SQLite, false on PostgreSQL (env THAILI_SANDBOX)")
	capDefault, _ := strconv.ParseInt(envOr(getenv, "THAILI_NON_KYC_CAP", "20000"), 10, 64)
	fs.Int64Var(&s.NonKYCCap, "non-kyc-cap", capDefault, "largest payment in paisa to a merchant without approved KYC (env THAILI_NON_KYC_CAP)")
	fs.DurationVar(&s.SweepInterval, "sweep-interval", 30*time.Second, "how often overdue payments are expired or released")
	delay, err := time.ParseDuration(envOr(getenv, "THAILI_SANDBOX_PENDING_DELAY", "30s"))
	if err != nil {
		delay = -1 // refused by Validate
	}
	fs.DurationVar(&s.SandboxPendingDelay, "sandbox-pending-delay", delay,
		"how long the sandbox's pending scenario payer (9800000010) leaves a test payment Pending (env THAILI_SANDBOX_PENDING_DELAY)")
	private, _ := strconv.ParseBool(envOr(getenv, "THAILI_WEBHOOKS_ALLOW_PRIVATE", "false"))
	fs.BoolVar(&s.WebhooksAllowPrivate, "webhooks-allow-private", private,
		"allow webhook endpoints on private, loopback and link-local addresses (env THAILI_WEBHOOKS_ALLOW_PRIVATE)")
	interval, err := time.ParseDuration(envOr(getenv, "THAILI_WEBHOOK_INTERVAL", "2s"))
	if err != nil {
		interval = -1 // refused by Validate
	}
	fs.DurationVar(&s.WebhookInterval, "webhook-interval", interval, "how often due webhook deliveries are sent (env THAILI_WEBHOOK_INTERVAL)")
	backoff, err := time.ParseDuration(envOr(getenv, "THAILI_WEBHOOK_BACKOFF", "30s"))
	if err != nil {
		backoff = -1 // refused by Validate
	}
	fs.DurationVar(&s.WebhookBackoff, "webhook-backoff", backoff,
		"base delay of webhook retries: attempt n waits min(base*2^n, 6h) (env THAILI_WEBHOOK_BACKOFF)")
	fs.StringVar(&s.SigninLimit, "signin-limit", envOr(getenv, "THAILI_SIGNIN_LIMIT", "30/1m"),
		"sign-in, sign-up and reset form posts allowed per client address: BURST/PERIOD, e.g. 30/1m (a burst of 30, refilled at 30 a minute), "+
			"or off; kept in memory per node (env THAILI_SIGNIN_LIMIT)")
	fs.StringVar(&s.GuessLimit, "guess-limit", envOr(getenv, "THAILI_GUESS_LIMIT", "20/10m"),
		"wrong MPINs and confirmation codes allowed per client address on the payment API and the hosted page: BURST/PERIOD, "+
			"or off; kept in memory per node (env THAILI_GUESS_LIMIT)")
	fs.StringVar(&s.KeyGuessLimit, "key-guess-limit", envOr(getenv, "THAILI_KEY_GUESS_LIMIT", "120/1m"),
		"wrong MPINs and confirmation codes allowed through one merchant's public key or hosted page: BURST/PERIOD, "+
			"or off; kept in memory per node (env THAILI_KEY_GUESS_LIMIT)")
	fs.StringVar(&s.ClientIPHeader, "client-ip-header", getenv("THAILI_CLIENT_IP_HEADER"),
		"header holding the client address, set by a trusted reverse proxy (e.g. X-Real-IP or X-Forwarded-For: its last value is used); "+
			"empty uses the connection's address. Set it only behind a proxy that overwrites it, as clients can send any value (env THAILI_CLIENT_IP_HEADER)")
	fs.StringVar(&s.DatabaseMaxConns, "database-max-conns", envOr(getenv, "THAILI_DATABASE_MAX_CONNS", strconv.Itoa(DefaultMaxConns)),
		fmt.Sprintf("most PostgreSQL connections this node opens, writes and reads together (%d to %d); "+
			"nodes x this + a few for migrate and other commands must fit in the server's max_connections - superuser_reserved_connections; "+
			"no effect on SQLite (env THAILI_DATABASE_MAX_CONNS)", MinMaxConns, MaxMaxConns))
	sign, _ := strconv.ParseBool(envOr(getenv, "THAILI_SIGN_REDIRECTS", "false"))
	fs.BoolVar(&s.SignRedirects, "sign-redirects", sign,
		"add signature and signed_field_names to the hosted page's redirects to return_url (env THAILI_SIGN_REDIRECTS)")
}

// Validate checks a parsed serve configuration and fills defaults.
func (s *Serve) Validate() error {
	if err := s.Database.Validate(); err != nil {
		return err
	}
	getenv := s.getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	var flagSandbox *bool
	if s.sandboxFlag.set {
		flagSandbox = &s.sandboxFlag.value
	}
	d, err := resolveDeployment(getenv, s.Database, flagSandbox)
	if err != nil {
		return err
	}
	s.Deployment = d
	if _, _, err := net.SplitHostPort(s.Addr); err != nil {
		return fmt.Errorf("--addr %q: %v", s.Addr, err)
	}
	if s.NonKYCCap < 1000 {
		return fmt.Errorf("--non-kyc-cap %d: must be at least 1000 paisa", s.NonKYCCap)
	}
	if s.SweepInterval <= 0 {
		return fmt.Errorf("--sweep-interval must be positive")
	}
	if s.WebhookInterval <= 0 || s.WebhookBackoff <= 0 {
		return fmt.Errorf("--webhook-interval and --webhook-backoff must be positive durations such as 2s")
	}
	if s.SandboxPendingDelay < 0 {
		return fmt.Errorf("--sandbox-pending-delay (THAILI_SANDBOX_PENDING_DELAY) must be a duration such as 30s, not negative")
	}
	burst, period, err := ParseRate(s.SigninLimit)
	if err != nil {
		return fmt.Errorf("--signin-limit (THAILI_SIGNIN_LIMIT) %q: %v", s.SigninLimit, err)
	}
	s.SigninBurst, s.SigninPeriod = burst, period
	if s.GuessBurst, s.GuessPeriod, err = ParseRate(s.GuessLimit); err != nil {
		return fmt.Errorf("--guess-limit (THAILI_GUESS_LIMIT) %q: %v", s.GuessLimit, err)
	}
	if s.KeyGuessBurst, s.KeyGuessPer, err = ParseRate(s.KeyGuessLimit); err != nil {
		return fmt.Errorf("--key-guess-limit (THAILI_KEY_GUESS_LIMIT) %q: %v", s.KeyGuessLimit, err)
	}
	n, err := strconv.Atoi(s.DatabaseMaxConns)
	if err != nil || n < MinMaxConns || n > MaxMaxConns {
		return fmt.Errorf("--database-max-conns (THAILI_DATABASE_MAX_CONNS) %q: must be a whole number from %d to %d", s.DatabaseMaxConns, MinMaxConns, MaxMaxConns)
	}
	s.MaxConns = n
	if h := s.ClientIPHeader; h != "" && !headerName.MatchString(h) {
		return fmt.Errorf("--client-ip-header (THAILI_CLIENT_IP_HEADER) %q: must be a header name such as X-Real-IP or X-Forwarded-For", h)
	}
	if s.PublicURL != "" {
		u, err := url.Parse(s.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--public-url %q: must be an absolute http or https URL", s.PublicURL)
		}
	}
	return nil
}

// headerName is what --client-ip-header accepts: an HTTP header name of
// letters, digits, '-' and '_' (a typo such as "X-Real-IP:" would
// otherwise silently never match).
var headerName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ParseRate parses a rate limit written BURST/PERIOD, e.g. "30/1m": a
// burst of BURST, refilled at BURST per PERIOD (a Go duration; a bare
// unit such as "m" means 1m). "off" returns burst 0. BURST is 1 to
// 1 000 000 and PERIOD 1s to 24h, so a typo cannot make a limit that
// refuses nearly everything or never refills.
func ParseRate(v string) (burst int, period time.Duration, err error) {
	if strings.EqualFold(v, "off") {
		return 0, 0, nil
	}
	b, p, ok := strings.Cut(v, "/")
	if !ok {
		return 0, 0, errors.New(`must be BURST/PERIOD such as 30/1m, or "off"`)
	}
	burst, err = strconv.Atoi(b)
	if err != nil || burst < 1 || burst > 1_000_000 {
		return 0, 0, errors.New("BURST must be a whole number from 1 to 1000000, as in 30/1m")
	}
	if p != "" && (p[0] < '0' || p[0] > '9') {
		p = "1" + p
	}
	period, err = time.ParseDuration(p)
	if err != nil || period < time.Second || period > 24*time.Hour {
		return 0, 0, errors.New("PERIOD must be a duration from 1s to 24h, as in 30/1m")
	}
	return burst, period, nil
}

// Validate checks that the URL names a database Thaili can open.
func (d Database) Validate() error {
	if d.Postgres() {
		return nil
	}
	_, err := d.SQLitePath()
	return err
}

func envOr(getenv Getenv, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// ServerSecret returns the server secret: THAILI_SECRET if set (at least
// 32 characters); on PostgreSQL it is required, since every node must
// share it. On SQLite without it, the contents of a file beside the SQLite database,
// created with 32 random bytes on first use. Losing it invalidates every
// secret key and MPIN, so the file is created once and never rewritten.
func ServerSecret(getenv Getenv, sqlitePath string) ([]byte, error) {
	if v := getenv("THAILI_SECRET"); v != "" {
		if len(v) < 32 {
			return nil, errors.New("THAILI_SECRET must be at least 32 characters")
		}
		return []byte(v), nil
	}
	if sqlitePath == "" {
		return nil, errors.New("THAILI_SECRET is required with PostgreSQL (at least 32 characters, the same on every node)")
	}
	path := sqlitePath + ".secret"
	if b, err := os.ReadFile(path); err == nil {
		secret, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(secret) < 32 {
			return nil, fmt.Errorf("server secret file %s is damaged", path)
		}
		return secret, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return ServerSecret(getenv, sqlitePath) // another process won the race
	}
	if err != nil {
		return nil, fmt.Errorf("creating server secret: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(hex.EncodeToString(secret) + "\n"); err != nil {
		return nil, err
	}
	return secret, f.Sync()
}

// Deployment is what every command resolves before it opens the
// database: whether this is a sandbox, and the work of the password hash.
type Deployment struct {
	// Sandbox is on when --sandbox (serve only) or THAILI_SANDBOX says
	// so; when neither is given it is on for SQLite, the embedded
	// default, and off for PostgreSQL, so a PostgreSQL deployment is live
	// unless its operator asks for the sandbox.
	Sandbox bool
	// PasswordCost is the bcrypt cost of merchant and operator
	// passwords (THAILI_PASSWORD_COST).
	PasswordCost int
}

// The password hash cost of a live deployment: the default, and the least it
// accepts. Tests lower them to run fast, which only a sandbox allows.
const DefaultPasswordCost = 12

// ReadDeployment resolves the deployment of a command that has no
// --sandbox flag: the sandbox from THAILI_SANDBOX or else the kind of
// database, and the hash costs from the environment.
func ReadDeployment(getenv Getenv, db Database) (Deployment, error) {
	return resolveDeployment(getenv, db, nil)
}

// resolveDeployment is ReadDeployment with serve's --sandbox, nil when
// the flag was not given.
func resolveDeployment(getenv Getenv, db Database, flagSandbox *bool) (Deployment, error) {
	d := Deployment{Sandbox: !db.Postgres()}
	switch v := getenv("THAILI_SANDBOX"); {
	case flagSandbox != nil:
		d.Sandbox = *flagSandbox
	case v != "":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Deployment{}, fmt.Errorf("THAILI_SANDBOX %q: must be true or false", v)
		}
		d.Sandbox = b
	}
	var err error
	if d.PasswordCost, err = passwordCost.read(getenv, d.Sandbox); err != nil {
		return Deployment{}, err
	}
	return d, nil
}

// workFactor is an environment variable setting a slow hash's work: a
// whole number from min to max, and at least the default unless the
// sandbox is on.
type workFactor struct {
	name          string
	def, min, max int
	limits        string // why min and max, for the message
}

var passwordCost = workFactor{"THAILI_PASSWORD_COST", DefaultPasswordCost, 4, 31, "bcrypt's range"}

func (w workFactor) read(getenv Getenv, sandbox bool) (int, error) {
	v := getenv(w.name)
	if v == "" {
		return w.def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s %q: must be a whole number", w.name, v)
	}
	if n < w.min || n > w.max {
		return 0, fmt.Errorf("%s %d: must be from %d to %d (%s)", w.name, n, w.min, w.max, w.limits)
	}
	if n < w.def && !sandbox {
		return 0, fmt.Errorf("%s %d: a live deployment needs at least %d (the default); "+
			"lower values are for tests and are refused unless the sandbox is on (THAILI_SANDBOX=true, or serve --sandbox)", w.name, n, w.def)
	}
	return n, nil
}

// optionalBool is a boolean flag that remembers whether it was given, so
// that its default can depend on other settings.
type optionalBool struct{ set, value bool }

func (b *optionalBool) String() string   { return strconv.FormatBool(b != nil && b.value) }
func (b *optionalBool) IsBoolFlag() bool { return true }

func (b *optionalBool) Set(v string) error {
	x, err := strconv.ParseBool(v)
	if err != nil {
		return err
	}
	b.set, b.value = true, x
	return nil
}
