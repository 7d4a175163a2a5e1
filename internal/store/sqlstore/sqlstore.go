// Package sqlstore is the store.Tx implementation shared by the stores
// built on database/sql (SQLite and PostgreSQL). The SQL is written once,
// with "?" placeholders; a Dialect rewrites what differs between the
// databases and maps their errors to the store's sentinel errors.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/thaili/thaili/internal/store"
)

// Dialect is what a database contributes to the shared SQL.
type Dialect struct {
	// Numbered turns "?" placeholders into "$1", "$2", ... (PostgreSQL).
	Numbered bool
	// SkipLocked adds FOR UPDATE SKIP LOCKED to the subquery that picks
	// webhook deliveries to claim (PostgreSQL); SQLite's single writer
	// serialises claims without it.
	SkipLocked bool
	// WritableCTEs runs Post (and PostAndUpdate, with the payment's
	// compare-and-set) as one statement, with the balance updates and
	// inserts in WITH clauses and the accounts locked in order by FOR
	// UPDATE (PostgreSQL). SQLite, which has neither, posts statement by
	// statement on its single writer.
	WritableCTEs bool
	// KeyLocks makes LockKey take a transaction-scoped advisory lock
	// (PostgreSQL). SQLite runs write transactions one at a time, so
	// there LockKey has nothing to do.
	KeyLocks bool
	// RowLocks adds FOR UPDATE to reads that decide a write on the row
	// they read (ConsumerForUpdate), so concurrent deciders queue
	// (PostgreSQL). SQLite's single writer queues them already.
	RowLocks bool
	// TableExists counts the tables named by its one argument (0 or 1):
	// how the migration runner tells a database never migrated.
	TableExists string
	// MapErr maps driver errors (unique violations, serialization
	// failures) to store errors; it must return nil for nil.
	MapErr func(error) error

	cache sync.Map // query text -> rebound query text
}

// forUpdate is the clause that locks the rows a read returns, if any.
func (d *Dialect) forUpdate() string {
	if d.RowLocks {
		return " FOR UPDATE"
	}
	return ""
}

func (d *Dialect) rebind(query string) string {
	if !d.Numbered {
		return query
	}
	if q, ok := d.cache.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	d.cache.Store(query, b.String())
	return b.String()
}

// StmtCache keeps one prepared statement per query text, so each query is
// parsed once per connection instead of on every call. database/sql
// re-prepares a cached statement on a transaction's connection the first
// time that connection uses it and keeps it there. Drivers that cache
// statements themselves (pgx does) need none.
//
// A query missing from the cache runs unprepared while a goroutine
// prepares it: preparing on the pool needs a free connection, and waiting
// for one from inside a transaction could wait forever when every
// connection is held by a transaction doing the same.
type StmtCache struct {
	db        *sql.DB
	m         sync.Map // query text -> *sql.Stmt
	pending   sync.Map // query text -> struct{}, while being prepared
	closed    chan struct{}
	mu        sync.Mutex // guards isClosed and preparing.Add against Close
	isClosed  bool
	preparing sync.WaitGroup
}

// NewStmtCache returns a cache preparing statements on db.
func NewStmtCache(db *sql.DB) *StmtCache { return &StmtCache{db: db, closed: make(chan struct{})} }

// get returns the cached statement for query, or nil after starting to
// prepare it.
func (c *StmtCache) get(query string) *sql.Stmt {
	if s, ok := c.m.Load(query); ok {
		return s.(*sql.Stmt)
	}
	if _, busy := c.pending.LoadOrStore(query, struct{}{}); !busy {
		c.mu.Lock()
		if !c.isClosed {
			c.preparing.Add(1)
			go c.prepare(query)
		}
		c.mu.Unlock()
	}
	return nil
}

func (c *StmtCache) prepare(query string) {
	defer c.preparing.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		c.pending.Delete(query) // try again on a later call
		return
	}
	select {
	case <-c.closed:
		s.Close()
	default:
		c.m.Store(query, s)
	}
}

// Close stops and waits for preparations in flight, so none touches the
// database after its pool closes, and closes every cached statement.
func (c *StmtCache) Close() error {
	c.mu.Lock()
	if !c.isClosed {
		c.isClosed = true
		close(c.closed)
	}
	c.mu.Unlock()
	c.preparing.Wait()
	c.m.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		c.m.Delete(k)
		return true
	})
	return nil
}

// ConnStmts keeps statements prepared on one connection that a single
// goroutine holds for as long as the statements live (SQLite's committer,
// which holds the write connection for the store's life). Preparing on
// the held connection cannot wait for another, so a statement is prepared
// on its first use; statements prepared on a *sql.Conn also run without
// the goroutine database/sql starts for each query's rows in a
// transaction. Not safe for concurrent use.
type ConnStmts struct {
	conn *sql.Conn
	m    map[string]*sql.Stmt
}

// NewConnStmts returns an empty cache of statements on conn.
func NewConnStmts(conn *sql.Conn) *ConnStmts {
	return &ConnStmts{conn: conn, m: map[string]*sql.Stmt{}}
}

// get returns query's statement on the connection, preparing it on first
// use, or nil if it cannot be prepared (the caller runs it unprepared and
// meets the error there).
func (c *ConnStmts) get(ctx context.Context, query string) *sql.Stmt {
	if s, ok := c.m[query]; ok {
		return s
	}
	s, err := c.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.m[query] = s
	return s
}

// Exec runs query (no arguments) as a prepared statement on the
// connection: the committer's BEGIN, COMMIT and savepoints.
func (c *ConnStmts) Exec(ctx context.Context, query string) error {
	if s := c.get(ctx, query); s != nil {
		_, err := s.ExecContext(ctx)
		return err
	}
	_, err := c.conn.ExecContext(ctx, query)
	return err
}

// Close closes every statement.
func (c *ConnStmts) Close() error {
	var errs []error
	for q, s := range c.m {
		errs = append(errs, s.Close())
		delete(c.m, q)
	}
	return errors.Join(errs...)
}

// noRows maps sql.ErrNoRows to store.ErrNotFound.
func noRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}
