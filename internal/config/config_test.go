package config

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSQLitePath(t *testing.T) {
	tests := []struct {
		url, want string
		ok        bool
	}{
		{"./thaili.db", "./thaili.db", true},
		{"sqlite:/tmp/x.db", "/tmp/x.db", true},
		{"sqlite:///tmp/x.db", "/tmp/x.db", true},
		{"postgres://localhost/x", "", false}, // not SQLite: see Postgres()
		{"mysql://x", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := Database{URL: tt.url}.SQLitePath()
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("SQLitePath(%q) = %q, %v", tt.url, got, err)
		}
	}
}

func parseServe(t *testing.T, env map[string]string, args ...string) (Serve, error) {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var s Serve
	AddServe(fs, func(k string) string { return env[k] }, &s)
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	return s, s.Validate()
}

func TestServeFlagsAndEnv(t *testing.T) {
	s, err := parseServe(t, nil)
	if err != nil || s.Addr != "127.0.0.1:8000" || s.URL != "./thaili.db" || !s.Sandbox || s.NonKYCCap != 20000 {
		t.Fatalf("defaults: %+v %v", s, err)
	}
	env := map[string]string{"THAILI_ADDR": "0.0.0.0:9000", "THAILI_DATABASE_URL": "sqlite:/tmp/a.db", "THAILI_PUBLIC_URL": "https://pay.example.com", "THAILI_SANDBOX": "false"}
	s, err = parseServe(t, env)
	if err != nil || s.Addr != "0.0.0.0:9000" || s.URL != "sqlite:/tmp/a.db" || s.PublicURL != "https://pay.example.com" || s.Sandbox {
		t.Fatalf("env: %+v %v", s, err)
	}
	s, err = parseServe(t, env, "--addr", "127.0.0.1:1", "--sandbox=true")
	if err != nil || s.Addr != "127.0.0.1:1" || !s.Sandbox {
		t.Fatalf("flags must win over env: %+v %v", s, err)
	}
	for _, bad := range [][]string{{"--addr", "nope"}, {"--public-url", "ftp://x"}, {"--public-url", "/relative"}, {"--non-kyc-cap", "10"}, {"--sweep-interval", "0s"}} {
		if _, err := parseServe(t, nil, bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestServerSecret(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "x.db")
	none := func(string) string { return "" }
	a, err := ServerSecret(none, db)
	if err != nil || len(a) != 32 {
		t.Fatalf("first: %x %v", a, err)
	}
	b, err := ServerSecret(none, db)
	if err != nil || !bytes.Equal(a, b) {
		t.Fatalf("the secret changed between starts: %x %x %v", a, b, err)
	}
	if fi, err := os.Stat(db + ".secret"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", fi, err)
	}
	env := func(k string) string {
		if k == "THAILI_SECRET" {
			return strings.Repeat("s", 32)
		}
		return ""
	}
	if c, err := ServerSecret(env, db); err != nil || string(c) != strings.Repeat("s", 32) {
		t.Fatalf("THAILI_SECRET ignored: %v", err)
	}
	short := func(k string) string { return "short" }
	if _, err := ServerSecret(short, db); err == nil {
		t.Fatal("a short THAILI_SECRET was accepted")
	}
	os.WriteFile(db+".secret", []byte("zz"), 0o600)
	if _, err := ServerSecret(none, db); err == nil {
		t.Fatal("a damaged secret file was accepted")
	}
}

func TestSigninLimitFlags(t *testing.T) {
	s, err := parseServe(t, nil)
	if err != nil || s.SigninBurst != 30 || s.SigninPeriod != time.Minute || s.ClientIPHeader != "" {
		t.Fatalf("defaults: burst %d period %v header %q, %v", s.SigninBurst, s.SigninPeriod, s.ClientIPHeader, err)
	}
	s, err = parseServe(t, map[string]string{"THAILI_SIGNIN_LIMIT": "5/10s", "THAILI_CLIENT_IP_HEADER": "X-Real-IP"})
	if err != nil || s.SigninBurst != 5 || s.SigninPeriod != 10*time.Second || s.ClientIPHeader != "X-Real-IP" {
		t.Fatalf("env: %+v %v", s, err)
	}
	s, err = parseServe(t, map[string]string{"THAILI_SIGNIN_LIMIT": "5/10s"}, "--signin-limit", "off", "--client-ip-header", "X-Forwarded-For")
	if err != nil || s.SigninBurst != 0 || s.ClientIPHeader != "X-Forwarded-For" {
		t.Fatalf("flags must win over env, off disables: %+v %v", s, err)
	}
	for _, tt := range []struct {
		in     string
		burst  int
		period time.Duration
	}{{"30/1m", 30, time.Minute}, {"100/h", 100, time.Hour}, {"1/1s", 1, time.Second}, {"OFF", 0, 0}, {"1000000/24h", 1000000, 24 * time.Hour}} {
		b, p, err := ParseRate(tt.in)
		if err != nil || b != tt.burst || p != tt.period {
			t.Errorf("ParseRate(%q) = %d, %v, %v", tt.in, b, p, err)
		}
	}
	for _, bad := range []struct{ flag, value, msg string }{
		{"--signin-limit", "30", "BURST/PERIOD"},
		{"--signin-limit", "", "BURST/PERIOD"},
		{"--signin-limit", "0/1m", "BURST must be"},
		{"--signin-limit", "-1/1m", "BURST must be"},
		{"--signin-limit", "x/1m", "BURST must be"},
		{"--signin-limit", "30/", "PERIOD must be"},
		{"--signin-limit", "30/1 minute", "PERIOD must be"},
		{"--signin-limit", "30/100ms", "PERIOD must be"},
		{"--signin-limit", "30/48h", "PERIOD must be"},
		{"--guess-limit", "20", "BURST/PERIOD"},
		{"--guess-limit", "0/1m", "BURST must be"},
		{"--key-guess-limit", "10/100ms", "PERIOD must be"},
		{"--client-ip-header", "X-Real-IP:", "header name"},
		{"--client-ip-header", "X Real IP", "header name"},
	} {
		_, err := parseServe(t, nil, bad.flag, bad.value)
		if err == nil || !strings.Contains(err.Error(), bad.msg) || !strings.Contains(err.Error(), bad.flag) {
			t.Errorf("%s %q: error %v, want one naming the flag and saying %q", bad.flag, bad.value, err, bad.msg)
		}
	}
}

// TestDeployment covers the sandbox's default per database kind and the
// hash costs: whole numbers within their bounds, and at least the
// defaults unless the sandbox is on. Each case without flags runs both
// as `thaili serve` and as another command (ReadDeployment).
func TestDeployment(t *testing.T) {
	const pg, lite = "postgres://db.example/thaili", "./thaili.db"
	live := func(sandbox bool) Deployment {
		return Deployment{Sandbox: sandbox, PasswordCost: DefaultPasswordCost}
	}
	cheap := Deployment{Sandbox: true, PasswordCost: 4}
	cheapEnv := map[string]string{"THAILI_PASSWORD_COST": "4"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name  string
		url   string
		env   map[string]string
		flags []string // serve only
		want  Deployment
		err   string // a part of the error, if one is wanted
	}{
		// The sandbox: flag, else environment, else the kind of database.
		{name: "sqlite default", url: lite, want: live(true)},
		{name: "postgres default", url: pg, want: live(false)},
		{name: "postgres asks for the sandbox", url: pg, env: with(nil, "THAILI_SANDBOX", "true"), want: live(true)},
		{name: "sqlite without the sandbox", url: lite, env: with(nil, "THAILI_SANDBOX", "false"), want: live(false)},
		{name: "postgres --sandbox", url: pg, flags: []string{"--sandbox"}, want: live(true)},
		{name: "flag wins over env", url: pg, env: with(nil, "THAILI_SANDBOX", "true"), flags: []string{"--sandbox=false"}, want: live(false)},
		{name: "flag wins over env (sqlite)", url: lite, env: with(nil, "THAILI_SANDBOX", "false"), flags: []string{"--sandbox=true"}, want: live(true)},
		{name: "bad THAILI_SANDBOX", url: lite, env: with(nil, "THAILI_SANDBOX", "maybe"), err: `THAILI_SANDBOX "maybe": must be true or false`},

		// Not whole numbers.
		{name: "cost not a number", url: lite, env: with(nil, "THAILI_PASSWORD_COST", "twelve"), err: `THAILI_PASSWORD_COST "twelve": must be a whole number`},
		{name: "cost with a fraction", url: lite, env: with(nil, "THAILI_PASSWORD_COST", "12.5"), err: `THAILI_PASSWORD_COST "12.5": must be a whole number`},
		{name: "cost with a space", url: lite, env: with(nil, "THAILI_PASSWORD_COST", "12 "), err: `THAILI_PASSWORD_COST "12 ": must be a whole number`},

		// Bounds, whatever the sandbox.
		{name: "cost below bcrypt's range", url: lite, env: with(nil, "THAILI_PASSWORD_COST", "3"), err: "THAILI_PASSWORD_COST 3: must be from 4 to 31"},
		{name: "cost above bcrypt's range", url: lite, env: with(nil, "THAILI_PASSWORD_COST", "32"), err: "THAILI_PASSWORD_COST 32: must be from 4 to 31"},
		{name: "negative cost", url: pg, env: with(nil, "THAILI_PASSWORD_COST", "-12"), err: "THAILI_PASSWORD_COST -12: must be from 4 to 31"},
		{name: "highest bound", url: pg, env: with(nil, "THAILI_PASSWORD_COST", "31"), want: Deployment{PasswordCost: 31}},
		{name: "lowest bound in a sandbox", url: lite, env: with(nil, "THAILI_PASSWORD_COST", "4"), want: Deployment{Sandbox: true, PasswordCost: 4}},
		// MPIN hashes have no cost any more (docs/identity.md, "The MPIN
		// hash"): the old variable changes nothing, whatever its value.
		{name: "THAILI_MPIN_ITERATIONS is ignored", url: pg, env: with(nil, "THAILI_MPIN_ITERATIONS", "1"), want: live(false)},

		// The floors of a live deployment.
		{name: "cheap costs in the sqlite sandbox", url: lite, env: cheapEnv, want: cheap},
		{name: "cheap costs in a postgres sandbox", url: pg, env: with(cheapEnv, "THAILI_SANDBOX", "true"), want: cheap},
		{name: "cheap costs with --sandbox", url: pg, env: cheapEnv, flags: []string{"--sandbox"}, want: cheap},
		{name: "cheap cost on live postgres", url: pg, env: with(nil, "THAILI_PASSWORD_COST", "4"),
			err: "THAILI_PASSWORD_COST 4: a live deployment needs at least 12 (the default); lower values are for tests and are refused unless the sandbox is on"},
		{name: "cost one below the floor", url: lite, env: with(nil, "THAILI_PASSWORD_COST", "11", "THAILI_SANDBOX", "false"),
			err: "THAILI_PASSWORD_COST 11: a live deployment needs at least 12"},
		{name: "cheap costs with --sandbox=false", url: lite, env: with(cheapEnv, "THAILI_SANDBOX", "true"), flags: []string{"--sandbox=false"},
			err: "THAILI_PASSWORD_COST 4: a live deployment needs at least 12"},
		{name: "the floor itself on live postgres", url: pg, env: with(nil, "THAILI_PASSWORD_COST", "12"), want: live(false)},
		{name: "above the floor on live postgres", url: pg, env: with(nil, "THAILI_PASSWORD_COST", "13"), want: Deployment{PasswordCost: 13}},
	}
	check := func(t *testing.T, how string, got Deployment, err error, want Deployment, wantErr string) {
		t.Helper()
		switch {
		case wantErr == "" && err != nil:
			t.Errorf("%s: %v", how, err)
		case wantErr == "" && got != want:
			t.Errorf("%s: %+v, want %+v", how, got, want)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("%s: error %v, want one containing %q", how, err, wantErr)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := with(tt.env, "THAILI_DATABASE_URL", tt.url)
			s, err := parseServe(t, env, tt.flags...)
			check(t, "serve", s.Deployment, err, tt.want, tt.err)
			if tt.flags == nil {
				d, err := ReadDeployment(func(k string) string { return env[k] }, Database{URL: tt.url})
				check(t, "ReadDeployment", d, err, tt.want, tt.err)
			}
		})
	}
}

func TestGuessLimitFlags(t *testing.T) {
	s, err := parseServe(t, nil)
	if err != nil || s.GuessBurst != 20 || s.GuessPeriod != 10*time.Minute || s.KeyGuessBurst != 120 || s.KeyGuessPer != time.Minute {
		t.Fatalf("defaults: %d/%v and %d/%v, %v", s.GuessBurst, s.GuessPeriod, s.KeyGuessBurst, s.KeyGuessPer, err)
	}
	s, err = parseServe(t, map[string]string{"THAILI_GUESS_LIMIT": "5/1m", "THAILI_KEY_GUESS_LIMIT": "off"})
	if err != nil || s.GuessBurst != 5 || s.GuessPeriod != time.Minute || s.KeyGuessBurst != 0 {
		t.Fatalf("env: %+v %v", s, err)
	}
	s, err = parseServe(t, map[string]string{"THAILI_GUESS_LIMIT": "5/1m"}, "--guess-limit", "off", "--key-guess-limit", "7/1h")
	if err != nil || s.GuessBurst != 0 || s.KeyGuessBurst != 7 || s.KeyGuessPer != time.Hour {
		t.Fatalf("flags must win over env: %+v %v", s, err)
	}
}

// TestDatabaseMaxConns covers --database-max-conns: its default, the
// environment, the flag winning, and the values it refuses with a message
// naming the flag and its variable. Every other command gets
// CommandMaxConns from AddDatabase.
func TestDatabaseMaxConns(t *testing.T) {
	for _, tt := range []struct {
		name  string
		env   map[string]string
		flags []string
		want  int
	}{
		{name: "default", want: 20},
		{name: "default on PostgreSQL", env: map[string]string{"THAILI_DATABASE_URL": "postgres://db.example/thaili"}, want: 20},
		{name: "env", env: map[string]string{"THAILI_DATABASE_MAX_CONNS": "30"}, want: 30},
		{name: "flag", flags: []string{"--database-max-conns", "12"}, want: 12},
		{name: "flag wins over env", env: map[string]string{"THAILI_DATABASE_MAX_CONNS": "30"}, flags: []string{"--database-max-conns=8"}, want: 8},
		{name: "flag wins over a bad env", env: map[string]string{"THAILI_DATABASE_MAX_CONNS": "many"}, flags: []string{"--database-max-conns", "8"}, want: 8},
		{name: "lowest", flags: []string{"--database-max-conns", "4"}, want: 4},
		{name: "highest", env: map[string]string{"THAILI_DATABASE_MAX_CONNS": "1000"}, want: 1000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := parseServe(t, tt.env, tt.flags...)
			if err != nil || s.MaxConns != tt.want {
				t.Fatalf("MaxConns = %d, %v; want %d", s.MaxConns, err, tt.want)
			}
		})
	}
	const msg = `: must be a whole number from 4 to 1000`
	for _, tt := range []struct {
		name, env string
		flags     []string
		err       string
	}{
		{name: "too few", flags: []string{"--database-max-conns", "3"}, err: `"3"`},
		{name: "zero", env: "0", err: `"0"`},
		{name: "negative", flags: []string{"--database-max-conns=-20"}, err: `"-20"`},
		{name: "too many", env: "1001", err: `"1001"`},
		{name: "not a number", env: "twenty", err: `"twenty"`},
		{name: "a fraction", flags: []string{"--database-max-conns", "20.5"}, err: `"20.5"`},
		{name: "a space", env: " 20", err: `" 20"`},
		{name: "a unit", env: "20conns", err: `"20conns"`},
		{name: "empty flag", flags: []string{"--database-max-conns", ""}, err: `""`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			if tt.env != "" {
				env["THAILI_DATABASE_MAX_CONNS"] = tt.env
			}
			_, err := parseServe(t, env, tt.flags...)
			want := "--database-max-conns (THAILI_DATABASE_MAX_CONNS) " + tt.err + msg
			if err == nil || err.Error() != want {
				t.Fatalf("error %v, want %q", err, want)
			}
		})
	}

	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	var db Database
	AddDatabase(fs, func(string) string { return "" }, &db)
	if db.MaxConns != CommandMaxConns || CommandMaxConns < MinMaxConns {
		t.Fatalf("a command's limit is %d, want CommandMaxConns (%d, at least %d)", db.MaxConns, CommandMaxConns, MinMaxConns)
	}
}
