package payment

import (
	"context"

	"github.com/thaili/thaili/internal/store"
)

// Stats are counts for operational metrics, read at scrape time.
type Stats struct {
	Payments           []store.StateCount // by book and state
	LedgerTransactions []store.BookCount  // by book
}

// Stats counts payments by book and state and ledger entries by book.
func (s *Service) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		if st.Payments, err = tx.CountPaymentsByState(ctx); err != nil {
			return err
		}
		st.LedgerTransactions, err = tx.CountLedgerTransactions(ctx)
		return err
	})
	if err != nil {
		return Stats{}, Internal(err)
	}
	return st, nil
}
