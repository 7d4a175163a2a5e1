package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/store/sqlite"
	"github.com/thaili/thaili/internal/store/sqlstore"
)

// TestIdempotencyLeaseMigration builds a database at the schema before
// migration 17 holding running and completed idempotency keys, then
// migrates: keys still running keep the old rule (free, without effects,
// ten minutes after they were created), completed keys keep their
// response, and a key claimed afterwards carries its own lease.
func TestIdempotencyLeaseMigration(t *testing.T) {
	ctx := context.Background()
	created := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "old.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.MigrateTo(ctx, 16); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.SQL().Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	us := created.UnixMicro()
	exec(`INSERT INTO idempotency_keys (scope, key, request_hash, created_at) VALUES ('secret:1:test', 'idle', 'h1', ?)`, us)
	exec(`INSERT INTO idempotency_keys (scope, key, request_hash, created_at, effects) VALUES ('secret:1:test', 'worked', 'h2', ?, 1)`, us)
	exec(`INSERT INTO idempotency_keys (scope, key, request_hash, status, response_status, response_headers, response_body, created_at, completed_at)
		VALUES ('secret:1:test', 'done', 'h3', 1, 200, '{}', X'7b7d', ?, ?)`, us, us+1000)
	ms, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if n, err := db.Migrate(ctx); err != nil || n != len(sqlstore.UpTo(ms, 0))-len(sqlstore.UpTo(ms, 16)) {
		t.Fatalf("Migrate = %d, %v", n, err)
	}
	get := func(key string) store.IdempotencyRecord {
		t.Helper()
		var r store.IdempotencyRecord
		if err := db.View(ctx, func(tx store.Tx) error {
			var err error
			r, err = tx.Idempotency(ctx, "secret:1:test", key)
			return err
		}); err != nil {
			t.Fatalf("Idempotency(%s): %v", key, err)
		}
		return r
	}
	for _, key := range []string{"idle", "worked"} {
		if r := get(key); !r.LeaseUntil.Equal(created.Add(10 * time.Minute)) {
			t.Errorf("running key %s: lease until %s, want ten minutes after its creation", key, r.LeaseUntil)
		}
	}
	if r := get("done"); !r.Completed || !r.LeaseUntil.IsZero() || string(r.ResponseBody) != "{}" {
		t.Errorf("completed key after migration 17: %+v", r)
	}
	begin := func(key string, now time.Time) error {
		r := store.IdempotencyRecord{Scope: "secret:1:test", Key: key, RequestHash: "h", CreatedAt: now, LeaseUntil: now.Add(10 * time.Second)}
		return db.InTx(ctx, func(tx store.Tx) error { return tx.BeginIdempotency(ctx, &r, now) })
	}
	if err := begin("idle", created.Add(9*time.Minute)); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("a key running for 9 minutes when migrated was taken over: %v", err)
	}
	if err := begin("idle", created.Add(11*time.Minute)); err != nil {
		t.Fatalf("take-over of a key running without effects for 11 minutes: %v", err)
	}
	if err := begin("worked", created.Add(time.Hour)); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("a key with effects was taken over: %v", err)
	}
	if r := get("idle"); !r.LeaseUntil.Equal(created.Add(11*time.Minute + 10*time.Second)) {
		t.Errorf("lease of a key claimed after migration 17: %s", r.LeaseUntil)
	}
}
