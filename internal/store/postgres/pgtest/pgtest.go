// Package pgtest gives tests their own PostgreSQL database. It reads the
// server from THAILI_TEST_DATABASE_URL (default: the local trust-auth
// server), creates a fresh database per call and drops it when the test
// ends. Without a reachable server the test is skipped with a loud
// message, or fails when THAILI_REQUIRE_POSTGRES=1 (as CI sets it).
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// DefaultURL is the server tests use when THAILI_TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// NewDatabase creates an empty database and returns its URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("THAILI_TEST_DATABASE_URL")
	if admin == "" {
		admin = DefaultURL
	}
	unavailable := func(err error) {
		t.Helper()
		if os.Getenv("THAILI_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL is required (THAILI_REQUIRE_POSTGRES=1) but %s is unusable: %v", admin, err)
		}
		t.Skipf("SKIPPING PostgreSQL test: %s is unusable (%v); set THAILI_REQUIRE_POSTGRES=1 to make this a failure", admin, err)
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		unavailable(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		unavailable(err)
	}
	suffix := make([]byte, 6)
	rand.Read(suffix)
	name := "thaili_test_" + hex.EncodeToString(suffix)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		unavailable(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping test database %s: %v", name, err)
		}
		db.Close()
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("THAILI_TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}
