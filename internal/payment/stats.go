package payment

import (
	"context"
	"fmt"
	"time"

	"github.com/thaili/thaili/internal/fault"
	"github.com/thaili/thaili/internal/ledger"

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
		return Stats{}, fault.Internal(err)
	}
	return st, nil
}

// MaxChartDays is the longest span DailyVolume reports.
const MaxChartDays = 92

// DailyVolume returns the merchant's completed payments in book for each
// of the last days days (today included, in loc), oldest first, with a
// zero row for a day without any.
func (s *Service) DailyVolume(ctx context.Context, merchantID int64, book ledger.Book, days int, loc *time.Location) ([]store.DayTotal, error) {
	if days < 1 || days > MaxChartDays {
		return nil, fault.FieldError("days", fmt.Sprintf("Choose between 1 and %d days.", MaxChartDays))
	}
	now := s.now().In(loc)
	_, offset := now.Zone()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	from := today.AddDate(0, 0, 1-days)
	var got []store.DayTotal
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		got, err = tx.DailyTotals(ctx, store.Scope{MerchantID: merchantID, Book: book}, from, today.AddDate(0, 0, 1), time.Duration(offset)*time.Second)
		return err
	})
	if err != nil {
		return nil, fault.Internal(err)
	}
	out := make([]store.DayTotal, days)
	for i := range out {
		out[i].Day = from.AddDate(0, 0, i)
	}
	for _, d := range got {
		// Days are whole: the store's day starts are the zone's midnights.
		if i := int(d.Day.Sub(from).Round(time.Hour) / (24 * time.Hour)); i >= 0 && i < days {
			d.Day = out[i].Day
			out[i] = d
		}
	}
	return out, nil
}
