package store

import (
	"context"
	"time"

	"github.com/thaili/thaili/internal/ledger"
	"github.com/thaili/thaili/internal/money"
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
	// DailyTotals counts and sums the payments of one merchant and book
	// completed in [from, to), by day, oldest first; days without a
	// completed payment are left out. A day starts at midnight in the
	// time zone offset east of UTC, and is reported by that instant.
	// Refunded amounts are summed separately; the payment counts on the
	// day it completed, whatever happened to it since.
	DailyTotals(ctx context.Context, scope Scope, from, to time.Time, offset time.Duration) ([]DayTotal, error)
}

// DayTotal is one day of a merchant's completed payments.
type DayTotal struct {
	Day      time.Time // the day's first instant
	Count    int64
	Amount   money.Paisa
	Refunded money.Paisa
}
