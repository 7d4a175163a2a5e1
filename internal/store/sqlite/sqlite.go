// Package sqlite is the embedded SQLite implementation of store.Store, on
// modernc.org/sqlite (pure Go, no cgo). Its group committer holds one
// write connection, whose transactions start with BEGIN IMMEDIATE so a
// read never has to be upgraded to a write under contention (a second
// serves migrations and tools); reads use a pool of read-only
// connections. The database runs in WAL mode with synchronous=FULL,
// since it holds money.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/store/groupcommit"
	"github.com/thaili/thaili/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is a SQLite-backed store.Store.
type DB struct {
	path  string
	write *sql.DB
	read  *sql.DB

	readStmts *sqlstore.StmtCache

	group *groupcommit.Queue // InTx's group commit: see groupcommit.go
	// writer is the write connection the committer holds between
	// batches, and writerStmts its prepared statements; only the
	// committer's goroutine, and Close once it has stopped, use them.
	writer      *sql.Conn
	writerStmts *sqlstore.ConnStmts

	mu       sync.Mutex
	isClosed bool
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// SQL exposes the write pool for tests and tools that inspect the
// database.
func (db *DB) SQL() *sql.DB { return db.write }

var _ store.CommitCounter = (*DB)(nil)

// CommitStats are the group commit's counters (docs/storage.md).
func (db *DB) CommitStats() store.CommitStats { return db.group.Stats() }

// Migrations lists this build's schema steps.
func Migrations() ([]sqlstore.Migration, error) {
	return sqlstore.Migrations(migrationFiles, "migrations")
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the database file at path. It does not
// migrate; call Migrate.
func Open(path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	pragmas := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"} {
		pragmas.Add("_pragma", p)
	}
	// In a file: URI "?" starts the query and "#" a fragment, so a path
	// holding either would silently open another file; SQLite decodes
	// %HH escapes in the path.
	uri := "file:" + strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
	writeDSN := uri + "?" + pragmas.Encode() + "&_txlock=immediate"
	w, err := sql.Open("sqlite", writeDSN)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// The committer holds one connection for the store's life; a second
	// serves migrations and tools (SQL), whose writes wait for the
	// committer's under busy_timeout.
	w.SetMaxOpenConns(2)
	if err := w.Ping(); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	pragmas.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", uri+"?"+pragmas.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(max(2, runtime.GOMAXPROCS(0)))
	db := &DB{path: path, write: w, read: r, readStmts: sqlstore.NewStmtCache(r)}
	db.group = groupcommit.New(maxBatch, db.runBatch)
	return db, nil
}

// Close runs the write requests already queued, refuses new ones and
// closes both connection pools.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.isClosed {
		return nil
	}
	db.isClosed = true
	db.group.Close()
	db.dropWriter()
	return errors.Join(db.readStmts.Close(), db.read.Close(), db.write.Close())
}

// Migrate applies the embedded numbered migrations not yet applied, each
// in its own transaction, and returns how many it applied; it refuses a
// schema newer than this build (sqlstore.Migrate).
func (db *DB) Migrate(ctx context.Context) (int, error) { return db.MigrateTo(ctx, 0) }

// MigrateTo is Migrate up to and including migration version (all of
// them if version is 0): upgrade tests build a database step by step.
func (db *DB) MigrateTo(ctx context.Context, version int) (int, error) {
	ms, err := sqlstore.Migrations(migrationFiles, "migrations")
	if err != nil {
		return 0, err
	}
	n, err := sqlstore.Migrate(ctx, db.write, dialect, sqlstore.UpTo(ms, version))
	if err != nil {
		return n, fmt.Errorf("sqlite: %w", err)
	}
	return n, nil
}

// View runs fn's statements each on its own on the read-only pool, as on
// PostgreSQL: a BEGIN and a ROLLBACK around a lookup of one statement cost
// more than the lookup's snapshot is worth, and a read transaction also
// holds a connection and a goroutine of database/sql's for its length.
// Reads that must be one picture use Snapshot.
func (db *DB) View(ctx context.Context, fn func(store.Tx) error) error {
	return fn(sqlstore.NewReader(db.read, dialect, db.readStmts))
}

// Snapshot runs fn in a read-only transaction on a reader connection: in
// WAL mode one consistent picture of the database.
func (db *DB) Snapshot(ctx context.Context, fn func(store.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: begin read: %w", err)
	}
	defer tx.Rollback()
	return fn(sqlstore.NewTx(tx, dialect, db.readStmts))
}

var dialect = &sqlstore.Dialect{MapErr: mapErr,
	TableExists: `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`}

// mapErr turns driver errors into the store's sentinel errors.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %v", store.ErrDuplicate, err)
		}
	}
	return err
}
