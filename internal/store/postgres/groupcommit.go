package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/store/groupcommit"
	"github.com/thaili/thaili/internal/store/sqlstore"
)

// Group commit (docs/storage.md, "Group commit"). A commit on PostgreSQL
// waits for its WAL to reach the disk, and that flush, not the
// statements, was the largest share of the database's CPU per payment.
// So write transactions queue (package groupcommit), and one committer
// runs each batch of queued requests in a single database transaction on
// one connection: a request that fails rolls back only its own writes
// (below: savepoints), and no request is answered before the batch's
// COMMIT has returned. A request sees exactly the semantics of its own
// transaction, others see its writes only once they are durable, and
// concurrent requests share one flush.
//
// Savepoints cost a round trip per request ("RELEASE; SAVEPOINT", in one
// simple-protocol message) and are needed only when a request fails after
// others have written, which is rare: so a batch runs first without them,
// and again with them only if that happened. A batch of one costs the
// round trips of a plain transaction either way.
//
// Within a batch the requests run one after the other on one session,
// whose row and advisory locks are its own, so they never wait for each
// other's locks. A node runs up to DefaultCommitLanes batches at once,
// each on a session of its own (lanes): a batch spends much of its time
// waiting, for PostgreSQL to answer a statement and for its WAL flush, and
// a second lane fills those waits (docs/storage.md, "Group commit", has
// the figures). Against other lanes, as against other nodes, a batch is an
// ordinary transaction: when one of its requests meets a serialization
// failure or a deadlock, the batch is rolled back and each of its
// requests runs again on its own, in a plain transaction with the usual
// retries (InTx before group commit).

// maxBatch bounds how many requests share one commit.
const maxBatch = 64

// DefaultCommitLanes is how many batches a node runs at once unless
// CommitLanes says otherwise.
const DefaultCommitLanes = 2

// committer runs the batches of the node's group-commit queue, on its
// lanes.
type committer struct {
	db    *DB
	queue *groupcommit.Queue
	lanes []*lane

	// beforeCommit, if set (tests), runs after a batch's requests and
	// before its COMMIT, with the connection's backend pid.
	beforeCommit func(pid int)
	// safeRuns counts the batches run again with savepoints (tests).
	safeRuns atomic.Int64
	// chained counts the batches that began in the message of the
	// previous batch's COMMIT (tests).
	chained atomic.Int64
	// afterChain, if set (tests), runs after a COMMIT that began the
	// next transaction, before the lane answers its batch.
	afterChain func()
}

// lane is one of the committer's lanes: a goroutine of the queue running
// batches on sessions of its own.
type lane struct {
	c *committer
	// conn, when not nil, is the lane's session with a transaction
	// already begun: the previous batch sent "COMMIT; BEGIN" because
	// requests were waiting, so the next batch needs no BEGIN round trip.
	// Only the lane's goroutine uses it.
	conn *sql.Conn
}

func newCommitter(db *DB, lanes int) *committer {
	c := &committer{db: db}
	runs := make([]groupcommit.Lane, lanes)
	for i := range runs {
		l := &lane{c: c}
		c.lanes = append(c.lanes, l)
		runs[i] = groupcommit.Lane{Run: l.run, Idle: l.idle}
	}
	c.queue = groupcommit.NewLanes(maxBatch, runs...)
	return c
}

// do queues fn and returns its result once its batch is decided.
func (c *committer) do(ctx context.Context, fn func(store.Tx) error) error {
	err := c.queue.Do(ctx, fn)
	if errors.Is(err, groupcommit.ErrClosed) {
		return fmt.Errorf("postgres: %w", err)
	}
	return err
}

// close runs the requests already queued and stops the committer.
func (c *committer) close() {
	c.queue.Close()
	for _, l := range c.lanes {
		l.idle() // the lanes have stopped: no goroutine uses l.conn now
	}
}

// idle lets go of the session a chained BEGIN kept, when the requests it
// was kept for were taken by another lane.
func (l *lane) idle() {
	if l.conn != nil {
		l.conn.ExecContext(context.Background(), "ROLLBACK") // best effort: Close discards a broken session
		l.conn.Close()
		l.conn = nil
	}
}

// errRetryBatch aborts a batch whose request met a serialization failure
// or a deadlock: its requests then run again one by one.
var errRetryBatch = errors.New("postgres: batch to run again request by request")

// errRunSafely aborts a batch run without savepoints in which a request
// failed after others had written: the batch then runs again with a
// savepoint per request.
var errRunSafely = errors.New("postgres: batch to run again with savepoints")

// firstFailed aborts a batch run without savepoints whose first request
// to run failed: nothing but its own writes is rolled back, so the first
// n requests are decided (it, and those before it whose context had
// ended) and the rest run as a batch of their own.
type firstFailed struct{ n int }

func (f firstFailed) Error() string { return "postgres: the first request of a batch failed" }

