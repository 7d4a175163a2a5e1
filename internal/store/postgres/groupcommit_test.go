package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/store/postgres/pgtest"
)

// Group commit's own tests (groupcommit.go): the conformance suite runs
// every store operation through it, mostly in batches of one, on the
// default lanes; these put several requests in one batch on purpose, on
// one lane so that the batches are the ones they build, and the lanes'
// tests (at the end) run batches at once.

// openGrouped opens a database whose committer has one lane.
func openGrouped(t *testing.T) *DB {
	t.Helper()
	return openLanes(t, 1)
}

// openLanes opens a database whose committer has the given lanes.
func openLanes(t *testing.T, lanes int) *DB {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, pgtest.NewDatabase(t), CommitLanes(lanes))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

func consumerNamed(name string) store.Consumer {
	var mobile int
	for _, r := range name {
		mobile = mobile*31 + int(r)
	}
	return store.Consumer{Idx: "c-" + name, Mobile: fmt.Sprintf("98%08d", mobile%100_000_000), Name: name, MPINHash: "h",
		Confirmed: true, CreatedAt: time.Unix(1_800_000_000, 0)}
}

func createConsumer(name string) func(store.Tx) error {
	return func(tx store.Tx) error {
		c := consumerNamed(name)
		return tx.CreateConsumer(context.Background(), &c)
	}
}

// exists reports whether the consumer named name was committed.
func exists(t *testing.T, db *DB, name string) bool {
	t.Helper()
	var n int
	if err := db.db.QueryRow(`SELECT count(*) FROM consumers WHERE idx = $1`, "c-"+name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// inOneBatch runs fns as concurrent InTx calls that the committer takes
// as one batch, in the order given: it holds the committer in a request
// of its own until all of them are queued. It returns each call's result,
// in order.
func inOneBatch(t *testing.T, db *DB, fns ...func(store.Tx) error) []error {
	t.Helper()
	ctx := context.Background()
	hold, held := make(chan struct{}), make(chan struct{})
	holder := make(chan error, 1)
	go func() {
		holder <- db.InTx(ctx, func(store.Tx) error {
			close(held)
			<-hold
			return nil
		})
	}()
	<-held
	results := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = db.InTx(ctx, fn)
		}()
		// One at a time, so the batch runs them in the order given.
		for deadline := time.Now().Add(10 * time.Second); db.group.queue.Queued() < i+1; {
			if time.Now().After(deadline) {
				t.Fatalf("only %d of %d requests queued", db.group.queue.Queued(), len(fns))
			}
			time.Sleep(time.Millisecond)
		}
	}
	close(hold)
	if err := <-holder; err != nil {
		t.Fatalf("the holding request: %v", err)
	}
	wg.Wait()
	return results
}

// TestGroupCommitFailureRollsBackOnlyItself: in one batch, a request
// that fails (its own error, a statement PostgreSQL refuses, a panic)
// leaves nothing behind, and the others commit.
func TestGroupCommitFailureRollsBackOnlyItself(t *testing.T) {
	db := openGrouped(t)
	ctx := context.Background()
	if err := db.InTx(ctx, createConsumer("taken")); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused")
	var batches atomic.Int32
	db.group.beforeCommit = func(int) { batches.Add(1) }
	results := inOneBatch(t, db,
		createConsumer("first"),
		func(tx store.Tx) error { // writes, then refuses
			if err := createConsumer("refused")(tx); err != nil {
				return err
			}
			return refused
		},
		func(tx store.Tx) error { // writes, then runs into a unique index
			if err := createConsumer("before-duplicate")(tx); err != nil {
				return err
			}
			return createConsumer("taken")(tx)
		},
		func(tx store.Tx) error { // writes, then panics
			if err := createConsumer("panicked")(tx); err != nil {
				return err
			}
			panic("boom")
		},
		createConsumer("last"),
	)
	if got := batches.Load(); got != 2 {
		t.Fatalf("%d batches committed, want 2 (the holder's and the five requests')", got)
	}
	if got := db.group.safeRuns.Load(); got != 1 {
		t.Fatalf("%d batches ran again with savepoints, want 1", got)
	}
	if results[0] != nil || results[4] != nil {
		t.Fatalf("the requests that succeeded: %v, %v", results[0], results[4])
	}
	if !errors.Is(results[1], refused) {
		t.Errorf("the refused request: %v", results[1])
	}
	if !errors.Is(results[2], store.ErrDuplicate) {
		t.Errorf("the duplicate: %v, want store.ErrDuplicate", results[2])
	}
	if results[3] == nil || !strings.Contains(results[3].Error(), "panic") {
		t.Errorf("the panicking request: %v", results[3])
	}
	for name, want := range map[string]bool{"first": true, "last": true, "taken": true, "refused": false, "before-duplicate": false, "panicked": false} {
		if got := exists(t, db, name); got != want {
			t.Errorf("consumer %q committed: %v, want %v", name, got, want)
		}
	}
}

