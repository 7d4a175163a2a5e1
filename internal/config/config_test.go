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
		{"--client-ip-header", "X-Real-IP:", "header name"},
		{"--client-ip-header", "X Real IP", "header name"},
	} {
		_, err := parseServe(t, nil, bad.flag, bad.value)
		if err == nil || !strings.Contains(err.Error(), bad.msg) || !strings.Contains(err.Error(), bad.flag) {
			t.Errorf("%s %q: error %v, want one naming the flag and saying %q", bad.flag, bad.value, err, bad.msg)
		}
	}
}
