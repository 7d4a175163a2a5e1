package postgres_test

import (
	"context"
	"path/filepath"
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

// migrationCount is how many migrations this build has. It is not
// LatestVersion: a branch's migration may be numbered after one that
// lands from another branch.
func migrationCount(t *testing.T) int {
	t.Helper()
	names, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	return len(names)
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
	if err := db.CheckSchema(ctx); err == nil || !strings.Contains(err.Error(), "newer than this thaili knows") {
		t.Fatalf("newer schema: %v", err)
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
