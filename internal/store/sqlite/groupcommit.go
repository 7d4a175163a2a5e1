package sqlite

import (
	"context"
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
// The committer holds the write connection between batches (writer), so
// its statements stay prepared on it and run without database/sql's
// transaction object, which starts a goroutine for every query's rows.
func (db *DB) runBatch(batch []groupcommit.Request) {
	results := make([]error, len(batch))
	commitErr := db.inWriterTx(func(stmts *sqlstore.ConnStmts) {
		for i, r := range batch {
			if err := r.Ctx.Err(); err != nil {
				results[i] = err
				continue
			}
			results[i] = db.runInSavepoint(stmts, r.Fn)
		}
	})
	for i, r := range batch {
		err := results[i]
		if err == nil && commitErr != nil {
			err = fmt.Errorf("sqlite: group commit: %w", commitErr)
		}
		r.Answer(err)
	}
}

// inWriterTx runs fn in a write transaction on the committer's connection,
// opening the connection first if the committer holds none, and commits.
// A connection that fails to begin, commit or roll back is let go, so the
// next batch starts on a fresh one.
func (db *DB) inWriterTx(fn func(*sqlstore.ConnStmts)) error {
	ctx := context.Background()
	if db.writer == nil {
		conn, err := db.write.Conn(ctx)
		if err != nil {
			return fmt.Errorf("sqlite: write connection: %w", err)
		}
		db.writer, db.writerStmts = conn, sqlstore.NewConnStmts(conn)
	}
	stmts := db.writerStmts
	if err := stmts.Exec(ctx, "BEGIN IMMEDIATE"); err != nil {
		db.dropWriter()
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	fn(stmts)
	if err := stmts.Exec(ctx, "COMMIT"); err != nil {
		if rbErr := stmts.Exec(ctx, "ROLLBACK"); rbErr != nil {
			db.dropWriter()
		}
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// dropWriter closes the committer's connection (the pool discards a
// broken one) and its statements.
func (db *DB) dropWriter() {
	if db.writer == nil {
		return
	}
	db.writerStmts.Close()
	db.writer.Close()
	db.writer, db.writerStmts = nil, nil
}

// runInSavepoint runs one request's function inside a savepoint, rolling
// back to it if the function fails. A panic is turned into an error so
// one bad request cannot take down the committer.
func (db *DB) runInSavepoint(stmts *sqlstore.ConnStmts, fn func(store.Tx) error) (err error) {
	ctx := context.Background()
	if err := stmts.Exec(ctx, "SAVEPOINT request"); err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlite: panic in transaction: %v", p)
		}
		if err != nil {
			if rbErr := stmts.Exec(ctx, "ROLLBACK TO request"); rbErr != nil {
				err = errors.Join(err, rbErr)
			}
		}
		if relErr := stmts.Exec(ctx, "RELEASE request"); relErr != nil && err == nil {
			err = relErr
		}
	}()
	return fn(sqlstore.NewBatchConnTx(stmts, dialect))
}