// run runs a batch and answers every request. A batch runs first without
// savepoints, which cost a round trip per request and are needed only
// when a request fails after others have written; then, only if one did,
// again with them.
func (l *lane) run(batch []groupcommit.Request) {
	c := l.c
	for len(batch) > 0 {
		results, err := l.runBatch(batch, false)
		var first firstFailed
		switch {
		case errors.As(err, &first):
			c.answer(batch[:first.n], results[:first.n], nil)
			batch = batch[first.n:]
			continue
		case errors.Is(err, errRunSafely):
			c.safeRuns.Add(1)
			results, err = l.runBatch(batch, true)
		}
		c.answer(batch, results, err)
		return
	}
}

// answer tells each request of a decided batch its result.
func (c *committer) answer(batch []groupcommit.Request, results []error, err error) {
	for i, r := range batch {
		switch {
		case errors.Is(err, errRetryBatch):
			if r.Ctx.Err() != nil {
				r.Answer(r.Ctx.Err())
				continue
			}
			r.Answer(c.db.inTx(r.Ctx, func(tx *sql.Tx) error { return r.Fn(sqlstore.NewTx(tx, dialect, nil)) }))
		case err != nil && results[i] == nil:
			r.Answer(fmt.Errorf("postgres: group commit: %w", err))
		default:
			r.Answer(results[i])
		}
	}
}

// runBatch runs the batch in one transaction, with a savepoint for each
// request if savepoints is set. It returns each request's own result and
// the batch's error; a request's nil result counts only if the batch's
// error is nil.
//
// When requests are already waiting as it commits, it sends "COMMIT;
// BEGIN" in one message and keeps the session, so the lane's next batch
// starts without a BEGIN round trip of its own (a lane runs one batch
// after another, so every round trip saved is one the queue does not
// wait for). If another lane takes those requests and nothing else
// comes, the lane lets the session go when it finds the queue empty
// (idle). Otherwise no transaction is left open.
func (l *lane) runBatch(batch []groupcommit.Request, savepoints bool) ([]error, error) {
	c := l.c
	results := make([]error, len(batch))
	// The batch's statements do not run under any request's context: one
	// request ending must not break the others' transaction.
	ctx := context.Background()
	conn, begun := l.conn, l.conn != nil
	l.conn = nil
	if !begun {
		var err error
		if conn, err = c.db.db.Conn(ctx); err != nil {
			return results, err
		}
	} else {
		c.chained.Add(1)
	}
	kept := false
	defer func() {
		if !kept {
			conn.Close() // back to the pool, which discards a broken one
		}
	}()
	var pid int
	if c.beforeCommit != nil {
		if err := conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			return results, err
		}
	}
	var begin []string
	if !begun {
		begin = append(begin, "BEGIN ISOLATION LEVEL READ COMMITTED")
	}
	if savepoints {
		begin = append(begin, "SAVEPOINT request")
	}
	if len(begin) > 0 {
		if _, err := conn.ExecContext(ctx, strings.Join(begin, "; ")); err != nil {
			return results, mapErr(err)
		}
	}
	committed := false
	defer func() {
		if !committed {
			// Best effort: a broken connection is discarded by the pool.
			conn.ExecContext(ctx, "ROLLBACK")
		}
	}()
	tx := sqlstore.NewConnTx(ctx, conn, dialect)
	wrote := false // a request before this one ran without error
	for i, r := range batch {
		if err := r.Ctx.Err(); err != nil {
			results[i] = err
			continue // the savepoint, if any, is still open and unused
		}
		results[i] = runRequest(tx, r.Fn)
		if results[i] != nil && retryable(results[i]) {
			return results, errRetryBatch
		}
		if !savepoints {
			switch {
			case results[i] == nil:
				wrote = true
			case !wrote:
				return results, firstFailed{n: i + 1}
			default:
				return results, errRunSafely
			}
			continue
		}
		next := "RELEASE SAVEPOINT request; SAVEPOINT request"
		if results[i] != nil {
			next = "ROLLBACK TO SAVEPOINT request"
		}
		if _, err := conn.ExecContext(ctx, next); err != nil {
			return results, mapErr(err)
		}
	}
	if c.beforeCommit != nil {
		c.beforeCommit(pid)
	}
	commit := "COMMIT"
	chain := c.queue.Queued() > 0
	if chain {
		// If the COMMIT fails, the BEGIN is not run: PostgreSQL stops a
		// message's statements at the first error.
		commit = "COMMIT; BEGIN ISOLATION LEVEL READ COMMITTED"
	}
	if _, err := conn.ExecContext(ctx, commit); err != nil {
		return results, mapErr(fmt.Errorf("commit: %w", err))
	}
	committed = true
	if chain {
		l.conn, kept = conn, true
		if c.afterChain != nil {
			c.afterChain()
		}
	}
	return results, nil
}

// runRequest runs one request's function, turning a panic into an error
// so one bad request cannot take down the committer.
func runRequest(tx store.Tx, fn func(store.Tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("postgres: panic in transaction: %v", p)
		}
	}()
	return fn(tx)
}
