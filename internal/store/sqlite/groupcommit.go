package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/store/groupcommit"
	"github.com/thaili/thaili/internal/store/sqlstore"
)

// Group commit (docs/storage.md). SQLite has one writer and every commit
// with synchronous=FULL waits for the disk, so one transaction per
// request caps throughput at the disk's sync rate. Instead, write
// requests queue (package groupcommit) and one committer goroutine runs
// each batch of queued requests in a single database transaction: every
// request's function runs inside its own SAVEPOINT (its failure rolls
// back only its own writes), and no request is answered before the
// batch's COMMIT has returned. A request therefore sees exactly the
// semantics of its own transaction, while concurrent requests share one
// disk sync.

// maxBatch bounds how many requests share one commit.
const maxBatch = 64

// InTx runs fn in a write transaction shared, through group commit, with
// other requests that arrived at the same time.
func (db *DB) InTx(ctx context.Context, fn func(store.Tx) error) error {
	err := db.group.Do(ctx, fn)
	if errors.Is(err, groupcommit.ErrClosed) {
		return fmt.Errorf("sqlite: %w", err)
	}
	return err
}

// runBatch runs a batch in one transaction and answers every request.
func (db *DB) runBatch(batch []groupcommit.Request) {
	results := make([]error, len(batch))
	commitErr := db.inTx(context.Background(), func(tx *sql.Tx) error {
		for i, r := range batch {
			if err := r.Ctx.Err(); err != nil {
				results[i] = err
				continue
			}
			results[i] = db.runInSavepoint(tx, r.Fn)
		}
		return nil
	})
	for i, r := range batch {
		err := results[i]
		if err == nil && commitErr != nil {
			err = fmt.Errorf("sqlite: group commit: %w", commitErr)
		}
		r.Answer(err)
	}
}

// runInSavepoint runs one request's function inside a savepoint, rolling
// back to it if the function fails. A panic is turned into an error so
// one bad request cannot take down the committer.
func (db *DB) runInSavepoint(tx *sql.Tx, fn func(store.Tx) error) (err error) {
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
	return fn(sqlstore.NewBatchTx(tx, dialect, db.writeStmts))
}
