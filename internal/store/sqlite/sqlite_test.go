package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/store/sqlite"
	"github.com/thaili/thaili/internal/store/storetest"
)

// open returns a fresh migrated database in t's temporary directory.
func open(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "thaili.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func TestMigrateIdempotent(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "thaili.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n, err := db.Migrate(ctx)
	if err != nil {
		t.Fatalf("first Migrate: %v", err)
	}
	if n < 1 {
		t.Fatalf("first Migrate applied %d migrations, want at least 1", n)
	}
	n, err = db.Migrate(ctx)
	if err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if n != 0 {
		t.Fatalf("second Migrate applied %d migrations, want 0", n)
	}
}

func TestOpenEmptyPath(t *testing.T) {
	if _, err := sqlite.Open(""); err == nil {
		t.Fatal("Open(\"\") succeeded, want an error")
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	err := db.InTx(ctx, func(store.Tx) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`INSERT INTO schema_migrations (version) VALUES (9999)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "has migration 9999, which this thaili does not know") {
		t.Fatalf("Migrate on a newer schema: %v", err)
	}
	if err := db.CheckSchema(ctx); err == nil || !strings.Contains(err.Error(), "has migration 9999") {
		t.Fatalf("CheckSchema on a newer schema: %v", err)
	}
}

// TestGroupCommitIsolatesRequests runs many write transactions at once, so
// they share commits, and checks that each failing or panicking one loses
// exactly its own writes.
func TestGroupCommitIsolatesRequests(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	const n = 60
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- db.InTx(ctx, func(tx store.Tx) error {
				c := store.Consumer{Idx: fmt.Sprintf("idx%02d", i), Mobile: fmt.Sprintf("98000001%02d", i), Name: "n", MPINHash: "h", CreatedAt: time.Unix(1, 0)}
				if err := tx.CreateConsumer(ctx, &c); err != nil {
					return err
				}
				switch i % 3 {
				case 1:
					return errors.New("refused")
				case 2:
					panic("boom")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			failed++
		}
	}
	if failed != 2*n/3 {
		t.Fatalf("%d requests failed, want %d", failed, 2*n/3)
	}
	err := db.View(ctx, func(tx store.Tx) error {
		for i := 0; i < n; i++ {
			_, err := tx.ConsumerByMobile(ctx, fmt.Sprintf("98000001%02d", i))
			if want := i%3 == 0; (err == nil) != want {
				t.Errorf("consumer %d present=%v, want %v (%v)", i, err == nil, want, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.InTx(ctx, func(store.Tx) error { return nil }); err == nil {
		t.Fatal("InTx after Close succeeded")
	}
}

// TestBatchOutlivesCallerContext: a write request's statements run under
// its batch, not under its caller's context. A caller whose context ends
// while its function runs (a client that went away) neither interrupts a
// statement of the transaction other requests share nor leaves its own
// writes half done: the function's writes commit with the batch and InTx
// reports that, as the queue promises once a request is queued.
func TestBatchOutlivesCallerContext(t *testing.T) {
	db := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	err := db.InTx(ctx, func(tx store.Tx) error {
		first := store.Consumer{Idx: "gone1", Mobile: "9800000201", Name: "n", MPINHash: "h", CreatedAt: time.Unix(1, 0)}
		if err := tx.CreateConsumer(ctx, &first); err != nil {
			return err
		}
		cancel()
		second := store.Consumer{Idx: "gone2", Mobile: "9800000202", Name: "n", MPINHash: "h", CreatedAt: time.Unix(1, 0)}
		return tx.CreateConsumer(ctx, &second)
	})
	if err != nil {
		t.Fatalf("InTx whose caller's context ended mid-function: %v, want nil (both writes committed)", err)
	}
	bg := context.Background()
	err = db.View(bg, func(tx store.Tx) error {
		for _, mobile := range []string{"9800000201", "9800000202"} {
			if _, err := tx.ConsumerByMobile(bg, mobile); err != nil {
				t.Errorf("consumer %s: %v, want committed", mobile, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestWriterHeldLeavesToolsAConnection: the committer holds the write
// connection between batches, and the pool keeps another for migrations
// and tools (SQL), whose writes wait for the committer's under
// busy_timeout instead of waiting for the held connection forever.
func TestWriterHeldLeavesToolsAConnection(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	create := func(i int) error {
		return db.InTx(ctx, func(tx store.Tx) error {
			c := store.Consumer{Idx: fmt.Sprintf("held%d", i), Mobile: fmt.Sprintf("98000003%02d", i), Name: "n", MPINHash: "h", CreatedAt: time.Unix(1, 0)}
			return tx.CreateConsumer(ctx, &c)
		})
	}
	if err := create(1); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := db.SQL().ExecContext(tctx, `UPDATE consumers SET name = 'tool' WHERE mobile = '9800000301'`); err != nil {
		t.Fatalf("a tool's write while the committer holds its connection: %v", err)
	}
	if err := create(2); err != nil {
		t.Fatal(err)
	}
	var names string
	if err := db.SQL().QueryRowContext(tctx, `SELECT group_concat(name, ',') FROM (SELECT name FROM consumers WHERE mobile IN ('9800000301', '9800000302') ORDER BY mobile)`).Scan(&names); err != nil {
		t.Fatal(err)
	}
	if names != "tool,n" {
		t.Fatalf("names %q, want tool,n", names)
	}
}

// TestWriterBeginFailsAndRecovers: a batch whose BEGIN fails (another
// connection held the write lock past the wait) is answered with the error
// and writes nothing; the committer lets its connection go, and the next
// batch commits on the one it takes next.
func TestWriterBeginFailsAndRecovers(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	create := func(mobile string) error {
		return db.InTx(ctx, func(tx store.Tx) error {
			c := store.Consumer{Idx: "idx" + mobile, Mobile: mobile, Name: "n", MPINHash: "h", CreatedAt: time.Unix(1, 0)}
			return tx.CreateConsumer(ctx, &c)
		})
	}
	if err := create("9800000401"); err != nil {
		t.Fatal(err)
	}
	if err := db.ShortenWriterWait(50); err != nil {
		t.Fatal(err)
	}
	tool, err := db.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tool.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	if err := create("9800000402"); err == nil {
		t.Fatal("a batch that could not begin reported success")
	}
	if _, err := tool.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	tool.Close()
	if err := create("9800000403"); err != nil {
		t.Fatalf("the batch after a failed BEGIN: %v", err)
	}
	err = db.View(ctx, func(tx store.Tx) error {
		for mobile, want := range map[string]bool{"9800000401": true, "9800000402": false, "9800000403": true} {
			_, err := tx.ConsumerByMobile(ctx, mobile)
			if (err == nil) != want {
				t.Errorf("consumer %s present=%v, want %v (%v)", mobile, err == nil, want, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
