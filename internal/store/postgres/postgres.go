// Package postgres is the PostgreSQL implementation of store.Store, on
// jackc/pgx/v5 through database/sql. Several Thaili processes may share
// one database: write transactions run at READ COMMITTED, every money
// movement is a conditional update and every state change is guarded by
// the row's version, and transactions that PostgreSQL aborts for a
// serialization failure or deadlock are retried.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	neturl "net/url"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/thaili/thaili/internal/store"
	"github.com/thaili/thaili/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is a PostgreSQL-backed store.Store.
type DB struct {
	db    *sql.DB
	reads *sql.DB    // read-only sessions for View: statements run without BEGIN/COMMIT
	group *committer // InTx's group commit
}

var _ store.Store = (*DB)(nil)

var dialect = &sqlstore.Dialect{Numbered: true, SkipLocked: true, WritableCTEs: true, KeyLocks: true, RowLocks: true, MapErr: mapErr,
	TableExists: `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?`}

// Connection limits. A node's connections are PostgreSQL's scarcest
// resource when several nodes share a server (max_connections is 100 by
// default, 3 of them reserved for superusers), so the operator sets them
// per node; see PoolSizes for how they are split.
const (
	// DefaultMaxConns is the limit of a DB opened without MaxConns: the
	// same as serve's default (--database-max-conns), which lets four
	// nodes and a few commands share a default server.
	DefaultMaxConns = 20
	// MinMaxConns is the smallest limit: two connections for each pool.
	MinMaxConns = 4
)

// Option configures Open.
type Option func(*options)

type options struct {
	maxConns int
	lanes    int
}

// MaxConns sets the most connections the DB opens to PostgreSQL, both
// pools together (at least MinMaxConns). Connections are opened only when
// needed and closed after 5 idle minutes; n is a ceiling, not a
// reservation.
func MaxConns(n int) Option { return func(o *options) { o.maxConns = n } }

// CommitLanes sets how many batches of writes the DB runs at once
// (groupcommit.go), DefaultCommitLanes unless set. Each lane holds a
// write connection while it runs a batch, so the lanes are at most the
// write pool's connections less one, which stays free for Snapshot,
// migrations and the requests of a batch run again one by one.
func CommitLanes(n int) Option { return func(o *options) { o.lanes = n } }

// PoolSizes splits a limit of n connections between the pool of
// write transactions (InTx, Snapshot, migrations) and the read-only pool
// of View: two thirds (rounded down) for writes, the rest for reads, at
// least 2 each. A write transaction holds its connection from BEGIN to
// COMMIT, over several round trips, while a read holds one for a single
// statement, so writes need the larger share; 48 gives the 32 + 16 this
// package used before the limit could be set, and 20 gives 13 + 7.
func PoolSizes(n int) (writes, reads int) {
	writes = max(n*2/3, 2)
	return writes, max(n-writes, 2)
}

// Open connects to the database at url (postgres://...) with at most
// DefaultMaxConns connections, or the limit of a MaxConns option. It
// does not migrate; call Migrate, or CheckSchema to refuse a wrong
// schema.
func Open(ctx context.Context, url string, opts ...Option) (*DB, error) {
	o := options{maxConns: DefaultMaxConns, lanes: DefaultCommitLanes}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxConns < MinMaxConns {
		return nil, fmt.Errorf("postgres: a limit of %d connections is too small: at least %d are needed (2 for writes, 2 for reads)", o.maxConns, MinMaxConns)
	}
	writes, readers := PoolSizes(o.maxConns)
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	limitPool(db, writes)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connecting: %w", err)
	}
	readURL, err := readOnlyURL(url)
	if err != nil {
		db.Close()
		return nil, err
	}
	reads, err := sql.Open("pgx", readURL)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	limitPool(reads, readers)
	d := &DB{db: db, reads: reads}
	d.group = newCommitter(d, max(1, min(o.lanes, writes-1)))
	return d, nil
}

