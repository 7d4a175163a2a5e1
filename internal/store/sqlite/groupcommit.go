package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/store/sqlstore"
)

// Group commit. SQLite has one writer and every commit with
// synchronous=FULL waits for the disk, so one transaction per request
// caps throughput at the disk's sync rate. Instead, write requests queue
// here and one committer goroutine runs each batch of queued requests in
// a single database transaction: every request's function runs inside its
// own SAVEPOINT (its failure rolls back only its own writes), and no
// request is answered before the batch's COMMIT has returned. A request
// therefore sees exactly the semantics of its own transaction, while
// concurrent requests share one disk sync.

// maxBatch bounds how many requests share one commit.
const maxBatch = 64

type writeRequest struct {
	ctx  context.Context
	fn   func(store.Tx) error
	done chan error
}

// InTx runs fn in a write transaction shared, through group commit, with
// other requests that arrived at the same time.
func (db *DB) InTx(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := writeRequest{ctx: ctx, fn: fn, done: make(chan error, 1)}
	// The read lock keeps Close from finishing while a request is being
	// queued, so no request is left in the queue unanswered.
	db.mu.RLock()
	if db.isClosed {
		db.mu.RUnlock()
		return errors.New("sqlite: database is closed")
	}
	select {
	case db.queue <- req:
		db.mu.RUnlock()
	case <-ctx.Done():
		db.mu.RUnlock()
		return ctx.Err()
	}
	// Once queued, the request is answered only after its batch is
	// decided, even if ctx ends: the caller must learn whether its
	// writes were committed.
	return <-req.done
}

// commitLoop is the single committer goroutine.
func (db *DB) commitLoop() {
	defer close(db.stopped)
	for {
		var first writeRequest
		select {
		case first = <-db.queue:
		case <-db.closed:
			return
		}
		batch := []writeRequest{first}
	fill:
		for len(batch) < maxBatch {
			select {
			case r := <-db.queue:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		db.runBatch(batch)
	}
}

// runBatch runs a batch in one transaction and answers every request.
func (db *DB) runBatch(batch []writeRequest) {
	results := make([]error, len(batch))
	commitErr := db.inTx(context.Background(), func(tx *sql.Tx) error {
		for i, r := range batch {
			if err := r.ctx.Err(); err != nil {
				results[i] = err
				continue
			}
			results[i] = db.runInSavepoint(tx, r)
		}
		return nil
	})
	for i, r := range batch {
		err := results[i]
		if err == nil && commitErr != nil {
			err = fmt.Errorf("sqlite: group commit: %w", commitErr)
		}
		r.done <- err
	}
}

// runInSavepoint runs one request's function inside a savepoint, rolling
// back to it if the function fails. A panic is turned into an error so
// one bad request cannot take down the committer.
func (db *DB) runInSavepoint(tx *sql.Tx, r writeRequest) (err error) {
	if _, err := tx.ExecContext(context.Background(), "SAVEPOINT request"); err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlite: panic in transaction: %v", p)
		}
		if err != nil {
			if _, rbErr := tx.ExecContext(context.Background(), "ROLLBACK TO request"); rbErr != nil {
				err = errors.Join(err, rbErr)
			}
		}
		if _, relErr := tx.ExecContext(context.Background(), "RELEASE request"); relErr != nil && err == nil {
			err = relErr
		}
	}()
	return r.fn(sqlstore.NewTx(tx, dialect, db.writeStmts))
}
