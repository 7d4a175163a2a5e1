package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/config"
	"github.com/thaili/thaili/internal/payment"
	"github.com/thaili/thaili/internal/store/postgres"
	"github.com/thaili/thaili/internal/store/postgres/pgtest"
)

// TestConnectionLimitsAgree: the store's own default and floor are the
// ones serve documents and validates.
func TestConnectionLimitsAgree(t *testing.T) {
	if postgres.DefaultMaxConns != config.DefaultMaxConns || postgres.MinMaxConns != config.MinMaxConns {
		t.Fatalf("postgres: default %d, least %d; config: default %d, least %d",
			postgres.DefaultMaxConns, postgres.MinMaxConns, config.DefaultMaxConns, config.MinMaxConns)
	}
}

// TestDatabaseMaxConnsRefused: serve refuses a bad connection limit from
// the flag or the environment with exit status 2 and a message naming
// both, before it opens the database (no SQLite file appears; the
// PostgreSQL URL has no server behind it).
func TestDatabaseMaxConnsRefused(t *testing.T) {
	t.Parallel()
	const nowhere = "postgres://postgres@127.0.0.1:1/none?sslmode=disable"
	lite := filepath.Join(t.TempDir(), "thaili.db")
	for _, tt := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"--database-url", lite, "--database-max-conns", "3"},
			`--database-max-conns (THAILI_DATABASE_MAX_CONNS) "3": must be a whole number from 4 to 1000`},
		{map[string]string{"THAILI_DATABASE_MAX_CONNS": "lots"}, []string{"--database-url", lite},
			`--database-max-conns (THAILI_DATABASE_MAX_CONNS) "lots": must be a whole number from 4 to 1000`},
		{map[string]string{"THAILI_DATABASE_MAX_CONNS": "5000", "THAILI_SECRET": pgEnv["THAILI_SECRET"]}, []string{"--database-url", nowhere},
			`--database-max-conns (THAILI_DATABASE_MAX_CONNS) "5000": must be a whole number from 4 to 1000`},
	} {
		// A serve that is not refused would run until stopped: the
		// deadline ends it, and the test then fails on its nil error.
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		var out strings.Builder
		err := run(ctx, append([]string{"thaili", "serve", "--addr", "127.0.0.1:0"}, tt.args...), testEnv(tt.env), strings.NewReader(""), &out, &out)
		cancel()
		if err == nil || err.Error() != tt.want || exitCode(err) != 2 {
			t.Errorf("serve %v with %v: %v (exit %d), want exit 2 saying %q", tt.args, tt.env, err, exitCode(err), tt.want)
		}
		if _, err := os.Stat(lite); !os.IsNotExist(err) {
			t.Fatalf("serve opened the database before refusing its settings: %v", err)
		}
	}
}

// TestDatabaseMaxConnsPostgres runs serve with THAILI_DATABASE_MAX_CONNS=4
// on PostgreSQL and sends it 16 payments at once, three times, while
// pg_stat_activity is watched: the node's connections (named by
// application_name) never exceed 4, and every payment is answered.
func TestDatabaseMaxConnsPostgres(t *testing.T) {
	const limit = 4
	plain := pgtest.NewDatabase(t)
	setup := &testServer{DB: plain, env: pgEnv}
	for _, cmd := range [][]string{{"migrate"}, {"sandbox", "seed"}} {
		if out, err := setup.cli(t, cmd...); err != nil {
			t.Fatalf("%s: %v\n%s", cmd, err, out)
		}
	}
	u, err := url.Parse(plain)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", "thaili_limited_node")
	u.RawQuery = q.Encode()
	srv := startServerDB(t, u.String(), map[string]string{"THAILI_SECRET": pgEnv["THAILI_SECRET"], "THAILI_DATABASE_MAX_CONNS": fmt.Sprint(limit)})

	watcher, err := sql.Open("pgx", plain)
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	most, stop := 0, make(chan struct{})
	watched := make(chan error, 1)
	go func() {
		for {
			var n int
			err := watcher.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'thaili_limited_node'`).Scan(&n)
			if err != nil {
				watched <- err
				return
			}
			most = max(most, n)
			select {
			case <-stop:
				watched <- nil
				return
			default:
			}
		}
	}()
	for round := range 3 {
		rs := srv.parallelDo(t, 16, func(i int) (string, string, string, string) {
			return "POST", "/api/v2/payment/initiate/", "", jsonBody(t, map[string]any{
				"public_key": testPK, "mobile": payment.SandboxPayers[i%len(payment.SandboxPayers)], "transaction_pin": "1111",
				"amount": 1000 + i, "product_identity": "p1", "product_name": "Product"})
		})
		for i, r := range rs {
			if r.Status != 200 {
				t.Fatalf("round %d, payment %d: %d %s", round, i, r.Status, r.Raw)
			}
		}
	}
	close(stop)
	if err := <-watched; err != nil {
		t.Fatal(err)
	}
	if most < 1 || most > limit {
		t.Fatalf("the node held up to %d connections, want 1 to %d", most, limit)
	}
	t.Logf("the node held up to %d connections", most)
}
