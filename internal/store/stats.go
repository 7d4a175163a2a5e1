package store

import (
	"context"

	"github.com/thaili/thaili/internal/ledger"
)

// StateCount is how many payments of one book are in one state.
type StateCount struct {
	Book  ledger.Book
	State State
	Count int64
}

// BookCount is a count of rows of one book.
type BookCount struct {
	Book  ledger.Book
	Count int64
}

// StatsTx is the part of Tx that operational metrics read at scrape time.
type StatsTx interface {
	// CountPaymentsByState counts payments (both kinds) by book and state;
	// pairs with no payment are left out. Ordered by book, then state.
	CountPaymentsByState(ctx context.Context) ([]StateCount, error)
	// CountLedgerTransactions counts ledger entries by book, ordered by
	// book; a book without entries is left out.
	CountLedgerTransactions(ctx context.Context) ([]BookCount, error)
}