// TestGroupCommitLostBatchIsUnanswered: when the database goes away
// between a batch's requests and its COMMIT (here its backend is
// terminated), no request of the batch is told it succeeded and none of
// their writes is there; the next write works on a new connection.
func TestGroupCommitLostBatchIsUnanswered(t *testing.T) {
	db := openGrouped(t)
	ctx := context.Background()
	admin, err := sql.Open("pgx", pgtest.DefaultURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	// The first batch is the holder's own; the second, the two requests',
	// loses its backend.
	var batches atomic.Int32
	db.group.beforeCommit = func(pid int) {
		if batches.Add(1) == 2 {
			if _, err := admin.Exec(`SELECT pg_terminate_backend($1)`, pid); err != nil {
				t.Errorf("terminating the batch's backend: %v", err)
			}
		}
	}
	results := inOneBatch(t, db, createConsumer("lost-1"), createConsumer("lost-2"))
	if batches.Load() != 2 {
		t.Fatalf("%d batches reached COMMIT, want 2", batches.Load())
	}
	for i, err := range results {
		if err == nil {
			t.Errorf("request %d was answered as committed, though its batch's backend was terminated before COMMIT", i)
		}
	}
	if exists(t, db, "lost-1") || exists(t, db, "lost-2") {
		t.Error("a write of the lost batch is in the database")
	}
	if err := db.InTx(ctx, createConsumer("after")); err != nil || !exists(t, db, "after") {
		t.Fatalf("a write after the lost batch: %v", err)
	}
}

// TestGroupCommitRetriesAlone: a request that meets a serialization
// failure or deadlock aborts its batch, and every request of the batch
// then runs on its own and commits exactly once.
func TestGroupCommitRetriesAlone(t *testing.T) {
	db := openGrouped(t)
	var attempts atomic.Int32
	results := inOneBatch(t, db,
		createConsumer("before"),
		func(tx store.Tx) error {
			if err := createConsumer("retried")(tx); err != nil {
				return err
			}
			if attempts.Add(1) == 1 {
				return &pgconn.PgError{Code: deadlockDetected, Message: "deadlock detected (simulated)"}
			}
			return nil
		},
		createConsumer("after"),
	)
	for i, err := range results {
		if err != nil {
			t.Errorf("request %d: %v", i, err)
		}
	}
	if attempts.Load() != 2 {
		t.Errorf("the retried request ran %d times, want 2", attempts.Load())
	}
	for _, name := range []string{"before", "retried", "after"} {
		if !exists(t, db, name) {
			t.Errorf("consumer %q is missing", name)
		}
	}
}

// TestGroupCommitCloseAnswersQueued: Close answers every request already
// queued, then refuses new ones.
func TestGroupCommitCloseAnswersQueued(t *testing.T) {
	db := openGrouped(t)
	ctx := context.Background()
	hold, held := make(chan struct{}), make(chan struct{})
	go db.InTx(ctx, func(store.Tx) error { close(held); <-hold; return nil })
	<-held
	queued := make(chan error, 1)
	go func() { queued <- db.InTx(ctx, createConsumer("queued")) }()
	for db.group.queue.Queued() < 1 {
		time.Sleep(time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { db.group.close(); close(closed) }()
	close(hold)
	<-closed
	if err := <-queued; err != nil || !exists(t, db, "queued") {
		t.Fatalf("the request queued before Close: %v", err)
	}
	if err := db.InTx(ctx, createConsumer("late")); err == nil {
		t.Fatal("a request after Close was accepted")
	}
}

// TestGroupCommitSavepointsOnlyWhenNeeded: a batch whose requests all
// succeed runs once, without savepoints; one whose first request fails
// rolls back only that request and runs the rest as a batch, still
// without savepoints; each function runs once.
func TestGroupCommitSavepointsOnlyWhenNeeded(t *testing.T) {
	db := openGrouped(t)
	var calls [3]atomic.Int32
	counted := func(i int, fn func(store.Tx) error) func(store.Tx) error {
		return func(tx store.Tx) error { calls[i].Add(1); return fn(tx) }
	}
	results := inOneBatch(t, db,
		counted(0, createConsumer("ok-1")), counted(1, createConsumer("ok-2")), counted(2, createConsumer("ok-3")))
	for i, err := range results {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if got := db.group.safeRuns.Load(); got != 0 {
		t.Fatalf("a batch without failures ran again with savepoints (%d)", got)
	}
	for i := range 3 {
		if n := calls[i].Swap(0); n != 1 {
			t.Errorf("request %d ran %d times, want once", i, n)
		}
	}
	refused := errors.New("refused")
	failFirst := counted(0, func(tx store.Tx) error {
		if err := createConsumer("a")(tx); err != nil {
			return err
		}
		return refused
	})
	results = inOneBatch(t, db, failFirst, counted(1, createConsumer("b")), counted(2, createConsumer("c")))
	if !errors.Is(results[0], refused) || results[1] != nil || results[2] != nil {
		t.Fatalf("results %v, want the first refused and the others committed", results)
	}
	for name, want := range map[string]bool{"a": false, "b": true, "c": true} {
		if got := exists(t, db, name); got != want {
			t.Errorf("consumer %q committed: %v, want %v", name, got, want)
		}
	}
	for i := range 3 {
		if n := calls[i].Load(); n != 1 {
			t.Errorf("request %d ran %d times, want once", i, n)
		}
	}
	if got := db.group.safeRuns.Load(); got != 0 {
		t.Fatalf("%d batches ran again with savepoints, want 0", got)
	}
}

// TestGroupCommitChainsBegin: a batch that commits while requests wait
// begins the next batch's transaction in its COMMIT's message, and the
// next batch runs in it, each request once, with its own result; a
// batch that commits with nothing waiting leaves no transaction open.
func TestGroupCommitChainsBegin(t *testing.T) {
	db := openGrouped(t)
	ctx := context.Background()
	var runs atomic.Int32
	refused := errors.New("refused")
	results := inOneBatch(t, db, createConsumer("chained-1"), func(tx store.Tx) error {
		runs.Add(1)
		if err := createConsumer("chained-refused")(tx); err != nil {
			return err
		}
		return refused
	}, createConsumer("chained-2"))
	if results[0] != nil || !errors.Is(results[1], refused) || results[2] != nil {
		t.Fatalf("results %v, want the second refused and the others committed", results)
	}
	// inOneBatch's holding request committed while the others waited.
	if got := db.group.chained.Load(); got != 1 {
		t.Fatalf("%d batches began in the previous COMMIT, want 1", got)
	}
	for name, want := range map[string]bool{"chained-1": true, "chained-refused": false, "chained-2": true} {
		if got := exists(t, db, name); got != want {
			t.Errorf("consumer %q committed: %v, want %v", name, got, want)
		}
	}
	if n := runs.Load(); n != 2 { // once without savepoints, once with
		t.Errorf("the refused request ran %d times, want 2", n)
	}
	// Nothing waits now: no session of this database is left in a
	// transaction.
	if err := db.InTx(ctx, createConsumer("alone")); err != nil {
		t.Fatal(err)
	}
	var open int
	if err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND state LIKE 'idle in transaction%'`).Scan(&open); err != nil {
		t.Fatal(err)
	}
	if open != 0 {
		t.Fatalf("%d sessions idle in a transaction after the queue drained, want 0", open)
	}
	if db.group.lanes[0].conn != nil {
		t.Fatal("the committer kept a session with a transaction begun while nothing waited")
	}
}

// TestGroupCommitLanesRunAtOnce: with two lanes, a request whose batch
// is running does not hold up the next one: each of two requests waits
// inside its transaction until the other has started, which one lane
// (one batch at a time) could never let happen.
func TestGroupCommitLanesRunAtOnce(t *testing.T) {
	db := openLanes(t, 2)
	ctx := context.Background()
	if got := db.CommitStats().Lanes; got != 2 {
		t.Fatalf("CommitStats().Lanes = %d, want 2", got)
	}
	started := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	results := make(chan error, 2)
	for i := range 2 {
		go func() {
			results <- db.InTx(ctx, func(tx store.Tx) error {
				close(started[i])
				select {
				case <-started[1-i]:
				case <-time.After(10 * time.Second):
					return errors.New("the other request did not start while this one ran")
				}
				return createConsumer(fmt.Sprintf("lane-%d", i))(tx)
			})
		}()
		<-started[i] // so the second is queued while the first runs, not in its batch
	}
	for range 2 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	if !exists(t, db, "lane-0") || !exists(t, db, "lane-1") {
		t.Fatal("a committed request's write is missing")
	}
}

// TestGroupCommitLanesDeadlock: two lanes' batches that lock the same
// two rows in opposite orders deadlock; PostgreSQL aborts one of them,
// whose request then runs again on its own, and both requests commit
// exactly once. The rerun can itself deadlock: it may take its first row
// before the other request, which waited for that row, is granted it;
// PostgreSQL then aborts one of them again, so the requests run at least
// three times, not exactly three.
func TestGroupCommitLanesDeadlock(t *testing.T) {
	db := openLanes(t, 2)
	ctx := context.Background()
	for _, name := range []string{"x", "y"} {
		if err := db.InTx(ctx, createConsumer(name)); err != nil {
			t.Fatal(err)
		}
	}
	locked := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	var once [2]sync.Once
	var attempts atomic.Int32
	lockBoth := func(i int, first, second string) func(store.Tx) error {
		return func(tx store.Tx) error {
			attempts.Add(1)
			if _, _, err := tx.ConsumerWithBalance(ctx, consumerNamed(first).Mobile, ledger.Test); err != nil {
				return err
			}
			once[i].Do(func() { close(locked[i]) })
			select {
			case <-locked[1-i]:
			case <-time.After(10 * time.Second):
				return errors.New("the other lane did not take its lock")
			}
			if _, _, err := tx.ConsumerWithBalance(ctx, consumerNamed(second).Mobile, ledger.Test); err != nil {
				return err
			}
			return createConsumer(fmt.Sprintf("deadlocked-%d", i))(tx)
		}
	}
	results := make(chan error, 2)
	go func() { results <- db.InTx(ctx, lockBoth(0, "x", "y")) }()
	<-locked[0] // the first batch runs: the second request goes to the other lane
	go func() { results <- db.InTx(ctx, lockBoth(1, "y", "x")) }()
	for range 2 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	if !exists(t, db, "deadlocked-0") || !exists(t, db, "deadlocked-1") {
		t.Fatal("a committed request's write is missing")
	}
	t.Logf("the two requests ran %d times", attempts.Load())
	// A unique mobile each: a request committed twice would have failed.
	if n := attempts.Load(); n < 3 {
		t.Fatalf("the two requests ran %d times, want at least 3 (the deadlock's victim twice)", n)
	}
}

// TestGroupCommitLaneLetsGoOfItsSession: a lane that began the next
// transaction in its COMMIT because a request was waiting, which another
// lane then took, finds the queue empty and ends that transaction: no
// session is left in one.
func TestGroupCommitLaneLetsGoOfItsSession(t *testing.T) {
	db := openLanes(t, 2)
	ctx := context.Background()
	// One lane is held in a request of its own ...
	holdOther, otherHeld := make(chan struct{}), make(chan struct{})
	other := make(chan error, 1)
	go func() {
		other <- db.InTx(ctx, func(store.Tx) error { close(otherHeld); <-holdOther; return nil })
	}()
	<-otherHeld
	// ... while the other's batch commits with a request waiting, so it
	// chains; then the held lane is let go and takes that request.
	waiting := make(chan error, 1)
	db.group.beforeCommit = func(int) {
		db.group.beforeCommit = nil // only this lane's batch: the hook runs on its goroutine
		go func() { waiting <- db.InTx(ctx, createConsumer("taken-by-the-other-lane")) }()
		for db.group.queue.Queued() < 1 {
			time.Sleep(time.Millisecond)
		}
	}
	db.group.afterChain = func() {
		db.group.afterChain = nil
		close(holdOther)
		for db.group.queue.Queued() > 0 {
			time.Sleep(time.Millisecond)
		}
	}
	if err := db.InTx(ctx, createConsumer("chaining")); err != nil {
		t.Fatal(err)
	}
	if err := <-other; err != nil {
		t.Fatal(err)
	}
	if err := <-waiting; err != nil {
		t.Fatal(err)
	}
	// The other lane chained too (the request waited as it committed) and
	// ran it in that transaction: one chained batch, not this lane's.
	if got := db.group.chained.Load(); got != 1 {
		t.Fatalf("%d batches ran in a chained transaction, want 1 (the other lane's)", got)
	}
	waitNoOpenTransaction(t, db)
	if !exists(t, db, "chaining") || !exists(t, db, "taken-by-the-other-lane") {
		t.Fatal("a committed request's write is missing")
	}
}

// TestGroupCommitLanesBurst: a burst of concurrent writes on two lanes
// (which chain BEGIN into their COMMITs while others wait, and take each
// other's waiting requests) commits every write exactly once and leaves
// no session in a transaction.
func TestGroupCommitLanesBurst(t *testing.T) {
	db := openLanes(t, 2)
	ctx := context.Background()
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				errs <- db.InTx(ctx, createConsumer(fmt.Sprintf("burst-%d-%d", w, i)))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM consumers WHERE idx LIKE 'c-burst-%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != writers*each {
		t.Fatalf("%d of the burst's %d consumers committed", n, writers*each)
	}
	waitNoOpenTransaction(t, db)
}

// waitNoOpenTransaction waits until no session of db's database is idle
// in a transaction: a lane ends a chained one as it comes back to an
// empty queue, just after answering its last batch.
func waitNoOpenTransaction(t *testing.T, db *DB) {
	t.Helper()
	var open int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if err := db.db.QueryRow(`SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND state LIKE 'idle in transaction%'`).Scan(&open); err != nil {
			t.Fatal(err)
		}
		if open == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions still idle in a transaction 10 s after the last request was answered", open)
		}
	}
}
