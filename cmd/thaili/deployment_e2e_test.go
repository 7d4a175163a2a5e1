package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLiveDeploymentRefusesTestCosts runs thaili with the harness's cheap
// hash costs where the sandbox is off: serve and the other commands
// refuse to start, saying why, before they open the database (the
// PostgreSQL URL here has no server behind it). With the sandbox on the
// same costs get past the check.
func TestLiveDeploymentRefusesTestCosts(t *testing.T) {
	t.Parallel()
	const nowhere = "postgres://postgres@127.0.0.1:1/none?sslmode=disable"
	lite := filepath.Join(t.TempDir(), "thaili.db")
	env := func(kv ...string) func(string) string {
		m := map[string]string{"THAILI_SECRET": pgEnv["THAILI_SECRET"]}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	// A serve that is not refused would run until stopped: the deadline
	// ends it, and the test then fails on its nil error.
	runIt := func(getenv func(string) string, args ...string) error {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		var out strings.Builder
		return run(ctx, append([]string{"thaili"}, args...), getenv, strings.NewReader(""), &out, &out)
	}
	refused := []struct {
		name   string
		getenv func(string) string
		args   []string
		want   string
	}{
		{"serve on postgres with --sandbox=false", env("THAILI_PASSWORD_COST", "4"),
			[]string{"serve", "--addr", "127.0.0.1:0", "--database-url", nowhere, "--sandbox=false"},
			"THAILI_PASSWORD_COST 4: a live deployment needs at least 12 (the default); lower values are for tests and are refused unless the sandbox is on"},
		{"serve on postgres without the sandbox flag", env("THAILI_PASSWORD_COST", "11"),
			[]string{"serve", "--addr", "127.0.0.1:0", "--database-url", nowhere},
			"THAILI_PASSWORD_COST 11: a live deployment needs at least 12"},
		{"serve on sqlite with --sandbox=false", env("THAILI_PASSWORD_COST", "4", "THAILI_SANDBOX", "true"),
			[]string{"serve", "--addr", "127.0.0.1:0", "--database-url", lite, "--sandbox=false"},
			"THAILI_PASSWORD_COST 4: a live deployment needs at least 12"},
		{"a command on postgres", env("THAILI_PASSWORD_COST", "4"),
			[]string{"consumer", "create", "--mobile", "9811111111", "--name", "N", "--mpin", "1234", "--database-url", nowhere},
			"THAILI_PASSWORD_COST 4: a live deployment needs at least 12"},
		{"a command on sqlite with THAILI_SANDBOX=false", env("THAILI_PASSWORD_COST", "4", "THAILI_SANDBOX", "false"),
			[]string{"admin", "create", "--email", "op@example.com", "--password", "a long password", "--database-url", lite},
			"THAILI_PASSWORD_COST 4: a live deployment needs at least 12"},
		{"a cost that is not a number", env("THAILI_PASSWORD_COST", "4x"),
			[]string{"serve", "--addr", "127.0.0.1:0", "--database-url", lite},
			`THAILI_PASSWORD_COST "4x": must be a whole number`},
	}
	for _, tt := range refused {
		err := runIt(tt.getenv, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) || exitCode(err) != 2 {
			t.Errorf("%s: %v (exit %d), want exit 2 saying %q", tt.name, err, exitCode(err), tt.want)
		}
	}
	// With the sandbox on, the same costs pass the check and the command
	// goes on to the database, which is not there.
	err := runIt(env("THAILI_PASSWORD_COST", "4", "THAILI_SANDBOX", "true"),
		"consumer", "create", "--mobile", "9811111111", "--name", "N", "--mpin", "1234", "--database-url", nowhere)
	if err == nil || strings.Contains(err.Error(), "THAILI_") {
		t.Errorf("a sandbox on PostgreSQL with cheap costs: %v, want a connection error", err)
	}
	err = runIt(env("THAILI_PASSWORD_COST", "4"),
		"serve", "--addr", "127.0.0.1:0", "--database-url", nowhere, "--sandbox")
	if err == nil || strings.Contains(err.Error(), "THAILI_") {
		t.Errorf("serve --sandbox on PostgreSQL with cheap costs: %v, want a connection error", err)
	}
}

// TestMPINIterationsIgnored: THAILI_MPIN_ITERATIONS, which set PBKDF2
// rounds before MPINs became keyed hashes, no longer stops a command,
// whatever its value; the command says it is ignored.
func TestMPINIterationsIgnored(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "thaili.db")
	getenv := testEnv(map[string]string{"THAILI_MPIN_ITERATIONS": "1"})
	var out, errOut strings.Builder
	if err := run(t.Context(), []string{"thaili", "migrate", "--database-url", db}, getenv, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("migrate: %v\n%s", err, errOut.String())
	}
	err := run(t.Context(), []string{"thaili", "consumer", "create", "--mobile", "9811111111", "--name", "N", "--mpin", "1234",
		"--database-url", db}, getenv, strings.NewReader(""), &out, &errOut)
	if err != nil {
		t.Fatalf("consumer create with THAILI_MPIN_ITERATIONS=1: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(errOut.String(), "THAILI_MPIN_ITERATIONS is ignored") {
		t.Fatalf("stderr does not say THAILI_MPIN_ITERATIONS is ignored:\n%s", errOut.String())
	}
}
