package sqlite

import (
	"context"
	"strconv"
)

// ShortenWriterWait makes the committer's held write connection give up
// waiting for another connection's write lock after ms milliseconds
// instead of busy_timeout's 10 s (tests).
func (db *DB) ShortenWriterWait(ms int) error {
	if db.writer == nil {
		return nil
	}
	_, err := db.writer.ExecContext(context.Background(), "PRAGMA busy_timeout = "+strconv.Itoa(ms))
	return err
}
