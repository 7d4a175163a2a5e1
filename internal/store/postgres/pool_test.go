package postgres_test

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/store/postgres"
	"github.com/thaili/thaili/internal/store/postgres/pgtest"
)

// TestPoolSizes checks the split of a limit between the two pools: it
// adds up to the limit, gives each pool at least 2 and writes at least as
// many as reads, and keeps the sizes used before the limit existed (48).
func TestPoolSizes(t *testing.T) {
	for _, tt := range []struct{ n, writes, reads int }{
		{4, 2, 2}, {5, 3, 2}, {6, 4, 2}, {7, 4, 3}, {postgres.DefaultMaxConns, 13, 7}, {48, 32, 16}, {1000, 666, 334},
	} {
		if w, r := postgres.PoolSizes(tt.n); w != tt.writes || r != tt.reads {
			t.Errorf("PoolSizes(%d) = %d writes + %d reads, want %d + %d", tt.n, w, r, tt.writes, tt.reads)
		}
	}
	for n := postgres.MinMaxConns; n <= 1000; n++ {
		if w, r := postgres.PoolSizes(n); w+r != n || r < 2 || w < r {
			t.Fatalf("PoolSizes(%d) = %d writes + %d reads: must add up to %d, with at least 2 reads and no more reads than writes", n, w, r, n)
		}
	}
}

func TestOpenRefusesATinyLimit(t *testing.T) {
	// Refused before connecting: the URL is never dialled.
	_, err := postgres.Open(context.Background(), "postgres://nobody@127.0.0.1:1/none", postgres.MaxConns(3))
	if err == nil || !strings.Contains(err.Error(), "a limit of 3 connections is too small: at least 4") {
		t.Fatalf("Open with 3 connections: %v", err)
	}
}

// TestConnectionLimit opens the store with a limit of 6 (4 writes, 2
// reads), asks for three times as many connections of each pool at once
// (write transactions, read snapshots, read-only sessions), and checks in
// pg_stat_activity that the database never saw more than 6 connections
// from it, while each pool was used up to its share.
func TestConnectionLimit(t *testing.T) {
	const limit = 6
	writes, reads := postgres.PoolSizes(limit)
	url := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := postgres.Open(ctx, url, postgres.MaxConns(limit))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// The watcher's own connection is left out of its count.
	watcher, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close()
	watcher.SetMaxOpenConns(1)
	connections := func() (int, error) {
		var n int
		err := watcher.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n)
		return n, err
	}

	// held counts the connections each pool hands out at once; each
	// holder keeps its connection until release is closed.
	var heldWrites, heldReads, maxWrites, maxReads atomic.Int64
	release := make(chan struct{})
	hold := func(held, most *atomic.Int64) {
		n := held.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		held.Add(-1)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 6*limit)
	for i := range 3 * limit {
		wg.Add(2)
		go func() {
			defer wg.Done()
			use := db.InTx
			if i%2 == 1 {
				use = db.Snapshot // a read transaction, on the write pool
			}
			errs <- use(ctx, func(store.Tx) error { hold(&heldWrites, &maxWrites); return nil })
		}()
		go func() {
			defer wg.Done()
			conn, err := db.ReadPool().Conn(ctx)
			if err == nil {
				err = conn.PingContext(ctx)
				if err == nil {
					hold(&heldReads, &maxReads)
				}
				conn.Close()
			}
			errs <- err
		}()
	}

	// Wait until both pools are full, then let more holders try to get
	// in; none can, so the database sees exactly the limit.
	for heldWrites.Load() < int64(writes) || heldReads.Load() < int64(reads) {
		if ctx.Err() != nil {
			t.Fatalf("the pools never filled: %d of %d writes and %d of %d reads held", heldWrites.Load(), writes, heldReads.Load(), reads)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	n, err := connections()
	if err != nil {
		t.Fatal(err)
	}
	if n != limit || heldWrites.Load() != int64(writes) || heldReads.Load() != int64(reads) {
		t.Fatalf("with the pools full the database has %d connections (%d writes, %d reads held), want %d (%d + %d)",
			n, heldWrites.Load(), heldReads.Load(), limit, writes, reads)
	}

	// The waiting holders now take turns; the count never exceeds the
	// limit while they do.
	close(release)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	most := n
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		default:
		}
		n, err := connections()
		if err != nil {
			t.Fatal(err)
		}
		most = max(most, n)
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if most > limit || maxWrites.Load() != int64(writes) || maxReads.Load() != int64(reads) {
		t.Fatalf("at most %d connections (%d writes, %d reads at once), want at most %d (%d + %d)",
			most, maxWrites.Load(), maxReads.Load(), limit, writes, reads)
	}
}
