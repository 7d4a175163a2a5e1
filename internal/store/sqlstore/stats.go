package sqlstore

import (
	"context"
	"time"

	"github.com/thaili/thaili/internal/store"
)

func (t *txn) CountPaymentsByState(ctx context.Context) ([]store.StateCount, error) {
	rows, err := t.query(ctx, `SELECT book, state, count(*) FROM payments GROUP BY book, state ORDER BY book, state`)
	return collect(rows, err, func(row scanner) (store.StateCount, error) {
		var c store.StateCount
		err := row.Scan(&c.Book, &c.State, &c.Count)
		return c, err
	})
}

func (t *txn) CountLedgerTransactions(ctx context.Context) ([]store.BookCount, error) {
	rows, err := t.query(ctx, `SELECT book, count(*) FROM ledger_txns GROUP BY book ORDER BY book`)
	return collect(rows, err, func(row scanner) (store.BookCount, error) {
		var c store.BookCount
		err := row.Scan(&c.Book, &c.Count)
		return c, err
	})
}

// dailyTotalsSQL groups by the day number in the caller's zone: Unix
// microseconds shifted by the zone's offset, divided by a day's. Integer
// division truncates alike in SQLite and PostgreSQL, and the times here
// are positive. The sums are cast because PostgreSQL's sum of bigint is
// numeric. "completed_at > 0" is the predicate of the partial index
// payments_completed (migration 0019): with it written out, the index is
// usable whatever the parameters, also in a generic plan and in SQLite.
const dailyTotalsSQL = `SELECT (completed_at + ?) / 86400000000 AS day, count(*),
	CAST(sum(amount) AS BIGINT), CAST(sum(refunded) AS BIGINT)
FROM payments
WHERE merchant_id = ? AND book = ? AND completed_at > 0 AND completed_at >= ? AND completed_at < ?
GROUP BY day ORDER BY day`

func (t *txn) DailyTotals(ctx context.Context, scope store.Scope, from, to time.Time, offset time.Duration) ([]store.DayTotal, error) {
	shift := offset.Microseconds()
	rows, err := t.query(ctx, dailyTotalsSQL, shift, scope.MerchantID, scope.Book, micros(from), micros(to))
	return collect(rows, err, func(row scanner) (store.DayTotal, error) {
		var d store.DayTotal
		var day int64
		err := row.Scan(&day, &d.Count, &d.Amount, &d.Refunded)
		d.Day = fromMicros(day*86400000000 - shift)
		return d, err
	})
}