// limitPool caps pool at n connections and keeps as many idle between
// bursts (reconnecting costs a PostgreSQL backend's start-up), closing
// those idle for 5 minutes.
func limitPool(pool *sql.DB, n int) {
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	pool.SetConnMaxIdleTime(5 * time.Minute)
}

// Close answers the writes already queued, then closes the connection
// pools.
func (d *DB) Close() error {
	d.group.close()
	return errors.Join(d.reads.Close(), d.db.Close())
}

// readOnlyURL adds the session setting that makes every statement of a
// connection read-only, so a write through View fails instead of
// committing on its own.
func readOnlyURL(raw string) (string, error) {
	u, err := neturl.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("postgres: database URL: %w", err)
	}
	q := u.Query()
	q.Set("default_transaction_read_only", "on")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// SQL exposes the pool for tests and tools that inspect the database.
func (d *DB) SQL() *sql.DB { return d.db }

// Migrations lists this build's schema steps.
func Migrations() ([]sqlstore.Migration, error) {
	return sqlstore.Migrations(migrationFiles, "migrations")
}

// Migrate applies the migrations not yet applied and returns how many
// (sqlstore.Migrate: under an advisory lock, refusing a newer schema).
func (d *DB) Migrate(ctx context.Context) (int, error) { return d.MigrateTo(ctx, 0) }

// MigrateTo is Migrate up to and including migration version (all of
// them if version is 0): upgrade tests build a database step by step.
func (d *DB) MigrateTo(ctx context.Context, version int) (int, error) {
	ms, err := Migrations()
	if err != nil {
		return 0, err
	}
	n, err := sqlstore.Migrate(ctx, d.db, dialect, sqlstore.UpTo(ms, version))
	if err != nil {
		return n, fmt.Errorf("postgres: %w", err)
	}
	return n, nil
}

// CheckSchema reports an error unless the database has applied exactly
// this build's migrations: serve refuses to start otherwise, and /readyz
// says so.
func (d *DB) CheckSchema(ctx context.Context) error {
	ms, err := Migrations()
	if err != nil {
		return err
	}
	return sqlstore.CheckSchema(ctx, d.db, dialect, ms)
}

// InTx runs fn with the semantics of a READ COMMITTED transaction of its
// own: through group commit, in a savepoint of a transaction it shares
// with the writes queued at the same time (groupcommit.go), and answered
// once that transaction has committed; serialization failures and
// deadlocks are retried.
func (d *DB) InTx(ctx context.Context, fn func(store.Tx) error) error {
	return d.group.do(ctx, fn)
}

var _ store.CommitCounter = (*DB)(nil)

// CommitStats are the group commit's counters (docs/storage.md).
func (d *DB) CommitStats() store.CommitStats { return d.group.queue.Stats() }

// View runs fn's statements each on its own on a read-only session: the
// hot read paths (finding a payment, listing) then cost no BEGIN and
// COMMIT round trips.
func (d *DB) View(ctx context.Context, fn func(store.Tx) error) error {
	return fn(sqlstore.NewReader(d.reads, dialect, nil))
}

// Snapshot runs fn in a read-only REPEATABLE READ transaction, so
// everything it reads (a ledger snapshot, say) is one consistent picture.
func (d *DB) Snapshot(ctx context.Context, fn func(store.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return fmt.Errorf("postgres: begin read: %w", err)
	}
	defer tx.Rollback()
	return fn(sqlstore.NewTx(tx, dialect, nil))
}

func (d *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	var err error
	for attempt := 0; attempt < 20; attempt++ {
		err = d.once(ctx, fn)
		if !retryable(err) || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * time.Millisecond)
	}
	return err
}

func (d *DB) once(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return mapErr(fmt.Errorf("postgres: commit: %w", err))
	}
	return nil
}

// SQLSTATE codes Thaili handles.
const (
	uniqueViolation      = "23505"
	serializationFailure = "40001"
	deadlockDetected     = "40P01"
)

func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == serializationFailure || pe.Code == deadlockDetected)
}

func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == uniqueViolation {
		return fmt.Errorf("%w: %v", store.ErrDuplicate, err)
	}
	return err
}
