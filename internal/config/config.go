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
	"strconv"
	"strings"
	"time"
)

// Serve is the configuration of `thaili serve`.
type Serve struct {
	Database
	Addr          string
	PublicURL     string
	Sandbox       bool
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
}

// Database says which database to use.
type Database struct {
	URL string
}

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

// AddDatabase registers --database-url (THAILI_DATABASE_URL).
func AddDatabase(fs *flag.FlagSet, getenv Getenv, d *Database) {
	fs.StringVar(&d.URL, "database-url", envOr(getenv, "THAILI_DATABASE_URL", "./thaili.db"),
		"database: a SQLite file path, sqlite:PATH or postgres://... (env THAILI_DATABASE_URL)")
}

// AddServe registers the serve flags.
func AddServe(fs *flag.FlagSet, getenv Getenv, s *Serve) {
	AddDatabase(fs, getenv, &s.Database)
	fs.StringVar(&s.Addr, "addr", envOr(getenv, "THAILI_ADDR", "127.0.0.1:8000"), "listen address (env THAILI_ADDR)")
	fs.StringVar(&s.PublicURL, "public-url", getenv("THAILI_PUBLIC_URL"), "base URL for links; default http://<addr> (env THAILI_PUBLIC_URL)")
	sandbox, _ := strconv.ParseBool(envOr(getenv, "THAILI_SANDBOX", "true"))
	fs.BoolVar(&s.Sandbox, "sandbox", sandbox, "seed the demo merchant and test payers into a SQLite database (env THAILI_SANDBOX)")
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
	sign, _ := strconv.ParseBool(envOr(getenv, "THAILI_SIGN_REDIRECTS", "false"))
	fs.BoolVar(&s.SignRedirects, "sign-redirects", sign,
		"add signature and signed_field_names to the hosted page's redirects to return_url (env THAILI_SIGN_REDIRECTS)")
}

// Validate checks a parsed serve configuration and fills defaults.
func (s *Serve) Validate() error {
	if err := s.Database.Validate(); err != nil {
		return err
	}
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
	if s.PublicURL != "" {
		u, err := url.Parse(s.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--public-url %q: must be an absolute http or https URL", s.PublicURL)
		}
	}
	return nil
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
