package sqlstore

import (
	"context"
	"database/sql"

	"github.com/thaili/thaili/internal/store"
)

// txn implements store.Tx on one database/sql transaction, or on a
// read-only pool (NewReader).
type txn struct {
	q     querier
	tx    *sql.Tx // the transaction, for its statement cache; nil for a reader or a connection
	write bool    // a write transaction, not a reader: Post may take one-statement paths
	// ctx, if set, is the context every statement runs under instead of
	// its caller's (NewConnTx).
	ctx   context.Context
	d     *Dialect
	cache *StmtCache
	// conn, if set, holds the statements of a connection the caller holds
	// (NewBatchConnTx); it takes the place of cache.
	conn *ConnStmts
}

// querier is what *sql.Tx, *sql.Conn and *sql.DB offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// NewTx returns the store.Tx for a transaction opened by a store; cache
// may be nil.
func NewTx(tx *sql.Tx, d *Dialect, cache *StmtCache) store.Tx {
	return &txn{q: tx, tx: tx, write: true, d: d, cache: cache}
}

// NewBatchConnTx returns the store.Tx for one request's share of a write
// transaction that a batch of requests shares, opened with BEGIN on the
// connection stmts belongs to, which the caller holds for as long as
// stmts lives (SQLite's committer). Its statements run under no caller's
// context: a request whose client went away must not interrupt a
// statement of a transaction others' writes share, and a context that
// can end costs the driver a goroutine to watch it for every statement,
// on the one writer every write waits behind (docs/storage.md, "Group
// commit").
func NewBatchConnTx(stmts *ConnStmts, d *Dialect) store.Tx {
	return &txn{q: stmts.conn, write: true, ctx: context.Background(), d: d, conn: stmts}
}

// NewConnTx returns the store.Tx for a write transaction its caller
// opened on conn with BEGIN (group commit). Every statement runs under
// ctx rather than its caller's context: a caller whose request ends must
// not break a connection whose transaction others' writes share.
func NewConnTx(ctx context.Context, conn *sql.Conn, d *Dialect) store.Tx {
	return &txn{q: conn, write: true, ctx: ctx, d: d}
}

// stmtCtx is the context a statement runs under.
func (t *txn) stmtCtx(ctx context.Context) context.Context {
	if t.ctx != nil {
		return t.ctx
	}
	return ctx
}

// NewReader returns a store.Tx whose statements each run on their own,
// outside any transaction, on db: no BEGIN and COMMIT round trips, but no
// snapshot across statements either. db should refuse writes (a
// read-only pool), since nothing here would roll them back. cache, if not
// nil, prepares its statements on db.
func NewReader(db *sql.DB, d *Dialect, cache *StmtCache) store.Tx {
	return &txn{q: db, d: d, cache: cache}
}

// stmt returns the cached statement for query (a transaction's copy of
// it, in a transaction), or nil to run the query unprepared.
func (t *txn) stmt(ctx context.Context, query string) *sql.Stmt {
	if t.conn != nil {
		return t.conn.get(ctx, query)
	}
	if t.cache == nil {
		return nil
	}
	s := t.cache.get(query)
	if s == nil || t.tx == nil { // a reader's statements run on the pool s is prepared on
		return s
	}
	return t.tx.StmtContext(ctx, s)
}

func (t *txn) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	ctx, query = t.stmtCtx(ctx), t.d.rebind(query)
	if s := t.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return t.q.QueryRowContext(ctx, query, args...)
}

func (t *txn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx, query = t.stmtCtx(ctx), t.d.rebind(query)
	if s := t.stmt(ctx, query); s != nil {
		rows, err := s.QueryContext(ctx, args...)
		return rows, t.d.MapErr(err)
	}
	rows, err := t.q.QueryContext(ctx, query, args...)
	return rows, t.d.MapErr(err)
}

// insert runs an INSERT ... RETURNING id and returns the id.
func (t *txn) insert(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := t.queryRow(ctx, query+" RETURNING id", args...).Scan(&id)
	return id, t.d.MapErr(err)
}

func (t *txn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx, query = t.stmtCtx(ctx), t.d.rebind(query)
	if s := t.stmt(ctx, query); s != nil {
		res, err := s.ExecContext(ctx, args...)
		return res, t.d.MapErr(err)
	}
	res, err := t.q.ExecContext(ctx, query, args...)
	return res, t.d.MapErr(err)
}

func (t *txn) execOne(ctx context.Context, query string, args ...any) error {
	res, err := t.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// scanner is what *sql.Row and *sql.Rows offer.
type scanner interface{ Scan(...any) error }

// flag is a boolean as the schema's INTEGER flags store it.
func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// collect scans every row of a query's result with scan.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
