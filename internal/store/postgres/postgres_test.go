package postgres_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/store/postgres"
	"github.com/thaili/thaili/internal/store/postgres/pgtest"
	"github.com/thaili/thaili/internal/store/storetest"
)

func open(t *testing.T, migrate bool) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if migrate {
		if _, err := db.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// migrationCount is how many migrations this build has: their numbers
// may have gaps (branches reserve numbers), so it is not LatestVersion.
func migrationCount(t *testing.T) int {
	t.Helper()
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f.Name(), ".sql") {
			n++
		}
	}
	return n
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, true) })
}

func TestSchemaChecks(t *testing.T) {
	ctx := context.Background()
	db := open(t, false)
	if err := db.CheckSchema(ctx); err == nil || !strings.Contains(err.Error(), "run `thaili migrate` first") {
		t.Fatalf("unmigrated: %v", err)
	}
	n, err := db.Migrate(ctx)
	if err != nil || n != migrationCount(t) {
		t.Fatalf("Migrate = %d, %v; want %d", n, err, migrationCount(t))
	}
	if n, err := db.Migrate(ctx); err != nil || n != 0 {
		t.Fatalf("second Migrate = %d, %v", n, err)
	}
	if err := db.CheckSchema(ctx); err != nil {
		t.Fatalf("migrated: %v", err)
	}
	if _, err := db.SQL().ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES (9999)`); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckSchema(ctx); err == nil || !strings.Contains(err.Error(), "has migration 9999, which this thaili does not know") {
		t.Fatalf("newer schema: %v", err)
	}
	// Migrate refuses it too, as SQLite's does: one runner, one rule.
	if _, err := db.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "has migration 9999, which this thaili does not know") {
		t.Fatalf("Migrate on a newer schema: %v", err)
	}
	// A database that lacks one migration of the middle (not only the
	// newest) is refused: the whole set must match, not the highest.
	if _, err := db.SQL().ExecContext(ctx, `DELETE FROM schema_migrations WHERE version IN (9999, 5)`); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckSchema(ctx); err == nil || !strings.Contains(err.Error(), "lacks migration 5") {
		t.Fatalf("a schema without migration 5: %v", err)
	}
}

func TestConcurrentMigrate(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	errs := make(chan error, 4)
	total := make(chan int, 4)
	for i := 0; i < 4; i++ {
		go func() {
			db, err := postgres.Open(ctx, url)
			if err != nil {
				errs <- err
				total <- 0
				return
			}
			defer db.Close()
			n, err := db.Migrate(ctx)
			errs <- err
			total <- n
		}()
	}
	sum := 0
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		sum += <-total
	}
	if sum != migrationCount(t) {
		t.Fatalf("4 concurrent migrations applied %d in all, want %d", sum, migrationCount(t))
	}
}
