package sqlstore

import (
	"context"

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
